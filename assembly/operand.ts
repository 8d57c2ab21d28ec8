// Operand access for handlers: the decoded record says where each operand is.
import {
  ACTIVE, C_FS_BASE, C_GS_BASE, E_BASE, E_INDEX, E_SCALE, E_DISP, E_MEM, E_OSZ, E_REG, E_RM, E_IMM, E_SUB, E_PFX, E_LEN, E_AUX,
} from "./gen/layout";
import { nextRip, reg64, getReg, setReg } from "./state";
import { MEM_SLOW, MEM_RIPREL, MEM_ASZ, MEM_FS, MEM_GS } from "./gen/constants";
import { readMem, writeMem } from "./mem";
import { FAULTED, asWriteFault } from "./fault";

@inline export function osz(e: usize): u32 { return load<u8>(e, E_OSZ); }
@inline export function regOp(e: usize): u32 { return load<u8>(e, E_REG); }
@inline export function rmOp(e: usize): u32 { return load<u8>(e, E_RM); }
@inline export function isMem(e: usize): bool { return load<u8>(e, E_MEM) != 0; }
@inline export function imm(e: usize): u64 { return load<u64>(e, E_IMM); }
@inline export function aux(e: usize): u32 { return load<u32>(e, E_AUX); }
@inline export function sub(e: usize): u32 { return load<u8>(e, E_SUB); }
@inline export function pfx(e: usize): u32 { return load<u8>(e, E_PFX); }
@inline export function len(e: usize): u64 { return <u64>load<u8>(e, E_LEN); }

/** Linear address of the memory operand: base + index * scale + disp, plus an FS/GS base. */
@inline export function ea(e: usize): u64 {
  return effectiveAddress(e, true);
}

/** The effective address without a segment base (what lea computes). */
@inline export function eaNoSegment(e: usize): u64 {
  return effectiveAddress(e, false);
}

@inline function effectiveAddress(e: usize, segment: bool): u64 {
  let a = reg64(load<u8>(e, E_BASE))
    + (reg64(load<u8>(e, E_INDEX)) << <u64>load<u8>(e, E_SCALE))
    + <u64><i64>load<i32>(e, E_DISP);
  const m = load<u8>(e, E_MEM);
  if (m & MEM_SLOW) a = eaSlow(e, a, m, segment);
  return a;
}

function eaSlow(e: usize, a: u64, m: u8, segment: bool): u64 {
  if (m & MEM_RIPREL) a += nextRip(e);
  if (m & MEM_ASZ) a &= 0xFFFF_FFFF;
  if (!segment) return a;
  if (m & MEM_FS) a += load<u64>(ACTIVE + C_FS_BASE);
  else if (m & MEM_GS) a += load<u64>(ACTIVE + C_GS_BASE);
  return a;
}

/** Address of the last memory operand loadE() read, for the write-back of a read-modify-write. */
let OPERAND_VA: u64 = 0;

/** Reads the r/m operand at size s. After a fault the value is meaningless: check FAULTED. */
@inline export function loadE(e: usize, s: u32): u64 {
  if (isMem(e)) {
    OPERAND_VA = ea(e);
    return readMem(OPERAND_VA, s);
  }
  return getReg(rmOp(e), s);
}

/** Reads the r/m operand of a read-modify-write instruction (a fault is reported as a write). */
@inline export function loadRMW(e: usize, s: u32): u64 {
  const v = loadE(e, s);
  if (FAULTED) asWriteFault();
  return v;
}

/** Writes the r/m operand loadE() read (or computes the address for a pure store). */
@inline export function storeE(e: usize, s: u32, v: u64): void {
  if (isMem(e)) writeMem(OPERAND_VA, v, s);
  else setReg(rmOp(e), s, v);
}

/** Writes the r/m operand without a prior loadE(). */
@inline export function putE(e: usize, s: u32, v: u64): void {
  if (isMem(e)) writeMem(ea(e), v, s);
  else setReg(rmOp(e), s, v);
}
