// RFLAGS with lazy evaluation of the arithmetic flags.
//
// Arithmetic instructions do not compute CF..OF; they record what they did (CC_OP = kind and
// operand size) and their operands. A flag is computed only when something reads it: a jcc,
// setcc, cmov, adc, pushf, an interrupt. CC_OP == CC_NONE means RF itself holds all flags.
// RF always holds the flags that are not arithmetic (IF, DF, TF, ...).
//
// inc and dec keep CF. Rather than computing it, they keep the previous operation's record
// (CC_PREV_OP, CC_PREV_DST with the untouched CC_SRC, CC_SRC2, CC_CIN) and compute that
// operation's carry only if someone asks: a `dec ecx; jnz` loop never does.
import { sizeMask, signBit, signExtend } from "./state";
import {
  X86_EFLAGS_CF, X86_EFLAGS_FIXED, X86_EFLAGS_PF, X86_EFLAGS_AF, X86_EFLAGS_ZF, X86_EFLAGS_SF, X86_EFLAGS_TF,
  X86_EFLAGS_IF, X86_EFLAGS_DF, X86_EFLAGS_OF, X86_EFLAGS_NT, X86_EFLAGS_AC, X86_EFLAGS_ID,
} from "./gen/constants";

// Short names for the RFLAGS bits (X86_EFLAGS_* in gen/constants), as the ALU code reads them.

export const CF: u64 = X86_EFLAGS_CF;
export const PF: u64 = X86_EFLAGS_PF;
export const AF: u64 = X86_EFLAGS_AF;
export const ZF: u64 = X86_EFLAGS_ZF;
export const SF: u64 = X86_EFLAGS_SF;
export const TF: u64 = X86_EFLAGS_TF;
export const IF: u64 = X86_EFLAGS_IF;
export const DF: u64 = X86_EFLAGS_DF;
export const OF: u64 = X86_EFLAGS_OF;
export const AC: u64 = X86_EFLAGS_AC;
export const NT: u64 = X86_EFLAGS_NT;
export const ID: u64 = X86_EFLAGS_ID;
export const ARITH: u64 = CF | PF | AF | ZF | SF | OF;
/** Bits software may change with popf (IF only at CPL 0; IOPL, RF and VM are not modelled). */
export const WRITABLE: u64 = ARITH | TF | IF | DF | NT | AC | ID;
/** Bit 1 of RFLAGS always reads as one. */
export const FIXED: u64 = X86_EFLAGS_FIXED;

// Lazy kinds; CC_OP = kind << 2 | operand size.
export const CC_NONE: u32 = 0;
export const CC_ADD: u32 = 1;
export const CC_ADC: u32 = 2;
export const CC_SUB: u32 = 3;
export const CC_SBB: u32 = 4;
export const CC_LOGIC: u32 = 5;
export const CC_INC: u32 = 6;
export const CC_DEC: u32 = 7;
export const CC_SHL: u32 = 8;
export const CC_SHR: u32 = 9;
export const CC_SAR: u32 = 10;
/** mul/imul: CF = OF = CC_CIN; SF ZF PF from the low half (architecturally undefined). */
export const CC_MUL: u32 = 11;

export let RF: u64 = FIXED;
export let CC_OP: u32 = CC_NONE;
export let CC_DST: u64 = 0;
export let CC_SRC: u64 = 0;
export let CC_SRC2: u64 = 0;
/** Carry-in of adc/sbb; CF = OF of mul. */
export let CC_CIN: u64 = 0;
/** For inc/dec: the operation whose CF they keep, and its result. */
let CC_PREV_OP: u32 = CC_NONE;
let CC_PREV_DST: u64 = 0;

@inline export function setLogicCC(s: u32, r: u64): void {
  CC_OP = (CC_LOGIC << 2) | s;
  CC_DST = r & sizeMask(s);
}

/** add, sub and cmp, shifts (src2 = count). */
@inline export function setArithCC(kind: u32, s: u32, a: u64, b: u64, r: u64): void {
  const m = sizeMask(s);
  CC_OP = (kind << 2) | s;
  CC_SRC = a & m;
  CC_SRC2 = b & m;
  CC_DST = r & m;
}

@inline export function setCarryCC(kind: u32, s: u32, a: u64, b: u64, r: u64, cin: u64): void {
  setArithCC(kind, s, a, b, r);
  CC_CIN = cin;
}

@inline export function setIncDecCC(dec: bool, s: u32, r: u64): void {
  const kind = CC_OP >> 2;
  if (kind != CC_INC && kind != CC_DEC) {
    CC_PREV_OP = CC_OP;
    CC_PREV_DST = CC_DST;
  }
  CC_OP = ((dec ? CC_DEC : CC_INC) << 2) | s;
  CC_DST = r & sizeMask(s);
}

@inline export function setMulCC(s: u32, lo: u64, wide: bool): void {
  CC_OP = (CC_MUL << 2) | s;
  CC_DST = lo & sizeMask(s);
  CC_CIN = wide ? 1 : 0;
}

