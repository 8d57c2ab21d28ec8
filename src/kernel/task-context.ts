// Where a task is: its instruction pointer and the live part of its kernel stack, whether it
// is running on a vCPU right now or switched out. The trampoline-lifetime checks read these.
import { taskFields } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import { readVirt } from "../machine/paging.js";
import type { Task } from "./task.js";
import { physOfDirect } from "./memory.js";

export interface TaskContext {
  /** The vCPU it is running on, if any. */
  cpu?: number;
  /** Where it executes (running, in the kernel) or was preempted; null when neither applies. */
  rip: bigint | null;
  /** Stack words from its stack pointer up to the top of its kernel stack, lowest first. */
  stack: { va: bigint; value: bigint }[];
  /** Return-address slots of its frame-pointer chain, innermost first. */
  frames: { va: bigint; value: bigint }[];
}

function savedRsp(m: Machine, t: Task): bigint {
  const pa = physOfDirect(t.addr) + taskFields.savedRsp.offset;
  return new DataView(m.ram.buffer, m.ram.byteOffset).getBigUint64(pa, true);
}

/** switch_to pushes rbp first, then five more registers: rbp is the sixth word up. */
const SWITCH_TO_RBP_SLOT = 5n * 8n;

function readU64(m: Machine, cr3: number, va: bigint): bigint | null {
  const b = readVirt(m, cr3, va, 8);
  return b ? new DataView(b.buffer, b.byteOffset).getBigUint64(0, true) : null;
}

/** Walks [rbp] = caller's rbp, [rbp + 8] = return address, through any stack, at most `max` frames. */
function frameChain(m: Machine, cr3: number, rbp: bigint | null, max = 64): TaskContext["frames"] {
  const out: TaskContext["frames"] = [];
  const seen = new Set<bigint>();
  while (rbp && out.length < max && !seen.has(rbp)) {
    seen.add(rbp);
    const ret = readU64(m, cr3, rbp + 8n);
    if (ret === null || ret === 0n) break;
    out.push({ va: rbp + 8n, value: ret });
    rbp = readU64(m, cr3, rbp);
  }
  return out;
}

/**
 * Which task each vCPU is executing right now, judged from the machine rather than from the
 * scheduler's bookkeeping (which changes at the SCHEDULE hypercall, a few instructions before
 * switch_to really moves to the next stack): the task whose kernel stack holds the vCPU's RSP;
 * otherwise (user mode, or on the IRQ or an IST stack) the task the guest's per-CPU `current`
 * names.
 */
export function runningTasks(m: Machine, sched: { tasks: readonly Task[]; task(addr: bigint): Task },
  guestCurrent: (cpu: number) => bigint): Map<Task, number> {
  const out = new Map<Task, number>();
  for (const c of m.cpus) {
    const rsp = c.reg(4);
    const onStack = c.get("cpl") === 3 ? undefined : sched.tasks.find((t) => rsp >= t.stackBase && rsp < t.stackTop);
    out.set(onStack ?? sched.task(guestCurrent(c.index)), c.index);
  }
  return out;
}

/**
 * A running task in the kernel is read live (its vCPU is stopped between rounds). If its stack
 * pointer is not on its own stack (it is on the IRQ or an IST stack), the whole of its stack
 * is read: possibly stale words, but never a missed one. A switched-out task is read from
 * what switch_to saved.
 */
export function taskContext(m: Machine, cr3: number, running: Map<Task, number>, t: Task): TaskContext {
  const cpu = running.get(t) ?? -1;
  let rip: bigint | null = null;
  let rsp: bigint;
  let rbp: bigint | null;
  if (cpu >= 0) {
    const c = m.cpus[cpu];
    if (c.get("cpl") === 3) return { cpu, rip: null, stack: [], frames: [] };
    rip = c.rip;
    rsp = c.reg(4);
    rbp = c.reg(5);
    if (rsp < t.stackBase || rsp >= t.stackTop) rsp = t.stackBase;
  } else {
    if (t.preempted) rip = t.preemptedAt;
    rsp = savedRsp(m, t);
    rbp = readU64(m, cr3, rsp + SWITCH_TO_RBP_SLOT);
    if (rsp < t.stackBase || rsp >= t.stackTop) rsp = t.stackBase;
  }
  rsp &= ~7n;
  const bytes = readVirt(m, cr3, rsp, Number(t.stackTop - rsp));
  const stack: TaskContext["stack"] = [];
  if (bytes) {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    for (let off = 0; off + 8 <= bytes.length; off += 8) stack.push({ va: rsp + BigInt(off), value: v.getBigUint64(off, true) });
  }
  return { cpu: cpu >= 0 ? cpu : undefined, rip, stack, frames: frameChain(m, cr3, rbp) };
}

/**
 * Why a task is tied to some memory: its instruction pointer, a return address in its frame
 * chain (it will certainly come back there), or some other word of its live stack (perhaps a
 * stale one in a slot nobody overwrote: a conservative scan cannot tell).
 */
export interface Hold {
  where: "ip" | "frame" | "stack";
  value: bigint;
  /** For a stack word: its address. */
  at?: bigint;
}

/**
 * The first reference into `inside` memory, looking as deep as `depth` says: the IP only; the
 * IP and the frame chain's return addresses; or those and then every word of the live stack.
 */
export function findHold(ctx: TaskContext, inside: (a: bigint) => boolean, depth: "ip" | "frames" | "stack"): Hold | null {
  if (ctx.rip !== null && inside(ctx.rip)) return { where: "ip", value: ctx.rip };
  if (depth === "ip") return null;
  for (const f of ctx.frames) if (inside(f.value)) return { where: "frame", value: f.value, at: f.va };
  if (depth === "frames") return null;
  for (const w of ctx.stack) if (inside(w.value)) return { where: "stack", value: w.value, at: w.va };
  return null;
}

/** A task found holding some memory (Kernel.holders), with one line saying how. */
export interface Holder {
  task: Task;
  hold: Hold;
  text: string;
}

/** Tasks (idle ones included, dead ones not) whose IP or live stack points into [start, end). */
export function holdersOf(tasks: readonly Task[], context: (t: Task) => TaskContext, symbolize: (a: bigint) => string,
  start: bigint, end: bigint): Holder[] {
  const out: Holder[] = [];
  for (const t of tasks) {
    if (t.state === "dead") continue;
    const hold = findHold(context(t), (a) => a >= start && a < end, "stack");
    if (!hold) continue;
    const where = hold.where === "ip" ? "its IP is" : hold.where === "frame" ? `the return address at ${hold.at!.toString(16)} is`
      : `its stack at ${hold.at!.toString(16)} holds (maybe stale)`;
    const state = `${t.state}${t.preempted && t.state === "runnable" ? ", preempted" : ""}`;
    out.push({ task: t, hold, text: `${t.name}/${t.pid} (${state}): ${where} ${symbolize(hold.value)}` });
  }
  return out;
}
