// RCU, the consolidated flavour: a grace period ends when every vCPU passed a quiescent state
// — a context switch, user mode, (with preemptible RCU) a tick outside any preempt-disabled
// region and any rcu_read_lock() section, or being seen where RCU is not watching (idle: an
// extended quiescent state, noticed remotely by the grace-period machinery without disturbing
// the vCPU) — and, with preemptible RCU, no task on the blocked-tasks list holds it.
//
// Preemptible RCU (kernel/rcu/tree_plugin.h, one rcu_node): a task switched out inside
// rcu_read_lock() is queued on the blocked-tasks list by rcu_note_context_switch() and its
// CPU's quiescent state is reported all the same; the grace period then waits for the task
// instead (->gp_tasks: the first entry a grace period waits for, and every entry after it).
// rcu_preempt_ctxt_queue() queues at the tail, blocking the grace period, when the CPU still
// owed it a quiescent state, and at the head, blocking nothing yet, otherwise; a new grace
// period waits for the whole list (rcu_gp_init: rcu_preempt_check_blocked_tasks). The task's
// outermost rcu_read_unlock() sees its special bits and calls rcu_read_unlock_special(), which
// dequeues it: the grace period can end (rcu_report_unblock_qs_rnp).
//
// Without preemptible RCU rcu_read_lock() disables preemption, and the grace period waits for
// the region like any other. A task preempted in ordinary kernel code never holds it up: the
// context switch that preempted it was its CPU's quiescent state.
//
// A vCPU that holds a grace period up for `urgentTicks` timer periods is asked to schedule
// (the kernel's resched_cpu() from force-quiescent-state): its next pass through __schedule(),
// even one that picks the same task, is a quiescent state.
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { RCU_STATES, type GpState } from "./states.js";
import type { Task } from "../task.js";

/** A task preempted inside rcu_read_lock(), and the vCPU it was queued from. */
export interface BlockedReader {
  task: Task;
  cpu: number;
  /** Virtual time it was queued. */
  at: bigint;
}

export interface RcuState extends FlavourState {
  /** vCPUs that still owe the grace period a quiescent state. */
  needQs: Set<number>;
  nextUrgent: bigint;
  /** The blocked-tasks list, head first (rnp->blkd_tasks). */
  blocked: BlockedReader[];
  /** Index in `blocked` of the first entry the grace period waits for, or -1 (rnp->gp_tasks). */
  gpTasks: number;
}

export function initialRcuState(): RcuState {
  return { ...initialFlavourState("rcu"), needQs: new Set(), nextUrgent: 0n, blocked: [], gpTasks: -1 };
}

export class Rcu extends Flavour<RcuState, GpState<typeof RCU_STATES>> {
  readonly gpStates = RCU_STATES;
  readonly urgentTicks = 3;

  /**
   * watching(cpu): the vCPU's rcu_watching flag (0 between rcu_idle_enter and rcu_idle_exit);
   * forceResched(cpu): set need_resched there.
   */
  constructor(st: () => RcuState, invoke: (cb: RcuCallback) => void, private readonly ncpus: number, readonly preemptible: boolean,
    private readonly watching: (cpu: number) => boolean, private readonly forceResched: (cpu: number) => void,
    private readonly tickPeriod: number) {
    super(st, invoke);
  }

  /** A quiescent state on `cpu`. */
  qs(cpu: number): void {
    this.s.needQs.delete(cpu);
  }

  /** Whether the grace period in progress still waits for a quiescent state from `cpu`. */
  owes(cpu: number): boolean {
    return this.s.state === "wait_qs" && this.s.needQs.has(cpu);
  }

  get blocked(): readonly BlockedReader[] { return this.s.blocked; }

  /** The blocked readers the grace period in progress waits for (rcu_preempt_blocked_readers_cgp). */
  holdingGp(): BlockedReader[] {
    return this.s.gpTasks < 0 ? [] : this.s.blocked.slice(this.s.gpTasks);
  }

  /**
   * rcu_preempt_ctxt_queue(): `t` was switched out on `cpu` inside its reader (call before the
   * CPU's quiescent state is reported). Tail and ->gp_tasks when the CPU owed the grace period a
   * quiescent state: the grace period now waits for the task; head otherwise.
   */
  queueBlocked(t: Task, cpu: number, now: bigint): void {
    const s = this.s, entry = { task: t, cpu, at: now };
    if (!this.owes(cpu)) {
      s.blocked.unshift(entry);
      if (s.gpTasks >= 0) s.gpTasks++;
    } else if (s.gpTasks < 0) {
      s.blocked.push(entry);
      s.gpTasks = s.blocked.length - 1;
    } else {
      s.blocked.splice(s.gpTasks + 1, 0, entry); // just after the first entry blocking the grace period
    }
  }

  /** rcu_read_unlock_special()'s dequeue: `t` left its reader; false if it was not queued. */
  unblock(t: Task): boolean {
    const s = this.s, i = s.blocked.findIndex((b) => b.task === t);
    if (i < 0) return false;
    s.blocked.splice(i, 1);
    if (i < s.gpTasks) s.gpTasks--;
    else if (i === s.gpTasks && s.gpTasks >= s.blocked.length) s.gpTasks = -1; // it was the last: rnp->gp_tasks = NULL
    return true;
  }

  advance(now: bigint): void {
    const s = this.s;
    if (s.state === "idle" && this.wanted()) {
      this.startGp(now);
      s.needQs = new Set(Array.from({ length: this.ncpus }, (_, c) => c));
      // rcu_preempt_check_blocked_tasks(): readers already blocked hold the new grace period too.
      s.gpTasks = s.blocked.length > 0 ? 0 : -1;
      s.current!.holdouts = this.ncpus + s.blocked.length;
      this.setState("wait_qs", now);
      s.nextUrgent = now + BigInt(this.urgentTicks * this.tickPeriod);
    }
    if (s.state !== "wait_qs") return;
    // rcu_watching_snap_recheck(): a vCPU RCU is not watching is in an extended quiescent state.
    for (const c of s.needQs) if (!this.watching(c)) s.needQs.delete(c);
    if (s.needQs.size === 0 && s.gpTasks < 0) {
      this.endGp(now);
      return;
    }
    if (s.needQs.size > 0 && now >= s.nextUrgent) {
      s.current!.scans++;
      for (const c of s.needQs) this.forceResched(c);
      s.nextUrgent = now + BigInt(this.urgentTicks * this.tickPeriod);
    }
  }

  override describe(now: bigint): string {
    const cpus = this.state === "wait_qs" && this.s.needQs.size > 0 ? `; waiting for cpu ${[...this.s.needQs].join(", ")}` : "";
    const held = new Set(this.holdingGp());
    const blocked = this.s.blocked.map((b) => `${b.task.name}:${b.task.pid}${held.has(b) ? " (holds the gp)" : ""}`);
    return super.describe(now) + cpus + (blocked.length ? `; blocked readers: ${blocked.join(" ")}` : "");
  }
}
