// npm run fuzz -- [--count N] [--seed S] [--scenario NAME|all] [--only I,J,...] [--detail K] [--batch B]
//
// Runs differential-test cases beyond the fixed ones `npm test` runs: any number, any seed.
// Prints every mismatch (up to --detail per batch in full) and a final summary; exits 1 when
// something differed. `--only` reruns single cases by index, as printed with a mismatch.
import { report, runScenario, type ScenarioRun } from "./run.js";
import { SCENARIOS, type ScenarioName } from "./generator.js";

interface Options { count: number; seed: bigint; scenarios: ScenarioName[]; only?: number[]; detail: number; batch: number }

function parse(argv: string[]): Options {
  const o: Options = { count: 10_000, seed: BigInt(Date.now()), scenarios: Object.keys(SCENARIOS) as ScenarioName[], detail: 10, batch: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = argv[i].includes("=") ? argv[i].split("=", 2) : [argv[i], argv[++i]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case "--count": o.count = Number(value); break;
      case "--seed": o.seed = BigInt(value); break;
      case "--scenario":
        if (value !== "all") {
          if (!(value in SCENARIOS)) throw new Error(`unknown scenario ${value}; one of: all, ${Object.keys(SCENARIOS).join(", ")}`);
          o.scenarios = [value as ScenarioName];
        }
        break;
      case "--only": o.only = value.split(",").map(Number); break;
      case "--detail": o.detail = Number(value); break;
      case "--batch": o.batch = Number(value); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error("--count must be a positive integer");
  return o;
}

function main(): number {
  let o: Options;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`fuzz: ${(e as Error).message}`);
    return 2;
  }
  console.log(`fuzz: seed 0x${o.seed.toString(16)}, ${o.only ? `cases ${o.only.join(",")}` : `${o.count} cases per scenario`}: ${o.scenarios.join(", ")}`);
  const totals: { name: string; cases: number; bad: number; ms: number }[] = [];
  const chunks: { count: number; first?: number; only?: number[] }[] = [];
  if (o.only) chunks.push({ count: o.only.length, only: o.only });
  else for (let first = 0; first < o.count; first += o.batch) chunks.push({ count: Math.min(o.batch, o.count - first), first });
  for (const name of o.scenarios) {
    let cases = 0, bad = 0, ms = 0;
    for (const chunk of chunks) {
      const run: ScenarioRun = runScenario(name, o.seed, chunk.count, chunk);
      cases += run.cases.length;
      bad += run.mismatches.length;
      ms += run.ms.generate + run.ms.native + run.ms.emulator;
      if (run.mismatches.length || o.only) console.log(`\n${report(run, o.detail)}`);
    }
    totals.push({ name, cases, bad, ms });
  }
  console.log("\nsummary:");
  for (const t of totals) console.log(`  ${t.name.padEnd(8)} ${String(t.cases).padStart(7)} cases  ${String(t.bad).padStart(6)} mismatches  ${(t.ms / 1000).toFixed(1)} s`);
  const bad = totals.reduce((n, t) => n + t.bad, 0);
  console.log(`  ${bad === 0 ? "no mismatches" : `${bad} mismatches`} (seed 0x${o.seed.toString(16)})`);
  return bad === 0 ? 0 : 1;
}

process.exitCode = main();
