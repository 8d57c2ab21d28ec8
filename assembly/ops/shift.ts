// rol ror rcl rcr shl shr sar (count 1, CL or imm8), shld shrd.
import { FAULTED } from "../fault";
import { getCF, setArithCC, setSomeFlags, CC_SHL, CC_SHR, CC_SAR, CF, OF, PF, ZF, SF, AF } from "../flags";
import { REG_RCX, getReg, sizeMask, signBit, signExtend } from "../state";
import { regOp, imm, loadRMW, storeE } from "../operand";
import { VENDOR } from "../machine";
import { CPUVENDOR_INTEL } from "../gen/layout";

export const SH_ROL: u32 = 0;
export const SH_ROR: u32 = 1;
export const SH_RCL: u32 = 2;
export const SH_RCR: u32 = 3;
export const SH_SHL: u32 = 4;
export const SH_SHR: u32 = 5;
export const SH_SAR: u32 = 7;

@inline function shiftCount(e: usize, fromCL: bool, s: u32): u64 {
  const c = fromCL ? getReg(REG_RCX, 0) : imm(e);
  return c & (s == 3 ? 63 : 31);
}

@inline export function shiftE(e: usize, s: u32, kind: u32, fromCL: bool): void {
  if (kind == SH_SHL || kind == SH_SHR || kind == SH_SAR) shiftLogical(e, s, kind, fromCL);
  else rotate(e, s, kind, fromCL);
}

/** shl shr sar: flags stay lazy. */
@inline function shiftLogical(e: usize, s: u32, kind: u32, fromCL: bool): void {
  const count = shiftCount(e, fromCL, s);
  const a = loadRMW(e, s);
  if (FAULTED) return;
  if (count == 0) {
    storeE(e, s, a); // flags untouched; a 32-bit register is still zero-extended
    return;
  }
  const bits = <u64>8 << s;
  let r: u64;
  if (kind == SH_SHL) r = count < bits ? (a << count) & sizeMask(s) : 0;
  else if (kind == SH_SHR) r = count < bits ? a >> count : 0;
  else r = <u64>(<i64>signExtend(a, s) >> (count < bits ? count : bits - 1)) & sizeMask(s);
  storeE(e, s, r);
  if (FAULTED) return;
  setArithCC(kind == SH_SHL ? CC_SHL : kind == SH_SHR ? CC_SHR : CC_SAR, s, a, count, r);
}

/** rol ror rcl rcr: set CF and OF now. */
function rotate(e: usize, s: u32, kind: u32, fromCL: bool): void {
  const count = shiftCount(e, fromCL, s);
  const a = loadRMW(e, s);
  if (FAULTED) return;
  if (count == 0) {
    storeE(e, s, a);
    return;
  }
  const bits = <u64>8 << s;
  const m = sizeMask(s);
  let r: u64;
  if (kind == SH_ROL) { const c = count % bits; r = c == 0 ? a : ((a << c) | (a >> (bits - c))) & m; }
  else if (kind == SH_ROR) { const c = count % bits; r = c == 0 ? a : ((a >> c) | (a << (bits - c))) & m; }
  else r = rotateThroughCarry(a, count, s, kind == SH_RCL);
  storeE(e, s, r);
  if (FAULTED) return;
  if (kind == SH_ROL) {
    const cf = r & 1;
    setSomeFlags(CF | OF, cf | ((signBit(r, s) ^ cf) << 11));
  } else if (kind == SH_ROR) {
    setSomeFlags(CF | OF, signBit(r, s) | ((signBit(r, s) ^ signBit(r << 1, s)) << 11));
  } else setSomeFlags(CF | OF, RCX_CARRY | (RCX_OF << 11));
}

let RCX_CARRY: u64 = 0;
let RCX_OF: u64 = 0;

/** rcl/rcr: rotate the (size + 1)-bit value CF:a, one bit at a time. */
function rotateThroughCarry(a: u64, count: u64, s: u32, left: bool): u64 {
  const bits = <u64>8 << s;
  const n = count % (bits + 1);
  let cf = getCF();
  let r = a;
  for (let i: u64 = 0; i < n; i++) {
    if (left) {
      const out = signBit(r, s);
      r = ((r << 1) | cf) & sizeMask(s);
      cf = out;
    } else {
      const out = r & 1;
      r = (r >> 1) | (cf << (bits - 1));
      cf = out;
    }
  }
  RCX_CARRY = cf;
  RCX_OF = left ? signBit(r, s) ^ cf : signBit(r, s) ^ signBit(r << 1, s);
  return r;
}

/** Sets CF and OF as given and SF ZF PF from r; AF is cleared. */
function setResultFlags(s: u32, r: u64, cf: u64, ovf: u64): void {
  const parity = (<u64>popcnt<u32>(<u32>r & 0xFF) & 1) ^ 1;
  setSomeFlags(CF | OF | PF | ZF | SF | AF,
    cf | (ovf << 11) | (parity << 2) | (<u64>((r & sizeMask(s)) == 0) << 6) | (signBit(r, s) << 7));
}

export function shiftDouble(e: usize, s: u32, right: bool, fromCL: bool): void {
  const count = shiftCount(e, fromCL, s);
  const a = loadRMW(e, s);
  if (FAULTED) return;
  const src = getReg(regOp(e), s);
  if (count == 0) {
    storeE(e, s, a);
    return;
  }
  const bits = <u64>8 << s;
  const m = sizeMask(s);
  let r: u64, cf: u64;
  if (s == 1 && count > 16 && VENDOR == CPUVENDOR_INTEL) {
    // 16-bit operands with counts above 16 (result undefined): Intel parts shift through
    // src:dst:src.
    const wide = right ? (a | (src << 16) | (a << 32)) : ((a << 32) | (src << 16) | a);
    const c = count - 16;
    r = right ? (wide >> c) & m : (wide >> (32 - c)) & m;
    cf = right ? (src >> (c - 1)) & 1 : (src >> (16 - c)) & 1;
  } else if (s == 1 && count > 16) {
    // ... and AMD parts rotate the source by the count past 16.
    const c = count - 16;
    r = right ? ((src >> c) | (src << (16 - c))) & m : ((src << c) | (src >> (16 - c))) & m;
    cf = right ? (src >> (c - 1)) & 1 : (src >> (16 - c)) & 1;
  } else if (right) {
    r = ((a >> count) | (src << (bits - count))) & m;
    cf = (a >> (count - 1)) & 1;
  } else {
    r = ((a << count) | (src >> (bits - count))) & m;
    cf = (a >> (bits - count)) & 1;
  }
  storeE(e, s, r);
  if (FAULTED) return;
  setResultFlags(s, r, cf, signBit(r, s) ^ signBit(a, s));
}
