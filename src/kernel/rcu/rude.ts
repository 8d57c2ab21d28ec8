// Tasks Rude RCU: a grace period ends when every vCPU has been through the scheduler since it
// started (schedule_on_each_cpu). Each vCPU must first leave whatever it ran with preemption or
// interrupts off — including idle and entry code where RCU is not watching. It does not care
// about preempted tasks.
import { Flavour } from "./flavour.js";

export class TasksRudeRcu extends Flavour {
  readonly name = "rcu_tasks_rude";
  private need = new Set<number>();

  /** forceResched(cpu): make the vCPU call schedule() soon (need_resched and a kick). */
  constructor(private readonly ncpus: number, private readonly forceResched: (cpu: number) => void) {
    super();
  }

  /** `cpu` entered __schedule(). */
  scheduled(cpu: number): void {
    this.need.delete(cpu);
  }

  advance(now: bigint): void {
    if (this.state === "idle" && this.wanted()) {
      this.startGp(now);
      this.need = new Set(Array.from({ length: this.ncpus }, (_, c) => c));
      this.current!.holdouts = this.ncpus;
      this.setState("wait_switches", now);
      for (const c of this.need) this.forceResched(c);
    }
    if (this.state === "wait_switches" && this.need.size === 0) this.endGp(now);
  }

  override describe(now: bigint): string {
    return super.describe(now) + (this.state === "wait_switches" ? `; waiting for cpu ${[...this.need].join(", ")}` : "");
  }
}
