// Where a task is: its instruction pointer and the live part of its kernel stack, whether it
// is running on a vCPU right now or switched out. The trampoline-lifetime checks read these.
import { taskFields } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import { readVirt } from "../machine/paging.js";
import type { SchedPolicy, Task } from "./sched.js";
import { physOfDirect } from "./memory.js";

export interface TaskContext {
  /** The vCPU it is running on, if any. */
  cpu?: number;
  /** Where it executes (running, in the kernel) or was preempted; null when neither applies. */
  rip: bigint | null;
  /** Stack words from its stack pointer up to the top of its kernel stack, lowest first. */
  stack: { va: bigint; value: bigint }[];
}

function savedRsp(m: Machine, t: Task): bigint {
  const pa = physOfDirect(t.addr) + taskFields.savedRsp.offset;
  return new DataView(m.ram.buffer, m.ram.byteOffset).getBigUint64(pa, true);
}

/**
 * A running task in the kernel is read live (its vCPU is stopped between rounds). If its stack
 * pointer is not on its own stack (it is on the IRQ or an IST stack), the whole of its stack
 * is read: possibly stale words, but never a missed one.
 */
export function taskContext(m: Machine, cr3: number, sched: SchedPolicy, t: Task): TaskContext {
  const cpu = sched.current.indexOf(t);
  let rip: bigint | null = null;
  let rsp: bigint;
  if (cpu >= 0) {
    const c = m.cpus[cpu];
    if (c.get("cpl") === 3) return { cpu, rip: null, stack: [] };
    rip = c.rip;
    rsp = c.reg(4);
    if (rsp < t.stackBase || rsp >= t.stackTop) rsp = t.stackBase;
  } else {
    if (t.preempted) rip = t.preemptedAt;
    rsp = savedRsp(m, t);
    if (rsp < t.stackBase || rsp >= t.stackTop) rsp = t.stackBase;
  }
  rsp &= ~7n;
  const bytes = readVirt(m, cr3, rsp, Number(t.stackTop - rsp));
  const stack: TaskContext["stack"] = [];
  if (bytes) {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    for (let off = 0; off + 8 <= bytes.length; off += 8) stack.push({ va: rsp + BigInt(off), value: v.getBigUint64(off, true) });
  }
  return { cpu: cpu >= 0 ? cpu : undefined, rip, stack };
}

/** Why a task is tied to some memory: its instruction pointer, or a word of its stack. */
export interface Hold {
  where: "ip" | "stack";
  value: bigint;
  /** For a stack word: its address. */
  at?: bigint;
}

/** The first reference into `inside` memory: the IP, then (if `stack`) stack words from the top of the frame chain down. */
export function findHold(ctx: TaskContext, inside: (a: bigint) => boolean, stack: boolean): Hold | null {
  if (ctx.rip !== null && inside(ctx.rip)) return { where: "ip", value: ctx.rip };
  if (stack) for (const w of ctx.stack) if (inside(w.value)) return { where: "stack", value: w.value, at: w.va };
  return null;
}
