// tramplab compare-release: seed 000's alternatives for releasing a trampoline, side by side
// (src/scenario/compare-release.ts).
import { parseOptions, seedOption, UsageError, VALUE, type OptionSpec } from "./args.js";
import { ALTERNATIVES, compareRelease, formatComparison } from "../scenario/compare-release.js";

export const COMPARE_RELEASE_USAGE = `usage: tramplab compare-release [--seed S] [--only NAME,...]

  Runs the same victim (a thread calling a function traced by a slow callback) once per way of
  releasing a dynamic ops: the modelled kernel's, plain RCU, seed 000's proposals (ip-check,
  preempt-check, stack-scan, permanent trampolines) and, on a non-preemptible kernel, plain
  RCU, the kernel's rule and always Tasks RCU. Unregistered while the victim is inside, each
  reports the virtual time from unregister to free, who still held the memory then, and
  whether the victim came back into freed memory. Exit status 0 when every run was carried
  out, 1 when one was not.
  --seed S          interleave the vCPUs with seed S (0 to 2^64-1) instead of round-robin
  --only NAME,...   only these alternatives: ${ALTERNATIVES.map((a) => a.name).join(", ")}`;

const OPTIONS = { seed: VALUE, only: VALUE } satisfies OptionSpec;

export function compareReleaseCommand(args: string[]): number {
  const p = parseOptions(args, OPTIONS);
  if (p.help) { process.stdout.write(COMPARE_RELEASE_USAGE + "\n"); return 0; }
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0].slice(0, 80))}`);
  const seed = p.values.has("seed") ? seedOption("--seed", p.values.get("seed")) : undefined;
  let alts = ALTERNATIVES;
  if (p.values.has("only")) {
    const names = (p.values.get("only") ?? "").split(",");
    const bad = names.find((n) => !ALTERNATIVES.some((a) => a.name === n));
    if (bad !== undefined) {
      throw new UsageError(`--only: no alternative ${JSON.stringify(bad.slice(0, 80))} (${ALTERNATIVES.map((a) => a.name).join(", ")})`);
    }
    alts = ALTERNATIVES.filter((a) => names.includes(a.name));
  }
  const rows = compareRelease({ seed }, alts);
  process.stdout.write(formatComparison(rows) + "\n");
  return rows.some((r) => r.failure) ? 1 : 0;
}
