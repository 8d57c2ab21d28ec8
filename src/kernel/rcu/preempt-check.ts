// Seed 000's check at preemption time (Steven Rostedt's suggestion in the 2024 PREEMPT_AUTO
// thread, a proposal, not a kernel mechanism): when the scheduler preempts a task, it asks
// whether the preempted IP is kernel text (__is_kernel()) or module text (__is_module_text());
// if it is neither, the task may be in a trampoline, and it is marked (Task.preemptedOutsideText,
// set and cleared by SchedPolicy.schedule on every pass). A release then waits only for the
// marked tasks to pass through the scheduler again unmarked.
//
// Unlike ip-check (scan.ts), nothing is looked up at release: the cost sits on the scheduler's
// path, and any marked task holds every release, whichever trampoline it is in. Like ip-check,
// it sees only the preempted IP: a task preempted in a callback a trampoline called (IP in core
// text, return address in the trampoline) is not marked, which is the hole Paul McKenney's
// answer points at (and the IRQ return addresses behind nested interrupts and softirqs).
import { Flavour, initialFlavourState, type FlavourState, type RcuCallback } from "./flavour.js";
import { SCAN_STATES, type GpState } from "./states.js";
import type { Task } from "../task.js";

export interface PreemptCheckState extends FlavourState {
  /** Marked tasks the grace period waits for. */
  holdouts: Task[];
  backoff: number;
  nextScan: bigint;
}

export function initialPreemptCheckState(): PreemptCheckState {
  return { ...initialFlavourState("preempt-check"), holdouts: [], backoff: 1, nextScan: 0n };
}

export class PreemptCheck extends Flavour<PreemptCheckState, GpState<typeof SCAN_STATES>> {
  readonly gpStates = SCAN_STATES;
  readonly maxBackoff = 10;

  constructor(st: () => PreemptCheckState, invoke: (cb: RcuCallback) => void, private readonly tasks: () => readonly Task[],
    private readonly tickPeriod: number) {
    super(st, invoke);
  }

  private marked(t: Task): boolean {
    return t.state !== "dead" && t.kind !== "idle" && t.preemptedOutsideText === true;
  }

  advance(now: bigint): void {
    const s = this.s;
    if (s.state === "idle") {
      if (!this.wanted()) return;
      this.startGp(now);
      s.holdouts = this.tasks().filter((t) => this.marked(t));
      s.current!.holdouts = s.holdouts.length;
      s.backoff = 1;
      this.waitOrEnd(now);
      return;
    }
    if (s.state !== "wait_scan_holdouts" || now < s.nextScan) return;
    this.setState("scan_holdouts", now);
    s.current!.scans++;
    s.holdouts = s.holdouts.filter((t) => this.marked(t));
    this.waitOrEnd(now);
  }

  private waitOrEnd(now: bigint): void {
    const s = this.s;
    if (s.holdouts.length === 0) {
      this.endGp(now);
      return;
    }
    s.nextScan = now + BigInt(s.backoff * this.tickPeriod);
    s.backoff = Math.min(s.backoff + 1, this.maxBackoff);
    this.setState("wait_scan_holdouts", now);
  }

  override describe(now: bigint): string {
    const h = this.s.holdouts.map((t) => `${t.name}:${t.pid} (preempted at 0x${t.preemptedAt.toString(16)})`);
    return super.describe(now) + (this.state !== "idle" && h.length ? `; holdouts: ${h.join(" ")}` : "");
  }
}
