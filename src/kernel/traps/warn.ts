// WARN_ON() and BUG() reports: the guest's #UD handler found its ud2 in __bug_table and called
// report_bug(), which tells the host (WARN hypercall) with the trap's pt_regs and the entry.
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

/** struct bug_entry as x86-64 lays it out: trap and file addresses relative to their fields, line, flags. */
export interface BugEntry {
  addr: bigint;
  file: string;
  line: number;
  warning: boolean;
}

const BUGFLAG_WARNING = 1;
const FILE_MAX = 256;

/** Reads the __bug_table entry at `va`; undefined if it cannot be read. */
export function readBugEntry(m: Machine, cr3: number, va: bigint): BugEntry | undefined {
  const b = readVirt(m, cr3, va, 12);
  if (!b) return undefined;
  const v = new DataView(b.buffer, b.byteOffset);
  const addr = va + BigInt(v.getInt32(0, true)), fileVa = va + 4n + BigInt(v.getInt32(4, true));
  // The name may end close to the end of its mapping: read no further than the page it starts in
  // if the whole FILE_MAX bytes cannot be read.
  const inPage = Number(4096n - (fileVa & 4095n));
  const name = readVirt(m, cr3, fileVa, FILE_MAX) ?? readVirt(m, cr3, fileVa, Math.min(FILE_MAX, inPage)) ?? new Uint8Array();
  const end = name.indexOf(0);
  const file = new TextDecoder().decode(name.subarray(0, end < 0 ? name.length : end));
  return { addr, file, line: v.getUint16(8, true), warning: (v.getUint16(10, true) & BUGFLAG_WARNING) !== 0 };
}

/**
 * report_bug (lib/bug.c) for a BUG: the cut-here line, then "kernel BUG at %s:%u!". The oops
 * ("invalid opcode") follows from the #UD handler.
 */
export function bugLines(bug: BugEntry): string {
  return `------------[ cut here ]------------\nkernel BUG at ${bug.file}:${bug.line}!`;
}
