// Oops reports: what the kernel prints when it dies in a task — the task, the vCPU, the
// faulting instruction symbolized, the registers, and a backtrace from the frame-pointer chain.
import type { Machine } from "../machine/machine.js";
import type { SymbolTable } from "../machine/symbols.js";
import { readVirt } from "../machine/paging.js";
import { VectorName } from "../gen/layout.js";
import type { Task } from "./task.js";

export interface Oops {
  task: string;
  pid: number;
  cpu: number;
  vector: number;
  error: bigint;
  rip: bigint;
  cr2: bigint;
  backtrace: string[];
  text: string;
  /** A double fault on a stack's guard page: which stack overflowed. */
  overflow?: string;
}

const PT_REGS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
  "orig_rax", "rip", "cs", "eflags", "rsp", "ss"];

function readU64s(m: Machine, cr3: number, va: bigint, n: number): bigint[] | null {
  const b = readVirt(m, cr3, va, n * 8);
  if (!b) return null;
  const v = new DataView(b.buffer);
  return Array.from({ length: n }, (_, i) => v.getBigUint64(i * 8, true));
}

/** Walks saved-RBP frames: [rbp] = caller's rbp, [rbp + 8] = return address. */
export function backtrace(m: Machine, cr3: number, symbols: SymbolTable, rip: bigint, rbp: bigint, max = 16): string[] {
  const out = [symbols.format(rip)];
  const seen = new Set<bigint>();
  for (let i = 0; i < max && rbp !== 0n && !seen.has(rbp); i++) {
    seen.add(rbp);
    const f = readU64s(m, cr3, rbp, 2);
    if (!f || f[1] === 0n) break;
    out.push(symbols.format(f[1]));
    rbp = f[0];
  }
  return out;
}

export function makeOops(m: Machine, cr3: number, symbols: SymbolTable, task: Task, cpu: number,
  regsVa: bigint, vector: number, error: bigint, cr2: bigint): Oops {
  const r = readU64s(m, cr3, regsVa, PT_REGS.length) ?? new Array(PT_REGS.length).fill(0n);
  const reg = (name: string) => r[PT_REGS.indexOf(name)];
  const rip = reg("rip");
  const bt = backtrace(m, cr3, symbols, rip, reg("rbp"));
  const addr = cr2.toString(16).padStart(16, "0");
  const what = vector !== 14 ? `Oops: ${VectorName[vector] ?? `vector ${vector}`} error 0x${error.toString(16)}`
    : cr2 < 4096n ? `BUG: kernel NULL pointer dereference, address: ${addr}`
      : `BUG: unable to handle page fault for address: ${addr}`;
  const lines = [
    what,
    `CPU: ${cpu} PID: ${task.pid} Comm: ${task.name}`,
    `RIP: ${symbols.format(rip)}`,
    ...[0, 4, 8, 12].map((i) => PT_REGS.slice(i, i + 4)
      .map((n) => `${n.toUpperCase().padStart(3)}: ${reg(n).toString(16).padStart(16, "0")}`)
      .join(" ")),
    `RSP: ${reg("rsp").toString(16).padStart(16, "0")} EFLAGS: ${reg("eflags").toString(16).padStart(8, "0")} ` +
      `CS: ${reg("cs").toString(16)}`,
    "Call Trace:",
    ...bt.map((f) => ` ${f}`),
  ];
  return { task: task.name, pid: task.pid, cpu, vector, error, rip, cr2, backtrace: bt, text: lines.join("\n") };
}
