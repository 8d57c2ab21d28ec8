// Interleaving the vCPUs: deterministic round-robin quanta, or quanta drawn from a seeded
// generator to explore other interleavings. Same image, configuration and seed give the same
// run, because the only inputs are the machine's state and this schedule.
import { Exit, ExitName, VectorName } from "../gen/layout.js";
import { X86_EFLAGS_IF } from "../gen/constants.js";
import type { Machine, CpuState } from "./machine.js";
import { formatTime } from "./units.js";
import { seedValue } from "../numbers.js";
import { mix64, splitmixStep } from "./random.js";
import { finish, SliceTimer, type Slices } from "./slices.js";

export interface InterleaveOptions {
  /** Ticks each vCPU runs per turn (default 1000). */
  quantum?: number;
  /**
   * When set, each turn's quantum is drawn from [1, 2 * quantum] by a generator with this seed
   * (0 to 2^64 - 1; src/numbers.ts, seedValue).
   */
  seed?: number | bigint;
  /**
   * Stop with "lockup" when a vCPU runs this many ticks with interrupts disabled and never
   * halts (checked between turns). Off when 0 (the default).
   */
  lockupTicks?: number;
}

/** A hypercall handler: return "stop" to end the run after this hypercall. */
export type Hypercall = (cpu: CpuState, machine: Machine) => void | "stop";

export type StopReason =
  | { kind: "time" }
  | { kind: "stopped"; cpu: number; by: string }
  | { kind: "fault"; cpu: number; vector: number; error: bigint; rip: bigint; address: bigint }
  | { kind: "triple-fault"; cpu: number; vector: number; rip: bigint }
  | { kind: "hazard"; cpu: number; rip: bigint }
  | { kind: "unknown-hypercall"; cpu: number; nr: bigint; rip: bigint }
  | { kind: "lockup"; cpu: number; rip: bigint; ticks: bigint }
  | { kind: "all-halted" }
  /** A user program run without a kernel ended (its exit or exit_group system call). */
  | { kind: "exited"; cpu: number; status: number };

/** What changes as the schedule runs: plain data, so a snapshot can copy and replace it. */
export interface InterleaveState {
  /** The generator's state when quanta are random. */
  rng: bigint;
  /** Per vCPU: the clock when it was last seen with interrupts enabled or halted. */
  lastResponsive: bigint[];
}

export class Interleaver {
  readonly hypercalls = new Map<number, Hypercall>();
  /** Called after every round of quanta (the kernel's control plane advances its state machines). */
  readonly afterRound: (() => void)[] = [];
  /**
   * For a machine with no kernel in it (a user program, src/linux/process.ts): the host serves
   * a SYSCALL or FAULT exit. A stop reason ends the run (the program exited, or a fault it
   * cannot survive: faultStop); null resumes the vCPU.
   */
  hostExit?: (cpu: CpuState, exit: typeof Exit.SYSCALL | typeof Exit.FAULT) => StopReason | null;
  quantum: number;
  lockupTicks: bigint;
  private readonly random: boolean;
  state: InterleaveState;

  constructor(readonly machine: Machine, opts: InterleaveOptions = {}) {
    this.quantum = opts.quantum ?? 1000;
    this.lockupTicks = BigInt(opts.lockupTicks ?? 0);
    this.random = opts.seed !== undefined;
    this.state = { rng: opts.seed === undefined ? 0n : seedValue(opts.seed), lastResponsive: machine.cpus.map((c) => c.get("clock")) };
  }

  /** Draws the quantum of the next turn (the debugger's cursor draws the same ones). */
  nextQuantum(): bigint {
    if (!this.random) return BigInt(this.quantum);
    // SplitMix64 (random.ts): the schedule is part of the run's inputs, so it must be
    // reproducible, and every bit of the seed must count.
    this.state.rng = splitmixStep(this.state.rng);
    return 1n + (mix64(this.state.rng) % BigInt(2 * this.quantum));
  }

  /** Runs every vCPU in turn until `ticks` of virtual time passed or something stops the run. */
  runFor(ticks: number | bigint): StopReason {
    return finish(this.runForSlices(ticks));
  }

  /** runFor in slices: the same rounds of quanta, yielding after a round that ends a slice. */
  *runForSlices(ticks: number | bigint): Slices<StopReason> {
    const m = this.machine;
    const end = m.time + BigInt(ticks);
    const slice = new SliceTimer(m);
    while (m.time < end) {
      let allHalted = true;
      for (const cpu of m.cpus) {
        const target = cpu.get("clock") + this.nextQuantum();
        const stop = this.runUntil(cpu, target < end ? target : end) ?? this.checkLockup(cpu);
        if (stop) return stop;
        if (cpu.get("halted") === 0) allHalted = false;
      }
      this.endRound();
      if (allHalted && this.nothingCanWake()) return { kind: "all-halted" };
      if (slice.due() && m.time < end) yield;
    }
    return { kind: "time" };
  }

