// `set`: the user changes a register or guest memory. Memory goes through the machine's host
// write path (writeGuest, then the core's hostWrite), so decoded blocks of changed code are
// dropped and a write to text is logged like any other host write. Either change starts a new
// timeline (Engine.changed): the recorded future no longer happens.
import { writeGuest, rightsOf, describeAccessFault, USER_ACCESS, SUPERVISOR_ACCESS } from "../machine/paging.js";
import { REG_NAMES } from "../machine/registers.js";
import { DebugError, registerValue, type Engine } from "./engine.js";
import { addrText, hex } from "./format.js";

const SIZES = { u8: 1, u16: 2, u32: 4, u64: 8 } as const;
type SizeName = keyof typeof SIZES;

const USAGE = "usage: set $REG = EXPR | set {u8|u16|u32|u64}ADDR = EXPR | set var *(u64*)ADDR = EXPR";

/** Splits "LHS = RHS" at the assignment (not at ==, <=, >= or !=). */
function assignment(arg: string): [string, string] {
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] !== "=" || arg[i + 1] === "=" || "=<>!".includes(arg[i - 1] ?? "")) continue;
    const lhs = arg.slice(0, i).trim(), rhs = arg.slice(i + 1).trim();
    if (lhs && rhs) return [lhs, rhs];
    break;
  }
  throw new DebugError(USAGE);
}

export function setCommand(e: Engine, arg: string): string {
  const [lhs, rhs] = assignment(arg.replace(/^var\s+/, ""));
  if (lhs.startsWith("$")) return setRegister(e, lhs.slice(1).toLowerCase(), rhs);
  // gdb's two spellings of a sized store: {u64}ADDR and *(u64*)ADDR (also with `set var`).
  const m = /^\{(\w+)\}\s*(.+)$/.exec(lhs) ?? /^\*\s*\(\s*(\w+)\s*\*\s*\)\s*(.+)$/.exec(lhs);
  if (!m) throw new DebugError(USAGE);
  if (!(m[1] in SIZES)) throw new DebugError(`unknown type "${m[1]}" (u8, u16, u32 or u64)`);
  return setMemory(e, SIZES[m[1] as SizeName], m[1], e.eval(m[2]), e.eval(rhs));
}

function setRegister(e: Engine, name: string, expr: string): string {
  const c = e.current;
  if (registerValue(c, name) === undefined) throw new DebugError(`no register $${name}`);
  const v = BigInt.asUintN(64, e.eval(expr));
  const i = REG_NAMES.indexOf(name as (typeof REG_NAMES)[number]);
  if (i >= 0) c.setReg(i, v);
  else if (name === "rip" || name === "pc") c.rip = v;
  else if (name === "eflags" || name === "rflags") c.rflags = (v & 0x3f7fd7n) | 2n;
  else throw new DebugError(`$${name} cannot be set here (general registers, $rip and $eflags can)`);
  e.changed();
  return `$${name} = ${hex(v)}`;
}

/** Stores `value` (truncated to `size` bytes, as C's assignment does) at `addr`, little-endian. */
function setMemory(e: Engine, size: number, type: string, addr: bigint, value: bigint): string {
  const v = BigInt.asUintN(size * 8, value);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  const c = e.current;
  const cr3 = Number(c.get("cr3") & ~0xfffn);
  // In user mode the vCPU's own rights apply (user pages, writable ones); in kernel mode any
  // present page, text included, as a supervisor write with CR0.WP clear.
  const rights = rightsOf(c).user ? USER_ACCESS : SUPERVISOR_ACCESS;
  // writeGuest checks every page before it writes any byte: a refused one changes nothing.
  const f = writeGuest(e.machine, cr3, BigInt.asUintN(64, addr), bytes, rights);
  if (f) {
    const why = f.reason === "not present" ? "" : f.reason === "supervisor-only" ? `: a kernel page, and cpu${e.cpu} is in user mode`
      : f.reason === "read-only" ? `: a read-only page, and cpu${e.cpu} is in user mode`
        : f.reason === "non-canonical" ? ": a non-canonical address" : `: ${describeAccessFault(f)}`;
    throw new DebugError(`cannot access memory at address ${hex(addr)}${why}`);
  }
  e.changed();
  return `{${type}} ${addrText(e.symbols, addr)} = ${hex(v)}`;
}
