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
import { Flavour } from "./flavour.js";
import { formatTime } from "../../machine/units.js";
import type { Rcu } from "./rcu.js";
import type { Task } from "../sched.js";

export interface TasksRcuDeps {
  tasks: () => readonly Task[];
  rcu: Rcu;
  tickPeriod: number;
  /** Grace-period age after which holdouts are reported as stalls. */
  stallTicks: bigint;
}

export class TasksRcu extends Flavour {
  readonly name = "rcu_tasks";
  /** Holdouts: task -> nvcsw when the scan found it. */
  readonly holdouts = new Map<Task, number>();
  /** Holdouts that reported a quiescent state since the scan (rcu_tasks_holdout cleared). */
  private readonly reported = new Set<Task>();
  private rcuSeq = 0;
  private backoff = 1;
  private nextScan = 0n;
  private lastStall = 0n;
  readonly maxBackoff = 10;

  constructor(private readonly d: TasksRcuDeps) {
    super();
  }

  /** rcu_tasks_qs(): the task scheduled voluntarily, or a tick found it in user mode. */
  qs(t: Task): void {
    if (this.holdouts.has(t)) this.reported.add(t);
  }

  private onRq(t: Task): boolean {
    return t.state === "running" || t.state === "runnable";
  }

  advance(now: bigint): void {
    switch (this.state) {
      case "idle":
        if (!this.wanted()) return;
        this.startGp(now);
        this.rcuSeq = this.d.rcu.request(now);
        this.setState("wait_pregp", now);
        return;
      case "wait_pregp":
        if (!this.d.rcu.done(this.rcuSeq)) return;
        this.scanTasklist(now);
        return;
      case "wait_scan_holdouts":
        if (now < this.nextScan) return;
        this.scanHoldouts(now);
        return;
      case "post_gp":
        if (this.d.rcu.done(this.rcuSeq)) this.endGp(now);
        return;
    }
  }

  private scanTasklist(now: bigint): void {
    this.setState("scan_tasklist", now);
    this.holdouts.clear();
    this.reported.clear();
    for (const t of this.d.tasks()) if (this.onRq(t) && t.kind !== "idle") this.holdouts.set(t, t.nvcsw);
    this.current!.holdouts = this.holdouts.size;
    this.backoff = 1;
    this.waitHoldouts(now);
  }

  private waitHoldouts(now: bigint): void {
    if (this.holdouts.size === 0) {
      this.rcuSeq = this.d.rcu.request(now);
      this.setState("post_gp", now);
      return;
    }
    this.nextScan = now + BigInt(this.backoff * this.d.tickPeriod);
    this.backoff = Math.min(this.backoff + 1, this.maxBackoff);
    this.setState("wait_scan_holdouts", now);
  }

  /** check_holdout_task() for each holdout. */
  private scanHoldouts(now: bigint): void {
    this.setState("scan_holdouts", now);
    this.current!.scans++;
    for (const [t, nvcsw] of [...this.holdouts]) {
      if (this.reported.has(t) || t.nvcsw !== nvcsw || !this.onRq(t)) {
        this.holdouts.delete(t);
        this.reported.delete(t);
      }
    }
    this.checkStall(now);
    this.waitHoldouts(now);
  }

  private checkStall(now: bigint): void {
    const age = now - this.current!.startedAt;
    if (this.holdouts.size === 0 || age < this.d.stallTicks || now - this.lastStall < this.d.stallTicks) return;
    this.lastStall = now;
    const lines = [`INFO: ${this.name} detected stalls on tasks (grace period ${this.completed + 1} is ${formatTime(age)} old):`];
    for (const [t, nvcsw] of this.holdouts) {
      lines.push(`  ${t.name}:${t.pid}: ${t.preempted ? "P" : "."}${t.inUser ? "U" : "."} nvcsw: ${nvcsw}/${t.nvcsw} holdout: 1 cpu: ${t.cpu}`);
    }
    this.stalls.push(lines.join("\n"));
  }

  override describe(now: bigint): string {
    const h = [...this.holdouts.keys()].map((t) => `${t.name}:${t.pid}`);
    return super.describe(now) + (h.length ? `; holdouts: ${h.join(" ")}` : "");
  }
}