  /** The end of a round of quanta: the after-round hooks run. */
  endRound(): void {
    for (const f of this.afterRound) f();
  }

  /** Runs one vCPU until its clock reaches `target`; a reason to stop the whole run, or null. */
  runUntil(cpu: CpuState, target: bigint): StopReason | null {
    const m = this.machine;
    while (cpu.get("clock") < target) {
      const exit = m.run(cpu.index, target - cpu.get("clock"));
      switch (exit) {
        case Exit.BUDGET:
        case Exit.HALT:
          break;
        case Exit.HYPERCALL: {
          const nr = cpu.reg(0);
          const handler = this.hypercalls.get(Number(nr));
          if (!handler) return { kind: "unknown-hypercall", cpu: cpu.index, nr, rip: cpu.rip };
          if (handler(cpu, m) === "stop") return { kind: "stopped", cpu: cpu.index, by: `hypercall ${nr}` };
          break;
        }
        case Exit.SYSCALL:
        case Exit.FAULT: {
          if (!this.hostExit) {
            if (exit === Exit.FAULT) return faultStop(cpu);
            return { kind: "stopped", cpu: cpu.index, by: ExitName[exit] };
          }
          const stop = this.hostExit(cpu, exit);
          if (stop) return stop;
          break;
        }
        case Exit.TRIPLE_FAULT:
          return { kind: "triple-fault", cpu: cpu.index, vector: Number(cpu.get("exitVector")), rip: cpu.get("exitRip") };
        case Exit.HAZARD:
          return { kind: "hazard", cpu: cpu.index, rip: cpu.rip };
        default:
          return { kind: "stopped", cpu: cpu.index, by: ExitName[exit] ?? `exit ${exit}` };
      }
      if (exit === Exit.HALT) break; // idle for the rest of its turn
    }
    return null;
  }

  /** At the end of `cpu`'s turn: a lockup if it has run too long with interrupts disabled, or null. */
  checkLockup(cpu: CpuState): StopReason | null {
    const now = cpu.get("clock");
    if ((cpu.rflags & X86_EFLAGS_IF) !== 0n || cpu.get("halted") !== 0) {
      this.state.lastResponsive[cpu.index] = now;
      return null;
    }
    const stuck = now - this.state.lastResponsive[cpu.index];
    if (this.lockupTicks > 0n && stuck >= this.lockupTicks) return { kind: "lockup", cpu: cpu.index, rip: cpu.rip, ticks: stuck };
    return null;
  }

  /**
   * No halted vCPU can ever wake: each has interrupts disabled, or neither a pending interrupt
   * nor an unmasked running timer. (Another vCPU's IPI cannot come: all are halted.)
   */
  nothingCanWake(): boolean {
    return this.machine.cpus.every((c) => {
      if ((c.rflags & X86_EFLAGS_IF) === 0n) return true;
      const timer = c.get("timerDeadline") !== 0n && (c.get("timerLvt") & (1 << 16)) === 0;
      return !timer && [0, 1, 2, 3].every((i) => c.get("irr", i) === 0n);
    });
  }
}

/** The stop for the fault `cpu` just left with. */
export function faultStop(cpu: CpuState): StopReason {
  return {
    kind: "fault", cpu: cpu.index, vector: Number(cpu.get("exitVector")), error: cpu.get("exitError"),
    rip: cpu.get("exitRip"), address: cpu.get("exitAddr"),
  };
}

/** One paragraph saying why a run stopped, for people. */
export function describeStop(s: StopReason, symbolize: (a: bigint) => string = (a) => "0x" + a.toString(16)): string {
  switch (s.kind) {
    case "time": return "ran for the requested time";
    case "stopped": return `stopped on cpu${s.cpu} by ${s.by}`;
    case "fault":
      return `cpu${s.cpu}: unhandled ${VectorName[s.vector] ?? s.vector} (error 0x${s.error.toString(16)}) at ${symbolize(s.rip)}`;
    case "triple-fault":
      return `cpu${s.cpu}: triple fault (a fault while delivering #DF, after ${VectorName[s.vector] ?? s.vector}) ` +
        `at ${symbolize(s.rip)}; the machine is stopped and can be inspected`;
    case "hazard": return `cpu${s.cpu}: cross-modifying-code hazard at ${symbolize(s.rip)}`;
    case "unknown-hypercall": return `cpu${s.cpu}: unknown hypercall ${s.nr} at ${symbolize(s.rip)}`;
    case "lockup": return `cpu${s.cpu}: stuck with interrupts disabled for ${formatTime(s.ticks)} at ${symbolize(s.rip)}`;
    case "all-halted": return "every vCPU is halted and nothing can wake them (no timer, no deliverable interrupt)";
    case "exited": return s.status === 0 ? "the program exited normally" : `the program exited with code ${s.status}`;
  }
}
