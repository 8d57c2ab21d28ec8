// Tasks RCU (classic): a grace period ends when every task that was runnable at its start has
// done a voluntary context switch, run in user mode, or left the run queue (slept or exited).
// Being preempted never counts: a preempted task may be in the middle of a trampoline.
//
// The grace period, as rcu_tasks_wait_gp() in kernel/rcu/tasks.h runs it (the same from 5.11
// through 6.13 in what is modelled here):
//   wait_pregp          synchronize_rcu() (rcu_tasks_pregp_step): no pre-GP reader looks post-GP
//   scan_tasklist       every on-runqueue non-idle task becomes a holdout (rcu_tasks_pertask);
//                       its nvcsw is noted
//   wait_scan_holdouts  schedule_timeout_idle(fract): `fract` starts at init_fract, HZ/10
//                       jiffies (rcu_spawn_tasks_kthread), and grows by one jiffy after each
//                       wait until it reaches HZ
//   scan_holdouts       check_holdout_task(): drop holdouts that switched voluntarily, ran in
//                       user mode, slept, exited; the stall warning once rcu_task_stall_timeout
//                       jiffies (10 minutes by default) passed since the scan or the last warning
//   post_gp             synchronize_rcu() again (rcu_tasks_postgp), then callbacks run
// HZ is the machine's: one jiffy is one local-timer period (HZ=50000 by default), so the first
// wait is a tenth of a second of virtual time, as in the kernel.
import { initialFlavourState, type RcuCallback } from "./flavour.js";
import { HoldoutFlavour, type HoldoutPacingState } from "./holdouts.js";
import { TASKS_RCU_STATES, type GpState } from "./states.js";
import type { Rcu } from "./rcu.js";
import type { Task } from "../task.js";

export interface TasksRcuDeps {
  tasks: () => readonly Task[];
  rcu: Rcu;
  tickPeriod: number;
  /** rcu_task_stall_timeout in jiffies (<= 0: no stall warnings); default 10 * 60 * HZ. */
  stallTimeout?: number;
}

export interface TasksRcuState extends HoldoutPacingState {
  /** Holdouts: task -> nvcsw when the scan found it (the tasks of the scheduler's state). */
  holdouts: Map<Task, number>;
  /** Holdouts that reported a quiescent state since the scan (rcu_tasks_holdout cleared). */
  reported: Set<Task>;
  /** The RCU grace period waited for before and after the scan. */
  rcuSeq: number;
}

export function initialTasksRcuState(): TasksRcuState {
  return {
    ...initialFlavourState("rcu_tasks"), holdouts: new Map(), reported: new Set(), rcuSeq: 0, fract: 1, nextScan: 0n, lastReport: 0n,
  };
}

export class TasksRcu extends HoldoutFlavour<TasksRcuState, GpState<typeof TASKS_RCU_STATES>> {
  readonly gpStates = TASKS_RCU_STATES;

  /** rcu_tasks' init_fract is HZ/10 jiffies. */
  constructor(st: () => TasksRcuState, invoke: (cb: RcuCallback) => void, private readonly d: TasksRcuDeps) {
    super(st, invoke, d.tickPeriod, 10, d.stallTimeout);
  }

  get holdouts(): Map<Task, number> { return this.s.holdouts; }

  /** rcu_tasks_qs(): the task scheduled voluntarily, or a tick found it in user mode. */
  qs(t: Task): void {
    if (this.s.holdouts.has(t)) this.s.reported.add(t);
  }

  private onRq(t: Task): boolean {
    return t.state === "running" || t.state === "runnable";
  }

  advance(now: bigint): void {
    const s = this.s;
    switch (s.state) {
      case "idle":
        if (!this.wanted()) return;
        this.startGp(now);
        s.rcuSeq = this.d.rcu.request(now);
        this.setState("wait_pregp", now);
        return;
      case "wait_pregp":
        if (!this.d.rcu.done(s.rcuSeq)) return;
        this.scanTasklist(now);
        return;
      case "wait_scan_holdouts":
        if (now < s.nextScan) return;
        this.scanHoldouts(now);
        return;
      case "post_gp":
        if (this.d.rcu.done(s.rcuSeq)) this.endGp(now);
        return;
    }
  }

  private scanTasklist(now: bigint): void {
    const s = this.s;
    this.setState("scan_tasklist", now);
    s.holdouts.clear();
    s.reported.clear();
    for (const t of this.d.tasks()) if (this.onRq(t) && t.kind !== "idle") s.holdouts.set(t, t.nvcsw);
    s.current!.holdouts = s.holdouts.size;
    this.startPacing(now);
    this.waitHoldouts(now);
  }

  private waitHoldouts(now: bigint): void {
    const s = this.s;
    if (s.holdouts.size === 0) {
      s.rcuSeq = this.d.rcu.request(now);
      this.setState("post_gp", now);
      return;
    }
    this.pace(now);
    this.setState("wait_scan_holdouts", now);
  }

  /** check_all_holdout_tasks(): check_holdout_task() for each holdout. */
  private scanHoldouts(now: bigint): void {
    const s = this.s;
    const needReport = this.stallDue(now);
    this.setState("scan_holdouts", now);
    s.current!.scans++;
    const report: string[] = [];
    for (const [t, nvcsw] of [...s.holdouts]) {
      if (s.reported.has(t) || t.nvcsw !== nvcsw || !this.onRq(t)) {
        s.holdouts.delete(t);
        s.reported.delete(t);
      } else if (needReport) {
        report.push(...this.stallLines(t, nvcsw));
      }
    }
    if (report.length) s.stalls.push(["INFO: rcu_tasks detected stalls on tasks:", ...report].join("\n"));
    this.waitHoldouts(now);
  }

  /**
   * check_holdout_task()'s lines for a task still holding out: the kernel's line (%p printed
   * as with no_hash_pointers: the task's address; not idle, no nohz_full CPU, so ".."; idle_cpu
   * -1 as rcu_tasks_idle_cpu is without nohz_full), then, where the kernel prints
   * sched_show_task(), tramplab's own line naming the task.
   */
  private stallLines(t: Task, nvcsw: number): string[] {
    const addr = BigInt.asUintN(64, t.addr).toString(16).padStart(16, "0");
    const how = t.preempted ? "preempted" : t.inUser ? "in user mode" : t.state;
    return [`${addr}: .. nvcsw: ${nvcsw}/${t.nvcsw} holdout: 1 idle_cpu: -1/${t.cpu}`,
      `  (tramplab: ${t.name}, pid ${t.pid}, ${how}, ${t.nivcsw} involuntary switches)`];
  }

  override describe(now: bigint): string {
    const h = [...this.holdouts.keys()].map((t) => `${t.name}:${t.pid}`);
    return super.describe(now) + (h.length ? `; holdouts: ${h.join(" ")}` : "");
  }
}
