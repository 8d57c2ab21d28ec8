// RCU, the consolidated flavour: a grace period ends when every vCPU passed a quiescent state
// — a context switch, user mode, (with preemptible RCU) a tick outside any preempt-disabled
// region, or being seen where RCU is not watching (idle: an extended quiescent state, noticed
// remotely by the grace-period machinery without disturbing the vCPU). Preempt-disabled and
// interrupt-disabled code holds it up — unless RCU is not watching it. It does not wait for a
// task preempted in ordinary kernel code: the context switch that preempted it was its CPU's
// quiescent state.
//
// A vCPU that holds a grace period up for `urgentTicks` timer periods is asked to schedule
// (the kernel's resched_cpu() from force-quiescent-state): its next pass through __schedule(),
// even one that picks the same task, is a quiescent state.
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { RCU_STATES, type GpState } from "./states.js";

export interface RcuState extends FlavourState {
  /** vCPUs that still owe the grace period a quiescent state. */
  needQs: Set<number>;
  nextUrgent: bigint;
}

export function initialRcuState(): RcuState {
  return { ...initialFlavourState("rcu"), needQs: new Set(), nextUrgent: 0n };
}

export class Rcu extends Flavour<RcuState, GpState<typeof RCU_STATES>> {
  readonly gpStates = RCU_STATES;
  readonly urgentTicks = 3;

  /**
   * watching(cpu): the vCPU's rcu_watching flag (0 between rcu_idle_enter and rcu_idle_exit);
   * forceResched(cpu): set need_resched there.
   */
  constructor(st: () => RcuState, invoke: (cb: RcuCallback) => void, private readonly ncpus: number, readonly preemptible: boolean,
    private readonly watching: (cpu: number) => boolean, private readonly forceResched: (cpu: number) => void,
    private readonly tickPeriod: number) {
    super(st, invoke);
  }

  /** A quiescent state on `cpu`. */
  qs(cpu: number): void {
    this.s.needQs.delete(cpu);
  }

  advance(now: bigint): void {
    const s = this.s;
    if (s.state === "idle" && this.wanted()) {
      this.startGp(now);
      s.needQs = new Set(Array.from({ length: this.ncpus }, (_, c) => c));
      s.current!.holdouts = this.ncpus;
      this.setState("wait_qs", now);
      s.nextUrgent = now + BigInt(this.urgentTicks * this.tickPeriod);
    }
    if (s.state !== "wait_qs") return;
    // rcu_watching_snap_recheck(): a vCPU RCU is not watching is in an extended quiescent state.
    for (const c of s.needQs) if (!this.watching(c)) s.needQs.delete(c);
    if (s.needQs.size === 0) {
      this.endGp(now);
      return;
    }
    if (now >= s.nextUrgent) {
      s.current!.scans++;
      for (const c of s.needQs) this.forceResched(c);
      s.nextUrgent = now + BigInt(this.urgentTicks * this.tickPeriod);
    }
  }

  override describe(now: bigint): string {
    const waiting = this.state === "wait_qs" ? `; waiting for cpu ${[...this.s.needQs].join(", ")}` : "";
    return super.describe(now) + waiting;
  }
}
