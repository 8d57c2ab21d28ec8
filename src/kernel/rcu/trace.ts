// Tasks Trace RCU: explicit readers (rcu_read_lock_trace) that may block and take page faults,
// as kernel/rcu/tasks.h has them from 6.0 on (read at a 6.x revision; 6.1 to 6.13 share it):
//
//   scan_tasklist       rcu_tasks_trace_pregp_step(): every vCPU's current task becomes a
//                       holdout (need_qs cleared), then every task on a CPU's blocked-readers
//                       list (rtp_blkd_tasks) is looked at by trc_wait_for_one_reader()
//   post_scan_tasklist  rcu_tasks_trace_postscan(): synchronize_rcu(), for tasks exiting
//   wait_scan_holdouts  schedule_timeout_idle(fract): fract starts at HZ/200 jiffies (init_fract
//                       without TASKS_TRACE_RCU_READ_MB) and grows by one up to HZ
//   scan_holdouts       check_all_holdout_tasks_trace(): a holdout not yet checked is looked at
//                       again; one whose need_qs is exactly TRC_NEED_QS_CHECKED leaves the list
//
// trc_wait_for_one_reader(): a task not running is inspected in place (trc_inspect_reader):
// outside a reader it is checked (a quiescent state); inside one it is marked TRC_NEED_QS |
// TRC_NEED_QS_CHECKED and stays a holdout until its outermost rcu_read_unlock_trace() takes the
// special path and clears TRC_NEED_QS (rcu_read_unlock_trace_special). A running task cannot
// be inspected without TASKS_TRACE_RCU_READ_MB: it gets an IPI whose handler,
// trc_read_check_handler(), does the same on its own CPU if the task is still current there.
// Simplified: the IPI's handler runs between rounds, when every vCPU is stopped, at the point
// where the target vCPU stopped (no delivery latency; rcu_task_ipi_delay is 0, its default).
//
// A task switched out inside a reader goes on its CPU's blocked-readers list and is marked
// .b.blocked (rcu_tasks_trace_qs -> rcu_tasks_trace_qs_blkd); the special unlock takes it off.
// A task that exits inside a reader is let out by exit_tasks_rcu_finish_trace().
//
// 5.15 differs (the stored 5.17-era tasks.h shows the older scheme): every task of the task
// list is looked at, readers are counted in trc_n_readers_need_end, and rcu_tasks_trace_postgp
// waits for that count (RTGS_WAIT_READERS); there is no blocked-readers list. The readers
// waited for are the same; tramplab models every version with the 6.x scheme.
import { initialFlavourState, type RcuCallback } from "./flavour.js";
import { HoldoutFlavour, type HoldoutPacingState } from "./holdouts.js";
import { TASKS_TRACE_STATES, type GpState } from "./states.js";
import type { Rcu } from "./rcu.js";
import type { Task } from "../task.js";
import { TrcSpecial } from "./constants.js";

const NEED = TrcSpecial.NEED_QS, CHECKED = TrcSpecial.NEED_QS_CHECKED, NEED_MASK = NEED | CHECKED;

/** What the grace period reads and writes in a task (trc_reader_nesting, trc_reader_special). */
export interface TraceReaderAccess {
  nesting: (t: Task) => number;
  special: (t: Task) => number;
  setSpecial: (t: Task, v: number) => void;
  setNesting: (t: Task, v: number) => void;
  /** The task each vCPU runs now (cpu_curr). */
  current: () => readonly Task[];
}

export interface TasksTraceDeps extends TraceReaderAccess {
  rcu: Rcu;
  tickPeriod: number;
}

export interface TasksTraceState extends HoldoutPacingState {
  /** The holdout list (trc_holdout_list), in the order added. */
  holdouts: Map<Task, true>;
  /** Each CPU's blocked readers (rtp_blkd_tasks): task -> the CPU it blocked on. */
  blocked: Map<Task, number>;
  rcuSeq: number;
  /** IPIs sent to readers' CPUs (rtp->n_ipis). */
  ipis: number;
}

export function initialTasksTraceState(): TasksTraceState {
  return { ...initialFlavourState("rcu_tasks_trace"), holdouts: new Map(), blocked: new Map(), rcuSeq: 0, fract: 1, nextScan: 0n,
    lastReport: 0n, ipis: 0 };
}

export class TasksTraceRcu extends HoldoutFlavour<TasksTraceState, GpState<typeof TASKS_TRACE_STATES>> {
  readonly gpStates = TASKS_TRACE_STATES;

  /** rcu_tasks_trace's init_fract is HZ/200 jiffies (at least 1); rcu_task_stall_timeout is
   * shared with Tasks RCU in the kernel, here each flavour has its own. */
  constructor(st: () => TasksTraceState, invoke: (cb: RcuCallback) => void, private readonly d: TasksTraceDeps) {
    super(st, invoke, d.tickPeriod, 200);
  }

  get holdouts(): Map<Task, true> { return this.s.holdouts; }
  get blockedReaders(): Map<Task, number> { return this.s.blocked; }

  /** rcu_tasks_trace_qs() at a context switch on `cpu`: a reader switched out goes on the blocked list. */
  scheduled(cpu: number, prev: Task): void {
    if (this.d.nesting(prev) <= 0) return;
    const sp = this.d.special(prev);
    if (sp & TrcSpecial.BLOCKED) return;
    this.d.setSpecial(prev, sp | TrcSpecial.BLOCKED);
    this.s.blocked.set(prev, cpu);
  }

