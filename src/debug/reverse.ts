// Reverse execution: restore a checkpoint and replay the deterministic run forward to the
// wanted stop point. Every stop point is "before tick T of vCPU c" (see cursor.ts), so a
// target is a pair (c, T) and replaying to it lands on the very state the forward run had.
//
//   rsi  pass 1 finds T, the clock of the tick that retired c's previous instruction;
//        pass 2 replays again and stops before that tick.
//   rc   replays each window between checkpoints, latest first, with breakpoints,
//        watchpoints and event breakpoints armed, noting every hit and the kind of stop
//        point it was (see StopPoint); then replays to the last hit before the current
//        position. A watchpoint hit is an "after" point (the writing instruction retired),
//        a grace-period state a "round" point: the replay lands where the forward run stopped.
//
// Both run in slices (ReverseRun.work), between which a front end lets the event loop run, so
// Ctrl-C (or gdb's 0x03) sets the engine's interruptRequested; the next slice then stops the
// run at a consistent point: rsi goes back where it started (nothing changed); rc stops at the
// oldest checkpoint it has fully scanned (no hit lies between there and where it started, so a
// later rc carries on from there), or where it started if it scanned no whole window yet.
import type { CpuState } from "../machine/machine.js";
import { FOREVER } from "./cursor.js";
import { positionOf, type Checkpoint } from "./checkpoint.js";
import { DebugError, stepBudget, type Engine, type Plan, type Stop, type StopPoint } from "./engine.js";

/** How far behind the target rsi leaves a checkpoint (instructions of the stepping vCPU). */
const NEAR = 2000n;
/** vCPU runs per slice of a replay (as the front ends run the machine forward). */
const SLICE_RUNS = 200;

/** A replay in slices: each `yield` is a point where the run may be interrupted. */
type Sliced<T> = Generator<void, T, void>;

/** Runs `plan` to its stop, a slice at a time. */
function* runSliced(e: Engine, plan: Plan): Sliced<Stop> {
  e.start(plan);
  for (;;) {
    const s = e.work(SLICE_RUNS);
    if (s) return s;
    yield;
  }
}

/**
 * A reverse run: work() advances it by one slice and returns the stop when it is over. Between
 * slices the caller may set the engine's interruptRequested; `afterSlice` (tests) is told each
 * slice's number.
 */
export class ReverseRun {
  private readonly steps: Sliced<Stop>;
  private readonly home: number;
  /** Where the run started: an interrupted run comes back here (or to `reached`). */
  private readonly start: Checkpoint;
  /** rc: the oldest checkpoint whose window up to the start was scanned without a hit. */
  private reached: Checkpoint | null = null;
  private slices = 0;
  private result: Stop | null = null;

  constructor(private readonly e: Engine, kind: "step" | "continue", private readonly afterSlice?: (n: number) => void) {
    this.home = e.cpu;
    this.start = e.store.take(e.cursor.save());
    e.interruptRequested = false; // as a forward run starts: an interrupt from before is not for this run
    this.steps = kind === "step" ? reverseStepSliced(e) : reverseContinueSliced(e, (cp) => { this.reached = cp; });
  }

  /** One slice; the stop once the run is over (a DebugError if it cannot go back). */
  work(): Stop | null {
    if (this.result) return this.result;
    const e = this.e;
    if (e.interruptRequested) {
      // The engine's run in progress is dropped: the restore below puts the whole machine back.
      e.interruptRequested = false;
      e.restoreCheckpoint(this.reached ?? this.start);
      e.lastHit = null;
      e.cpu = this.home;
      this.result = { cpu: e.cpu, text: `Interrupted.\n${e.where()}` };
      return this.result;
    }
    const r = this.steps.next();
    if (r.done) { this.result = r.value; return r.value; }
    this.afterSlice?.(++this.slices);
    return null;
  }

  /** Runs to the end, checking for an interrupt between slices. */
  finish(): Stop {
    for (;;) {
      const s = this.work();
      if (s) return s;
    }
  }
}

/** rsi: back to just before the selected vCPU's previous instruction. */
export function reverseStep(e: Engine): Stop {
  return new ReverseRun(e, "step").finish();
}

/** rc: back to the latest breakpoint, watchpoint or event breakpoint hit before now (or to the start of the recorded history). */
export function reverseContinue(e: Engine): Stop {
  return new ReverseRun(e, "continue").finish();
}

