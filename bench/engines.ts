// The three ways the benchmark runs a workload — natively, under qemu-x86_64, and in
// tramplab — behind one interface: run the binary with an iteration argument, return the
// seconds spent and what it printed. Plus the measuring policy shared by all of them:
// calibrate the iteration count to a time budget, repeat, keep the best.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { runProgram } from "../src/linux/process.js";

export interface Timed {
  seconds: number;
  stdout: string;
  /** Instructions retired, when the engine knows them exactly (tramplab only). */
  insns?: bigint;
}

export interface Engine {
  name: string;
  run(binary: string, n: number): Timed;
}

function spawnTimed(cmd: string, args: string[]): Timed {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", env: {}, maxBuffer: 1 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  return { seconds, stdout: r.stdout };
}

/** Wall time of a child process. Process start-up is measured separately (n = 0) and
 * subtracted by the caller, so it does not count against short native runs. */
export const native: Engine = {
  name: "native",
  run: (binary, n) => spawnTimed(binary, [String(n)]),
};

export const qemu: Engine = {
  name: "qemu",
  run: (binary, n) => spawnTimed("qemu-x86_64", [binary, String(n)]),
};

/** Runs a workload in tramplab, in-process; result.wallMs covers only the guest's execution,
 * not loading the ELF. maxInsns guards against an emulator bug turning a run into a hang. */
export function runTramplab(binary: string, n: number, maxInsns = 50_000_000_000n): Timed {
  const bytes = readFileSync(binary);
  const out: string[] = [];
  const r = runProgram(bytes, {
    argv: [binary, String(n)], env: [], maxInsns,
    stdout: (b) => out.push(Buffer.from(b).toString("utf8")),
    stderr: (b) => process.stderr.write(b),
  });
  if (r.exitCode !== 0) throw new Error(`tramplab ${binary} ${n}: exit ${r.exitCode}${r.limitReached ? " (instruction limit)" : ""}`);
  return { seconds: r.wallMs / 1000, stdout: out.join(""), insns: r.insns };
}

export const tramplab: Engine = { name: "tramplab", run: (binary, n) => runTramplab(binary, n) };

export function haveQemu(): boolean {
  return spawnSync("qemu-x86_64", ["--version"], { stdio: "ignore" }).status === 0;
}

export interface Measurement {
  engine: string;
  /** The iteration argument the timed runs used. */
  n: number;
  /** Best (shortest) time of the repeats, start-up subtracted. */
  seconds: number;
  /** Instructions for that n. */
  insns: number;
  /** Instructions per second. */
  rate: number;
  stdout: string;
}

export interface Plan {
  /** Largest n worth running (the workload's native size). */
  maxN: number;
  /** A small n that any engine finishes quickly, to calibrate from. */
  probeN: number;
  /** Target seconds for one timed run. */
  budget: number;
  repeats: number;
  /** Instruction count of the workload for a given n. */
  insns: (n: number) => number;
}

const best = (xs: number[]) => Math.min(...xs);

/** Calibrates n so one run takes about plan.budget seconds (never more than maxN), then
 * keeps the best of plan.repeats runs. Best-of, not mean: on a shared machine the noise
 * only ever adds time. */
export function measure(engine: Engine, binary: string, plan: Plan): Measurement {
  const startup = engine === tramplab ? 0 : best([0, 1, 2].map(() => engine.run(binary, 0).seconds));
  let n = plan.maxN;
  if (engine !== native) {
    // Grow the probe tenfold until a run is long enough to extrapolate from.
    n = plan.probeN;
    for (;;) {
      const t = Math.max(engine.run(binary, n).seconds - startup, 1e-5);
      if (t < plan.budget / 8 && n < plan.maxN) {
        n = Math.min(plan.maxN, n * 10);
        continue;
      }
      n = Math.max(plan.probeN, Math.min(plan.maxN, Math.round((n * plan.budget) / t)));
      break;
    }
  }
  let stdout = "", exact: bigint | undefined;
  const times: number[] = [];
  for (let i = 0; i < plan.repeats; i++) {
    const r = engine.run(binary, n);
    times.push(Math.max(r.seconds - startup, 1e-6));
    stdout = r.stdout;
    exact = r.insns;
  }
  const seconds = best(times);
  // Engines that count (tramplab) are believed; for the others the workload's formula.
  const insns = exact !== undefined ? Number(exact) : plan.insns(n);
  return { engine: engine.name, n, seconds, insns, rate: insns / seconds, stdout };
}
