// mov (all forms), movzx movsx movsxd, lea, xchg, cbw/cwde/cdqe, cwd/cdq/cqo,
// cmpxchg cmpxchg8b/16b, xadd.
import { ACTIVE, C_FS_BASE, C_GS_BASE } from "../gen/layout";
import { FAULTED, raiseGP } from "../fault";
import { setArithCC, setSomeFlags, CC_ADD, CC_SUB, ZF } from "../flags";
import { REG_RAX, REG_RBX, REG_RCX, REG_RDX, getReg, setReg, reg64, signExtend, sizeMask } from "../state";
import { readMem, writeMem, probeWrite, aligned } from "../mem";
import { PFX_FS, PFX_GS, PFX_ASZ } from "../gen/constants";
import { regOp, rmOp, isMem, imm, pfx, ea, eaNoSegment, loadE, loadRMW, storeE, putE } from "../operand";

@inline export function movEG(e: usize, s: u32): void {
  putE(e, s, getReg(regOp(e), s));
}

@inline export function movGE(e: usize, s: u32): void {
  const v = loadE(e, s);
  if (FAULTED) return;
  setReg(regOp(e), s, v);
}

@inline export function movEI(e: usize, s: u32): void {
  putE(e, s, imm(e));
}

@inline export function movZI(e: usize, s: u32): void {
  setReg(regOp(e), s, imm(e));
}

/** Address of a moffs operand: the immediate plus any FS/GS base. */
function moffs(e: usize): u64 {
  let a = imm(e);
  const p = pfx(e);
  if (p & PFX_FS) a += load<u64>(ACTIVE + C_FS_BASE);
  else if (p & PFX_GS) a += load<u64>(ACTIVE + C_GS_BASE);
  return a;
}

export function movAO(e: usize, s: u32): void {
  const v = readMem(moffs(e), s);
  if (FAULTED) return;
  setReg(REG_RAX, s, v);
}

export function movOA(e: usize, s: u32): void {
  writeMem(moffs(e), getReg(REG_RAX, s), s);
}

/** movzx/movsx/movsxd: the source has size srcSize, the destination the operand size. */
@inline export function movExtend(e: usize, s: u32, srcSize: u32, signed: bool): void {
  const v = loadE(e, srcSize);
  if (FAULTED) return;
  setReg(regOp(e), s, signed ? signExtend(v, srcSize) : v);
}

/** xlat: AL = [RBX + AL] (EBX with 67), with any FS/GS override. */
export function xlat(e: usize): void {
  let a = reg64(REG_RBX) + getReg(REG_RAX, 0);
  const p = pfx(e);
  if (p & PFX_ASZ) a &= 0xFFFF_FFFF;
  if (p & PFX_FS) a += load<u64>(ACTIVE + C_FS_BASE);
  else if (p & PFX_GS) a += load<u64>(ACTIVE + C_GS_BASE);
  const v = readMem(a, 0);
  if (FAULTED) return;
  setReg(REG_RAX, 0, v);
}

@inline export function leaGM(e: usize, s: u32): void {
  setReg(regOp(e), s, eaNoSegment(e));
}

export function xchgEG(e: usize, s: u32): void {
  const g = regOp(e);
  const a = loadRMW(e, s);
  if (FAULTED) return;
  const b = getReg(g, s);
  storeE(e, s, b);
  if (FAULTED) return;
  setReg(g, s, a);
}

/** cbw / cwde / cdqe: sign-extend the lower half of the accumulator into all of it. */
export function convertA(e: usize, s: u32): void {
  setReg(REG_RAX, s, signExtend(getReg(REG_RAX, s - 1), s - 1));
}

/** cwd / cdq / cqo: fill rDX with the accumulator's sign. */
export function convertAD(e: usize, s: u32): void {
  setReg(REG_RDX, s, <u64>(<i64>signExtend(getReg(REG_RAX, s), s) >> 63));
}

export function cmpxchgEG(e: usize, s: u32): void {
  const mem = isMem(e);
  const d = loadRMW(e, s);
  if (FAULTED) return;
  if (mem && !probeWrite(ea(e), s)) return; // the locked cycle always writes
  const acc = getReg(REG_RAX, s);
  if (acc == d) {
    storeE(e, s, getReg(regOp(e), s));
  } else {
    if (mem) storeE(e, s, d);
    setReg(REG_RAX, s, d);
  }
  setArithCC(CC_SUB, s, acc, d, acc - d);
}

/** cmpxchg8b (rDX:rAX as two dwords) and, with REX.W, cmpxchg16b. */
export function cmpxchgDouble(e: usize, s: u32): void {
  const wide = s == 3;
  const va = ea(e);
  if (wide && (va & 15) != 0) { raiseGP(0); return; }
  if (!wide && !aligned(va, 8)) return; // one 8-byte operand for alignment checking
  const half: u32 = wide ? 3 : 2;
  const step: u64 = wide ? 8 : 4;
  const lo = readMem(va, half);
  if (FAULTED) return;
  const hi = readMem(va + step, half);
  if (FAULTED) return;
  if (!probeWrite(va, half) || !probeWrite(va + step, half)) return;
  const m = sizeMask(half);
  if (lo == (reg64(REG_RAX) & m) && hi == (reg64(REG_RDX) & m)) {
    writeMem(va, reg64(REG_RBX), half);
    writeMem(va + step, reg64(REG_RCX), half);
    setSomeFlags(ZF, ZF);
  } else {
    writeMem(va, lo, half);
    writeMem(va + step, hi, half);
    setReg(REG_RAX, half, lo);
    setReg(REG_RDX, half, hi);
    setSomeFlags(ZF, 0);
  }
}

export function xaddEG(e: usize, s: u32): void {
  const g = regOp(e);
  const d = loadRMW(e, s);
  if (FAULTED) return;
  const src = getReg(g, s);
  const sum = d + src;
  if (isMem(e)) {
    storeE(e, s, sum);
    if (FAULTED) return;
    setReg(g, s, d);
  } else {
    setReg(g, s, d);
    setReg(rmOp(e), s, sum); // when both name one register, the sum wins
  }
  setArithCC(CC_ADD, s, d, src, sum);
}
