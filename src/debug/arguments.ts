// The debugger's number arguments (counts, breakpoint, display and vCPU numbers): one parser,
// src/numbers.ts's, with a stated range for each and a one-line error for anything else.
import { parseSmallInt, rangeText } from "../numbers.js";
import { DebugError } from "./engine.js";

/**
 * The bounds of the commands' numbers: far above any sensible use, and low enough that a slip
 * of the keyboard cannot ask for gigabytes of output.
 */
export const LIMITS = {
  /** si N, ni N. */
  steps: 1_000_000_000,
  /** x/N: units or instructions. */
  examine: 65_536,
  /** poke log N, recursion N, ftrace trace N: lines. */
  lines: 1_000_000,
  /** Breakpoint and display numbers. */
  id: 4_294_967_295,
} as const;

/**
 * A number argument: a decimal integer from min to max (src/numbers.ts: digits only, so 1e3,
 * 0x10, -0 and 5abc are refused), or `dflt` when the argument is empty. The error reads
 * "`needs` an integer from MIN to MAX, got "ARG"": `needs` is "si takes", "a breakpoint number must be"...
 */
export function numberArg(arg: string, needs: string, min: number, max: number, dflt?: number): number {
  if (arg === "" && dflt !== undefined) return dflt;
  const n = parseSmallInt(arg, min, max);
  if (n === undefined) throw new DebugError(`${needs} ${rangeText(min, max)}, got ${arg === "" ? "nothing" : `"${arg}"`}`);
  return n;
}