/** Replays from `cp` and stops before tick `clock` of vCPU `cpu` (or after a run ending there, or at the round ending at `position`). */
function* replayTo(e: Engine, cp: Checkpoint, cpu: number, clock: bigint, at: StopPoint = "before", position = 0n): Sliced<Stop> {
  e.restoreCheckpoint(cp);
  const here = (c: CpuState) => c.index === cpu && c.get("clock") === clock;
  return yield* runSliced(e, {
    quiet: true,
    before: (c) => (at === "before" && here(c) ? "" : null),
    after: (c) => (at === "after" && here(c) ? "" : null),
    afterRound: () => (at === "round" && positionOf(e.machine) === position ? "" : null),
    budget: (c) => (at !== "round" && c.index === cpu ? clock - c.get("clock") : FOREVER),
  });
}

function* reverseStepSliced(e: Engine): Sliced<Stop> {
  const cpu = e.cpu;
  const k = e.current.get("insns");
  if (k === 0n) throw new DebugError(`cpu${cpu} has not executed any instruction yet`);
  const now = positionOf(e.machine);
  const cp = [...e.history].reverse().find((h) => h.position <= now && h.insns[cpu] < k);
  if (!cp) throw new DebugError(`the recorded history does not reach back to cpu${cpu}'s previous instruction`);
  // Pass 1: the clock of the tick that retired instruction k.
  // On the way, a checkpoint a little before the target keeps the next rsi's replay short.
  e.restoreCheckpoint(cp);
  const near = k - NEAR > cp.insns[cpu] ? k - NEAR : null;
  let before = 0n, found: bigint | null = null;
  yield* runSliced(e, {
    quiet: true,
    before: (c) => {
      if (near !== null && c.index === cpu && c.get("insns") === near) e.addCheckpoint();
      return found !== null ? "" : null;
    },
    budget: (c) => {
      if (c.index !== cpu) return FOREVER;
      const insns = c.get("insns");
      if (near !== null && insns < near) return near - insns;
      return insns < k - 1n ? k - 1n - insns : stepBudget(c);
    },
    beforeRun: (c) => { if (c.index === cpu) before = c.get("clock"); },
    after: (c) => {
      if (c.index === cpu && c.get("insns") === k) found = before;
      return null;
    },
  });
  if (found === null) throw new DebugError("replay did not reach the previous instruction (history changed)");
  // Pass 2: stop right before that tick.
  e.cpu = cpu;
  return yield* replayTo(e, cp, cpu, found);
}

interface Hit { at: StopPoint; cpu: number; clock: bigint; position: bigint; text: string }

/** rc's replays; `scanned(cp)`: the window from `cp` up to the start had no hit. */
function* reverseContinueSliced(e: Engine, scanned: (cp: Checkpoint) => void): Sliced<Stop> {
  const home = e.cpu;
  let limit = positionOf(e.machine);
  const homeClock = e.current.get("clock");
  for (const cp of [...e.history].reverse()) {
    if (cp.position >= limit) continue;
    const hits = yield* hitsBetween(e, cp, limit, home, homeClock);
    const last = hits.at(-1);
    if (last) {
      const s = yield* replayTo(e, cp, last.cpu, last.clock, last.at, last.position);
      e.cpu = last.cpu;
      return { cpu: last.cpu, text: `${last.text}\n${s.text}` };
    }
    limit = cp.position;
    scanned(cp);
  }
  const first = e.history[0];
  e.restoreCheckpoint(first);
  return { cpu: e.cpu, text: `No earlier breakpoint, watchpoint or event hit: at the start of the recorded history.\n${e.where()}` };
}

/** Replays from `cp` up to position `limit` (at most), with breakpoints armed, listing the hits before it. */
function* hitsBetween(e: Engine, cp: Checkpoint, limit: bigint, home: number, homeClock: bigint): Sliced<Hit[]> {
  e.restoreCheckpoint(cp);
  const hits: Hit[] = [];
  const at = (c: CpuState) => positionOf(e.machine) >= limit || (c.index === home && c.get("clock") >= homeClock);
  const plan = {
    probe: true,
    before: (c: CpuState) => (at(c) ? "" : null),
    budget: (c: CpuState) => {
      const room = limit - positionOf(e.machine);
      const own = c.index === home ? homeClock - c.get("clock") : FOREVER;
      return room < own ? room : own;
    },
  };
  for (;;) {
    const s = yield* runSliced(e, plan);
    const c = e.machine.cpus[s.cpu];
    if (at(c) || !e.lastHit) return hits;
    const position = positionOf(e.machine);
    // A watchpoint can fire after the very instruction that brought us to `limit`: that is now, not before.
    if (position >= limit) return hits;
    // The stop text is the reason, then one line of where.
    hits.push({ at: e.stopPoint, cpu: s.cpu, clock: c.get("clock"), position, text: s.text.split("\n").slice(0, -1).join("\n") });
  }
}
