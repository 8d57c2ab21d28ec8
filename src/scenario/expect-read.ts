// Reading one expectation's argument: the readers every kind's `read` uses (each reports a bad
// value and returns undefined), and the counts of the run an expectation may compare with.
import { isScalar, type Node } from "yaml";
import { suggest, type Field, type Reader } from "./schema.js";
import type { CountRef, Pos, Range } from "./types.js";
import type { StepContext } from "./context.js";
import { parseInteger, parseSmallInt, rangeText, U64_MAX } from "../numbers.js";

export type Item = { value: Node | null; at: Pos };

/** The largest index of a u64 firmware global array an expectation may read. */
export const MAX_GLOBAL_INDEX = 1 << 20;

/** "nop" (the 5-byte NOP) or 5 hex bytes separated by spaces or colons. */
export function parseBytes(text: string): Uint8Array | undefined {
  if (text.trim() === "nop") return Uint8Array.of(0x0f, 0x1f, 0x44, 0x00, 0x00);
  const hex = text.trim().split(/[\s:]+/);
  if (hex.length !== 5 || !hex.every((h) => /^[0-9a-fA-F]{2}$/.test(h))) return undefined;
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}

const COUNT_REF = /^(?:calls of ([\w-]+)|global ([A-Za-z_]\w*)(?:\[(\d+)\])?)(?:\s*\/\s*(\d+))?$/;

/** A count: an integer, or a count of the run ("calls of OPS", "global SYMBOL[i]", each optionally "/ N"). */
function countOrRef(x: StepContext, f: Field | Item, what: string): bigint | CountRef | undefined {
  const { r } = x;
  const v = f.value && isScalar(f.value) ? f.value.value : undefined;
  if (typeof v !== "string" || /^[0-9]/.test(v)) return r.count(f, what);
  const m = COUNT_REF.exec(v.trim().replace(/\s+/g, " "));
  if (!m) return r.fail(f.at, `${what} must be a count, or "calls of OPS" or "global SYMBOL", optionally followed by "/ N", got "${v}"`);
  const per = m[4] === undefined ? 1n : parseInteger(m[4], 0n, U64_MAX);
  if (per === undefined) return r.fail(f.at, `${what}: "/ N" needs N from 1 to ${U64_MAX}, got ${m[4]}`);
  if (per === 0n) return r.fail(f.at, `${what}: "/ 0" divides by zero`);
  const index = m[3] === undefined ? 0 : parseSmallInt(m[3], 0, MAX_GLOBAL_INDEX);
  if (index === undefined) {
    return r.fail(f.at, `${what}: the index of global ${m[2]} must be ${rangeText(0, MAX_GLOBAL_INDEX)}, got ${m[3]}`);
  }
  if (m[1] !== undefined && !x.ops.has(m[1])) return r.fail(f.at, `${what}: no ops "${m[1]}" is declared${suggest(m[1], [...x.ops])}`);
  const of: CountRef["of"] = m[1] !== undefined ? { kind: "calls", ops: m[1] } : { kind: "global", symbol: m[2], index };
  return { text: v.trim(), of, per, at: f.at };
}

/** The argument of one expectation (`- kind: ARG`), and readers for it. */
export interface ExpectArg {
  x: StepContext;
  r: Reader;
  kind: string;
  arg: Field;
  /** Nothing, for the yes/no kinds: true, or reported. */
  bare(): true | undefined;
  /** The map argument with `keys`; kinds that may be bare accept a missing argument. */
  map(keys: string[], required?: string[], bare?: boolean): Map<string, Field> | undefined;
  /** A count or range of counts, each bound an integer or a count of the run. */
  count(f: Field | undefined, what: string): Range | undefined;
  /** A duration or range of durations. */
  time(f: Field | undefined, what: string): Range | undefined;
  flag(m: Map<string, Field>, key: string): boolean | undefined;
  str(m: Map<string, Field>, key: string): string | undefined;
  list(m: Map<string, Field>, key: string): string[] | undefined;
  /** trace.lines: regular expressions, each to match some line of the trace file. */
  regexps(m: Map<string, Field>): RegExp[];
}

export function expectArg(x: StepContext, kind: string, arg: Field): ExpectArg {
  const { r } = x;
  const empty = arg.value === null || (isScalar(arg.value) && arg.value.value === null);
  const list = (m: Map<string, Field>, key: string) => (m.has(key) ? r.strings(m.get(key)!, `${kind}.${key}`) : undefined);
  return {
    x, r, kind, arg,
    bare: () => (empty ? true : r.fail(arg.at, `${kind} takes no argument`)),
    map: (keys, required = [], bare = false) => {
      if (bare && empty) return new Map<string, Field>();
      if (empty) return r.fail(arg.at, `${kind} needs ${required.length ? required.join(" and ") : "an argument"}`);
      return r.fields(arg.value, arg.at, kind, keys, required);
    },
    count: (f, what) => (f ? r.range(f, what, (g, w) => countOrRef(x, g, w)) : undefined),
    time: (f, what) => (f ? r.range(f, what, (g, w) => r.duration(g, w, x.jiffy)) : undefined),
    flag: (m, key) => (m.has(key) ? r.bool(m.get(key)!, `${kind}.${key}`) : undefined),
    str: (m, key) => (m.has(key) ? r.str(m.get(key)!, `${kind}.${key}`) : undefined),
    list,
    regexps: (m) => {
      const out: RegExp[] = [];
      for (const [i, src] of (list(m, "lines") ?? []).entries()) {
        try { out.push(new RegExp(src)); } catch (e) { r.fail(m.get("lines")!.at, `trace.lines[${i}]: ${(e as Error).message}`); }
      }
      return out;
    },
  };
}
