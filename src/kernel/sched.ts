// The scheduler's policy, in the host. The guest does the mechanics (context switch, preemption
// points, need_resched checks); through hypercalls it asks which task runs next and reports
// ticks and sleeps. Tasks are pinned to the vCPU they start on; each run queue is FIFO with a
// time slice counted in timer ticks.
//
// Switch counting follows the kernel's __schedule(): a switch away from a task that blocked
// (it slept or exited, and was not preempted) counts in nvcsw; any other switch, whether the
// task was preempted or merely yielded while runnable, counts in nivcsw.
import { EventKind, percpuFields, PERCPU_SIZE, Resched, SchedReason } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import type { PreemptModel } from "./config.js";
import type { BootTask, Task } from "./task.js";
import { VEC_RESCHED } from "../gen/constants.js";

export type { Task, TaskState } from "./task.js";

/** The upper half of the address space, where kernel addresses live. */
const KERNEL_HALF = 0xffff_8000_0000_0000n;

export interface SwitchInfo {
  cpu: number;
  prev: Task;
  next: Task;
  /** Why: SchedReason (VOLUNTARY, or a kind of preemption). */
  reason: number;
  preempt: boolean;
  clock: bigint;
}

/**
 * The policy's state, plain data (KernelState.sched). Run queues, `current` and the sleepers
 * hold the very Task objects of `tasks`; a structuredClone of the whole kernel state keeps
 * those links.
 */
export interface SchedState {
  tasks: Task[];
  current: Task[];
  runqueue: Task[][];
  idle: Task[];
  idleTicks: number[];
  busyTicks: number[];
  /** Sleeping tasks by wake time. */
  sleepers: Task[];
  /** Per vCPU: the next __schedule() keeps the current task if it can run (forceSchedule). */
  keepCurrent: boolean[];
}

/** The state of a freshly booted kernel: idle tasks running, the others on their run queues. */
export function initialSchedState(bootTasks: BootTask[], ncpus: number): SchedState {
  const tasks: Task[] = bootTasks.map((t) => ({
    ...t, state: t.kind === "idle" ? "running" : "runnable", wakeAt: 0n, nvcsw: 0, nivcsw: 0, runTicks: 0,
    sliceUsed: 0, preempted: false, preemptedAt: 0n, voluntarySchedules: 0, inUser: false,
  }));
  const idle = Array.from({ length: ncpus }, (_, c) => tasks.find((t) => t.kind === "idle" && t.cpu === c)!);
  return {
    tasks, idle, current: [...idle],
    runqueue: Array.from({ length: ncpus }, (_, c) => tasks.filter((t) => t.kind !== "idle" && t.cpu === c)),
    idleTicks: new Array(ncpus).fill(0), busyTicks: new Array(ncpus).fill(0), sleepers: [], keepCurrent: new Array(ncpus).fill(false),
  };
}

export class SchedPolicy {
  /** Index in `tasks` by struct task address (boot makes most; kthread_create the rest). */
  private readonly byAddr = new Map<bigint, number>();
  /** Called after every switch (the scheduler's tracepoint). */
  readonly onSwitch: ((s: SwitchInfo) => void)[] = [];
  /** Called for every __schedule() the guest enters, switch or not (RCU watches these). */
  readonly onSchedule: ((cpu: number, prev: Task, next: Task, reason: number) => void)[] = [];
  /**
   * __is_kernel() || __is_module_text() of an address, for seed 000's check at preemption time
   * (rcu/preempt-check.ts); the kernel wires it.
   */
  isText?: (addr: bigint) => boolean;
  /** Called for every scheduler tick, with the task it interrupted. */
  readonly onTick: ((cpu: number, task: Task, user: boolean) => void)[] = [];

  constructor(private readonly machine: Machine, private readonly st: () => SchedState, private readonly percpuPa: number,
    readonly model: PreemptModel, readonly timeslice: number, readonly tickPeriod: number) {
    st().tasks.forEach((t, i) => this.byAddr.set(t.addr, i));
  }

  get tasks(): Task[] { return this.st().tasks; }
  get current(): Task[] { return this.st().current; }
  get runqueue(): Task[][] { return this.st().runqueue; }
  get idle(): Task[] { return this.st().idle; }
  get idleTicks(): number[] { return this.st().idleTicks; }
  get busyTicks(): number[] { return this.st().busyTicks; }
  private get sleepers(): Task[] { return this.st().sleepers; }
  private get keepCurrent(): boolean[] { return this.st().keepCurrent; }

  task(addr: bigint): Task {
    const i = this.byAddr.get(addr);
    let t = i === undefined ? undefined : this.tasks[i];
    if (t?.addr !== addr) {
      // Made at run time in another life of the state (a restored snapshot): look it up.
      const j = this.tasks.findIndex((x) => x.addr === addr);
      t = j < 0 ? undefined : this.tasks[j];
      if (t) this.byAddr.set(addr, j);
    }
    if (!t) throw new Error(`the guest named an unknown task 0x${addr.toString(16)}`);
    return t;
  }

  private reschedAddr(cpu: number): number {
    return this.percpuPa + cpu * PERCPU_SIZE + percpuFields.resched.offset;
  }

  private resched(cpu: number): number {
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getUint32(this.reschedAddr(cpu), true);
  }

  /** Sets need_resched (or its lazy form) for `cpu`'s current task; kicks an idle vCPU. */
  setResched(cpu: number, lazy: boolean): void {
    const bit = lazy ? Resched.LAZY : Resched.NEED;
    const v = this.resched(cpu) | bit;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.machine.writePhys(this.reschedAddr(cpu), b);
    if (this.current[cpu].kind === "idle") this.machine.interrupt(cpu, VEC_RESCHED);
  }

