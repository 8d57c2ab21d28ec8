// Debugger expressions, as gdb spells them for a C-less target: numbers, registers ($rax, $eax,
// $pc, $sp, $fp, $eflags, $cr3...), symbols (their address), *EXPR (the 8 bytes at EXPR),
// sized reads (*(u32*)EXPR, {u16}EXPR), casts ((u32)EXPR, (s8)EXPR), and C's arithmetic,
// bitwise, comparison and logical operators with C's precedence.
//
// The arithmetic is C's on uint64_t (docs/debugger.md, "Expressions"): every value is an
// unsigned 64-bit integer, every result is taken modulo 2^64, comparisons, / and % are
// unsigned, >> shifts in zeros. Where C leaves the result undefined the expression is an
// error instead: a shift by 64 or more, a division by zero, and a literal that does not fit
// in 64 bits. && and || do not evaluate their right side when the left decides.

import { digitsValue, U64_MAX } from "../numbers.js";

export class ExprError extends Error {}

export interface ExprContext {
  register(name: string): bigint | undefined;
  symbol(name: string): bigint | undefined;
  /** The `size` bytes (1, 2, 4 or 8) at a virtual address, little-endian, or null when it is not mapped. */
  read(addr: bigint, size: number): bigint | null;
}

type Token =
  | { t: "num"; v: bigint }
  | { t: "reg"; v: string }
  | { t: "sym"; v: string }
  | { t: "op"; v: string };

const OPS = [
  "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">", "(", ")", "{", "}", "[", "]",
];

/** The types of casts and sized reads: their size in bytes and whether they sign-extend. */
const TYPES: Record<string, { size: number; signed: boolean }> = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  s8: { size: 1, signed: true }, s16: { size: 2, signed: true }, s32: { size: 4, signed: true }, s64: { size: 8, signed: true },
};
const TYPE_NAMES = Object.keys(TYPES).join(", ");

/**
 * sizeof(TYPE): C's sizes on x86-64 (LP64) for the basic types, after signed/unsigned are
 * dropped (`unsigned` alone is an int); any pointer is 8; gdb's sizeof(void) is 1.
 */
const C_SIZES: Record<string, number> = {
  "": 4, char: 1, short: 2, "short int": 2, int: 4, long: 8, "long int": 8, "long long": 8, "long long int": 8,
  float: 4, double: 8, "long double": 16, _Bool: 1, bool: 1, void: 1,
  size_t: 8, ssize_t: 8, ptrdiff_t: 8, intptr_t: 8, uintptr_t: 8,
  int8_t: 1, uint8_t: 1, int16_t: 2, uint16_t: 2, int32_t: 4, uint32_t: 4, int64_t: 8, uint64_t: 8,
  ...Object.fromEntries(Object.entries(TYPES).map(([k, t]) => [k, t.size])),
};
const C_WORDS = new Set(["signed", "unsigned", "char", "short", "int", "long", "float", "double", "_Bool", "bool", "void"]);

/**
 * How deeply parentheses and unary operators may nest, and how many tokens an expression may
 * have: far beyond what anyone types, and well within what the recursive parser and
 * evaluator can go through without running out of stack.
 */
const MAX_DEPTH = 200;
const MAX_TOKENS = 4096;

// A number as C writes one: 0x hex, 0b binary (a GNU extension gdb reads too), 0 octal, or
// decimal, with C's optional u/l suffixes (every value is a uint64_t anyway).
const NUMBER = /^(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?(?![\w$.])/;

function literal(m: RegExpMatchArray): bigint {
  const [text, hex, bin, oct, dec] = m;
  const v = hex !== undefined ? digitsValue(hex, 16, U64_MAX)
    : bin !== undefined ? digitsValue(bin, 2, U64_MAX)
      : oct !== undefined ? digitsValue(oct, 8, U64_MAX)
        : digitsValue(dec, 10, U64_MAX);
  if (v === undefined) throw new ExprError(`number ${text} does not fit in 64 bits (the largest is 0xffffffffffffffff)`);
  return v;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) { i++; continue; }
    const rest = src.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(NUMBER))) {
      out.push({ t: "num", v: literal(m) });
    } else if ((m = rest.match(/^[0-9][\w$.]*/))) {
      const octal = /^0[0-9]+$/.test(m[0]) ? " (a leading 0 makes it octal, where 8 and 9 are not digits)" : "";
      throw new ExprError(`bad number "${m[0]}"${octal}`);
    } else if ((m = rest.match(/^\$[A-Za-z_][\w]*/))) {
      out.push({ t: "reg", v: m[0].slice(1).toLowerCase() });
    } else if ((m = rest.match(/^[A-Za-z_.][\w.$]*/))) {
      out.push({ t: "sym", v: m[0] });
    } else {
      const op = OPS.find((o) => rest.startsWith(o));
      if (!op) throw new ExprError(`unexpected "${ch}" in expression`);
      out.push({ t: "op", v: op });
      m = [op];
    }
    if (out.length > MAX_TOKENS) throw new ExprError(`expression longer than ${MAX_TOKENS} tokens`);
    i += m[0].length;
  }
  return out;
}

