// The pacing both Tasks RCU flavours share, as the kernel's rcu_tasks_wait_gp() (tasks.h) runs it
// for each of them: after the scan, wait `fract` jiffies before rescanning the holdouts
// (schedule_timeout_idle), one jiffy longer after every rescan up to HZ; and every
// rcu_task_stall_timeout jiffies, let the rescan report the tasks still holding out. Only the
// starting wait differs: HZ/10 for Tasks RCU, HZ/200 for Tasks Trace RCU.
import { Flavour, type FlavourState, type RcuCallback } from "./flavour.js";

/** HZ of a machine whose jiffy is `tickPeriod` ns (rounded to a whole number). */
export function hzOf(tickPeriod: number): number {
  return Math.max(1, Math.round(1e9 / tickPeriod));
}

export interface HoldoutPacingState extends FlavourState {
  /** The next wait between holdout scans, in jiffies (rcu_tasks_wait_gp's `fract`). */
  fract: number;
  /** When the next holdout scan is due. */
  nextScan: bigint;
  /** When stalls were last reported (or the scan began). */
  lastReport: bigint;
}

export abstract class HoldoutFlavour<S extends HoldoutPacingState, St extends string> extends Flavour<S, St> {
  readonly hz: number;
  /** The flavour's init_fract, in jiffies. */
  readonly initFract: number;
  /** The rcu_task_stall_timeout module parameter (writable, as its 0644 sysfs file is), in jiffies; <= 0: no warnings. */
  stallTimeout: number;

  constructor(st: () => S, invoke: (cb: RcuCallback) => void, protected readonly tickPeriod: number, initFractOfHz: number,
    stallTimeout?: number) {
    super(st, invoke);
    this.hz = hzOf(tickPeriod);
    this.initFract = Math.max(1, Math.floor(this.hz / initFractOfHz));
    this.stallTimeout = stallTimeout ?? 10 * 60 * this.hz;
  }

  /** The holdout list is made: waits start again from init_fract, stall reports from now. */
  protected startPacing(now: bigint): void {
    this.s.fract = this.initFract;
    this.s.lastReport = now;
  }

  /** schedule_timeout_idle(fract) before the next rescan; the next wait is one jiffy longer, up to HZ. */
  protected pace(now: bigint): void {
    const s = this.s;
    s.nextScan = now + BigInt(s.fract) * BigInt(this.tickPeriod);
    if (s.fract < this.hz) s.fract++;
  }

  /** Whether this rescan reports stalls: rcu_task_stall_timeout jiffies since the last report. */
  protected stallDue(now: bigint): boolean {
    const s = this.s;
    const due = this.stallTimeout > 0 && now - s.lastReport > BigInt(this.stallTimeout) * BigInt(this.tickPeriod);
    if (due) s.lastReport = now;
    return due;
  }
}
