// The RCU flavours of the guest kernel, fed by the scheduler's hooks and advanced between
// rounds of the machine. Which quiescent states each one accepts is the whole difference:
//
//                          rcu        rcu_tasks       rcu_tasks_rude   rcu_tasks_trace
//   context switch         yes        only voluntary  yes (any)        -
//   user mode (tick)       yes        yes             -                -
//   idle (RCU not watching) yes       idle never waits  must schedule   -
//   kernel tick, count 0   if PREEMPT_RCU  no          no               -
//     and not in a reader
//   preempted in a tramp.  passes!    waits           passes!          -
//   explicit reader        rcu_read_lock: -           -                rcu_read_lock_trace:
//                          waits (blocked               waits until it ends
//                          list if preempted)
//
// ip-check and stack-scan (scan.ts) and preempt-check (preempt-check.ts) are the alternatives
// to Tasks RCU seed 000 floated.
import { percpuFields, taskFields, PERCPU_SIZE, HARDIRQ_OFFSET_VALUE, SchedReason, RcuSpecial } from "./constants.js";
import type { Machine } from "../../machine/machine.js";
import type { Task } from "../task.js";
import type { Flavour, RcuCallback } from "./flavour.js";
import { Rcu, initialRcuState, type RcuState } from "./rcu.js";
import { TasksRcu, initialTasksRcuState, type TasksRcuState } from "./tasks.js";
import { TasksRudeRcu, initialRudeState, type RudeState } from "./rude.js";
import { TasksTraceRcu, initialTasksTraceState, type TasksTraceState } from "./trace.js";
import { TrampolineScan, initialScanState, type ScanState } from "./scan.js";
import { PreemptCheck, initialPreemptCheckState, type PreemptCheckState } from "./preempt-check.js";
import type { TaskContext } from "../task-context.js";
import { physOfDirect } from "../memory.js";

/** Every flavour's state (KernelState.rcu). */
export interface RcuStates {
  rcu: RcuState;
  tasks: TasksRcuState;
  rude: RudeState;
  trace: TasksTraceState;
  ipCheck: ScanState;
  stackScan: ScanState;
  preemptCheck: PreemptCheckState;
}

export function initialRcuStates(): RcuStates {
  return { rcu: initialRcuState(), tasks: initialTasksRcuState(), rude: initialRudeState(), trace: initialTasksTraceState(),
    ipCheck: initialScanState("ip-check"), stackScan: initialScanState("stack-scan"),
    preemptCheck: initialPreemptCheckState() };
}

export interface RcuDeps {
  st: () => RcuStates;
  /** Runs a callback whose grace period ended. */
  invoke: (cb: RcuCallback) => void;
  machine: Machine;
  /** Every task of the scheduler. */
  tasks: () => readonly Task[];
  /** The task each vCPU runs now. */
  current: () => readonly Task[];
  /** resched_cpu(): make `cpu` pass through __schedule() soon. */
  forceSchedule: (cpu: number) => void;
  percpuPa: number;
  tickPeriod: number;
  /** PREEMPT_RCU: ticks in kernel code outside preempt-disabled regions are quiescent. */
  preemptible: boolean;
  /** rcu_task_stall_timeout in jiffies (default: the kernel's, 10 minutes). */
  stallTimeout?: number;
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
  /** Seed 000's check at preemption time (preempt-check.ts). */
  readonly preemptCheck: PreemptCheck;

  constructor(private readonly d: RcuDeps) {
    const n = d.machine.ncpus;
    const { st, invoke } = d;
    this.rcu = new Rcu(() => st().rcu, invoke, n, d.preemptible, (cpu) => this.percpu32(cpu, "rcuWatching") !== 0,
      d.forceSchedule, d.tickPeriod);
    this.tasks = new TasksRcu(() => st().tasks, invoke, {
      tasks: d.tasks, rcu: this.rcu, tickPeriod: d.tickPeriod, stallTimeout: d.stallTimeout,
    });
    this.rude = new TasksRudeRcu(() => st().rude, invoke, n, d.forceSchedule);
    this.trace = new TasksTraceRcu(() => st().trace, invoke, {
      rcu: this.rcu, tickPeriod: d.tickPeriod, current: d.current,
      nesting: (t) => this.taskU32(t, "trcReaderNesting") | 0,
      special: (t) => this.taskU32(t, "trcReaderSpecial"),
      setSpecial: (t, v) => this.setTaskU32(t, "trcReaderSpecial", v),
      setNesting: (t, v) => this.setTaskU32(t, "trcReaderNesting", v),
    });
    const scan = { tasks: d.tasks, context: d.context, ranges: d.releasing, tickPeriod: d.tickPeriod };
    this.ipCheck = new TrampolineScan(() => st().ipCheck, invoke, "ip-check", scan);
    this.stackScan = new TrampolineScan(() => st().stackScan, invoke, "stack-scan", scan);
    this.preemptCheck = new PreemptCheck(() => st().preemptCheck, invoke, d.tasks, d.tickPeriod);
  }

