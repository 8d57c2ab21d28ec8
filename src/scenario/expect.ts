// Checking expectations against what the run did. A failed one says what was expected and what
// happened instead, with a diff for golden text. Each kind's check is in expectations.ts.
import type { Golden } from "./golden.js";
import { EXPECTATIONS, type ExpectationKind, type KindSpec } from "./expectations.js";
import { checkContext, type Failure } from "./expect-check.js";
import type { ScenarioRun } from "./run.js";
import type { CountRef, Expectation, Range } from "./types.js";

export { describeRange, inRange, recursionsOf, type Failure } from "./expect-check.js";

/** The value of a count of the run, or why it has none. */
function countOf(run: ScenarioRun, ref: CountRef): bigint | string {
  const k = run.kernel;
  let q: bigint;
  if (ref.of.kind === "calls") {
    const ops = run.live(ref.of.ops).ops;
    // op->calls lives in the registered ftrace_ops; unregistering hands that memory back.
    if (!ops.enabled) return `ops ${ops.name} is not registered now, so its calls cannot be read`;
    q = k.ftrace.calls(ops);
  } else q = k.readGlobal(ref.of.symbol, ref.of.index);
  if (q % ref.per !== 0n) return `${q} is not divisible by ${ref.per}`;
  return q / ref.per;
}

/** The expectation with every count of the run read now, or a failure naming the one that cannot be. */
function resolveCounts(run: ScenarioRun, e: Expectation): Expectation | Failure {
  let out: Expectation | undefined;
  for (const [key, value] of Object.entries(e)) {
    const refs = (value as Range | undefined)?.refs;
    if (!refs) continue;
    const r: Range = { ...(value as Range) };
    for (const bound of ["min", "max"] as const) {
      const ref = refs[bound];
      if (!ref) continue;
      const v = countOf(run, ref);
      if (typeof v === "string") return { at: ref.at, what: e.kind, expected: `a count for "${ref.text}"`, actual: v };
      r[bound] = v;
    }
    out = { ...(out ?? e), [key]: r } as Expectation;
  }
  return out ?? e;
}

/** Checks one expectation now; undefined when it holds. */
export function check(run: ScenarioRun, expectation: Expectation, golden: Golden): Failure | undefined {
  const e = resolveCounts(run, expectation);
  if ("what" in e) return e;
  const spec = EXPECTATIONS[e.kind as ExpectationKind] as KindSpec<ExpectationKind>;
  return spec.check(e, checkContext(run, e.at, e.kind, golden));
}
