// WARN_ON() reports: the guest's #UD handler found its ud2 in __bug_table and called
// report_bug(), which tells the host (WARN hypercall) with the trap's pt_regs.
import type { Machine } from "../../machine/machine.js";
import type { SymbolTable } from "../../machine/symbols.js";
import { readVirt } from "../../machine/paging.js";
import { backtrace } from "../oops.js";
import type { Task } from "../task.js";

export interface Warning {
  cpu: number;
  pid: number;
  task: string;
  rip: bigint;
  backtrace: string[];
  text: string;
}

/** pt_regs offsets of rbp and rip (struct pt_regs order: r15 ... rdi, orig_rax, rip). */
const RBP = 4 * 8, RIP = 16 * 8;

export function makeWarning(m: Machine, cr3: number, symbols: SymbolTable, task: Task, cpu: number, regsVa: bigint): Warning {
  const b = readVirt(m, cr3, regsVa, RIP + 8);
  const v = b ? new DataView(b.buffer) : undefined;
  const rip = v?.getBigUint64(RIP, true) ?? 0n, rbp = v?.getBigUint64(RBP, true) ?? 0n;
  const bt = backtrace(m, cr3, symbols, rip, rbp);
  const text = [`WARNING: CPU: ${cpu} PID: ${task.pid} at ${symbols.format(rip)}`, `Comm: ${task.name}`, "Call Trace:",
    ...bt.map((f) => ` ${f}`)].join("\n");
  return { cpu, pid: task.pid, task: task.name, rip, backtrace: bt, text };
}
