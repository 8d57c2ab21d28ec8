// jcc, jmp, call, ret, jrcxz, loop, and the flag instructions clc stc cmc cld std.
//
// Near branches have two sizes. s == 3 is the 64-bit form every Intel part runs; s == 1 is
// what an AMD part makes of a 66 prefix: the target is truncated to 16 bits and call/ret move
// a 2-byte return address (the decoder decides, by the machine's vendor profile).
import { FAULTED } from "../fault";
import { testCC, getCF, setSomeFlags, CF, DF } from "../flags";
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- RIP is only assigned here: the assignment is the point
import { RIP, REG_RCX, REG_RSP, reg64, setReg64, setReg, nextRip } from "../state";
import { PFX_ASZ } from "../gen/constants";
import { imm, sub, pfx, loadE } from "../operand";
import { push, pop } from "./stack";

/** A near branch target at operand size s. */
@inline function near(t: u64, s: u32): u64 {
  return s == 1 ? t & 0xFFFF : t;
}

@inline export function jcc(e: usize, s: u32): void {
  if (testCC(sub(e))) RIP = near(nextRip(e) + imm(e), s);
}

@inline export function jmpJ(e: usize, s: u32): void {
  RIP = near(nextRip(e) + imm(e), s);
}

@inline export function jmpE(e: usize, s: u32): void {
  const t = loadE(e, s);
  if (FAULTED) return;
  RIP = t;
}

@inline export function callJ(e: usize, s: u32): void {
  const next = nextRip(e);
  push(near(next, s), s);
  if (FAULTED) return;
  RIP = near(next + imm(e), s);
}

@inline export function callE(e: usize, s: u32): void {
  const t = loadE(e, s);
  if (FAULTED) return;
  push(near(nextRip(e), s), s);
  if (FAULTED) return;
  RIP = t;
}

@inline export function ret(e: usize, s: u32): void {
  const t = pop(s);
  if (FAULTED) return;
  RIP = t;
  const n = imm(e);
  if (n != 0) setReg64(REG_RSP, reg64(REG_RSP) + n);
}

export function jrcxz(e: usize, s: u32): void {
  const c = reg64(REG_RCX);
  if ((pfx(e) & PFX_ASZ ? c & 0xFFFF_FFFF : c) == 0) RIP = near(nextRip(e) + imm(e), s);
}

export const LOOP_ANY: u32 = 0;
export const LOOP_WHILE_EQUAL: u32 = 1;
export const LOOP_WHILE_NOT_EQUAL: u32 = 2;

/** loop / loope / loopne: count rCX down (ECX with 67) and branch while it is not zero. */
export function loopJ(e: usize, s: u32, kind: u32): void {
  const narrow = (pfx(e) & PFX_ASZ) != 0;
  const c = (narrow ? reg64(REG_RCX) & 0xFFFF_FFFF : reg64(REG_RCX)) - 1;
  if (narrow) setReg(REG_RCX, 2, c); else setReg64(REG_RCX, c);
  let taken = (narrow ? c & 0xFFFF_FFFF : c) != 0;
  if (kind == LOOP_WHILE_EQUAL) taken = taken && testCC(4);
  else if (kind == LOOP_WHILE_NOT_EQUAL) taken = taken && testCC(5);
  if (taken) RIP = near(nextRip(e) + imm(e), s);
}

export const FLAGOP_CLC: u32 = 0;
export const FLAGOP_STC: u32 = 1;
export const FLAGOP_CMC: u32 = 2;
export const FLAGOP_CLD: u32 = 3;
export const FLAGOP_STD: u32 = 4;

export function flagOp(e: usize, op: u32): void {
  switch (op) {
    case FLAGOP_CLC: setSomeFlags(CF, 0); break;
    case FLAGOP_STC: setSomeFlags(CF, CF); break;
    case FLAGOP_CMC: setSomeFlags(CF, getCF() ^ 1); break;
    case FLAGOP_CLD: setSomeFlags(DF, 0); break;
    default: setSomeFlags(DF, DF);
  }
}
