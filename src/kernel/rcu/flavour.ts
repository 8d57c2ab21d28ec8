// What every RCU flavour offers: grace periods as a visible state machine, callbacks run after
// them, and latency figures in virtual time (kernel/rcu/tasks.h, restated).
import { formatTime } from "../../machine/units.js";

export interface GpRecord {
  seq: number;
  /** Virtual times: when someone first needed this grace period, when it started and ended. */
  requestedAt: bigint;
  startedAt: bigint;
  endedAt: bigint;
  /** Tasks (or CPUs) it had to wait for, and how many times it rescanned them. */
  holdouts: number;
  scans: number;
}

export type RcuCallback = () => void;

/** Told when a grace period starts and ends (the kernel logs them in the event ring). */
export type GpListener = (f: Flavour, phase: "start" | "end", seq: number, now: bigint) => void;

export abstract class Flavour {
  abstract readonly name: string;
  /** Grace periods completed. */
  completed = 0;
  /** The state machine's current state and since when. */
  state = "idle";
  stateSince = 0n;
  readonly history: GpRecord[] = [];
  /** Stall reports, as the kernel prints them. */
  readonly stalls: string[] = [];
  readonly listeners: GpListener[] = [];
  protected requestedSeq = 0;
  protected requestedAt = 0n;
  protected current?: GpRecord;
  private readonly callbacks: { seq: number; cb: RcuCallback }[] = [];

  protected setState(state: string, now: bigint): void {
    this.state = state;
    this.stateSince = now;
  }

  /**
   * A grace period that starts after now; returns the value `completed` must reach. When one
   * is already running it cannot count (a reader may have started before this call), so the
   * next one is needed.
   */
  request(now: bigint): number {
    const target = this.completed + (this.state === "idle" ? 1 : 2);
    if (target > this.requestedSeq) {
      if (this.requestedSeq <= this.completed) this.requestedAt = now;
      this.requestedSeq = target;
    }
    return target;
  }

  done(seq: number): boolean {
    return this.completed >= seq;
  }

  /** call_rcu and friends: `cb` runs once a grace period that starts after now has ended. */
  call(cb: RcuCallback, now: bigint): void {
    this.callbacks.push({ seq: this.request(now), cb });
  }

  /** Moves the state machine along; called between rounds of the machine. */
  abstract advance(now: bigint): void;

  protected startGp(now: bigint): void {
    this.current = { seq: this.completed + 1, requestedAt: this.requestedAt, startedAt: now, endedAt: 0n, holdouts: 0, scans: 0 };
    for (const l of this.listeners) l(this, "start", this.current.seq, now);
  }

  protected endGp(now: bigint): void {
    this.completed++;
    for (const l of this.listeners) l(this, "end", this.completed, now);
    if (this.current) {
      this.current.endedAt = now;
      this.history.push(this.current);
      this.current = undefined;
    }
    this.requestedAt = now;
    this.setState("invoke_cbs", now);
    for (let i = 0; i < this.callbacks.length;) {
      if (this.callbacks[i].seq <= this.completed) this.callbacks.splice(i, 1)[0].cb();
      else i++;
    }
    this.setState("idle", now);
  }

  protected wanted(): boolean {
    return this.requestedSeq > this.completed;
  }

  /** One line for the REPL's `rcu` command and reports. */
  describe(now: bigint): string {
    const age = this.state === "idle" ? "" : ` for ${formatTime(now - this.stateSince)}`;
    return `${this.name}: gp ${this.completed}${this.wanted() ? ` (next ${this.completed + 1} wanted)` : ""}, state ${this.state}${age}`;
  }

  /** Latency of completed grace periods, request to end, in ns of virtual time. */
  latencies(): bigint[] {
    return this.history.map((g) => g.endedAt - g.requestedAt);
  }
}
