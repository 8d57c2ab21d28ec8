// mul imul div idiv: one-operand forms on rDX:rAX, and imul's two- and three-operand forms.
import { FAULTED, raiseDE } from "../fault";
import { setMulCC } from "../flags";
import { REG_RAX, REG_RDX, getReg, setReg, reg64, setReg64, sizeMask, signExtend } from "../state";
import { regOp, imm, loadE } from "../operand";

/** High half of the last 64 x 64 multiplication. */
let HI: u64 = 0;

/** Unsigned 64 x 64 -> 128; returns the low half, leaves the high half in HI. */
function mulu128(a: u64, b: u64): u64 {
  const a0 = a & 0xFFFF_FFFF, a1 = a >> 32, b0 = b & 0xFFFF_FFFF, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xFFFF_FFFF) + (p10 & 0xFFFF_FFFF);
  HI = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  return (mid << 32) | (p00 & 0xFFFF_FFFF);
}

/** Signed 64 x 64 -> 128, as mulu128 with the high half corrected for the signs. */
function muls128(a: u64, b: u64): u64 {
  const lo = mulu128(a, b);
  if (<i64>a < 0) HI -= b;
  if (<i64>b < 0) HI -= a;
  return lo;
}

/** Product of a and b at size s, truncated; sets OVERFLOWED when the full product does not fit. */
let OVERFLOWED: bool = false;
function imulTrunc(a: u64, b: u64, s: u32): u64 {
  if (s == 3) {
    const lo = muls128(a, b);
    OVERFLOWED = HI != <u64>(<i64>lo >> 63);
    return lo;
  }
  const full = <u64>(<i64>signExtend(a, s) * <i64>signExtend(b, s));
  OVERFLOWED = signExtend(full, s) != full;
  return full & sizeMask(s);
}

export function mulE(e: usize, s: u32, signed: bool): void {
  const src = loadE(e, s);
  if (FAULTED) return;
  const acc = getReg(REG_RAX, s);
  let lo: u64, hi: u64;
  if (s == 3) {
    lo = signed ? muls128(acc, src) : mulu128(acc, src);
    hi = HI;
  } else {
    const bits = <u64>8 << s;
    const full = signed ? <u64>(<i64>signExtend(acc, s) * <i64>signExtend(src, s)) : acc * src;
    lo = full & sizeMask(s);
    hi = (full >> bits) & sizeMask(s);
  }
  const wide = signed ? hi != (<u64>(<i64>signExtend(lo, s) >> 63) & sizeMask(s)) : hi != 0;
  if (s == 0) setReg(REG_RAX, 1, lo | (hi << 8));
  else {
    setReg(REG_RAX, s, lo);
    setReg(REG_RDX, s, hi);
  }
  setMulCC(s, lo, wide);
}

export function imulGE(e: usize, s: u32): void {
  const src = loadE(e, s);
  if (FAULTED) return;
  const g = regOp(e);
  const r = imulTrunc(getReg(g, s), src, s);
  setReg(g, s, r);
  setMulCC(s, r, OVERFLOWED);
}

export function imulGEI(e: usize, s: u32): void {
  const src = loadE(e, s);
  if (FAULTED) return;
  const r = imulTrunc(src, imm(e) & sizeMask(s), s);
  setReg(regOp(e), s, r);
  setMulCC(s, r, OVERFLOWED);
}

/** Remainder of the last udiv128. */
let REM: u64 = 0;

/** (hi:lo) / d for hi < d, so the quotient fits in 64 bits. */
function udiv128(hi: u64, lo: u64, d: u64): u64 {
  if (hi == 0) { REM = lo % d; return lo / d; }
  let q: u64 = 0;
  let r = hi;
  for (let i = 63; i >= 0; i--) {
    const top = r >> 63;
    r = (r << 1) | ((lo >> <u64>i) & 1);
    q <<= 1;
    if (top != 0 || r >= d) { r -= d; q |= 1; }
  }
  REM = r;
  return q;
}

export function divE(e: usize, s: u32, signed: bool): void {
  const d = loadE(e, s);
  if (FAULTED) return;
  if (d == 0) { raiseDE(); return; }
  if (s == 3) { div64(d, signed); return; }
  // Dividend is twice the operand size: AX for bytes, DX:AX, EDX:EAX.
  const bits = <u64>8 << s;
  const dividend = s == 0 ? getReg(REG_RAX, 1) : (getReg(REG_RDX, s) << bits) | getReg(REG_RAX, s);
  let q: u64, r: u64;
  if (signed) {
    const n = <i64>signExtend(dividend, s + 1), dv = <i64>signExtend(d, s);
    if (n == i64.MIN_VALUE && dv == -1) { raiseDE(); return; } // would trap in wasm
    const sq = n / dv;
    if (sq != <i64>signExtend(<u64>sq, s)) { raiseDE(); return; }
    q = <u64>sq;
    r = <u64>(n % dv);
  } else {
    q = dividend / d;
    if (q > sizeMask(s)) { raiseDE(); return; }
    r = dividend % d;
  }
  if (s == 0) setReg(REG_RAX, 1, (q & 0xFF) | ((r & 0xFF) << 8));
  else {
    setReg(REG_RAX, s, q);
    setReg(REG_RDX, s, r);
  }
}

function div64(d: u64, signed: bool): void {
  let hi = reg64(REG_RDX), lo = reg64(REG_RAX);
  if (!signed) {
    if (hi >= d) { raiseDE(); return; }
    const q = udiv128(hi, lo, d);
    setReg64(REG_RAX, q);
    setReg64(REG_RDX, REM);
    return;
  }
  const negN = <i64>hi < 0, negD = <i64>d < 0;
  if (negN) { lo = ~lo + 1; hi = ~hi + <u64>(lo == 0); }
  const ad = negD ? 0 - d : d;
  if (hi >= ad) { raiseDE(); return; }
  const q = udiv128(hi, lo, ad);
  const negQ = negN != negD;
  if (negQ ? q > <u64>0x8000_0000_0000_0000 : q >= <u64>0x8000_0000_0000_0000) { raiseDE(); return; }
  setReg64(REG_RAX, negQ ? 0 - q : q);
  setReg64(REG_RDX, negN ? 0 - REM : REM);
}
