// tracefs views, in the kernel's formats (Documentation/trace/ftrace.rst).
import type { SymbolTable } from "../../machine/symbols.js";
import type { Task } from "../task.js";
import type { Ftrace } from "./ftrace.js";
import {
  FTRACE_FL_DIRECT, FTRACE_FL_ENABLED, FTRACE_FL_IPMODIFY, FTRACE_FL_MODIFIED, FTRACE_FL_REGS, FTRACE_FL_TRAMP_EN, refCount,
} from "./records.js";
import type { Trampolines } from "./trampoline.js";
import { pS, trampAddr } from "./kallsyms.js";
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

/**
 * enabled_functions (kernel/trace/ftrace.c, t_show for FTRACE_ITER_ENABLED; x86's
 * arch_ftrace_trampoline_func): every site that is on, as the function's name (and module),
 * then " (%ld)%s%s%s%s%s": the ops count and the R I D O M columns, two characters each
 * whether set or not (M three; O, call-site ops, is arm64's and always blank here). A site on
 * its ops' own trampoline adds "\ttramp: %pS (%pS)" (the trampoline, ops->func); every site
 * adds " ->%pS", what its trampoline's call calls (for a site on the static caller, what
 * ftrace_call or ftrace_regs_call calls); a direct call adds "\n\tdirect-->%pS".
 */
export function enabledFunctions(f: Ftrace, tramps: Trampolines, symbols: SymbolTable): string {
  let out = "";
  for (const r of f.records) {
    if (r.gone || !(r.flags & FTRACE_FL_ENABLED)) continue;
    const col = (flag: number, c: string) => (r.flags & flag ? ` ${c}` : "  ");
    let line = `${r.name}${r.mod ? ` [${r.mod}]` : ""} (${refCount(r)})` + col(FTRACE_FL_REGS, "R") + col(FTRACE_FL_IPMODIFY, "I") +
      col(FTRACE_FL_DIRECT, "D") + "  " + (r.flags & FTRACE_FL_MODIFIED ? " M " : "   ");
    let func: bigint | undefined;
    if (r.flags & FTRACE_FL_TRAMP_EN) {
      // A permanent trampoline (seed 000's proposal) is firmware text; the ops' own code is behind it.
      const permanent = f.ops.find((o) => o.permanentSlot !== undefined && o.trampoline &&
        symbols.get(`ftrace_permanent_${o.permanentSlot}`)?.addr === r.installed);
      const t = permanent?.trampoline ?? tramps.find(r.installed);
      const ops = t && f.ops.find((o) => o.id === t.ops.id);
      if (permanent && t) {
        line += `\ttramp: ${pS(symbols, r.installed)} (${pS(symbols, f.callbackAddr(permanent))})`;
        func = tramps.callTarget(t);
      } else if (t && ops) {
        line += `\ttramp: ${trampAddr(t)} (${pS(symbols, f.callbackAddr(ops))})`;
        func = tramps.callTarget(t);
      } else line += "\ttramp: ERROR!";
    } else func = f.staticTrampFunc(r);
    if (func !== undefined) line += ` ->${pS(symbols, func)}`;
    const direct = f.directOf(r);
    if (direct !== undefined) line += `\n\tdirect-->${pS(symbols, direct)}`;
    out += line + "\n";
  }
  return out;
}

function traceLine(r: TraceRecord, tasks: Map<number, Task>, symbols: SymbolTable): string {
  const comm = tasks.get(r.pid)?.name ?? "<...>";
  const sec = r.ts / 1_000_000_000n, usec = (r.ts / 1000n) % 1_000_000n;
  const stamp = `${sec.toString().padStart(5)}.${usec.toString().padStart(6, "0")}`;
  // %ps: the function's name, and its module's in brackets.
  const name = (a: bigint) => {
    const s = symbols.find(a);
    return s ? `${s.name}${s.module ? ` [${s.module}]` : ""}` : `0x${a.toString(16)}`;
  };
  const cpu = String(r.cpu).padStart(3, "0");
  return `${comm.padStart(16)}-${String(r.pid).padEnd(7)} [${cpu}] ${flagColumns(r)} ${stamp}: ${name(r.ip)} <-${name(r.parentIp)}`;
}

/**
 * The `trace` file's header (kernel/trace/trace.c: s_show's "# tracer: %s", print_event_info,
 * print_func_help_header_irq with the irq-info option on and no TGID column). Its counts are
 * get_total_entries': entries still in the buffer, and entries written less those read, which
 * is the entries plus those overwritten before anyone read them.
 */
export function traceHeader(tracer: FunctionTracer, entries: number, ncpus: number): string[] {
  const total = BigInt(entries) + tracer.lost;
  const legend = "#                              ";
  return [
    "# tracer: function",
    "#",
    `# entries-in-buffer/entries-written: ${entries}/${total}   #P:${ncpus}`,
    "#",
    `${legend}  _-----=> irqs-off/BH-disabled`,
    `${legend} / _----=> need-resched`,
    `${legend}| / _---=> hardirq/softirq`,
    `${legend}|| / _--=> preempt-depth`,
    `${legend}||| / _-=> migrate-disable`,
    `${legend}|||| /     delay`,
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
    "#              | |         |   |||||     |         |",
  ];
}

/** The `trace` file: header, then one line per record. */
export function traceFile(tracer: FunctionTracer, records: TraceRecord[], tasks: Task[], symbols: SymbolTable, ncpus: number): string {
  const byPid = new Map(tasks.map((t) => [t.pid, t]));
  return traceHeader(tracer, records.length, ncpus).concat(records.map((r) => traceLine(r, byPid, symbols))).join("\n") + "\n";
}

/**
 * trace_pipe: the records not read yet, consumed. A vCPU whose ring overwrote records before
 * they were read gets print_trace_line's "CPU:%d [LOST %lu EVENTS]" before its next record.
 */
export function tracePipe(tracer: FunctionTracer, tasks: Task[], symbols: SymbolTable): string {
  const before = [...tracer.overruns];
  const recs = tracer.consume();
  const byPid = new Map(tasks.map((t) => [t.pid, t]));
  const lost = tracer.overruns.map((n, c) => n - (before[c] ?? 0n));
  let out = "";
  for (const r of recs) {
    if (lost[r.cpu] > 0n) out += `CPU:${r.cpu} [LOST ${lost[r.cpu]} EVENTS]\n`;
    lost[r.cpu] = 0n;
    out += traceLine(r, byPid, symbols) + "\n";
  }
  return out;
}
