// A guest task as the host knows it: what boot created (its struct task, stack and vCPU), and
// the scheduler policy's bookkeeping. Plain data in the kernel state (state.ts).

/** A task as the host created it. */
export interface BootTask {
  pid: number;
  name: string;
  kind: "idle" | "kthread" | "user";
  /** Virtual address of its struct task (the guest's pointer to it). */
  addr: bigint;
  cpu: number;
  stackBase: bigint;
  stackTop: bigint;
}

export type TaskState = "running" | "runnable" | "sleeping" | "dead";

export interface Task extends BootTask {
  state: TaskState;
  /** Virtual time a sleeping task wakes at. */
  wakeAt: bigint;
  nvcsw: number;
  nivcsw: number;
  /** Timer ticks it was running on. */
  runTicks: number;
  /** Ticks since it last got the CPU. */
  sliceUsed: number;
  /** How it last left the CPU (for Tasks RCU: a preempted task may be inside a trampoline). */
  preempted: boolean;
  /** Where it was when it was last preempted: the interrupted RIP, or the preemption point's caller. */
  preemptedAt: bigint;
  /**
   * Seed 000's check at preemption time (a proposal): its last pass through the scheduler was
   * a preemption at a kernel IP outside kernel and module text (rcu/preempt-check.ts).
   */
  preemptedOutsideText?: boolean;
  /** Switches that were not preemptions (schedule() called by the task itself). */
  voluntarySchedules: number;
  /** Seen in user mode at its last tick. */
  inUser: boolean;
}
