// Kernel threads made while the kernel runs (kthread_create, and the tasks that run a module's
// init and exit functions). The host does what kernel_thread() and copy_process() would: a
// struct task from the heap, a stack of its own, a first frame that switch_to returns from into
// ret_from_fork, and a place in the scheduler, stopped until wake_up_process().
import { TASK_SIZE } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import type { GuestHeap } from "./heap.js";
import type { KernelStacks } from "./stacks.js";
import type { SchedPolicy, Task } from "./sched.js";
import { writeNewTask } from "./boot.js";
import { physOfDirect } from "./memory.js";

/** How many tasks the machine holds in all (a guest looping on kthread_create hits this). */
export const MAX_TASKS = 1024;

export interface KthreadDeps {
  machine: Machine;
  heap: GuestHeap;
  stacks: KernelStacks;
  sched: SchedPolicy;
  retFromFork: bigint;
}

export class KthreadError extends Error {}

/** A stopped kernel thread on `cpu` that starts at entry(arg). */
export function createKthread(d: KthreadDeps, name: string, cpu: number, entry: bigint, arg: bigint): Task {
  if (d.sched.tasks.length >= MAX_TASKS) throw new KthreadError(`no room for another task (${MAX_TASKS} in all)`);
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= d.machine.ncpus) throw new KthreadError(`no vCPU ${cpu}`);
  const addr = d.heap.alloc(TASK_SIZE);
  const boot = writeNewTask(d.machine, d.stacks, d.retFromFork, physOfDirect(addr), {
    pid: d.sched.tasks.length, name, kind: "kthread", cpu, entry, arg,
  });
  const t: Task = {
    ...boot, state: "sleeping", wakeAt: -1n, nvcsw: 0, nivcsw: 0, runTicks: 0, sliceUsed: 0, preempted: false,
    preemptedAt: 0n, voluntarySchedules: 0, inUser: false,
  };
  d.sched.add(t);
  return t;
}
