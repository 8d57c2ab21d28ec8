// The two alternatives to Tasks RCU floated in the 2024 discussion (seed 000), as grace-period
// mechanisms of their own. Both look at where tasks are instead of waiting for every task to
// switch voluntarily:
//
//   ip-check    a task holds the grace period while its instruction pointer (live, or where it
//               was preempted) lies in trampoline memory being released.
//   stack-scan  a task holds it while its instruction pointer or any word of its live kernel
//               stack points into that memory (a return address into the trampoline).
//
// The ip-check misses a task preempted inside the trampoline's *callback*: its IP is in core
// text, but the callback returns into the trampoline.
//
//   cpu0: victim                          host (unregister)
//     tramp: call function_slow_call
//       function_slow_call: loop...
//       <timer: preempted, IP in core text>
//                                         patch sites to NOP; scan: victim's IP is not in the
//                                         trampoline -> grace period ends -> free, unmap
//       <resumes> ...ret -> into freed trampoline: page fault
//
// Interrupt levels: a task preempted at an interrupt's exit holds exactly one interrupted IP,
// that interrupt's pt_regs->ip on its own stack (the preempted IP here). A softirq run at that
// exit, and an interrupt nested in it, live on the IRQ stack and end before the preemption
// (their exits see the softirq count), so neither check reads the IRQ stack; the Tasks Rude RCU
// step before either waits out what is there (docs/softirq.md, test/kernel/softirq.test.ts).
//
// Each scan happens between rounds, with every vCPU stopped, after the sites were patched
// away: a task found clear cannot reach the trampoline again. Holdouts are rescanned with the
// same backoff as Tasks RCU.
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { SCAN_STATES, type GpState } from "./states.js";
import type { Task } from "../task.js";
import { findHold, type Hold, type TaskContext } from "../task-context.js";

export type ScanMode = "ip-check" | "stack-scan";

export interface ScanDeps {
  tasks: () => readonly Task[];
  context: (t: Task) => TaskContext;
  /** Address ranges being released: [start, end). */
  ranges: () => { start: bigint; end: bigint }[];
  tickPeriod: number;
}

export interface ScanState extends FlavourState {
  /** Tasks found tied to released memory, and how. */
  holdouts: Map<Task, Hold>;
  backoff: number;
  nextScan: bigint;
}

export function initialScanState(mode: ScanMode): ScanState {
  return { ...initialFlavourState(mode), holdouts: new Map(), backoff: 1, nextScan: 0n };
}

export class TrampolineScan extends Flavour<ScanState, GpState<typeof SCAN_STATES>> {
  readonly gpStates = SCAN_STATES;
  readonly maxBackoff = 10;

  constructor(st: () => ScanState, invoke: (cb: RcuCallback) => void, readonly mode: ScanMode, private readonly d: ScanDeps) {
    super(st, invoke);
  }

  get holdouts(): Map<Task, Hold> { return this.s.holdouts; }

  /** What ties `t` to released memory under this mode, or null. */
  hold(t: Task): Hold | null {
    const ranges = this.d.ranges();
    const inside = (a: bigint) => ranges.some((r) => a >= r.start && a < r.end);
    return findHold(this.d.context(t), inside, this.mode === "stack-scan" ? "stack" : "ip");
  }

  private candidates(): Task[] {
    return this.d.tasks().filter((t) => t.kind !== "idle" && (t.state === "running" || t.state === "runnable"));
  }

  advance(now: bigint): void {
    if (this.state === "idle") {
      if (!this.wanted()) return;
      this.startGp(now);
      this.holdouts.clear();
      for (const t of this.candidates()) {
        const h = this.hold(t);
        if (h) this.holdouts.set(t, h);
      }
      this.current!.holdouts = this.holdouts.size;
      this.s.backoff = 1;
      this.waitOrEnd(now);
      return;
    }
    if (this.state !== "wait_scan_holdouts" || now < this.s.nextScan) return;
    this.setState("scan_holdouts", now);
    this.current!.scans++;
    for (const t of [...this.holdouts.keys()]) {
      const h = t.state === "dead" ? null : this.hold(t);
      if (h) this.holdouts.set(t, h);
      else this.holdouts.delete(t);
    }
    this.waitOrEnd(now);
  }

  private waitOrEnd(now: bigint): void {
    if (this.holdouts.size === 0) {
      this.endGp(now);
      return;
    }
    const s = this.s;
    s.nextScan = now + BigInt(s.backoff * this.d.tickPeriod);
    s.backoff = Math.min(s.backoff + 1, this.maxBackoff);
    this.setState("wait_scan_holdouts", now);
  }

  override describe(now: bigint): string {
    const h = [...this.holdouts].map(([t, hold]) => `${t.name}:${t.pid} (${hold.where} 0x${hold.value.toString(16)})`);
    return super.describe(now) + (h.length ? `; holdouts: ${h.join(" ")}` : "");
  }
}
