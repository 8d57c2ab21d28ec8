// Work the host does for a guest task over time (firmware/hostjob.c): the task made a
// hypercall that cannot be answered at once, so it sleeps until the host has finished. A job
// is plain data in the kernel state; the kind of job decides when it is done. Jobs advance after
// every round of quanta (Interleaver.afterRound), one at a time: a job that patches text runs
// the machine itself (the text-poke syncs), and that nested running must not start another.
import { taskFields, SyncFlavour } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import type { SchedPolicy, Task } from "./sched.js";
import { physOfDirect } from "./memory.js";

/** What a waiting task waits for. */
export type JobWait =
  /** A grace period of a flavour (synchronize_rcu() and friends). */
  | { kind: "grace-period"; flavour: string; seq: number }
  /** Work that runs the machine (an ftrace call): done in one go when its turn comes. */
  | { kind: "work"; what: string; work: WorkRequest }
  /** An unregistered ops' release (ftrace_shutdown waits for it). */
  | { kind: "release"; opsAddr: bigint }
  /** Ready RCU callbacks (the rcuc thread), or none outstanding (rcu_barrier). */
  | { kind: "rcu-callbacks"; barrier: boolean; buf: bigint; max: number };

/** Work behind a job, as data: done by a handler registered for its `call`. */
export interface WorkRequest {
  call: string;
  args: bigint[];
  /** The vCPU the task called from (for reading its memory with its rights). */
  cpu: number;
}

export interface Job {
  pid: number;
  task: bigint;
  wait: JobWait;
  queuedAt: bigint;
}

/** What a job's kind needs to know whether it is done, and to do its work. */
export interface JobDeps {
  machine: Machine;
  sched: SchedPolicy;
  /** Whether grace period `seq` of `flavour` has ended. */
  gracePeriodDone: (flavour: string, seq: number) => boolean;
  /** Runs a work request; its result (0 or -errno), or a wait that replaces the job's. */
  work: (w: WorkRequest) => bigint | JobWait;
  /** Whether the release of the ops at `opsAddr` has freed it. */
  released: (opsAddr: bigint) => boolean;
  /** The host is in the middle of patching (a text-poke batch is syncing): wait for the next round. */
  busy: () => boolean;
  /** The RCU callbacks wait: a result once it can answer, else undefined. */
  rcuCallbacks: (w: Extract<JobWait, { kind: "rcu-callbacks" }>) => bigint | undefined;
}

export const FLAVOUR_NAMES: Record<number, string> = {
  [SyncFlavour.RCU]: "rcu", [SyncFlavour.TASKS]: "rcu_tasks", [SyncFlavour.TASKS_RUDE]: "rcu_tasks_rude",
  [SyncFlavour.TASKS_TRACE]: "rcu_tasks_trace",
};

export class HostJobs {
  private busy = false;

  constructor(private readonly st: () => Job[], private readonly d: JobDeps) {}

  get pending(): Job[] { return this.st(); }

  /** The task now running on `cpu` waits for `wait`; its hypercall returns HOST_JOB_PENDING. */
  queue(cpu: number, wait: JobWait): void {
    const t = this.d.sched.block(cpu);
    this.st().push({ pid: t.pid, task: t.addr, wait, queuedAt: this.d.machine.time });
  }

  /** Finishes the jobs that can finish, oldest first. Not re-entered from the machine runs a job makes. */
  advance(): void {
    if (this.busy || this.st().length === 0 || this.d.busy()) return;
    this.busy = true;
    try {
      for (const job of [...this.st()]) {
        const result = this.step(job);
        if (result === undefined) continue;
        this.st().splice(this.st().indexOf(job), 1);
        this.complete(job, result);
      }
    } finally {
      this.busy = false;
    }
  }

  private step(job: Job): bigint | undefined {
    const w = job.wait;
    switch (w.kind) {
      case "grace-period": return this.d.gracePeriodDone(w.flavour, w.seq) ? 0n : undefined;
      case "release": return this.d.released(w.opsAddr) ? 0n : undefined;
      case "rcu-callbacks": return this.d.rcuCallbacks(w);
      case "work": {
        const r = this.d.work(w.work);
        if (typeof r === "bigint") return r;
        job.wait = r; // the work is done; what it started is waited for next
        return this.step(job);
      }
    }
  }

  /** Writes the result into the task (job_result, then job_done) and wakes it. */
  private complete(job: Job, result: bigint): void {
    const m = this.d.machine;
    const pa = physOfDirect(job.task);
    const r = new Uint8Array(8);
    new DataView(r.buffer).setBigUint64(0, BigInt.asUintN(64, result), true);
    m.writePhys(pa + taskFields.jobResult.offset, r);
    m.writePhys(pa + taskFields.jobDone.offset, Uint8Array.of(1, 0, 0, 0));
    const t: Task = this.d.sched.task(job.task);
    this.d.sched.wakeUp(t, m.time);
  }
}
