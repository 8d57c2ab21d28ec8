// The debugger's view of the machine's schedule: the same rounds of quanta as
// Interleaver.runFor (same quantum draws, same hypercall handlers, same after-round hooks), but
// resumable at any tick. Stopping at a breakpoint, after one instruction or at a reverse-step
// target therefore never changes the interleaving: a session that stops a hundred times runs
// exactly the instructions `tramplab run` would have run.
//
// A stop point is "before a tick of the vCPU whose turn it is": the quantum is drawn, the turn
// is not over, and the next thing to happen is that vCPU running.
import { Exit } from "../gen/layout.js";
import type { CpuState } from "../machine/machine.js";
import type { Interleaver, StopReason } from "../machine/interleave.js";
import type { DebugTarget } from "./target.js";

/** Where the cursor is in the round-robin (part of every checkpoint). */
export interface CursorState {
  turn: number;
  /** The clock at which this turn ends, once its quantum is drawn. */
  target: bigint | null;
  allHalted: boolean;
}

/** What the engine decides between runs. */
export interface Control {
  /** Called at every stop point; a reason to stop there, or null. */
  before(cpu: CpuState): string | null;
  /** Most ticks `cpu` may run in one go now (at least 1). */
  budget(cpu: CpuState): bigint;
  /** Called right before `cpu` runs. */
  beforeRun?(cpu: CpuState): void;
  /** Called after each run of a vCPU (stop is the run's own reason, if any); a reason to stop, or null. */
  after(cpu: CpuState, stop: StopReason | null): string | null;
  /** Called after each round's hooks (grace periods advance there). */
  afterRound?(): string | null;
}

export type CursorStop =
  | { kind: "control"; cpu: number; why: string }
  | { kind: "machine"; stop: StopReason }
  | { kind: "time" };

export const FOREVER = 1n << 62n;

export class Cursor {
  turn = 0;
  target: bigint | null = null;
  allHalted = true;
  private readonly interleaver: Interleaver;

  constructor(private readonly debugged: DebugTarget) {
    this.interleaver = debugged.interleaver;
  }

  save(): CursorState {
    return { turn: this.turn, target: this.target, allHalted: this.allHalted };
  }

  load(s: CursorState): void {
    this.turn = s.turn;
    this.target = s.target;
    this.allHalted = s.allHalted;
  }

  /** Back to the start of a round (after the kernel ran the machine itself, e.g. while patching). */
  reset(): void {
    this.load({ turn: 0, target: null, allHalted: true });
  }

  /** The vCPU whose turn it is. */
  get cpu(): number {
    return this.turn;
  }

  /**
   * Runs until `ctl` says stop, the machine stops, or virtual time reaches `end` at a round
   * boundary (as runFor checks it). At most `maxRuns` vCPU runs happen (the REPL slices long
   * runs so that Ctrl-C is seen); null when that many ran without a stop.
   */
  advance(ctl: Control, end: bigint = FOREVER, maxRuns = Infinity): CursorStop | null {
    const m = this.debugged.machine;
    // The interleaver's own turn steps: the cursor and runFor can never drift apart.
    const t = this.interleaver;
    for (let runs = 0; runs < maxRuns; runs++) {
      if (this.turn === 0 && this.target === null) {
        if (m.time >= end) return { kind: "time" };
        this.allHalted = true;
      }
      const cpu = m.cpus[this.turn];
      if (this.target === null) {
        const q = cpu.get("clock") + t.nextQuantum();
        this.target = q < end ? q : end;
      }
      if (cpu.get("clock") < this.target) {
        const why = ctl.before(cpu);
        if (why !== null) return { kind: "control", cpu: cpu.index, why };
        let sub = cpu.get("clock") + ctl.budget(cpu);
        if (sub > this.target) sub = this.target;
        ctl.beforeRun?.(cpu);
        const stop = t.runUntil(cpu, sub);
        const breakpoint = stop?.kind === "stopped" && cpu.get("exitReason") === Exit.BREAKPOINT;
        const after = ctl.after(cpu, breakpoint ? stop : null);
        if (stop && !breakpoint) {
          this.reset(); // runFor starts a new round after any stop
          return { kind: "machine", stop };
        }
        if (after !== null) return { kind: "control", cpu: cpu.index, why: after };
        continue;
      }
      const lockup = t.checkLockup(cpu);
      if (lockup) {
        this.reset();
        return { kind: "machine", stop: lockup };
      }
      if (cpu.get("halted") === 0) this.allHalted = false;
      this.target = null;
      this.turn++;
      if (this.turn === m.ncpus) {
        this.turn = 0;
        t.endRound();
        const why = ctl.afterRound?.() ?? null;
        if (this.allHalted && t.nothingCanWake()) return { kind: "machine", stop: { kind: "all-halted" } };
        if (why !== null) return { kind: "control", cpu: 0, why };
      }
    }
    return null;
  }
}
