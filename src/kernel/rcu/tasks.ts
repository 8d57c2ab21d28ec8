// Tasks RCU (classic): a grace period ends when every task that was runnable at its start has
// done a voluntary context switch, run in user mode, or left the run queue (slept or exited).
// Being preempted never counts: a preempted task may be in the middle of a trampoline.
//
// The grace period, as rcu_tasks_wait_gp() runs it:
//   wait_pregp          synchronize_rcu(): no pre-GP reader looks post-GP
//   scan_tasklist       every on-runqueue non-idle task becomes a holdout; its nvcsw is noted
//   wait_scan_holdouts  back off (1 tick, then one more each rescan, up to `maxBackoff`)
//   scan_holdouts       drop holdouts that switched voluntarily, ran in user mode, slept, exited
//   post_gp             synchronize_rcu() again, then callbacks run
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { TASKS_RCU_STATES, type GpState } from "./states.js";
import { formatTime } from "../../machine/units.js";
import type { Rcu } from "./rcu.js";
import type { Task } from "../task.js";

export interface TasksRcuDeps {
  tasks: () => readonly Task[];
  rcu: Rcu;
  tickPeriod: number;
  /** Grace-period age after which holdouts are reported as stalls. */
  stallTicks: bigint;
}

export interface TasksRcuState extends FlavourState {
  /** Holdouts: task -> nvcsw when the scan found it (the tasks of the scheduler's state). */
  holdouts: Map<Task, number>;
  /** Holdouts that reported a quiescent state since the scan (rcu_tasks_holdout cleared). */
  reported: Set<Task>;
  /** The RCU grace period waited for before and after the scan. */
  rcuSeq: number;
  backoff: number;
  nextScan: bigint;
  lastStall: bigint;
}

export function initialTasksRcuState(): TasksRcuState {
  return {
    ...initialFlavourState("rcu_tasks"), holdouts: new Map(), reported: new Set(), rcuSeq: 0, backoff: 1, nextScan: 0n, lastStall: 0n,
  };
}

export class TasksRcu extends Flavour<TasksRcuState, GpState<typeof TASKS_RCU_STATES>> {
  readonly gpStates = TASKS_RCU_STATES;
  readonly maxBackoff = 10;

  constructor(st: () => TasksRcuState, invoke: (cb: RcuCallback) => void, private readonly d: TasksRcuDeps) {
    super(st, invoke);
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
    s.backoff = 1;
    this.waitHoldouts(now);
  }

  private waitHoldouts(now: bigint): void {
    const s = this.s;
    if (s.holdouts.size === 0) {
      s.rcuSeq = this.d.rcu.request(now);
      this.setState("post_gp", now);
      return;
    }
    s.nextScan = now + BigInt(s.backoff * this.d.tickPeriod);
    s.backoff = Math.min(s.backoff + 1, this.maxBackoff);
    this.setState("wait_scan_holdouts", now);
  }

  /** check_holdout_task() for each holdout. */
  private scanHoldouts(now: bigint): void {
    const s = this.s;
    this.setState("scan_holdouts", now);
    s.current!.scans++;
    for (const [t, nvcsw] of [...s.holdouts]) {
      if (s.reported.has(t) || t.nvcsw !== nvcsw || !this.onRq(t)) {
        s.holdouts.delete(t);
        s.reported.delete(t);
      }
    }
    this.checkStall(now);
    this.waitHoldouts(now);
  }

  private checkStall(now: bigint): void {
    const s = this.s;
    const age = now - s.current!.startedAt;
    if (s.holdouts.size === 0 || age < this.d.stallTicks || now - s.lastStall < this.d.stallTicks) return;
    s.lastStall = now;
    const lines = [`INFO: ${this.name} detected stalls on tasks (grace period ${this.completed + 1} is ${formatTime(age)} old):`];
    for (const [t, nvcsw] of s.holdouts) {
      const flags = `${t.preempted ? "P" : "."}${t.inUser ? "U" : "."}`;
      lines.push(`  ${t.name}:${t.pid}: ${flags} nvcsw: ${nvcsw}/${t.nvcsw} holdout: 1 cpu: ${t.cpu}`);
    }
    s.stalls.push(lines.join("\n"));
  }

  override describe(now: bigint): string {
    const h = [...this.holdouts.keys()].map((t) => `${t.name}:${t.pid}`);
    return super.describe(now) + (h.length ? `; holdouts: ${h.join(" ")}` : "");
  }
}
