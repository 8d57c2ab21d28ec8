// echo, printf and output: text the user composes, with C's escapes and printf's conversions.
// Each command's output ends its line (the front end prints whole lines), where gdb's echo,
// printf and output print exactly what they are given: `echo a` and `echo a\n` both print "a".
import { DebugError, type Engine } from "./engine.js";

/** Bounds of a printf: arguments, a field's width or precision, a %s string. */
export const PRINTF_LIMITS = { args: 32, width: 1000, string: 4096 } as const;

const SIMPLE: Record<string, string> = {
  n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", e: "\x1b", "\\": "\\", '"': '"', "'": "'",
};

/** C's escapes in `text` (\n \t \\ \" \ooo \xHH...); `end` stops at an unescaped '"' (a string literal). */
export function unescape(text: string, end = false): { value: string; used: number } {
  let out = "";
  let i = 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (end && ch === '"') return { value: out, used: i + 1 };
    if (ch !== "\\") { out += ch; continue; }
    const n = text[++i];
    if (n === undefined) break; // a backslash ending the line is dropped, as gdb's echo does
    const oct = /^[0-7]{1,3}/.exec(text.slice(i));
    const hx = /^x([0-9a-fA-F]{1,2})/.exec(text.slice(i));
    if (oct) { out += String.fromCharCode(parseInt(oct[0], 8) & 0xff); i += oct[0].length - 1; }
    else if (hx) { out += String.fromCharCode(parseInt(hx[1], 16)); i += hx[0].length - 1; }
    else if (n in SIMPLE) out += SIMPLE[n];
    else out += n;
  }
  if (end) throw new DebugError("Bad format string, missing '\"'");
  return { value: out, used: i };
}

/** echo TEXT: the text with its escapes; one trailing newline is the line's own end. */
export function echo(text: string): string {
  return unescape(text).value.replace(/\n$/, "");
}

/** Splits "a, f(b, c), d" at the commas outside parentheses and brackets. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 0) { out.push(text.slice(start, i)); start = i + 1; }
  }
  out.push(text.slice(start));
  return out.map((a) => a.trim());
}

const CONVERSION = /^%([-+ 0#]*)(\d*)(?:\.(\d*))?(hh|h|ll|l|z|j|t)?([diuxXocsp%])/;

/** printf "FMT", ARGS...: C's conversions on the values of the expressions. */
export function printf(e: Engine, arg: string, evalExpr: (expr: string) => bigint = (x) => e.eval(x)): string {
  const trimmed = arg.trimStart();
  if (!trimmed.startsWith('"')) throw new DebugError('usage: printf "FORMAT", EXPR...');
  const { value: fmt, used } = unescape(trimmed.slice(1), true);
  const rest = trimmed.slice(1 + used).trim();
  if (rest && !rest.startsWith(",")) throw new DebugError("Invalid argument syntax (a comma must follow the format string)");
  const args = rest ? splitArgs(rest.slice(1)) : [];
  if (args.length > PRINTF_LIMITS.args) throw new DebugError(`printf takes at most ${PRINTF_LIMITS.args} arguments`);
  if (args.some((a) => a === "")) throw new DebugError("printf: an argument is empty");
  const values = args.map((a) => evalExpr(a)); // every argument is evaluated before anything is printed
  let out = "", next = 0;
  for (let i = 0; i < fmt.length;) {
    if (fmt[i] !== "%") { out += fmt[i++]; continue; }
    const m = CONVERSION.exec(fmt.slice(i));
    if (!m) throw new DebugError(`Bad format string: unsupported conversion at "${fmt.slice(i, i + 6)}"`);
    i += m[0].length;
    if (m[5] === "%") { out += "%"; continue; }
    if (next >= values.length) throw new DebugError("Bad format string, missing arguments");
    out += convert(e, m, values[next++]);
  }
  if (next < values.length) throw new DebugError("Wrong number of arguments for specified format-string");
  return out.replace(/\n$/, "");
}

function convert(e: Engine, m: RegExpExecArray, v: bigint): string {
  const [, flags, w, p, len, conv] = m;
  const width = Number(w || 0), prec = p === undefined ? undefined : Number(p || 0);
  if (width > PRINTF_LIMITS.width || (prec ?? 0) > PRINTF_LIMITS.width) {
    throw new DebugError(`printf: a width or precision is at most ${PRINTF_LIMITS.width}`);
  }
  // C's sizes on x86-64: int 4 bytes, short 2, char 1, long and long long 8.
  const bits = len === "hh" ? 8 : len === "h" ? 16 : len === undefined ? 32 : 64;
  let body: string, sign = "";
  switch (conv) {
    case "d": case "i": {
      const s = BigInt.asIntN(bits, v);
      body = (s < 0n ? -s : s).toString();
      sign = s < 0n ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
      break;
    }
    case "u": body = BigInt.asUintN(bits, v).toString(); break;
    case "x": case "X": case "o": {
      const u = BigInt.asUintN(bits, v);
      body = u.toString(conv === "o" ? 8 : 16);
      if (conv === "X") body = body.toUpperCase();
      if (flags.includes("#") && u !== 0n) sign = conv === "o" ? "0" : conv === "x" ? "0x" : "0X";
      break;
    }
    case "p": body = v.toString(16); sign = "0x"; break;
    case "c": return pad(String.fromCharCode(Number(v & 0xffn)), width, flags);
    default: return pad(cString(e, v, prec), width, flags); // s
  }
  if (prec !== undefined) body = body.padStart(prec, "0");
  if (flags.includes("0") && !flags.includes("-") && prec === undefined) body = body.padStart(width - sign.length, "0");
  return pad(sign + body, width, flags);
}

function pad(s: string, width: number, flags: string): string {
  return flags.includes("-") ? s.padEnd(width) : s.padStart(width);
}

/** The NUL-terminated string at `addr` as the vCPU can read it (at most `prec` or 4096 bytes). */
function cString(e: Engine, addr: bigint, prec?: number): string {
  const max = Math.min(prec ?? PRINTF_LIMITS.string, PRINTF_LIMITS.string);
  let s = "";
  for (let i = 0; i < max; i++) {
    const b = e.readAs(addr + BigInt(i), 1);
    if (!b) throw new DebugError(`cannot access memory at address 0x${(addr + BigInt(i)).toString(16)}`);
    if (b[0] === 0) break;
    s += String.fromCharCode(b[0]);
  }
  return s;
}