/** CF of operation op (kind << 2 | size) on a, b giving r. */
function carryOf(op: u32, a: u64, b: u64, r: u64): u64 {
  const s = op & 3;
  switch (op >> 2) {
    case CC_ADD: return <u64>(r < a);
    case CC_ADC: return CC_CIN != 0 ? <u64>(r <= a) : <u64>(r < a);
    case CC_SUB: return <u64>(a < b);
    case CC_SBB: return CC_CIN != 0 ? <u64>(a <= b) : <u64>(a < b);
    case CC_MUL: return CC_CIN;
    case CC_SHL: {
      const bits = <u64>8 << s;
      return b <= bits ? (a >> (bits - b)) & 1 : 0;
    }
    case CC_SHR: return (a >> (b - 1)) & 1;
    case CC_SAR: return (signExtend(a, s) >> (b - 1)) & 1;
    case CC_NONE: return RF & CF;
    default: return 0;
  }
}

function carry(): u64 {
  const kind = CC_OP >> 2;
  if (kind == CC_INC || kind == CC_DEC) return carryOf(CC_PREV_OP, CC_SRC, CC_SRC2, CC_PREV_DST);
  return carryOf(CC_OP, CC_SRC, CC_SRC2, CC_DST);
}

function overflow(): u64 {
  const s = CC_OP & 3;
  const a = CC_SRC, b = CC_SRC2, r = CC_DST;
  switch (CC_OP >> 2) {
    case CC_ADD:
    case CC_ADC: return signBit((a ^ r) & (b ^ r), s);
    case CC_SUB:
    case CC_SBB: return signBit((a ^ b) & (a ^ r), s);
    case CC_INC: return <u64>(r == (sizeMask(s) >> 1) + 1);   // wrapped to the most negative
    case CC_DEC: return <u64>(r == sizeMask(s) >> 1);         // wrapped to the most positive
    case CC_SHL: return signBit(r, s) ^ carry();
    case CC_SHR: return signBit(a, s);
    case CC_MUL: return CC_CIN;
    default: return 0;
  }
}

function adjust(): u64 {
  switch (CC_OP >> 2) {
    case CC_ADD:
    case CC_ADC:
    case CC_SUB:
    case CC_SBB: return ((CC_SRC ^ CC_SRC2 ^ CC_DST) >> 4) & 1;
    case CC_INC: return <u64>((CC_DST & 0xF) == 0);
    case CC_DEC: return <u64>((CC_DST & 0xF) == 0xF);
    default: return 0;
  }
}

@inline function parity(v: u64): u64 {
  return (<u64>popcnt<u32>(<u32>v & 0xFF) & 1) ^ 1;
}

/** The full RFLAGS value. */
export function getFlags(): u64 {
  if (CC_OP == CC_NONE) return RF;
  const s = CC_OP & 3;
  const r = CC_DST;
  let f = RF & ~ARITH;
  f |= carry();
  f |= parity(r) << 2;
  f |= adjust() << 4;
  f |= <u64>(r == 0) << 6;
  f |= signBit(r, s) << 7;
  f |= overflow() << 11;
  return f;
}

/** Replaces RFLAGS (the caller masks what software may not change). */
export function setFlags(v: u64): void {
  RF = (v & ~(<u64>0x8028)) | FIXED; // bits 3, 5 and 15 read as zero
  CC_OP = CC_NONE;
}

/** Makes RF authoritative, then sets the masked bits to `bits`. */
export function setSomeFlags(mask: u64, bits: u64): void {
  const f = getFlags();
  RF = (f & ~mask) | (bits & mask);
  CC_OP = CC_NONE;
}

@inline export function getCF(): u64 {
  return CC_OP == CC_NONE ? RF & CF : carry();
}

@inline function getZF(): bool {
  return CC_OP == CC_NONE ? (RF & ZF) != 0 : CC_DST == 0;
}

@inline function getSF(): bool {
  return CC_OP == CC_NONE ? (RF & SF) != 0 : signBit(CC_DST, CC_OP & 3) != 0;
}

@inline function getOF(): bool {
  return CC_OP == CC_NONE ? (RF & OF) != 0 : overflow() != 0;
}

@inline function getPF(): bool {
  return CC_OP == CC_NONE ? (RF & PF) != 0 : parity(CC_DST) != 0;
}

/** Evaluates condition code cc (the low nibble of jcc/setcc/cmovcc opcodes). */
@inline export function testCC(cc: u32): bool {
  const c = cc >> 1;
  let r: bool;
  if (c == 2) r = getZF();
  else if ((CC_OP >> 2) == CC_SUB && c != 0 && c != 4 && c != 5) r = compareCC(c);
  else r = slowCC(c);
  return r != ((cc & 1) != 0);
}

/** Conditions after cmp/sub, straight from the operands. */
function compareCC(c: u32): bool {
  const s = CC_OP & 3;
  const a = CC_SRC, b = CC_SRC2;
  switch (c) {
    case 1: return a < b;
    case 3: return a <= b;
    case 6: return <i64>signExtend(a, s) < <i64>signExtend(b, s);
    default: return <i64>signExtend(a, s) <= <i64>signExtend(b, s);
  }
}

function slowCC(c: u32): bool {
  switch (c) {
    case 0: return getOF();
    case 1: return getCF() != 0;
    case 2: return getZF();
    case 3: return getCF() != 0 || getZF();
    case 4: return getSF();
    case 5: return getPF();
    case 6: return getSF() != getOF();
    default: return getZF() || getSF() != getOF();
  }
}

/** Loads RF from a saved RFLAGS value (run() entry). */
export function loadFlags(v: u64): void {
  RF = v | FIXED;
  CC_OP = CC_NONE;
}
