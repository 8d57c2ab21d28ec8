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
import { Flavour } from "./flavour.js";

export class Rcu extends Flavour {
  readonly name = "rcu";
  private needQs = new Set<number>();

  private nextUrgent = 0n;
  readonly urgentTicks = 3;

  /**
   * watching(cpu): the vCPU's rcu_watching flag (0 between rcu_idle_enter and rcu_idle_exit);
   * forceResched(cpu): set need_resched there.
   */
  constructor(private readonly ncpus: number, readonly preemptible: boolean, private readonly watching: (cpu: number) => boolean,
    private readonly forceResched: (cpu: number) => void, private readonly tickPeriod: number) {
    super();
  }

  /** A quiescent state on `cpu`. */
  qs(cpu: number): void {
    this.needQs.delete(cpu);
  }

  advance(now: bigint): void {
    if (this.state === "idle" && this.wanted()) {
      this.startGp(now);
      this.needQs = new Set(Array.from({ length: this.ncpus }, (_, c) => c));
      this.current!.holdouts = this.ncpus;
      this.setState("wait_qs", now);
      this.nextUrgent = now + BigInt(this.urgentTicks * this.tickPeriod);
    }
    if (this.state !== "wait_qs") return;
    // rcu_watching_snap_recheck(): a vCPU RCU is not watching is in an extended quiescent state.
    for (const c of this.needQs) if (!this.watching(c)) this.needQs.delete(c);
    if (this.needQs.size === 0) {
      this.endGp(now);
      return;
    }
    if (now >= this.nextUrgent) {
      this.current!.scans++;
      for (const c of this.needQs) this.forceResched(c);
      this.nextUrgent = now + BigInt(this.urgentTicks * this.tickPeriod);
    }
  }

  override describe(now: bigint): string {
    const waiting = this.state === "wait_qs" ? `; waiting for cpu ${[...this.needQs].join(", ")}` : "";
    return super.describe(now) + waiting;
  }
}
