// npm run fuzz -- [--count N] [--seed S] [--scenario NAME|all] [--only I,J,...] [--detail K]
//                 [--batch B] [--jobs J] [--both-profiles]
//
// Runs differential-test cases beyond the fixed ones `npm test` runs: any number, any seed,
// against the host CPU with the host's vendor profile. Batches of cases are shared out to
// worker threads (one per core by default; each runs its own emulator and native harness).
// Prints every mismatch (up to --detail per batch in full) and a final summary; exits 1 when
// something differed, 2 for bad options. `--only` reruns single cases by index, as printed
// with a mismatch.
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { report, runScenario } from "./run.js";
import { SCENARIOS, type ScenarioName } from "./generator.js";
import { hostVendor } from "./native.js";
import { parseSeed, parseSmallInt, rangeText, SEED_RULE, shown } from "../../src/numbers.js";

const USAGE = `usage: npm run fuzz -- [OPTIONS]
  --count N          cases per scenario (default 10000, at most 100000000)
  --seed S           the campaign's seed, 0 to 2^64-1, decimal or 0x hex (default: from the
                     clock, printed)
  --scenario NAME    one of all (default), ${Object.keys(SCENARIOS).join(", ")}
  --only I,J,...     rerun these case indices only, each reported in full
  --detail K         mismatches reported in full per batch (default 10)
  --batch B          cases per batch, 1 to 100000 (default 5000)
  --jobs J           worker threads, 1 to 64 (default: one per core)
  --both-profiles    also run each case without a vendor-divergent instruction under the
                     other vendor profile, which must match the host too`;

interface Options {
  count: number; seed: bigint; scenarios: ScenarioName[]; only?: number[];
  detail: number; batch: number; jobs: number; both: boolean;
}
interface Job { name: ScenarioName; seed: bigint; count: number; first?: number; only?: number[]; detail: number; both: boolean }
interface JobResult { name: ScenarioName; cases: number; bad: number; ms: number; text?: string }

class UsageError extends Error {}

function integer(flag: string, v: string | undefined, min: number, max: number): number {
  const n = parseSmallInt(v, min, max);
  if (n === undefined) throw new UsageError(`${flag} needs ${rangeText(min, max)}, got ${shown(v)}`);
  return n;
}

function parse(argv: string[]): Options | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        count: { type: "string" }, seed: { type: "string" }, scenario: { type: "string" }, only: { type: "string" },
        detail: { type: "string" }, batch: { type: "string" }, jobs: { type: "string" }, "both-profiles": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
  const v = parsed.values;
  if (v.help) return null;
  const o: Options = {
    count: v.count === undefined ? 10_000 : integer("--count", v.count, 1, 100_000_000),
    seed: BigInt(Date.now()),
    scenarios: Object.keys(SCENARIOS) as ScenarioName[],
    detail: v.detail === undefined ? 10 : integer("--detail", v.detail, 0, 100_000),
    batch: v.batch === undefined ? 5000 : integer("--batch", v.batch, 1, 100_000),
    jobs: v.jobs === undefined ? availableParallelism() : integer("--jobs", v.jobs, 1, 64),
    both: v["both-profiles"] ?? false,
  };
  if (v.seed !== undefined) {
    const seed = parseSeed(v.seed);
    if (seed === undefined) throw new UsageError(`--seed needs ${SEED_RULE}, got ${shown(v.seed)}`);
    o.seed = seed;
  }
  if (v.scenario !== undefined && v.scenario !== "all") {
    if (!(v.scenario in SCENARIOS)) {
      throw new UsageError(`unknown scenario ${v.scenario}; one of: all, ${Object.keys(SCENARIOS).join(", ")}`);
    }
    o.scenarios = [v.scenario as ScenarioName];
  }
  if (v.only !== undefined) {
    o.only = v.only.split(",").map((x) => integer("--only", x, 0, 2 ** 32));
    if (o.only.length > 10_000) throw new UsageError("--only takes at most 10000 indices");
  }
  return o;
}