/** A parsed expression. It is checked completely before anything is evaluated. */
type Node =
  | { k: "num"; v: bigint }
  | { k: "reg"; name: string }
  | { k: "sym"; name: string }
  | { k: "unary"; op: string; e: Node }
  | { k: "binary"; op: string; a: Node; b: Node }
  | { k: "cast"; type: string; e: Node }
  | { k: "read"; type: string; e: Node }
  | { k: "sizeof"; v: bigint };

// Binary operators by precedence, loosest first (C's order).
const LEVELS: string[][] = [
  ["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", "<=", ">", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"],
];
const U64 = (v: bigint) => BigInt.asUintN(64, v);

/** A value of `type` as the uint64_t C converts it to: truncated, and sign-extended for s8..s64. */
function convert(type: string, v: bigint): bigint {
  const { size, signed } = TYPES[type];
  return signed ? U64(BigInt.asIntN(size * 8, v)) : BigInt.asUintN(size * 8, v);
}

function apply(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case "|": return a | b;
    case "^": return a ^ b;
    case "&": return a & b;
    case "==": return a === b ? 1n : 0n;
    case "!=": return a !== b ? 1n : 0n;
    case "<": return a < b ? 1n : 0n;
    case "<=": return a <= b ? 1n : 0n;
    case ">": return a > b ? 1n : 0n;
    case ">=": return a >= b ? 1n : 0n;
    case "<<": case ">>":
      if (b >= 64n) throw new ExprError(`shift count ${b} is not below 64 (the width of a value)`);
      return op === "<<" ? U64(a << b) : a >> b;
    case "+": return U64(a + b);
    case "-": return U64(a - b);
    case "*": return U64(a * b);
    case "/": case "%":
      if (b === 0n) throw new ExprError("division by zero");
      return op === "/" ? a / b : a % b;
  }
  throw new ExprError(`unknown operator ${op}`);
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): Node {
    if (this.toks.length === 0) throw new ExprError("empty expression");
    const v = this.binary(0);
    if (this.i < this.toks.length) throw new ExprError(`unexpected "${this.toks[this.i].v}" after the expression`);
    return v;
  }

  private peekOp(at = this.i): string | undefined {
    const t = this.toks[at];
    return t?.t === "op" ? t.v : undefined;
  }

  /** The type named at token `at`, or undefined. */
  private typeAt(at: number): string | undefined {
    const t = this.toks[at];
    return t?.t === "sym" && Object.hasOwn(TYPES, t.v) ? t.v : undefined;
  }

  private expectOp(op: string, what: string): void {
    if (this.peekOp() !== op) throw new ExprError(`missing ${op} ${what}`);
    this.i++;
  }

  private binary(level: number): Node {
    if (level === LEVELS.length) return this.unary();
    let v = this.binary(level + 1);
    for (let op = this.peekOp(); op && LEVELS[level].includes(op); op = this.peekOp()) {
      this.i++;
      v = { k: "binary", op, a: v, b: this.binary(level + 1) };
    }
    return v;
  }

  private unary(): Node {
    if (++this.depth > MAX_DEPTH) throw new ExprError(`expression nested more than ${MAX_DEPTH} deep`);
    try {
      return this.unaryOperand();
    } finally {
      this.depth--;
    }
  }

  private unaryOperand(): Node {
    const op = this.peekOp();
    // (T)EXPR: a cast; (T*)EXPR: a pointer to T, which * reads sizeof(T) bytes through.
    if (op === "(" && this.typeAt(this.i + 1)) {
      const type = this.typeAt(this.i + 1)!;
      const pointer = this.peekOp(this.i + 2) === "*";
      this.i += pointer ? 3 : 2;
      this.expectOp(")", `after the type ${type}`);
      const e = this.unary();
      return pointer ? { k: "cast", type: `${type}*`, e } : { k: "cast", type, e };
    }
    // {T}EXPR: the T at address EXPR (gdb's spelling).
    if (op === "{") {
      const type = this.typeAt(this.i + 1);
      if (!type) throw new ExprError(`{TYPE}ADDR needs one of ${TYPE_NAMES}`);
      this.i += 2;
      this.expectOp("}", `after the type ${type}`);
      return { k: "read", type, e: this.unary() };
    }
    // &LVALUE: the address of a symbol (its value already), of *EXPR or of EXPR[i].
    if (op === "&") {
      this.i++;
      const e = this.unary();
      if (e.k === "sym") return e;
      if (e.k === "read") return e.e;
      throw new ExprError("Attempt to take address of value not located in memory.");
    }
    const t = this.toks[this.i];
    if (t?.t === "sym" && t.v === "sizeof") { this.i++; return this.sizeofOperand(); }
    if (op === "-" || op === "~" || op === "!" || op === "*" || op === "+") {
      this.i++;
      const e = this.unary();
      if (op === "*") {
        // *(T*)EXPR reads a T; any other pointer reads 8 bytes.
        const type = e.k === "cast" && e.type.endsWith("*") ? e.type.slice(0, -1) : "u64";
        return { k: "read", type, e };
      }
      return { k: "unary", op, e };
    }
    return this.primary();
  }

  /** sizeof(TYPE), or sizeof EXPR: the size of what a read or index reads, else 8 (every value is a uint64_t). */
  private sizeofOperand(): Node {
    if (this.peekOp() === "(") {
      const words: string[] = [];
      let at = this.i + 1, stars = 0;
      for (let t = this.toks[at]; t?.t === "sym" && (C_WORDS.has(t.v) || Object.hasOwn(C_SIZES, t.v)); t = this.toks[++at]) {
        words.push(t.v);
      }
      while (this.peekOp(at) === "*") { stars++; at++; }
      if (words.length > 0 && this.peekOp(at) === ")") {
        const name = words.filter((w) => w !== "signed" && w !== "unsigned").join(" ");
        if (!Object.hasOwn(C_SIZES, name)) {
          throw new ExprError(`No type "${words.join(" ")}" (sizeof knows C's basic types and ${TYPE_NAMES})`);
        }
        this.i = at + 1;
        return { k: "sizeof", v: BigInt(stars > 0 ? 8 : C_SIZES[name]) };
      }
    }
    const e = this.unary();
    return { k: "sizeof", v: BigInt(e.k === "read" ? TYPES[e.type].size : 8) };
  }

  private primary(): Node {
    let v = this.primaryOnly();
    // EXPR[i]: the element at EXPR + i * size, size that of T for a (T*) cast, else 8 (a u64).
    while (this.peekOp() === "[") {
      this.i++;
      const index = this.binary(0);
      this.expectOp("]", "to close [");
      const type = v.k === "cast" && v.type.endsWith("*") ? v.type.slice(0, -1) : "u64";
      const offset: Node = { k: "binary", op: "*", a: index, b: { k: "num", v: BigInt(TYPES[type].size) } };
      v = { k: "read", type, e: { k: "binary", op: "+", a: v, b: offset } };
    }
    return v;
  }

  private primaryOnly(): Node {
    const t = this.toks[this.i++];
    if (!t) throw new ExprError("the expression ends too early");
    switch (t.t) {
      case "num": return { k: "num", v: t.v };
      case "reg": return { k: "reg", name: t.v };
      case "sym": return { k: "sym", name: t.v };
      case "op": {
        if (t.v !== "(") throw new ExprError(`unexpected "${t.v}"`);
        const v = this.binary(0);
        this.expectOp(")", "to close (");
        return v;
      }
    }
  }
}

