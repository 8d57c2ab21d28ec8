// The RCU flavours of the guest kernel, fed by the scheduler's hooks and advanced between
// rounds of the machine. Which quiescent states each one accepts is the whole difference:
//
//                          rcu        rcu_tasks       rcu_tasks_rude   rcu_tasks_trace
//   context switch         yes        only voluntary  yes (any)        -
//   user mode (tick)       yes        yes             -                -
//   idle (RCU not watching) yes       idle never waits  must schedule   -
//   kernel tick, count 0   if PREEMPT_RCU  no          no               -
//   preempted in a tramp.  passes!    waits           passes!          -
//   explicit reader        -          -               -                waits until it ends
//
// ip-check and stack-scan (scan.ts) are the alternatives to Tasks RCU seed 000 floated.
import { percpuFields, taskFields, PERCPU_SIZE, HARDIRQ_OFFSET_VALUE, SchedReason } from "./constants.js";
import type { Machine } from "../../machine/machine.js";
import type { SchedPolicy, Task } from "../sched.js";
import type { Flavour } from "./flavour.js";
import { Rcu } from "./rcu.js";
import { TasksRcu } from "./tasks.js";
import { TasksRudeRcu } from "./rude.js";
import { TasksTraceRcu } from "./trace.js";
import { TrampolineScan } from "./scan.js";
import type { TaskContext } from "../stacks.js";
import { physOfDirect } from "../memory.js";

export interface RcuDeps {
  machine: Machine;
  sched: SchedPolicy;
  percpuPa: number;
  tickPeriod: number;
  /** PREEMPT_RCU: ticks in kernel code outside preempt-disabled regions are quiescent. */
  preemptible: boolean;
  stallTicks: bigint;
  /** For the scan-based alternatives: where a task is, and which memory is being released. */
  context: (t: Task) => TaskContext;
  releasing: () => { start: bigint; end: bigint }[];
}

export class RcuSubsystem {
  readonly rcu: Rcu;
  readonly tasks: TasksRcu;
  readonly rude: TasksRudeRcu;
  readonly trace: TasksTraceRcu;
  /** Seed 000's alternatives to Tasks RCU (not kernel flavours; see scan.ts). */
  readonly ipCheck: TrampolineScan;
  readonly stackScan: TrampolineScan;

  constructor(private readonly d: RcuDeps) {
    const n = d.machine.ncpus;
    this.rcu = new Rcu(n, d.preemptible, (cpu) => this.percpu32(cpu, "rcuWatching") !== 0,
      (cpu) => d.sched.forceSchedule(cpu), d.tickPeriod);
    this.tasks = new TasksRcu({ tasks: () => d.sched.tasks, rcu: this.rcu, tickPeriod: d.tickPeriod, stallTicks: d.stallTicks });
    this.rude = new TasksRudeRcu(n, (cpu) => d.sched.forceSchedule(cpu));
    this.trace = new TasksTraceRcu(() => d.sched.tasks, (t) => this.readerState(t), d.tickPeriod);
    const scan = { tasks: () => d.sched.tasks, context: d.context, ranges: d.releasing, tickPeriod: d.tickPeriod };
    this.ipCheck = new TrampolineScan("ip-check", scan);
    this.stackScan = new TrampolineScan("stack-scan", scan);
    d.sched.onSchedule.push((cpu, prev, _next, reason) => {
      this.rcu.qs(cpu);            // rcu_note_context_switch()
      this.rude.scheduled(cpu);
      if (reason === SchedReason.VOLUNTARY) this.tasks.qs(prev);
    });
    d.sched.onTick.push((cpu, task, user) => this.tick(cpu, task, user));
  }

  get flavours(): Flavour[] {
    return [this.rcu, this.tasks, this.rude, this.trace, this.ipCheck, this.stackScan];
  }

  private percpu32(cpu: number, field: "preemptCount" | "rcuWatching"): number {
    const pa = this.d.percpuPa + cpu * PERCPU_SIZE + percpuFields[field].offset;
    return new DataView(this.d.machine.ram.buffer, this.d.machine.ram.byteOffset).getUint32(pa, true);
  }

  /** The scheduler tick on `cpu`, which interrupted `task` (in user mode or not). */
  private tick(cpu: number, task: Task, user: boolean): void {
    if (user) {
      this.rcu.qs(cpu);
      this.tasks.qs(task);
      return;
    }
    if (task.kind === "idle" && this.percpu32(cpu, "rcuWatching") === 0) {
      this.rcu.qs(cpu); // an extended quiescent state
      return;
    }
    // The interrupted context's preempt_count: the tick itself added HARDIRQ_OFFSET.
    const count = this.percpu32(cpu, "preemptCount") - HARDIRQ_OFFSET_VALUE;
    if (this.d.preemptible && count === 0) this.rcu.qs(cpu);
  }

  private readerState(t: Task): { nesting: number; exits: number } {
    const v = new DataView(this.d.machine.ram.buffer, this.d.machine.ram.byteOffset);
    const pa = physOfDirect(t.addr);
    return { nesting: v.getUint32(pa + taskFields.trcReaderNesting.offset, true), exits: v.getUint32(pa + taskFields.trcReaderExits.offset, true) };
  }

  advance(now: bigint): void {
    for (const f of this.flavours) f.advance(now);
    // Tasks RCU waits on RCU inside its own grace period: let RCU catch up in the same round.
    this.rcu.advance(now);
  }

  describe(now: bigint): string {
    return this.flavours.map((f) => f.describe(now)).join("\n");
  }
}
