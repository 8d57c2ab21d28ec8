// The commands that show values: x (its /FMT letters, and going on where the last x ended),
// p and output. Kept apart from commands.ts, which holds the table.
import { LIMITS, numberArg } from "./arguments.js";
import { DebugError, type Engine } from "./engine.js";
import { addrText } from "./format.js";
import { examine, formatValue, type Unit } from "./views.js";

/** What these commands need of a session. */
export interface ValueHost {
  readonly engine: Engine;
  /** Values printed so far ($1, $2...). */
  values: number;
  lastLine: string;
  /** Where a bare `x` (or an empty line after x) continues, and in which format. */
  nextExamine: { addr: bigint; n: number; f: string; u: Unit } | null;
  /** An expression's value in the selected frame ($pc, $sp and $rbp are that frame's). */
  evalExpr(expr: string): bigint;
}

/**
 * /FMT of p, x and display: a count (x only), then format and size letters in either order, as
 * gdb reads them (x/4gx and x/4xg). `a` is an 8-byte address and `c` one byte unless a size is given.
 */
export function parseFormat(fmt: string, defaults: { n: number; f: string; u: Unit },
  what: "x" | "p" | "display"): { n: number; f: string; u: Unit } {
  const m = /^([0-9]*)([a-z]*)$/.exec(fmt);
  const letters = m ? [...m[2]] : [];
  const fs = letters.filter((l) => "xduotcais".includes(l)), us = letters.filter((l) => "bhwg".includes(l));
  if (!m || fs.length + us.length !== letters.length || fs.length > 1 || us.length > 1) {
    throw new DebugError(`bad format "/${fmt}" (a count, then one of x d u o t c a i s and one of b h w g, in either order)`);
  }
  if (m[1] && what !== "x") throw new DebugError(`${what}/${fmt}: a count is meaningless here (x/N takes one)`);
  const n = m[1] ? numberArg(m[1], `x/${fmt}: the count must be`, 1, LIMITS.examine) : defaults.n;
  const f = fs[0] ?? defaults.f;
  const u = (us[0] ?? (f === "a" ? "g" : f === "c" ? "b" : defaults.u)) as Unit;
  return { n, f, u };
}

/** x[/FMT] [ADDR]: without ADDR (or on an empty line after x) it goes on from where the last x ended. */
export function examineCommand(s: ValueHost, a: string): string {
  const [fmt, expr] = splitFmt(a);
  const last = s.nextExamine;
  const f = parseFormat(fmt, { n: 1, f: last?.f ?? "x", u: last?.u ?? "w" }, "x");
  if (!expr && !last) throw new DebugError("usage: x/Nfu ADDR");
  const r = examine(s.engine, expr ? s.evalExpr(expr) : last!.addr, f.n, f.f, f.u);
  s.nextExamine = { addr: r.next, ...f };
  s.lastLine = `x/${f.n}${f.f}${f.u}`; // an empty line continues from the next address, as gdb's does
  return r.text;
}

export function splitFmt(arg: string): [string, string] {
  if (!arg.startsWith("/")) return ["", arg];
  const m = /^\/(\S*)\s*(.*)$/.exec(arg)!;
  return [m[1], m[2]];
}

/** The value of p[/FMT] EXPR or output[/FMT] EXPR. */
export function valueText(s: ValueHost, arg: string, what: "p" | "output"): string {
  const [fmt, expr] = splitFmt(arg);
  const f = parseFormat(fmt, { n: 1, f: "", u: "g" }, "p");
  if (!expr) throw new DebugError(`usage: ${what}[/FMT] EXPR`);
  const v = s.evalExpr(expr);
  // Without a format, an address inside a symbol prints symbolized, anything else in decimal as
  // the uint64_t it is (p/d shows it signed).
  return f.f ? formatValue(v, f.f, 8, s.engine) : s.engine.symbols.find(v) ? addrText(s.engine.symbols, v) : v.toString();
}

export function print(s: ValueHost, arg: string): string {
  const text = valueText(s, arg, "p");
  return `$${++s.values} = ${text}`;
}