function evalNode(n: Node, ctx: ExprContext): bigint {
  switch (n.k) {
    case "num": case "sizeof": return n.v;
    case "reg": {
      const v = ctx.register(n.name);
      if (v === undefined) throw new ExprError(`no register $${n.name}`);
      return v;
    }
    case "sym": {
      const v = ctx.symbol(n.name);
      if (v === undefined) throw new ExprError(`no symbol "${n.name}"`);
      return v;
    }
    case "unary": {
      const v = evalNode(n.e, ctx);
      if (n.op === "-") return U64(-v);
      if (n.op === "~") return U64(~v);
      if (n.op === "!") return v === 0n ? 1n : 0n;
      return v;
    }
    case "binary": {
      const a = evalNode(n.a, ctx);
      // C's && and ||: the right side is evaluated only when the left does not decide.
      if (n.op === "&&") return a !== 0n && evalNode(n.b, ctx) !== 0n ? 1n : 0n;
      if (n.op === "||") return a !== 0n || evalNode(n.b, ctx) !== 0n ? 1n : 0n;
      return apply(n.op, a, evalNode(n.b, ctx));
    }
    case "cast": {
      const v = evalNode(n.e, ctx);
      return n.type.endsWith("*") ? v : convert(n.type, v);
    }
    case "read": {
      const addr = evalNode(n.e, ctx);
      const x = ctx.read(addr, TYPES[n.type].size);
      if (x === null) throw new ExprError(`cannot access memory at address 0x${addr.toString(16)}`);
      return convert(n.type, x);
    }
  }
}

/** Parses `src` completely (a syntax error evaluates nothing), then evaluates it. */
export function evaluate(src: string, ctx: ExprContext): bigint {
  return evalNode(new Parser(tokenize(src)).parse(), ctx);
}

/**
 * Checks `src` without evaluating it: its syntax, and that its registers and symbols exist (a
 * breakpoint condition, before its first hit, when memory and values may still change).
 */
export function check(src: string, ctx: ExprContext): void {
  const visit = (n: Node): void => {
    switch (n.k) {
      case "reg": if (ctx.register(n.name) === undefined) throw new ExprError(`no register $${n.name}`); break;
      case "sym": if (ctx.symbol(n.name) === undefined) throw new ExprError(`no symbol "${n.name}"`); break;
      case "binary": visit(n.a); visit(n.b); break;
      case "unary": case "cast": case "read": visit(n.e); break;
    }
  };
  visit(new Parser(tokenize(src)).parse());
}
