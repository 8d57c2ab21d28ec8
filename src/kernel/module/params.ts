// Module parameters: the insmod command line ("FILE.ko name=value ..."), and each value parsed
// as its module_param type says (kernel/params.c: kstrtoint and friends with base 0, kstrtobool,
// charp copied into kernel memory). A value that does not parse makes the load fail with -EINVAL.
import { PARAM_TYPE_INT, PARAM_TYPE_UINT, PARAM_TYPE_ULONG, PARAM_TYPE_BOOL, PARAM_TYPE_CHARP } from "../../gen/constants.js";

/** Longest insmod line, and longest single value (a charp is copied whole). */
export const INSMOD_LINE_MAX = 4096;
export const PARAM_VALUE_MAX = 1024;

export class ParamError extends Error {}

/** An insmod command line split like a shell would: the file, then NAME[=VALUE] words. */
export function parseInsmodLine(line: string): { file: string; args: { name: string; value?: string }[] } {
  if (line.length > INSMOD_LINE_MAX) throw new ParamError(`insmod line longer than ${INSMOD_LINE_MAX} characters`);
  const words: string[] = [];
  let cur = "", inWord = false, quote = "";
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = "";
      else cur += c;
    } else if (c === "'" || c === "\"") { quote = c; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) words.push(cur); cur = ""; inWord = false; }
    else { cur += c; inWord = true; }
  }
  if (quote) throw new ParamError(`unterminated ${quote} in insmod line`);
  if (inWord) words.push(cur);
  const [file, ...rest] = words;
  if (!file) throw new ParamError("insmod needs a module file");
  const args = rest.map((w) => {
    const eq = w.indexOf("=");
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ParamError(`bad parameter name "${name}"`);
    const value = eq < 0 ? undefined : w.slice(eq + 1);
    if (value !== undefined && value.length > PARAM_VALUE_MAX) throw new ParamError(`value of ${name} longer than ${PARAM_VALUE_MAX}`);
    return { name, value };
  });
  return { file, args };
}

/** kstrtoull with base 0: 0x hex, leading 0 octal, else decimal; an optional trailing newline. */
function parseUnsigned(s: string): bigint | undefined {
  const t = s.endsWith("\n") ? s.slice(0, -1) : s;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]*$/.test(t)) return BigInt("0o" + (t.slice(1) || "0"));
  if (/^[1-9][0-9]*$/.test(t)) return BigInt(t);
  return undefined;
}

function parseSigned(s: string): bigint | undefined {
  if (s.startsWith("-")) {
    const v = parseUnsigned(s.slice(1));
    return v === undefined ? undefined : -v;
  }
  return parseUnsigned(s.startsWith("+") ? s.slice(1) : s);
}

const RANGES: Record<number, [bigint, bigint, number]> = {
  [PARAM_TYPE_INT]: [-(1n << 31n), (1n << 31n) - 1n, 4],
  [PARAM_TYPE_UINT]: [0n, (1n << 32n) - 1n, 4],
  [PARAM_TYPE_ULONG]: [0n, (1n << 64n) - 1n, 8],
};

/** What a parameter's variable receives: bytes, or a string to copy (charp). undefined: invalid. */
export function paramBytes(type: number, value: string | undefined): Uint8Array | { string: string } | undefined {
  if (type === PARAM_TYPE_BOOL) {
    if (value === undefined) return Uint8Array.of(1); // a bare NAME sets a bool
    const v = value.toLowerCase();
    if (["y", "1", "on"].includes(v)) return Uint8Array.of(1);
    if (["n", "0", "off"].includes(v)) return Uint8Array.of(0);
    return undefined;
  }
  if (value === undefined) return undefined;
  if (type === PARAM_TYPE_CHARP) return { string: value };
  const range = RANGES[type];
  if (!range) return undefined;
  const v = type === PARAM_TYPE_INT ? parseSigned(value) : parseUnsigned(value);
  if (v === undefined || v < range[0] || v > range[1]) return undefined;
  const out = new Uint8Array(range[2]);
  if (range[2] === 4) new DataView(out.buffer).setUint32(0, Number(BigInt.asUintN(32, v)), true);
  else new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

export const PARAM_TYPE_NAMES: Record<number, string> = {
  [PARAM_TYPE_INT]: "int", [PARAM_TYPE_UINT]: "uint", [PARAM_TYPE_ULONG]: "ulong", [PARAM_TYPE_BOOL]: "bool",
  [PARAM_TYPE_CHARP]: "charp",
};
