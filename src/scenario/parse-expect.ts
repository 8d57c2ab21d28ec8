// Reading expectations: `- kind` for the yes/no ones, `- kind: { ... }` for the rest. Each kind's
// reader is in expectations.ts.
import { kindOf, type StepContext } from "./context.js";
import { EXPECTATIONS, type ExpectationKind, type KindSpec } from "./expectations.js";
import { expectArg, type Item } from "./expect-read.js";
import type { Expectation } from "./types.js";

export { parseBytes } from "./expect-read.js";

export const EXPECTATION_KINDS = Object.keys(EXPECTATIONS) as ExpectationKind[];

export function readExpectation(x: StepContext, item: Item): Expectation | undefined {
  const k = kindOf(x.r, item, "expectation", EXPECTATION_KINDS);
  if (!k) return undefined;
  const kind = k.kind as ExpectationKind;
  const fields = (EXPECTATIONS[kind] as KindSpec<ExpectationKind>).read(expectArg(x, kind, k.arg));
  return fields && ({ at: item.at, kind, ...fields } as Expectation);
}