  /** `cpu` entered __schedule() (switching from `prev` or not): rcu_note_context_switch(). */
  scheduled(cpu: number, prev: Task, reason: number): void {
    // The nesting is a signed int in the kernel: an unbalanced unlock is not a reader.
    const nesting = this.taskU32(prev, "rcuReadLockNesting") | 0;
    if (this.d.preemptible && nesting > 0) {
      const special = this.taskU32(prev, "rcuReadUnlockSpecial");
      if (!(special & RcuSpecial.BLOCKED)) {
        this.setTaskU32(prev, "rcuReadUnlockSpecial", special | RcuSpecial.BLOCKED);
        this.rcu.queueBlocked(prev, cpu, this.d.machine.time);
      }
    } else if (this.d.preemptible && nesting === 0 && this.taskU32(prev, "rcuReadUnlockSpecial")) {
      this.deferredQs(cpu, prev); // rcu_preempt_deferred_qs(): a report its unlock had to defer
    }
    this.rcu.qs(cpu);
    this.trace.scheduled(cpu, prev);
    this.rude.scheduled(cpu);
    if (reason === SchedReason.VOLUNTARY) this.tasks.qs(prev);
  }

  get flavours(): Flavour[] {
    return [this.rcu, this.tasks, this.rude, this.trace, this.ipCheck, this.stackScan, this.preemptCheck];
  }

  private percpu32(cpu: number, field: "preemptCount" | "rcuWatching"): number {
    const pa = this.d.percpuPa + cpu * PERCPU_SIZE + percpuFields[field].offset;
    return new DataView(this.d.machine.ram.buffer, this.d.machine.ram.byteOffset).getUint32(pa, true);
  }

  /** The scheduler tick on `cpu`, which interrupted `task` (in user mode or not). */
  tick(cpu: number, task: Task, user: boolean): void {
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
    if (!this.d.preemptible) return;
    // rcu_flavor_sched_clock_irq(): inside a reader is no quiescent state; once the grace
    // period is a second (HZ jiffies) old, the reader's unlock is asked to report one (need_qs).
    const depth = this.taskU32(task, "rcuReadLockNesting") | 0;
    if (count === 0 && depth <= 0) {
      if (this.taskU32(task, "rcuReadUnlockSpecial")) this.deferredQs(cpu, task);
      this.rcu.qs(cpu);
      return;
    }
    const special = this.taskU32(task, "rcuReadUnlockSpecial");
    const hz = BigInt(Math.round(1e9 / this.d.tickPeriod)) * BigInt(this.d.tickPeriod);
    if (depth > 0 && this.rcu.owes(cpu) && !(special & RcuSpecial.NEED_QS) && this.d.machine.time - this.rcu.stateSince > hz) {
      this.setTaskU32(task, "rcuReadUnlockSpecial", special | RcuSpecial.NEED_QS);
    }
  }

  /**
   * rcu_read_unlock_special() (the RCU_UNLOCK_SPECIAL hypercall from `cpu`): `t` left its
   * outermost reader with special bits set. need_qs reports the CPU's quiescent state (rcu_qs);
   * blocked dequeues it, and the grace period it held may end.
   */
  unlockSpecial(cpu: number, t: Task, deferred: boolean): void {
    // Preemption, softirqs or interrupts were off at the unlock: that region still holds the
    // grace period, so the report waits for a tick outside it or a context switch.
    if (deferred) return;
    this.deferredQs(cpu, t);
  }

  /** rcu_preempt_deferred_qs(): the reports `t`'s special bits ask for, now that it left its reader. */
  private deferredQs(cpu: number, t: Task): void {
    const special = this.taskU32(t, "rcuReadUnlockSpecial");
    this.setTaskU32(t, "rcuReadUnlockSpecial", 0);
    if (special & RcuSpecial.NEED_QS) this.rcu.qs(cpu);
    if (special & RcuSpecial.BLOCKED) this.rcu.unblock(t);
  }

  private taskU32(t: Task, field: "rcuReadLockNesting" | "rcuReadUnlockSpecial" | "trcReaderSpecial" | "trcReaderNesting"): number {
    const v = new DataView(this.d.machine.ram.buffer, this.d.machine.ram.byteOffset);
    return v.getUint32(physOfDirect(t.addr) + taskFields[field].offset, true);
  }

  private setTaskU32(t: Task, field: "rcuReadUnlockSpecial" | "trcReaderSpecial" | "trcReaderNesting", value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.d.machine.writePhys(physOfDirect(t.addr) + taskFields[field].offset, b);
  }

  advance(now: bigint): void {
    // exit_rcu(): a task that exits inside a reader leaves it.
    for (const b of [...this.rcu.blocked]) if (b.task.state === "dead") this.rcu.unblock(b.task);
    for (const f of this.flavours) f.advance(now);
    // Tasks RCU waits on RCU inside its own grace period: let RCU catch up in the same round.
    this.rcu.advance(now);
  }

  describe(now: bigint): string {
    return this.flavours.map((f) => f.describe(now)).join("\n");
  }
}
