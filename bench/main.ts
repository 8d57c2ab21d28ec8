// `npm run bench`: guest instruction throughput of tramplab next to the same programs run
// natively and under qemu-x86_64 (user mode, TCG), on three workloads:
//   loop           8 integer instructions in a hot loop (bench/workloads/loop.S)
//   loop-samepage  the same loop storing to the page its code is in (self-modifying-code checks)
//   mix            sieve, merge sort, insertion sort and FNV hashing in C at -O2 (workloads/mix.c)
// This machine has no performance counters, so instruction counts come from the emulator:
// tramplab retires an exact count, and since each workload's count is an affine function of
// its iteration argument (base + n * per_iteration), two small runs give the count for any n.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../src/paths.js";
import { compile, haveGcc } from "../test/programs/build.js";
import { haveQemu, measure, native, qemu, runTramplab, tramplab, type Engine, type Measurement, type Plan } from "./engines.js";

const execFileP = promisify(execFile);
const WORKLOADS = join(projectRoot, "bench", "workloads");

interface Workload {
  name: string;
  binary: string;
  /** The iteration argument for native runs (its intended full size). */
  nativeN: number;
  /** Where calibration starts: quick on every engine, including qemu's worst case. */
  probeN: number;
  /** Two arguments whose tramplab instruction counts fix base and per-iteration cost. */
  countAt: [number, number];
  /** Expected instructions per iteration, when known from the code. */
  perIteration?: number;
}

async function buildWorkloads(dir: string): Promise<Workload[]> {
  const loop = join(dir, "loop"), samepage = join(dir, "loop-samepage"), mix = join(dir, "mix");
  const asm = (out: string, extra: string[]) => execFileP("gcc", ["-nostdlib", "-static", ...extra, join(WORKLOADS, "loop.S"), "-o", out]);
  await Promise.all([
    asm(loop, []),
    // One RWX segment holds both code and data; ld warns about exactly that, on purpose here.
    asm(samepage, ["-DSAMEPAGE", "-Wl,--no-warn-rwx-segments"]),
    compile([join(WORKLOADS, "mix.c")], mix, ["-O2"]),
  ]);
  return [
    { name: "loop", binary: loop, nativeN: 200_000_000, probeN: 100_000, countAt: [1000, 2000], perIteration: 8 },
    { name: "loop-samepage", binary: samepage, nativeN: 200_000_000, probeN: 1000, countAt: [1000, 2000], perIteration: 8 },
    { name: "mix", binary: mix, nativeN: 112, probeN: 1, countAt: [1, 3] },
  ];
}

/** insns(n) = base + n * per, from two exact tramplab counts. Also checks that tramplab's
 * output matches the native run's, so the rates below are for correct executions. */
function instructionModel(w: Workload): (n: number) => number {
  const [a, b] = w.countAt;
  const limit = 2_000_000_000n; // the counting runs are small; more means something is wrong
  const ra = runTramplab(w.binary, a, limit), rb = runTramplab(w.binary, b, limit);
  const per = Number(rb.insns! - ra.insns!) / (b - a);
  const base = Number(ra.insns!) - per * a;
  if (w.perIteration !== undefined && per !== w.perIteration) {
    console.warn(`warning: ${w.name}: tramplab counts ${per} instructions per iteration, the code has ${w.perIteration}`);
  }
  const nat = native.run(w.binary, a);
  if (nat.stdout !== ra.stdout) {
    throw new Error(`${w.name}: tramplab printed ${JSON.stringify(ra.stdout)}, native ${JSON.stringify(nat.stdout)}`);
  }
  return (n) => base + per * n;
}

/** Three significant digits without exponents for rates; ratios may need an exponent. */
function fmt(x: number | undefined): string {
  if (x === undefined) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2);
}
const ratio = (x: number | undefined, y: number | undefined) =>
  x === undefined || y === undefined ? "-" : `${x / y >= 0.001 ? (x / y).toPrecision(3) : (x / y).toExponential(2)}x`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("   ")).join("\n");
}

async function main(): Promise<void> {
  if (!haveGcc()) {
    console.error("bench: gcc is needed to build the workloads");
    process.exit(2);
  }
  const engines: Engine[] = [native, tramplab];
  const withQemu = haveQemu();
  if (withQemu) engines.splice(1, 0, qemu);
  else console.log("note: qemu-x86_64 not found; its columns are left empty");

  const dir = mkdtempSync(join(tmpdir(), "tramplab-bench-"));
  const t0 = performance.now();
  try {
    const workloads = await buildWorkloads(dir);
    const results = new Map<string, Map<string, Measurement>>();
    for (const w of workloads) {
      const byEngine = new Map<string, Measurement>();
      results.set(w.name, byEngine);
      let insns: (n: number) => number;
      try {
        insns = instructionModel(w);
      } catch (e) {
        // A wrong result makes every rate meaningless: say so and go on with the others.
        console.log(`  ${w.name}: skipped, tramplab does not run it correctly: ${(e as Error).message.split("\n")[0]}`);
        continue;
      }
      for (const e of engines) {
        const plan: Plan = { maxN: w.nativeN, probeN: w.probeN, budget: 1.0, repeats: e === native ? 5 : 3, insns };
        const m = measure(e, w.binary, plan);
        byEngine.set(e.name, m);
        console.log(`  ${w.name.padEnd(14)} ${e.name.padEnd(9)} n=${String(m.n).padStart(10)}  ` +
          `${(m.insns / 1e6).toFixed(1).padStart(8)} M insns  best ${m.seconds.toFixed(3)} s of ${plan.repeats}`);
      }
    }

    const rate = (w: string, e: string) => results.get(w)?.get(e)?.rate;
    const rows = [["workload", "native G insn/s", "qemu M insn/s", "tramplab M insn/s", "tramplab/qemu", "native/tramplab"]];
    for (const w of workloads) {
      const [n, q, t] = [rate(w.name, "native"), rate(w.name, "qemu"), rate(w.name, "tramplab")];
      rows.push([w.name, fmt(n && n / 1e9), fmt(q && q / 1e6), fmt(t && t / 1e6), ratio(t, q), ratio(n, t)]);
    }
    // How much storing into a code page costs each engine: 1.00x means nothing.
    const same = (e: string) => ratio(rate("loop-samepage", e), rate("loop", e));
    rows.push(["samepage / plain", same("native"), same("qemu"), same("tramplab"), "", ""]);
    console.log("\n" + table(rows));
    console.log(`\n(best of repeats, start-up subtracted; total ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
await (await import("./ftrace.js")).ftraceBench(); // the ftrace benchmark (bench/ftrace.ts): trampolines vs list function, patching
await (await import("./rcu.js")).rcuBench(); // grace-period latency per flavour and release strategy, 10/100/1000 tasks (bench/rcu.ts)
(await import("./diff.js")).diffBench(); // the scenario golden diff on a 30,000-line trace (bench/diff.ts)
(await import("./module-ops.js")).moduleOpsBench(); // the ops benchmark module at 1-1000 ops (bench/module-ops.ts)
