// tracefs views, in the kernel's formats (Documentation/trace/ftrace.rst).
import type { SymbolTable } from "../../machine/symbols.js";
import type { Task } from "../task.js";
import type { Ftrace } from "./ftrace.js";
import { FTRACE_FL_REGS, FTRACE_FL_TRAMP_EN, refCount } from "./records.js";
import type { Trampolines } from "./trampoline.js";
import { flagColumns, type FunctionTracer, type TraceRecord } from "./tracers.js";
import type { FtraceOps } from "./ops.js";

export function availableFilterFunctions(f: Ftrace): string {
  return f.records.map((r) => r.name + "\n").join("");
}

export function setFtraceFilter(f: Ftrace, o: FtraceOps): string {
  if (o.filter.trim() === "") return "#### all functions enabled ####\n";
  return [...o.filterSet].sort((a, b) => a - b).map((i) => f.records[i].name + "\n").join("");
}

export function setFtraceNotrace(f: Ftrace, o: FtraceOps): string {
  if (o.notraceSet.size === 0) return "#### no functions disabled ####\n";
  return [...o.notraceSet].sort((a, b) => a - b).map((i) => f.records[i].name + "\n").join("");
}

/** "name+0x0/0xsize", as %pS prints a function. */
function pS(symbols: SymbolTable, addr: bigint): string {
  const s = symbols.find(addr);
  if (!s) return `0x${addr.toString(16)}`;
  return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}`;
}

/**
 * enabled_functions: one line per traced site, its ops count and flags, then either the
 * dedicated trampoline and what it calls, or what the static trampoline's call site calls.
 */
export function enabledFunctions(f: Ftrace, tramps: Trampolines, symbols: SymbolTable, ftraceCallTarget: bigint): string {
  let out = "";
  for (const r of f.records) {
    if (refCount(r) === 0 && !r.installed) continue;
    let line = `${r.name}${r.mod ? ` [${r.mod}]` : ""} (${refCount(r)})`.padEnd(24) + (r.flags & FTRACE_FL_REGS ? " R" : "  ") + "   ";
    const t = r.flags & FTRACE_FL_TRAMP_EN ? tramps.find(r.installed) : undefined;
    if (t) {
      const target = tramps.callTarget(t);
      line += `\ttramp: 0x${t.addr.toString(16)} (${pS(symbols, target)}) ->${pS(symbols, target)}`;
    } else line += ` ->${pS(symbols, ftraceCallTarget)}`;
    out += line + "\n";
  }
  return out;
}

function traceLine(r: TraceRecord, tasks: Map<number, Task>, symbols: SymbolTable): string {
  const comm = tasks.get(r.pid)?.name ?? "<...>";
  const sec = r.ts / 1_000_000_000n, usec = (r.ts / 1000n) % 1_000_000n;
  const stamp = `${sec.toString().padStart(5)}.${usec.toString().padStart(6, "0")}`;
  const name = (a: bigint) => symbols.find(a)?.name ?? `0x${a.toString(16)}`;
  const cpu = String(r.cpu).padStart(3, "0");
  return `${comm.padStart(16)}-${String(r.pid).padEnd(7)} [${cpu}] ${flagColumns(r)} ${stamp}: ${name(r.ip)} <-${name(r.parentIp)}`;
}

/** The `trace` file: header, then one line per record. */
export function traceFile(tracer: FunctionTracer, records: TraceRecord[], tasks: Task[], symbols: SymbolTable, ncpus: number): string {
  const byPid = new Map(tasks.map((t) => [t.pid, t]));
  const header = [
    "# tracer: function",
    "#",
    `# entries-in-buffer/entries-written: ${records.length}/${tracer.written}   #P:${ncpus}`,
    ...(tracer.lost > 0n ? [`# (${tracer.lost} entries lost: ring buffer overrun)`] : []),
    "#",
    "#                                _-----=> irqs-off/BH-disabled",
    "#                               / _----=> need-resched",
    "#                              | / _---=> hardirq/softirq",
    "#                              || / _--=> preempt-depth",
    "#                              ||| / _-=> migrate-disable",
    "#                              |||| /     delay",
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
    "#              | |         |   |||||     |         |",
  ];
  return header.concat(records.map((r) => traceLine(r, byPid, symbols))).join("\n") + "\n";
}

/** trace_pipe: the records not read yet, consumed, with lost records called out. */
export function tracePipe(tracer: FunctionTracer, tasks: Task[], symbols: SymbolTable): string {
  const lostBefore = tracer.lost;
  const recs = tracer.consume();
  const byPid = new Map(tasks.map((t) => [t.pid, t]));
  const lost = tracer.lost - lostBefore;
  return (lost > 0n ? `CPU:* [LOST ${lost} EVENTS]\n` : "") + recs.map((r) => traceLine(r, byPid, symbols) + "\n").join("");
}
