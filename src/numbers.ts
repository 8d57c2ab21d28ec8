// The numbers people type: command-line options, scenario file values, torture --config pins
// and the debugger's counts. There is one parser per kind of number (an integer in a range, a
// seed, a duration), so every place accepts the same spellings and refuses the same garbage.
// docs/numbers.md lists every number and its range.
//
// The parsers work on the text as typed and compare as BigInt: nothing is rounded past 2^53,
// nothing wraps, and a value outside the range is refused, never clamped. They return
// undefined for text that is not a number of the kind, or is out of range; each caller words
// its own one-line error (rangeText() and the *_RULE strings give the common part).

/** 2^64 - 1, the largest unsigned 64-bit value. */
export const U64_MAX = (1n << 64n) - 1n;

/** A plain decimal integer: ASCII digits only (no sign, space, exponent, fraction, 0x or _). */
const DECIMAL = /^[0-9]+$/;

/** Text of a value for messages: ranges are printed the way they are typed. */
function show(v: bigint | number): string {
  return BigInt(v).toString();
}

/**
 * A typed value as an error message shows it: as typed, or quoted with escapes when it is
 * empty or has spaces or control characters (" 5", "5\n6"), so the message stays one line and
 * shows what was wrong; "nothing" when the value is missing.
 */
export function shown(v: string | undefined): string {
  if (v === undefined) return "nothing";
  return v === "" || /[\s\x00-\x1f\x7f"]/.test(v) ? JSON.stringify(v) : v;
}

/** "an integer from 1 to 64", the common part of every range message. */
export function rangeText(min: bigint | number, max: bigint | number): string {
  return `an integer from ${show(min)} to ${show(max)}`;
}

/**
 * The value of `digits` (valid digits of `base`, checked by the caller) when it is at most
 * `max`, else undefined. Never parses more digits than max has, so a megabyte of digits costs
 * nothing; leading zeros do not count.
 */
export function digitsValue(digits: string, base: 2 | 8 | 10 | 16, max: bigint): bigint | undefined {
  const significant = digits.replace(/^0+(?=.)/, "");
  if (significant.length > max.toString(base).length) return undefined;
  const prefix = { 2: "0b", 8: "0o", 10: "", 16: "0x" }[base];
  const v = BigInt(prefix + significant);
  return v <= max ? v : undefined;
}

/**
 * A decimal integer from min to max, as a bigint: digits only (leading zeros allowed, read as
 * decimal). Undefined for anything else: "", " 5", "5abc", "-0", "+1", "1e3", "0x10", "1_000",
 * or a value outside [min, max].
 */
export function parseInteger(text: string | undefined, min: bigint | number, max: bigint | number): bigint | undefined {
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const v = digitsValue(text, 10, BigInt(max));
  return v !== undefined && v >= BigInt(min) && v <= BigInt(max) ? v : undefined;
}

/** parseInteger for ranges that fit a JavaScript number exactly (max at most 2^53 - 1). */
export function parseSmallInt(text: string | undefined, min: number, max: number): number | undefined {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
    throw new RangeError(`parseSmallInt: ${min}..${max} is not a safe integer range`);
  }
  const v = parseInteger(text, min, max);
  return v === undefined ? undefined : Number(v);
}

/**
 * The seed rule, the same for every command and for scenario files: an unsigned 64-bit
 * integer, written in decimal or in hex with 0x. Every bit counts (no two seeds are the same
 * seed), and seeds are printed in a spelling this parser reads back to the same value.
 */
export const SEED_RULE = `${rangeText(0, U64_MAX)} (decimal, or hex with 0x)`;

/** A seed (SEED_RULE): "42", "0x2a", "18446744073709551615"; undefined for anything else. */
export function parseSeed(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const hex = /^0[xX]([0-9a-fA-F]+)$/.exec(text);
  if (hex) return digitsValue(hex[1], 16, U64_MAX);
  return parseInteger(text, 0n, U64_MAX);
}

/** Checks a seed given through the library (a number or a bigint) and returns it as a bigint. */
export function seedValue(seed: number | bigint): bigint {
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be ${SEED_RULE}, got ${seed} (pass a bigint above 2^53)`);
  }
  const v = BigInt(seed);
  if (v < 0n || v > U64_MAX) throw new RangeError(`seed must be ${SEED_RULE}, got ${v}`);
  return v;
}

/**
 * The longest duration anyone can ask for: 1,000,000 s of virtual time (11.6 days; about a
 * year of host time at the core's speed). Durations stay far from where the machine's 64-bit
 * clocks would wrap, and convert to a JavaScript number exactly.
 */
export const MAX_DURATION = 1_000_000_000_000_000n;

const UNIT_NS = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n } as const;

/** How durations are written, for messages. */
export const DURATION_RULE = `a duration like 50ms, 200us, 1s or a plain number of ns, at most ${MAX_DURATION / UNIT_NS.s}s`;

/** Why readDuration refused a text: it is not a duration, or a longer one than the caller takes. */
export type DurationProblem = "malformed" | "too long";

/**
 * Virtual time in ns: digits, then optionally one space and a unit (ns, us, ms, s; with
 * `jiffy` given, also jiffy or jiffies: timer periods of that many ns), at most `max` (at most
 * MAX_DURATION, the default). "5.5ms", "1e3", " 5ms", "-1" and "5 minutes" are malformed; a
 * well-formed duration over `max` is too long. Each caller words its own message for each.
 */
export function readDuration(text: string | undefined, limits: { jiffy?: number; max?: bigint } = {}): bigint | DurationProblem {
  const m = text === undefined ? null : /^([0-9]+)(?: ?(ns|us|ms|s|jiffy|jiffies))?$/.exec(text);
  if (!m) return "malformed";
  const unit = m[2] ?? "ns";
  const scale = unit.startsWith("jiff")
    ? (limits.jiffy === undefined ? undefined : BigInt(limits.jiffy))
    : UNIT_NS[unit as keyof typeof UNIT_NS];
  if (scale === undefined) return "malformed";
  const max = limits.max !== undefined && limits.max < MAX_DURATION ? limits.max : MAX_DURATION;
  const n = parseInteger(m[1], 0n, max / scale);
  return n === undefined ? "too long" : n * scale;
}

/** readDuration with no limit but MAX_DURATION: the duration, or undefined for anything else. */
export function parseDuration(text: string | undefined, jiffy?: number): bigint | undefined {
  const d = readDuration(text, { jiffy });
  return typeof d === "bigint" ? d : undefined;
}
