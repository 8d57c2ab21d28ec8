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
import type { CpuState } from "../machine/machine.js";
import { FOREVER } from "./cursor.js";
import { positionOf, type Checkpoint } from "./checkpoint.js";
import { DebugError, stepBudget, type Engine, type Stop, type StopPoint } from "./engine.js";

/** How far behind the target rsi leaves a checkpoint (instructions of the stepping vCPU). */
const NEAR = 2000n;

/** Replays from `cp` and stops before tick `clock` of vCPU `cpu` (or after a run ending there, or at the round ending at `position`). */
function replayTo(e: Engine, cp: Checkpoint, cpu: number, clock: bigint, at: StopPoint = "before", position = 0n): Stop {
  e.restoreCheckpoint(cp);
  const here = (c: CpuState) => c.index === cpu && c.get("clock") === clock;
  return e.run({
    quiet: true,
    before: (c) => (at === "before" && here(c) ? "" : null),
    after: (c) => (at === "after" && here(c) ? "" : null),
    afterRound: () => (at === "round" && positionOf(e.machine) === position ? "" : null),
    budget: (c) => (at !== "round" && c.index === cpu ? clock - c.get("clock") : FOREVER),
  });
}

/** rsi: back to just before the selected vCPU's previous instruction. */
export function reverseStep(e: Engine): Stop {
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
  e.run({
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
  return replayTo(e, cp, cpu, found);
}

interface Hit { at: StopPoint; cpu: number; clock: bigint; position: bigint; text: string }

/** rc: back to the latest breakpoint, watchpoint or event breakpoint hit before now (or to the start of the recorded history). */
export function reverseContinue(e: Engine): Stop {
  const home = e.cpu;
  let limit = positionOf(e.machine);
  const homeClock = e.current.get("clock");
  for (const cp of [...e.history].reverse()) {
    if (cp.position >= limit) continue;
    const hits = hitsBetween(e, cp, limit, home, homeClock);
    const last = hits.at(-1);
    if (last) {
      const s = replayTo(e, cp, last.cpu, last.clock, last.at, last.position);
      e.cpu = last.cpu;
      return { cpu: last.cpu, text: `${last.text}\n${s.text}` };
    }
    limit = cp.position;
  }
  const first = e.history[0];
  e.restoreCheckpoint(first);
  return { cpu: e.cpu, text: `No earlier breakpoint, watchpoint or event hit: at the start of the recorded history.\n${e.where()}` };
}

/** Replays from `cp` up to position `limit` (at most), with breakpoints armed, listing the hits before it. */
function hitsBetween(e: Engine, cp: Checkpoint, limit: bigint, home: number, homeClock: bigint): Hit[] {
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
    const s = e.run(plan);
    const c = e.machine.cpus[s.cpu];
    if (at(c) || !e.lastHit) return hits;
    const position = positionOf(e.machine);
    // A watchpoint can fire after the very instruction that brought us to `limit`: that is now, not before.
    if (position >= limit) return hits;
    // The stop text is the reason, then one line of where.
    hits.push({ at: e.stopPoint, cpu: s.cpu, clock: c.get("clock"), position, text: s.text.split("\n").slice(0, -1).join("\n") });
  }
}