/** Runs one batch (in a worker): the counts, and the report when something differed. */
function runJob(j: Job): JobResult {
  const run = runScenario(j.name, j.seed, j.count, { first: j.first, only: j.only, otherVendor: j.both });
  const other = run.other;
  const bad = run.mismatches.length + (other?.mismatches.length ?? 0);
  const texts: string[] = [];
  if (run.mismatches.length || j.only) texts.push(report(run, j.detail));
  if (other?.mismatches.length) texts.push(report({ ...run, vendor: other.vendor, mismatches: other.mismatches }, j.detail));
  return { name: j.name, cases: run.cases.length, bad, ms: run.ms.generate + run.ms.native + run.ms.emulator,
    text: texts.join("\n\n") || undefined };
}

function jobsOf(o: Options): Job[] {
  const jobs: Job[] = [];
  for (const name of o.scenarios) {
    if (o.only) { jobs.push({ name, seed: o.seed, count: o.only.length, only: o.only, detail: o.detail, both: o.both }); continue; }
    for (let first = 0; first < o.count; first += o.batch) {
      jobs.push({ name, seed: o.seed, count: Math.min(o.batch, o.count - first), first, detail: o.detail, both: o.both });
    }
  }
  return jobs;
}

/** Hands the jobs to `n` workers as they become free; results come back in completion order. */
function runParallel(jobs: Job[], n: number, onResult: (r: JobResult) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0, running = 0;
    const start = (w: Worker) => {
      if (next >= jobs.length) { w.terminate(); if (--running === 0) resolve(); return; }
      w.postMessage(jobs[next++]);
    };
    for (let i = 0; i < Math.min(n, jobs.length); i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: "fuzz-worker" });
      running++;
      w.on("message", (r: JobResult) => { onResult(r); start(w); });
      w.on("error", reject);
      start(w);
    }
    if (jobs.length === 0) resolve();
  });
}

async function main(): Promise<number> {
  let o: Options | null;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`fuzz: ${e.message} (see 'npm run fuzz -- --help')`);
    return 2;
  }
  if (!o) { console.log(USAGE); return 0; }
  const vendor = hostVendor();
  const what = o.only ? `cases ${o.only.join(",")}` : `${o.count} cases per scenario`;
  console.log(`fuzz: seed 0x${o.seed.toString(16)}, ${what}: ${o.scenarios.join(", ")}; ${vendor} profile` +
    `${o.both ? ` (and ${vendor === "intel" ? "amd" : "intel"} where the vendors agree)` : ""}` +
    `, ${o.jobs} worker${o.jobs === 1 ? "" : "s"}`);
  const totals = new Map(o.scenarios.map((name) => [name, { cases: 0, bad: 0, ms: 0 }]));
  const t0 = performance.now();
  const jobs = jobsOf(o);
  const all = jobs.reduce((n, j) => n + j.count, 0);
  let done = 0, bad = 0, shown = t0;
  await runParallel(jobs, o.jobs, (r) => {
    const t = totals.get(r.name)!;
    t.cases += r.cases; t.bad += r.bad; t.ms += r.ms;
    done += r.cases; bad += r.bad;
    if (r.text) console.log(`\n${r.text}`);
    // A long campaign says how far it is, on stderr, every half minute.
    const now = performance.now();
    if (now - shown > 30_000 && done < all) {
      shown = now;
      process.stderr.write(`fuzz: ${done} of ${all} cases, ${bad} mismatches, ${((now - t0) / 1000).toFixed(0)} s\n`);
    }
  });
  const wall = (performance.now() - t0) / 1000;
  console.log("\nsummary:");
  for (const [name, t] of totals) {
    console.log(`  ${name.padEnd(8)} ${String(t.cases).padStart(9)} cases  ${String(t.bad).padStart(6)} mismatches  ` +
      `${(t.ms / 1000).toFixed(1)} s`);
  }
  console.log(`  ${bad === 0 ? "no mismatches" : `${bad} mismatches`} in ${done} cases, ` +
    `${wall.toFixed(1)} s wall time (seed 0x${o.seed.toString(16)})`);
  return bad === 0 ? 0 : 1;
}

if (isMainThread) {
  process.exitCode = await main();
} else if (workerData === "fuzz-worker") {
  parentPort!.on("message", (j: Job) => parentPort!.postMessage(runJob(j)));
}
