// bt bts btr btc, bsf bsr, tzcnt lzcnt popcnt, bswap, setcc, cmovcc.
import { FAULTED, asWriteFault } from "../fault";
import { setSomeFlags, testCC, CF, OF, PF, ZF, SF, AF } from "../flags";
import { getReg, setReg, signExtend } from "../state";
import { readMem, writeMem } from "../mem";
import { regOp, rmOp, isMem, imm, sub, ea, loadE, putE } from "../operand";
import { VENDOR } from "../machine";
import { CPUVENDOR_INTEL } from "../gen/layout";

export const BT_TEST: u32 = 0;
export const BT_SET: u32 = 1;
export const BT_RESET: u32 = 2;
export const BT_COMPLEMENT: u32 = 3;

export const BC_TZCNT: u32 = 0;
export const BC_LZCNT: u32 = 1;
export const BC_POPCNT: u32 = 2;

@inline function btApply(kind: u32, v: u64, bit: u64): u64 {
  if (kind == BT_SET) return v | (<u64>1 << bit);
  if (kind == BT_RESET) return v & ~(<u64>1 << bit);
  return v ^ (<u64>1 << bit);
}

/** Tests (and changes) bit `offset` of the r/m operand; a memory operand is addressed by it. */
function bitOp(e: usize, s: u32, kind: u32, offset: u64, fromReg: bool): void {
  const bits = <u64>8 << s;
  if (!isMem(e)) {
    const bit = offset & (bits - 1);
    const v = getReg(rmOp(e), s);
    if (kind != BT_TEST) setReg(rmOp(e), s, btApply(kind, v, bit));
    setSomeFlags(CF, (v >> bit) & 1);
    return;
  }
  // With a register offset the operand is the (signed) offset / bits'th unit past the address.
  let va = ea(e);
  if (fromReg) va += <u64>((<i64>signExtend(offset, s) >> (<i64>3 + s)) << s);
  const bit = offset & (bits - 1);
  const v = readMem(va, s);
  if (FAULTED) { if (kind != BT_TEST) asWriteFault(); return; }
  if (kind != BT_TEST) {
    writeMem(va, btApply(kind, v, bit), s);
    if (FAULTED) return;
  }
  setSomeFlags(CF, (v >> bit) & 1);
}

export function btEG(e: usize, s: u32, kind: u32): void {
  bitOp(e, s, kind, getReg(regOp(e), s), true);
}

export function btEI(e: usize, s: u32, kind: u32): void {
  bitOp(e, s, kind, imm(e), false);
}

export function bitScan(e: usize, s: u32, reverse: bool): void {
  const v = loadE(e, s);
  if (FAULTED) return;
  if (v == 0) {
    // The destination keeps its value. AMD documents that; Intel calls it undefined, and its
    // parts write the old value back, which for a 32-bit operand clears the upper half.
    if (s == 2 && VENDOR == CPUVENDOR_INTEL) setReg(regOp(e), 2, getReg(regOp(e), 2));
    setSomeFlags(ZF, ZF);
    return;
  }
  setReg(regOp(e), s, reverse ? <u64>(63 - clz<u64>(v)) : ctz<u64>(v));
  setSomeFlags(ZF | CF | OF | SF | AF | PF, 0);
}

export function bitCount(e: usize, s: u32, kind: u32): void {
  const v = loadE(e, s);
  if (FAULTED) return;
  const bits = <u64>8 << s;
  let r: u64;
  if (kind == BC_POPCNT) r = popcnt<u64>(v);
  else if (kind == BC_TZCNT) r = v == 0 ? bits : ctz<u64>(v);
  else r = v == 0 ? bits : clz<u64>(v) - (64 - bits);
  setReg(regOp(e), s, r);
  if (kind == BC_POPCNT) setSomeFlags(ZF | CF | OF | SF | AF | PF, <u64>(v == 0) << 6);
  else setSomeFlags(ZF | CF, <u64>(v == 0) | (<u64>(r == 0) << 6));
}

/** bswap; with a 16-bit operand the result is undefined, and Intel parts clear the register. */
export function bswapZ(e: usize, s: u32): void {
  const v = getReg(regOp(e), s);
  setReg(regOp(e), s, s == 3 ? bswap<u64>(v) : s == 2 ? <u64>bswap<u32>(<u32>v) : 0);
}

export function setccE(e: usize): void {
  putE(e, 0, testCC(sub(e)) ? 1 : 0);
}

export function cmovGE(e: usize, s: u32): void {
  const v = loadE(e, s);
  if (FAULTED) return;
  const g = regOp(e);
  // A 32-bit cmov writes (and zero-extends) its destination even when the condition is false.
  setReg(g, s, testCC(sub(e)) ? v : getReg(g, s));
}
