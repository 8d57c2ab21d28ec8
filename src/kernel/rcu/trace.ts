// Tasks Trace RCU: explicit readers (rcu_read_lock_trace) that may block and take page faults.
// A grace period ends when every task that was inside a reader at the scan has left it: its
// nesting is back to 0, or it has done another outermost unlock since.
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { TASKS_TRACE_STATES, type GpState } from "./states.js";
import type { Task } from "../task.js";

export interface TraceReaderState {
  nesting: number;
  exits: number;
}

export interface TasksTraceState extends FlavourState {
  /** Tasks inside a reader at the scan -> their count of outermost unlocks then. */
  holdouts: Map<Task, number>;
  nextScan: bigint;
}

export function initialTasksTraceState(): TasksTraceState {
  return { ...initialFlavourState("rcu_tasks_trace"), holdouts: new Map(), nextScan: 0n };
}

export class TasksTraceRcu extends Flavour<TasksTraceState, GpState<typeof TASKS_TRACE_STATES>> {
  readonly gpStates = TASKS_TRACE_STATES;
  constructor(st: () => TasksTraceState, invoke: (cb: RcuCallback) => void, private readonly tasks: () => readonly Task[],
    readonly reader: (t: Task) => TraceReaderState, private readonly tickPeriod: number) {
    super(st, invoke);
  }

  get holdouts(): Map<Task, number> { return this.s.holdouts; }

  advance(now: bigint): void {
    if (this.state === "idle" && this.wanted()) {
      this.startGp(now);
      this.holdouts.clear();
      for (const t of this.tasks()) {
        const r = this.reader(t);
        if (t.state !== "dead" && r.nesting > 0) this.holdouts.set(t, r.exits);
      }
      this.current!.holdouts = this.holdouts.size;
      this.setState("wait_readers", now);
      this.s.nextScan = now;
    }
    if (this.state !== "wait_readers" || now < this.s.nextScan) return;
    this.current!.scans++;
    for (const [t, exits] of [...this.holdouts]) {
      const r = this.reader(t);
      if (t.state === "dead" || r.nesting === 0 || r.exits !== exits) this.holdouts.delete(t);
    }
    if (this.holdouts.size === 0) this.endGp(now);
    else this.s.nextScan = now + BigInt(this.tickPeriod);
  }

  override describe(now: bigint): string {
    const h = [...this.holdouts.keys()].map((t) => `${t.name}:${t.pid}`);
    return super.describe(now) + (h.length ? `; readers: ${h.join(" ")}` : "");
  }
}
