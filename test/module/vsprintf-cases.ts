// Generated printf cases for test/module/vsprintf.test.ts: one to three integer, character or
// string conversions with random flags, widths, precisions and length modifiers, between bits
// of literal text, written as C calls for the native harness (vsprintf-harness.c).
import { mix64, splitmixStep } from "../../src/machine/random.js";

/** One conversion, kept in parts so that the rules below can read it. */
export interface Conversion {
  flags: string;
  /** "", digits, or "*" (then widthArg). */
  width: string;
  widthArg: number;
  /** "", ".", "." and digits, or ".*" (then precisionArg). */
  precision: string;
  precisionArg: number;
  /** "", "hh", "h", "l", "ll", "L", "z", "t". */
  length: string;
  /** d i u o x X c s */
  conv: string;
  /** An integer, a character code, or a string. */
  value: bigint | number | string;
}

export interface GeneratedCase {
  size: number;
  format: string;
  /** The C expressions of the arguments, in order. */
  args: string[];
  conversions: Conversion[];
}

export const INTEGER_CONVERSIONS = ["d", "i", "u", "o", "x", "X"];
export const LENGTHS = ["", "hh", "h", "l", "ll", "L", "z", "t"];
export const FLAGS = ["-", "+", " ", "#", "0"];
/** Sizes of the output buffer; 256 holds every output whole. */
export const SIZES = [0, 1, 2, 3, 4, 5, 8, 11, 16, 24, 40, 256];

const INT32 = [0n, 1n, -1n, 7n, -7n, 9n, 10n, 42n, 100n, 255n, 256n, -128n, -129n, 32767n, -32768n, 65535n, 65536n,
  2147483647n, -2147483648n, 1234567890n, -1000000n];
const INT64 = [...INT32, 9223372036854775807n, -9223372036854775808n, 4294967295n, 4294967296n, -4294967297n,
  0x123456789abcdef0n, 1000000000000000000n];
const CHARS = [65, 97, 48, 32, 0, 255, 127, 10, 37, 126];
const STRINGS = ["", "a", "hello", "kernel text", "with \"quotes\" and \\ backslash", "tab\there",
  "0123456789abcdefghijklmnopqrstuvwxyz", "caf\u00e9 \u00ff"];
const LITERALS = ["", "", "a", "x=", " [", "] ", "hello, ", "%%", "\n"];

