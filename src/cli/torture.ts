// tramplab torture: random register/unregister/filter sequences under random configurations,
// checked after every step (src/torture).
import { bigIntOption, FLAG, parseOptions, seedOption, UsageError, VALUE, type OptionSpec } from "./args.js";
import { parsePins, PlanError, makePlan, describeStep, TICK, type ConfigPins } from "../torture/plan.js";
import { fillText, tortureRange, TORTURE_OPTIONS as PINS } from "../kernel/options.js";
import { wrap } from "./usage.js";
import { formatHz } from "../machine/units.js";
import { campaignSlices, describeResult, replayCommand, iterationAt, iterationCount } from "../torture/campaign.js";
import { parseInteger, shown, U64_MAX } from "../numbers.js";
import { iterationSlices } from "../torture/run.js";
import { INTERRUPTED, interruptedNote, withInterrupts, type Interrupts } from "./interrupt.js";

export const TORTURE_USAGE =
  `usage: tramplab torture [--seed S] [--iterations N] [--config K=V,...] [--shard I/N] [--iteration K [--verbose]]

Its machines model the PREEMPT_AUTO patch set (--kernel preempt-auto-rfc, not a release), where
both TASKS_RCU Kconfig rules exist and lazy preemption does not set PREEMPTION (docs/versions.md).

  --seed S          campaign seed, 0 to 2^64-1, decimal or 0x hex (default 1); iteration k of
                    seed S is always the same run
  --iterations N    iterations 0..N-1, N from 1 to 2^64-1 (default 50)
${configHelp()}
  --shard I/N       run only iterations k with k % N == I-1, 1 <= I <= N <= 2^64-1 (split a
                    campaign across machines)
  --iteration K     run just iteration K, 0 to 2^64-1 (replay a failure)
  --verbose         print each step of the iterations run`;

/** --config's help: the options table's torture dimensions, each with its range or choices. */
function configHelp(): string {
  const dims = PINS.map((o) => {
    const t = o.type;
    const { min, max } = t.kind === "int" ? tortureRange(o) : { min: 0, max: 0 };
    const usage = o.torture?.usage ?? (t.kind === "enum" ? t.choices.join("|") : `${min}..${max}`);
    return `${o.key}=${fillText(usage, { range: `${min} to ${max}`, hz: formatHz(TICK) })}`;
  });
  return wrap(`pin dimensions: ${dims.join(", ")}`.split(" "), "  --config K=V,... ", 20, 97);
}

interface TortureOptions {
  seed: bigint;
  iterations: bigint;
  pins: ConfigPins;
  shard?: { index: bigint; count: bigint };
  iteration?: bigint;
  verbose: boolean;
}

const TORTURE_OPTIONS = {
  seed: VALUE, iterations: VALUE, iteration: VALUE, verbose: FLAG, config: VALUE, shard: VALUE,
} satisfies OptionSpec;

function parse(args: string[]): TortureOptions & { help?: boolean } {
  const p = parseOptions(args, TORTURE_OPTIONS);
  const o: TortureOptions = { seed: 1n, iterations: 50n, pins: {}, verbose: p.flags.has("verbose") };
  if (p.help) return { ...o, help: true };
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument ${p.positionals[0]}`);
  if (p.values.has("seed")) o.seed = seedOption("--seed", p.values.get("seed"));
  if (p.values.has("iterations")) o.iterations = bigIntOption("--iterations", p.values.get("iterations"), 1n, U64_MAX);
  if (p.values.has("iteration")) o.iteration = bigIntOption("--iteration", p.values.get("iteration"), 0n, U64_MAX);
  if (p.values.has("config")) {
    try { o.pins = parsePins(p.values.get("config") ?? ""); } catch (e) { throw new UsageError((e as PlanError).message); }
  }
  if (p.values.has("shard")) {
    const v = p.values.get("shard");
    const m = /^([^/]*)\/([^/]*)$/.exec(v ?? "");
    const index = parseInteger(m?.[1], 1n, U64_MAX), count = parseInteger(m?.[2], 1n, U64_MAX);
    if (index === undefined || count === undefined || index > count) {
      throw new UsageError(`--shard needs I/N with 1 <= I <= N <= ${U64_MAX}, got ${shown(v)}`);
    }
    o.shard = { index, count };
  }
  return o;
}

export async function torture(args: string[]): Promise<number> {
  const o = parse(args);
  if (o.help) { process.stdout.write(TORTURE_USAGE + "\n"); return 0; }
  return withInterrupts((interrupts) => campaign(o, interrupts));
}

async function campaign(o: TortureOptions, interrupts: Interrupts): Promise<number> {
  const w = (s: string) => process.stdout.write(s + "\n");
  if (o.iteration !== undefined) {
    const plan = makePlan(o.seed, o.iteration, o.pins);
    if (o.verbose) plan.steps.forEach((s, i) => w(`plan step ${i}: ${describeStep(s, plan.ops)}`));
    const r = await interrupts.run(iterationSlices(plan));
    if (!r) { process.stderr.write(interruptedNote("torture", `in iteration ${o.iteration}`)); return INTERRUPTED; }
    if (o.verbose || r.failure) w(r.log.join("\n"));
    w(describeResult(r));
    if (r.failure) w(`failed after step ${r.failure.step < 0 ? "the last" : r.failure.step}: ${r.failure.what}`);
    return r.failure ? 1 : 0;
  }
  const t0 = performance.now();
  const count = iterationCount(o);
  w(`torture: seed ${o.seed}, ${count} iteration(s)${o.shard ? ` (shard ${o.shard.index}/${o.shard.count} of ${o.iterations})` : ""}`);
  let ran = 0, failed = 0;
  const s = await interrupts.run(campaignSlices({
    seed: o.seed, iterations: o.iterations, pins: o.pins, shard: o.shard,
    onResult: (r) => {
      ran++;
      if (r.failure) failed++;
      w(describeResult(r));
      if (o.verbose) w(r.log.join("\n"));
      if (r.failure) {
        w(`      failed after step ${r.failure.step < 0 ? "the last" : r.failure.step}: ${r.failure.what.split("\n").join("\n      ")}`);
        w(`      replay: ${replayCommand(r)}`);
      }
    },
  }));
  if (!s) {
    const next = iterationAt(o, BigInt(ran));
    process.stderr.write(interruptedNote("torture", `in iteration ${next}; ${ran} of ${count} iteration(s) ran, ${failed} failed`));
    return INTERRUPTED;
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  w(`torture: ${s.run} iterations in ${secs} s: ${s.safe} safe, ${s.unsafe} unsafe configurations; ` +
    `${s.prematureFrees} premature frees, ${s.caught} use-after-frees caught; ${s.failures.length} failed`);
  return s.failures.length > 0 ? 1 : 0;
}
