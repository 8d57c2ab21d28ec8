// A torture campaign: iterations 0..n-1 of one seed, optionally one shard of them, each an
// independent run. Its summary says how many configurations were safe, how many premature
// frees the unsafe ones produced, and whether every one was caught.
import { makePlan, describeConfig, type ConfigPins } from "./plan.js";
import { iterationSlices, type IterationResult } from "./run.js";
import { finish, type Slices } from "../machine/slices.js";

export interface CampaignOptions {
  /** 0 to 2^64 - 1. */
  seed: bigint;
  /** Iterations 0 to iterations - 1 (at most 2^64 of them). */
  iterations: bigint;
  pins?: ConfigPins;
  /** 1-based shard index and shard count: this run takes iterations i with i % count == index - 1. */
  shard?: { index: bigint; count: bigint };
  /** Called after each iteration (progress lines). */
  onResult?: (r: IterationResult) => void;
}

export interface CampaignSummary {
  run: number;
  safe: number;
  unsafe: number;
  prematureFrees: number;
  caught: number;
  failures: IterationResult[];
}

/** The iterations a run takes, in order, one at a time (a campaign may be far too long to list). */
export function* iterationsOf(o: Pick<CampaignOptions, "iterations" | "shard">): Generator<bigint> {
  const step = o.shard?.count ?? 1n;
  for (let i = o.shard ? o.shard.index - 1n : 0n; i < o.iterations; i += step) yield i;
}

/** How many iterations iterationsOf gives. */
export function iterationCount(o: Pick<CampaignOptions, "iterations" | "shard">): bigint {
  if (!o.shard) return o.iterations;
  const first = o.shard.index - 1n;
  return first < o.iterations ? (o.iterations - 1n - first) / o.shard.count + 1n : 0n;
}

/** The n-th (from 0) iteration iterationsOf gives. */
export function iterationAt(o: Pick<CampaignOptions, "shard">, n: bigint): bigint {
  return o.shard ? o.shard.index - 1n + n * o.shard.count : n;
}

export function runCampaign(o: CampaignOptions): CampaignSummary {
  return finish(campaignSlices(o));
}

/** runCampaign in slices (src/machine/slices.ts): `tramplab torture` drives it so that Ctrl-C can stop it. */
export function* campaignSlices(o: CampaignOptions): Slices<CampaignSummary> {
  const s: CampaignSummary = { run: 0, safe: 0, unsafe: 0, prematureFrees: 0, caught: 0, failures: [] };
  for (const i of iterationsOf(o)) {
    const r = yield* iterationSlices(makePlan(o.seed, i, o.pins));
    s.run++;
    if (r.safe) s.safe++; else s.unsafe++;
    s.prematureFrees += r.prematureFrees;
    s.caught += r.caught;
    if (r.failure) s.failures.push(r);
    o.onResult?.(r);
  }
  return s;
}

export function describeResult(r: IterationResult): string {
  const head = `${String(r.plan.iteration).padStart(5)} ${r.failure ? "FAIL" : "ok  "} ${r.safe ? "safe  " : "unsafe"} ` +
    describeConfig(r.plan.config);
  const what = r.prematureFrees || r.caught ? `; ${r.prematureFrees} premature free(s), ${r.caught} caught` : "";
  return head + what;
}

/** The replay line printed with a failure. */
export function replayCommand(r: IterationResult): string {
  const pins = Object.entries(r.plan.pins).map(([k, v]) => `${k}=${v}`).join(",");
  return `tramplab torture --seed ${r.plan.seed} --iteration ${r.plan.iteration}${pins ? ` --config ${pins}` : ""} --verbose`;
}