  /** rcu_read_unlock_trace_special(), from the TRC_UNLOCK_SPECIAL hypercall: `t` leaves its outermost reader. */
  unlockSpecial(t: Task): void {
    let sp = this.d.special(t);
    if ((sp & NEED_MASK) === NEED_MASK) sp &= ~NEED;
    if (sp & TrcSpecial.BLOCKED) {
      this.s.blocked.delete(t);
      sp &= ~TrcSpecial.BLOCKED;
    }
    this.d.setSpecial(t, sp);
    this.d.setNesting(t, 0);
  }

  /** exit_tasks_rcu_finish_trace(): a task that died is out of any reader. */
  private exited(t: Task): void {
    const sp = this.d.special(t);
    if (!(sp & NEED_MASK)) this.d.setSpecial(t, sp | CHECKED);
    if ((this.d.special(t) & NEED) || (sp & TrcSpecial.BLOCKED)) this.unlockSpecial(t);
    else this.d.setNesting(t, 0);
  }

  advance(now: bigint): void {
    const s = this.s;
    for (const t of [...s.blocked.keys()]) if (t.state === "dead") this.exited(t);
    switch (s.state) {
      case "idle":
        if (!this.wanted()) return;
        this.startGp(now);
        this.scanTasklist(now);
        return;
      case "post_scan_tasklist":
        if (!this.d.rcu.done(s.rcuSeq)) return;
        this.startPacing(now);
        this.waitHoldouts(now);
        return;
      case "wait_scan_holdouts":
        if (now >= s.nextScan) this.scanHoldouts(now);
        return;
    }
  }

  /** rcu_tasks_trace_pertask_prep(): need_qs cleared, no IPI outstanding. */
  private prep(t: Task): void {
    this.d.setSpecial(t, this.d.special(t) & ~NEED_MASK);
  }

  private scanTasklist(now: bigint): void {
    const s = this.s;
    this.setState("scan_tasklist", now);
    s.holdouts.clear();
    for (const t of this.d.current()) {
      this.prep(t);
      s.holdouts.set(t, true);
    }
    for (const t of s.blocked.keys()) {
      if (s.holdouts.has(t)) continue;
      this.prep(t);
      this.waitForOneReader(t);
    }
    s.current!.holdouts = s.holdouts.size;
    s.rcuSeq = this.d.rcu.request(now);
    this.setState("post_scan_tasklist", now);
  }

  private running(t: Task): number {
    return this.d.current().indexOf(t);
  }

  /** trc_wait_for_one_reader(): inspect a task in place, or IPI the CPU it runs on. */
  private waitForOneReader(t: Task): void {
    const cpu = this.running(t);
    if (cpu < 0) {
      // trc_inspect_reader(): not running, so its fields can be read and written directly.
      const nesting = this.d.nesting(t), sp = this.d.special(t);
      if (nesting === 0) {
        if (!(sp & NEED_MASK)) this.d.setSpecial(t, sp | CHECKED);
        return;
      }
      // Negative: switched out in the middle of rcu_read_unlock_trace(); trc_inspect_reader()
      // gives up (-EINVAL) and the next holdout scan looks again.
      if (nesting < 0) {
        this.s.holdouts.set(t, true);
        return;
      }
      if (!(sp & NEED_MASK)) this.d.setSpecial(t, sp | NEED | CHECKED);
      this.s.holdouts.set(t, true);
      return;
    }
    this.s.holdouts.set(t, true);
    this.s.ipis++;
    // trc_read_check_handler() on `cpu`, for the task current there.
    if (this.d.current()[cpu] !== t) return;
    const nesting = this.d.nesting(t), sp = this.d.special(t);
    if (nesting === 0) this.d.setSpecial(t, (sp & ~NEED_MASK) | CHECKED);
    else if (nesting > 0) this.d.setSpecial(t, sp | NEED | CHECKED);
  }

  private waitHoldouts(now: bigint): void {
    const s = this.s;
    if (s.holdouts.size === 0) {
      this.endGp(now); // rcu_tasks_trace_postgp(): no IPI left outstanding to wait for
      return;
    }
    this.pace(now);
    this.setState("wait_scan_holdouts", now);
  }

  /** check_all_holdout_tasks_trace(). */
  private scanHoldouts(now: bigint): void {
    const s = this.s;
    const needReport = this.stallDue(now);
    this.setState("scan_holdouts", now);
    s.current!.scans++;
    const report: string[] = [];
    for (const t of [...s.holdouts.keys()]) {
      if (t.state === "dead") this.exited(t);
      if (!(this.d.special(t) & CHECKED)) this.waitForOneReader(t);
      if ((this.d.special(t) & NEED_MASK) === CHECKED) s.holdouts.delete(t);
      else if (needReport) report.push(this.stallLine(t));
    }
    if (report.length) s.stalls.push(["INFO: rcu_tasks_trace detected stalls on tasks:", ...report].join("\n"));
    this.waitHoldouts(now);
  }

  /** show_stalled_task_trace()'s line (no IPI is ever left outstanding here; no nohz_full CPU). */
  private stallLine(t: Task): string {
    const idle = t.kind === "idle" ? "i" : ".";
    if (this.running(t) >= 0) return `P${t.pid}: .${idle}`;
    const sp = this.d.special(t), needqs = (sp & NEED_MASK) >> 8;
    const blocked = sp & TrcSpecial.BLOCKED ? "B" : ".";
    return `P${t.pid}: .${idle}.${blocked} nesting: ${this.d.nesting(t)}${" !CN"[needqs & 3]}  cpu: ${t.cpu}`;
  }

  override describe(now: bigint): string {
    const h = [...this.holdouts.keys()].map((t) => `${t.name}:${t.pid}`);
    const b = [...this.s.blocked.keys()].map((t) => `${t.name}:${t.pid}`);
    return super.describe(now) + (h.length ? `; holdouts: ${h.join(" ")}` : "") + (b.length ? `; blocked readers: ${b.join(" ")}` : "");
  }
}
