// Debugger expressions, as gdb spells them for a C-less target: numbers (0x1f, 31), registers
// ($rax, $eax, $pc, $sp, $fp, $eflags, $cr3...), symbols (their address), *EXPR (the 8-byte
// value at EXPR), and C's arithmetic, bitwise, comparison and logical operators with C's
// precedence. Values are 64-bit, wrapping as the machine's registers do.

export class ExprError extends Error {}

export interface ExprContext {
  register(name: string): bigint | undefined;
  symbol(name: string): bigint | undefined;
  /** The 8 bytes at a virtual address, or null when it is not mapped. */
  read(addr: bigint): bigint | null;
}

type Token = { t: "num"; v: bigint } | { t: "reg"; v: string } | { t: "sym"; v: string } | { t: "op"; v: string };

const OPS = ["<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">", "(", ")"];

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) { i++; continue; }
    const rest = src.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^(0x[0-9a-fA-F]+|0b[01]+|[0-9]+)(?![\w])/))) {
      out.push({ t: "num", v: BigInt(m[1]) });
    } else if ((m = rest.match(/^\$[A-Za-z_][\w]*/))) {
      out.push({ t: "reg", v: m[0].slice(1).toLowerCase() });
    } else if ((m = rest.match(/^[A-Za-z_.][\w.$]*/))) {
      out.push({ t: "sym", v: m[0] });
    } else if ((m = rest.match(/^[0-9]\w*/))) {
      throw new ExprError(`bad number "${m[0]}"`);
    } else {
      const op = OPS.find((o) => rest.startsWith(o));
      if (!op) throw new ExprError(`unexpected "${ch}" in expression`);
      out.push({ t: "op", v: op });
      m = [op];
    }
    i += m[0].length;
  }
  return out;
}

// Binary operators by precedence, loosest first (C's order).
const LEVELS: string[][] = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", "<=", ">", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];
const U64 = (v: bigint) => BigInt.asUintN(64, v);
const S64 = (v: bigint) => BigInt.asIntN(64, v);

function apply(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case "||": return a !== 0n || b !== 0n ? 1n : 0n;
    case "&&": return a !== 0n && b !== 0n ? 1n : 0n;
    case "|": return a | b;
    case "^": return a ^ b;
    case "&": return a & b;
    case "==": return a === b ? 1n : 0n;
    case "!=": return a !== b ? 1n : 0n;
    case "<": return S64(a) < S64(b) ? 1n : 0n;
    case "<=": return S64(a) <= S64(b) ? 1n : 0n;
    case ">": return S64(a) > S64(b) ? 1n : 0n;
    case ">=": return S64(a) >= S64(b) ? 1n : 0n;
    case "<<": return U64(a << (b & 63n));
    case ">>": return a >> (b & 63n);
    case "+": return U64(a + b);
    case "-": return U64(a - b);
    case "*": return U64(a * b);
    case "/": case "%": {
      if (b === 0n) throw new ExprError("division by zero");
      return U64(op === "/" ? S64(a) / S64(b) : S64(a) % S64(b));
    }
  }
  throw new ExprError(`unknown operator ${op}`);
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly ctx: ExprContext) {}

  parse(): bigint {
    if (this.toks.length === 0) throw new ExprError("empty expression");
    const v = this.binary(0);
    if (this.i < this.toks.length) throw new ExprError(`unexpected "${this.toks[this.i].v}" after the expression`);
    return v;
  }

  private peekOp(): string | undefined {
    const t = this.toks[this.i];
    return t?.t === "op" ? t.v : undefined;
  }

  private binary(level: number): bigint {
    if (level === LEVELS.length) return this.unary();
    let v = this.binary(level + 1);
    for (let op = this.peekOp(); op && LEVELS[level].includes(op); op = this.peekOp()) {
      this.i++;
      v = apply(op, v, this.binary(level + 1));
    }
    return v;
  }

  private unary(): bigint {
    const op = this.peekOp();
    if (op === "-" || op === "~" || op === "!" || op === "*" || op === "+") {
      this.i++;
      const v = this.unary();
      if (op === "-") return U64(-v);
      if (op === "~") return U64(~v);
      if (op === "!") return v === 0n ? 1n : 0n;
      if (op === "+") return v;
      const x = this.ctx.read(v);
      if (x === null) throw new ExprError(`cannot access memory at address 0x${v.toString(16)}`);
      return x;
    }
    return this.primary();
  }

  private primary(): bigint {
    const t = this.toks[this.i++];
    if (!t) throw new ExprError("the expression ends too early");
    switch (t.t) {
      case "num": return U64(t.v);
      case "reg": {
        const v = this.ctx.register(t.v);
        if (v === undefined) throw new ExprError(`no register $${t.v}`);
        return v;
      }
      case "sym": {
        const v = this.ctx.symbol(t.v);
        if (v === undefined) throw new ExprError(`no symbol "${t.v}"`);
        return v;
      }
      case "op": {
        if (t.v !== "(") throw new ExprError(`unexpected "${t.v}"`);
        const v = this.binary(0);
        if (this.peekOp() !== ")") throw new ExprError("missing )");
        this.i++;
        return v;
      }
    }
  }
}

export function evaluate(src: string, ctx: ExprContext): bigint {
  return new Parser(tokenize(src), ctx).parse();
}