  /**
   * Makes `cpu` pass through __schedule() soon without giving its task's turn away: what a
   * worker queued there (schedule_on_each_cpu) or resched_cpu() from RCU achieves. The worker
   * itself is not modelled; the current task keeps the CPU.
   */
  forceSchedule(cpu: number): void {
    this.keepCurrent[cpu] = true;
    this.setResched(cpu, false);
  }

  /** HYPERCALL_SCHED_TICK from `cpu`: account the tick, wake sleepers, expire the slice. */
  tick(cpu: number, user: boolean, now: bigint): void {
    const cur = this.current[cpu];
    for (const f of this.onTick) f(cpu, cur, user);
    if (cur.kind === "idle") this.idleTicks[cpu]++;
    else {
      this.busyTicks[cpu]++;
      cur.runTicks++;
      cur.sliceUsed++;
      cur.inUser = user;
    }
    if (this.sleepers.length > 0 && this.sleepers[0].wakeAt <= now) {
      let n = 0;
      while (n < this.sleepers.length && this.sleepers[n].wakeAt <= now) n++;
      for (const t of this.sleepers.splice(0, n)) if (t.state === "sleeping") this.wake(t, now);
    }
    if (cur.kind === "idle") {
      if (this.runqueue[cpu].length > 0) this.setResched(cpu, false);
      return;
    }
    if (this.model === "lazy" && (this.resched(cpu) & Resched.LAZY)) {
      this.setResched(cpu, false); // a lazy request outstanding for a whole tick becomes a real one
    } else if (cur.sliceUsed >= this.timeslice && this.runqueue[cpu].length > 0) {
      this.setResched(cpu, this.model === "lazy");
    }
  }

  private wake(t: Task, now: bigint): void {
    t.state = "runnable";
    this.runqueue[t.cpu].push(t);
    this.machine.events.record(EventKind.WAKEUP, t.cpu, now, BigInt(t.pid));
    if (this.current[t.cpu].kind === "idle") this.setResched(t.cpu, false);
  }

  /** HYPERCALL_SLEEP: the current task blocks for `ticks` timer ticks. */
  sleep(cpu: number, ticks: bigint, now: bigint): void {
    const t = this.current[cpu];
    t.state = "sleeping";
    t.wakeAt = now + ticks * BigInt(this.tickPeriod);
    // Kept sorted by wake time (ties in sleep order), so a tick only looks at the due ones.
    let i = this.sleepers.length;
    while (i > 0 && this.sleepers[i - 1].wakeAt > t.wakeAt) i--;
    this.sleepers.splice(i, 0, t);
  }

  exit(task: Task): void {
    task.state = "dead";
  }

  /** A task made at run time (kthread_create): known from now on, stopped until woken. */
  add(t: Task): void {
    this.byAddr.set(t.addr, this.tasks.length);
    this.tasks.push(t);
  }

  /**
   * wake_up_process: a stopped or sleeping task becomes runnable (a sleeper before its time).
   * A task still on its vCPU that has not reached schedule() yet just keeps running.
   * Returns whether it was woken.
   */
  wakeUp(t: Task, now: bigint): boolean {
    if (t.state !== "sleeping") return false;
    const i = this.sleepers.indexOf(t);
    if (i >= 0) this.sleepers.splice(i, 1);
    if (this.current[t.cpu] === t) {
      t.state = "running";
      return true;
    }
    this.wake(t, now);
    return true;
  }

  /** The current task of `cpu` sleeps until wakeUp() (a wait for the host's work). */
  block(cpu: number): Task {
    const t = this.current[cpu];
    t.state = "sleeping";
    t.wakeAt = -1n;
    return t;
  }

  /**
   * HYPERCALL_SCHEDULE: pick what runs next on `cpu`; returns its task address. `where` is the
   * preempted RIP (an interrupt preempted it) or the preemption point's caller.
   */
  schedule(cpu: number, prevAddr: bigint, reason: number, now: bigint, where: bigint): bigint {
    const preempt = reason !== SchedReason.VOLUNTARY;
    const prev = this.task(prevAddr);
    // The proposed check, on the scheduler's path: preempted at a kernel address that is no text?
    prev.preemptedOutsideText = preempt && where >= KERNEL_HALF && this.isText !== undefined && !this.isText(where);
    const blocked = prev.state === "sleeping" || prev.state === "dead";
    const keep = this.keepCurrent[cpu] && !blocked && prev.kind !== "idle";
    this.keepCurrent[cpu] = false;
    let next = keep ? prev : this.runqueue[cpu].shift();
    if (!next) next = blocked || prev.kind === "idle" ? this.idle[cpu] : prev;
    if (next === prev) {
      prev.state = "running";
      for (const f of this.onSchedule) f(cpu, prev, next, reason);
      return prev.addr;
    }
    if (blocked && !preempt) prev.nvcsw++;
    else prev.nivcsw++;
    if (!preempt) prev.voluntarySchedules++;
    prev.preempted = preempt;
    prev.preemptedAt = preempt ? where : 0n;
    if (prev.state === "running") prev.state = "runnable";
    if (prev.state === "runnable" && prev.kind !== "idle") this.runqueue[cpu].push(prev);
    next.state = "running";
    next.sliceUsed = 0;
    this.current[cpu] = next;
    this.machine.events.record(EventKind.SWITCH, cpu, now, BigInt(prev.pid), BigInt(next.pid), BigInt(reason), where);
    for (const f of this.onSchedule) f(cpu, prev, next, reason);
    for (const f of this.onSwitch) f({ cpu, prev, next, reason, preempt, clock: now });
    return next.addr;
  }
}
