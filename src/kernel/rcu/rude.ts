// Tasks Rude RCU: a grace period ends when every vCPU has been through the scheduler since it
// started (schedule_on_each_cpu). Each vCPU must first leave whatever it ran with preemption or
// interrupts off — including idle and entry code where RCU is not watching. It does not care
// about preempted tasks.
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { TASKS_RUDE_STATES, type GpState } from "./states.js";

export interface RudeState extends FlavourState {
  /** vCPUs that have not been through the scheduler since the grace period started. */
  need: Set<number>;
}

export function initialRudeState(): RudeState {
  return { ...initialFlavourState("rcu_tasks_rude"), need: new Set() };
}

export class TasksRudeRcu extends Flavour<RudeState, GpState<typeof TASKS_RUDE_STATES>> {
  readonly gpStates = TASKS_RUDE_STATES;
  /** forceResched(cpu): make the vCPU call schedule() soon (need_resched and a kick). */
  constructor(st: () => RudeState, invoke: (cb: RcuCallback) => void, private readonly ncpus: number,
    private readonly forceResched: (cpu: number) => void) {
    super(st, invoke);
  }

  /** `cpu` entered __schedule(). */
  scheduled(cpu: number): void {
    this.s.need.delete(cpu);
  }

  advance(now: bigint): void {
    if (this.state === "idle" && this.wanted()) {
      this.startGp(now);
      this.s.need = new Set(Array.from({ length: this.ncpus }, (_, c) => c));
      this.s.current!.holdouts = this.ncpus;
      this.setState("wait_switches", now);
      for (const c of this.s.need) this.forceResched(c);
    }
    if (this.state === "wait_switches" && this.s.need.size === 0) this.endGp(now);
  }

  override describe(now: bigint): string {
    return super.describe(now) + (this.state === "wait_switches" ? `; waiting for cpu ${[...this.s.need].join(", ")}` : "");
  }
}