/** SplitMix64 draws (the project's seeded generator), so the cases are the same on every run. */
class Draw {
  constructor(private state: bigint) {}
  next(): bigint {
    this.state = splitmixStep(this.state);
    return mix64(this.state);
  }
  below(n: number): number {
    return Number(this.next() % BigInt(n));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
  chance(percent: number): boolean {
    return this.below(100) < percent;
  }
}

function bitsOf(length: string): number {
  return ["l", "ll", "L", "z", "t"].includes(length) ? 64 : 32;
}

/** The value the conversion prints: the argument cut to the length modifier's width. */
function printedInteger(c: Conversion): bigint {
  const bits = { hh: 8, h: 16 }[c.length] ?? bitsOf(c.length);
  return BigInt.asUintN(bits, c.value as bigint);
}

/** The precision C reads (undefined: none); the kernel reads "." alone and negative "*" as noted in vsprintf.c. */
function cPrecision(c: Conversion): number | undefined {
  if (c.precision === "") return undefined;
  if (c.precision === ".") return 0;
  if (c.precision === ".*") return c.precisionArg < 0 ? undefined : c.precisionArg;
  return Number(c.precision.slice(1));
}

/**
 * True where the kernel prints differently from C by design (the list in firmware/vsprintf.c's
 * header); the test checks those forms against the kernel's own strings instead.
 */
export function kernelDiffersFromC(c: Conversion): boolean {
  if (INTEGER_CONVERSIONS.includes(c.conv)) {
    const zero = printedInteger(c) === 0n;
    return (c.flags.includes("0") && !c.flags.includes("-") && c.precision !== "") || // zeros beside a precision
      (zero && cPrecision(c) === 0) || // at least one digit
      (zero && c.flags.includes("#") && "xX".includes(c.conv)) || // "0x0"
      (c.flags.includes("#") && c.conv === "o" && c.precision !== ""); // "0" ahead of the precision's zeros
  }
  return c.flags.includes("0") || // %c and %s pad with spaces only
    (c.conv === "s" && (c.precision === "." || (c.precision === ".*" && c.precisionArg < 0)));
}

/** A C string literal; octal escapes cannot run into the next character as hex ones can. */
export function cString(s: string): string {
  let out = "\"";
  for (const ch of Buffer.from(s, "latin1")) {
    const printable = ch >= 0x20 && ch < 0x7f && ch !== 0x22 && ch !== 0x5c && ch !== 0x3f;
    out += printable ? String.fromCharCode(ch) : `\\${ch.toString(8).padStart(3, "0")}`;
  }
  return `${out}"`;
}

function cType(length: string, signed: boolean): string {
  const base = bitsOf(length) === 32 ? "int" : ["ll", "L"].includes(length) ? "long long" : "long";
  return signed ? base : `unsigned ${base}`;
}

/** The argument as a C expression of the type the conversion reads. */
function cArgument(c: Conversion): string {
  if (c.conv === "c") return `(int)${c.value}`;
  if (c.conv === "s") return cString(c.value as string);
  const signed = "di".includes(c.conv), bits = bitsOf(c.length), type = cType(c.length, signed);
  const suffix = bits === 64 ? "LL" : "";
  const v = signed ? BigInt.asIntN(bits, c.value as bigint) : BigInt.asUintN(bits, c.value as bigint);
  // The most negative value has no literal of its own: -(MAX) - 1.
  if (v === -(1n << BigInt(bits - 1))) return `(${type})(-${(1n << BigInt(bits - 1)) - 1n}${suffix} - 1)`;
  return `(${type})(${v}${signed ? suffix : `U${suffix}`})`;
}

function drawConversion(d: Draw): Conversion {
  const conv = d.pick([...INTEGER_CONVERSIONS, ...INTEGER_CONVERSIONS, "c", "s"]);
  const integer = INTEGER_CONVERSIONS.includes(conv);
  let flags = "";
  for (let n = d.below(4); n > 0; n--) flags += d.pick(FLAGS);
  const width = d.pick(["", "", String(1 + d.below(25)), "*"]);
  const precision = d.pick(["", "", ".", `.${d.below(25)}`, ".0", ".*"]);
  const length = integer ? d.pick(LENGTHS) : "";
  const value = conv === "c" ? d.pick(CHARS) : conv === "s" ? d.pick(STRINGS)
    : d.chance(70) ? d.pick(bitsOf(length) === 64 ? INT64 : INT32) : BigInt.asIntN(bitsOf(length), d.next());
  return { flags, width, widthArg: d.below(41) - 20, precision, precisionArg: d.below(24) - 3, length, conv, value };
}

/** `count` cases from `seed`, none of them a form where the kernel and C differ by design. */
export function generateCases(seed: bigint, count: number): GeneratedCase[] {
  const d = new Draw(seed), cases: GeneratedCase[] = [];
  while (cases.length < count) {
    let format = d.pick(LITERALS);
    const args: string[] = [], conversions: Conversion[] = [];
    for (let n = 1 + d.below(3); n > 0; n--) {
      let c = drawConversion(d);
      while (kernelDiffersFromC(c)) c = drawConversion(d);
      format += `%${c.flags}${c.width}${c.precision}${c.length}${c.conv}${d.pick(LITERALS)}`;
      if (c.width === "*") args.push(`${c.widthArg}`);
      if (c.precision === ".*") args.push(`${c.precisionArg}`);
      args.push(cArgument(c));
      conversions.push(c);
    }
    const size = d.chance(40) ? 256 : d.pick(SIZES);
    cases.push({ size, format, args, conversions });
  }
  return cases;
}
