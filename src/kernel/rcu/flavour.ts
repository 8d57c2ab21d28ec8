// What every RCU flavour offers: grace periods as a visible state machine, callbacks run after
// them, and latency figures in virtual time (kernel/rcu/tasks.h, restated).
import { formatTime } from "../../machine/units.js";
import type { GpStateTable } from "./states.js";

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

/**
 * Work queued behind a grace period (call_rcu and friends), as data: what to free, and why.
 * The kernel's wiring runs it (Kernel.runDeferred in src/kernel/kernel.ts).
 */
export type RcuCallback =
  /** kfree() each block (a guarded one is unmapped). */
  | { kind: "free"; blocks: { va: bigint; size: number }[]; why: string }
  /**
   * The tail of tracepoint_probe_unregister: free the old array and the probe's data, once the
   * grace periods of the flavours named in `then` (in order, each after the last) have passed too.
   */
  | { kind: "probe"; probe: number; array: bigint; why: string; then?: string[] }
  /** A guest's call_rcu(head, func): func(head) runs in the rcuc thread. */
  | { kind: "guest"; head: bigint; func: bigint };

/** Told when a grace period starts and ends (the kernel logs them in the event ring). */
export type GpListener = (f: Flavour, phase: "start" | "end", seq: number, now: bigint) => void;

/** Every flavour's state machine, plain data (KernelState.rcu). */
export interface FlavourState {
  name: string;
  /** Grace periods completed. */
  completed: number;
  /** The state machine's current state and since when. */
  state: string;
  stateSince: bigint;
  history: GpRecord[];
  /** Stall reports, as the kernel prints them. */
  stalls: string[];
  /** The grace period someone needs (`completed` must reach it), and since when. */
  requestedSeq: number;
  requestedAt: bigint;
  /** The grace period in progress. */
  current?: GpRecord;
  /** Queued callbacks and the grace period each waits for. */
  callbacks: { seq: number; cb: RcuCallback }[];
}

export function initialFlavourState(name: string): FlavourState {
  return { name, completed: 0, state: "idle", stateSince: 0n, history: [], stalls: [], requestedSeq: 0, requestedAt: 0n, callbacks: [] };
}

/**
 * A flavour's behaviour over its state, which it reads through `st` on every use (a restored
 * snapshot swaps the state underneath). `St`: the states of its table in states.ts, the only
 * ones setState takes.
 */
export abstract class Flavour<S extends FlavourState = FlavourState, St extends string = string> {
  readonly listeners: GpListener[] = [];
  /** Every state its machine enters (states.ts): what `break-on gp` accepts. */
  abstract readonly gpStates: GpStateTable;

  /** invoke: runs a callback whose grace period has ended. */
  constructor(protected readonly st: () => S, private readonly invoke: (cb: RcuCallback) => void) {}

  protected get s(): S { return this.st(); }
  /** Its state, as the kernel state holds it (what a release step refers to). */
  get data(): S { return this.st(); }
  get name(): string { return this.s.name; }
  get completed(): number { return this.s.completed; }
  get state(): string { return this.s.state; }
  get stateSince(): bigint { return this.s.stateSince; }
  get history(): GpRecord[] { return this.s.history; }
  get stalls(): string[] { return this.s.stalls; }
  protected get current(): GpRecord | undefined { return this.s.current; }

  protected setState(state: St | "idle" | "invoke_cbs", now: bigint): void {
    this.s.state = state;
    this.s.stateSince = now;
  }

  /**
   * A grace period that starts after now; returns the value `completed` must reach. When one
   * is already running it cannot count (a reader may have started before this call), so the
   * next one is needed.
   */
  request(now: bigint): number {
    const s = this.s;
    const target = s.completed + (s.state === "idle" ? 1 : 2);
    if (target > s.requestedSeq) {
      if (s.requestedSeq <= s.completed) s.requestedAt = now;
      s.requestedSeq = target;
    }
    return target;
  }

  done(seq: number): boolean {
    return this.completed >= seq;
  }

  /** call_rcu and friends: `cb` runs once a grace period that starts after now has ended. */
  call(cb: RcuCallback, now: bigint): void {
    this.s.callbacks.push({ seq: this.request(now), cb });
  }

  /** Moves the state machine along; called between rounds of the machine. */
  abstract advance(now: bigint): void;

  protected startGp(now: bigint): void {
    const gp = { seq: this.completed + 1, requestedAt: this.s.requestedAt, startedAt: now, endedAt: 0n, holdouts: 0, scans: 0 };
    this.s.current = gp;
    for (const l of this.listeners) l(this, "start", gp.seq, now);
  }

  protected endGp(now: bigint): void {
    const s = this.s;
    s.completed++;
    for (const l of this.listeners) l(this, "end", s.completed, now);
    if (s.current) {
      s.current.endedAt = now;
      s.history.push(s.current);
      s.current = undefined;
    }
    s.requestedAt = now;
    this.setState("invoke_cbs", now);
    for (let i = 0; i < s.callbacks.length;) {
      if (s.callbacks[i].seq <= s.completed) this.invoke(s.callbacks.splice(i, 1)[0].cb);
      else i++;
    }
    this.setState("idle", now);
  }

  protected wanted(): boolean {
    return this.s.requestedSeq > this.s.completed;
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
