// tramplab torture: random register/unregister/filter sequences under random configurations,
// checked after every step (src/torture).
import { UsageError } from "./args.js";
import { parsePins, PlanError, makePlan, describeStep, TICK, type ConfigPins } from "../torture/plan.js";
import { formatHz } from "../machine/units.js";
import { runCampaign, describeResult, replayCommand, iterationsOf } from "../torture/campaign.js";
import { runIteration } from "../torture/run.js";

export const TORTURE_USAGE = `usage: tramplab torture [--seed S] [--iterations N] [--config K=V,...] [--shard I/N] [--iteration K [--verbose]]

  --seed S          campaign seed (default 1); iteration k of seed S is always the same run
  --iterations N    iterations 0..N-1 (default 50)
  --config K=V,...  pin dimensions: cpus=1..8, preempt=none|voluntary|full|lazy, kconfig=old|new,
                    release=POLICY (kernel, tasks, stack-scan, rcu, immediate, ip-check, or
                    mechanisms joined by +), timeslice=JIFFIES (timer ticks; torture runs at
                    ${formatHz(TICK)}), recursion=per-stack|per-task|none
  --shard I/N       run only iterations k with k % N == I-1 (split a campaign across machines)
  --iteration K     run just iteration K (replay a failure)
  --verbose         print each step of the iterations run`;

interface TortureOptions {
  seed: number;
  iterations: number;
  pins: ConfigPins;
  shard?: { index: number; count: number };
  iteration?: number;
  verbose: boolean;
}

function parse(args: string[]): TortureOptions {
  const o: TortureOptions = { seed: 1, iterations: 50, pins: {}, verbose: false };
  const int = (name: string, v: string | undefined, min: number) => {
    if (!v || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} needs an integer >= ${min}, got ${v ?? "nothing"}`);
    return Number(v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case "--seed": o.seed = int(a, args[++i], 0); break;
      case "--iterations": o.iterations = int(a, args[++i], 1); break;
      case "--iteration": o.iteration = int(a, args[++i], 0); break;
      case "--verbose": o.verbose = true; break;
      case "--config":
        try { o.pins = parsePins(args[++i] ?? ""); } catch (e) { throw new UsageError((e as PlanError).message); }
        break;
      case "--shard": {
        const m = /^(\d+)\/(\d+)$/.exec(args[++i] ?? "");
        if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard needs I/N with 1 <= I <= N, got ${args[i] ?? "nothing"}`);
        o.shard = { index: Number(m[1]), count: Number(m[2]) };
        break;
      }
      default: throw new UsageError(`unknown torture option ${a}`);
    }
  }
  return o;
}

export function torture(args: string[]): number {
  if (args.includes("--help") || args.includes("-h")) { process.stdout.write(TORTURE_USAGE + "\n"); return 0; }
  const o = parse(args);
  const w = (s: string) => process.stdout.write(s + "\n");
  if (o.iteration !== undefined) {
    const plan = makePlan(o.seed, o.iteration, o.pins);
    if (o.verbose) plan.steps.forEach((s, i) => w(`plan step ${i}: ${describeStep(s, plan.ops)}`));
    const r = runIteration(plan);
    if (o.verbose || r.failure) w(r.log.join("\n"));
    w(describeResult(r));
    if (r.failure) w(`failed after step ${r.failure.step < 0 ? "the last" : r.failure.step}: ${r.failure.what}`);
    return r.failure ? 1 : 0;
  }
  const t0 = performance.now();
  const count = iterationsOf(o).length;
  w(`torture: seed ${o.seed}, ${count} iteration(s)${o.shard ? ` (shard ${o.shard.index}/${o.shard.count} of ${o.iterations})` : ""}`);
  const s = runCampaign({
    seed: o.seed, iterations: o.iterations, pins: o.pins, shard: o.shard,
    onResult: (r) => {
      w(describeResult(r));
      if (o.verbose) w(r.log.join("\n"));
      if (r.failure) {
        w(`      failed after step ${r.failure.step < 0 ? "the last" : r.failure.step}: ${r.failure.what.split("\n").join("\n      ")}`);
        w(`      replay: ${replayCommand(r)}`);
      }
    },
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  w(`torture: ${s.run} iterations in ${secs} s: ${s.safe} safe, ${s.unsafe} unsafe configurations; ` +
    `${s.prematureFrees} premature frees, ${s.caught} use-after-frees caught; ${s.failures.length} failed`);
  return s.failures.length > 0 ? 1 : 0;
}
