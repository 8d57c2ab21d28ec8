// RCU, the consolidated flavour: a grace period ends when every vCPU passed a quiescent state
// — a context switch, idle, user mode, or (with preemptible RCU) a tick outside any
// preempt-disabled region. Preempt-disabled and interrupt-disabled code holds it up. It does
// not wait for a task preempted in ordinary kernel code: the context switch that preempted it
// was its CPU's quiescent state.
import { Flavour } from "./flavour.js";

export class Rcu extends Flavour {
  readonly name = "rcu";
  private needQs = new Set<number>();

  constructor(private readonly ncpus: number, readonly preemptible: boolean) {
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
    }
    if (this.state === "wait_qs" && this.needQs.size === 0) this.endGp(now);
  }

  override describe(now: bigint): string {
    const waiting = this.state === "wait_qs" ? `; waiting for cpu ${[...this.needQs].join(", ")}` : "";
    return super.describe(now) + waiting;
  }
}
