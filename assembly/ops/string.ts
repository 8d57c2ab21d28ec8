// movs cmps stos lods scas, with rep / repe / repne.
//
// A repeated instruction runs at most REP_CHUNK iterations per execution; if rCX is not yet
// zero it leaves RIP on itself, so interrupts and the run budget see instruction boundaries and
// a long `rep movsb` cannot stall the machine. Registers are updated every iteration, so a
// fault in the middle leaves a state the instruction can resume from, as on hardware.
import { ACTIVE, C_FS_BASE, C_GS_BASE } from "../gen/layout";
import { FAULTED } from "../fault";
import { RF, DF, TF, setArithCC, CC_SUB } from "../flags";
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- RIP is only assigned here: the assignment is the point
import { RIP, thisRip, REG_RAX, REG_RCX, REG_RSI, REG_RDI, getReg, setReg, reg64, setReg64 } from "../state";
import { readMem, writeMem } from "../mem";
import { PFX_REP, PFX_REPNE, PFX_ASZ, PFX_FS, PFX_GS } from "../gen/constants";
import { pfx } from "../operand";
import { VENDOR } from "../machine";
import { CPUVENDOR_INTEL } from "../gen/layout";

const REP_CHUNK: u32 = 4096;

@inline function step(s: u32): u64 {
  const n = <u64>1 << s;
  return (RF & DF) != 0 ? 0 - n : n;
}

/** Reads an index register, truncated with a 67 prefix. */
@inline function index(off: u32, p: u32): u64 {
  const v = reg64(off);
  return p & PFX_ASZ ? v & 0xFFFF_FFFF : v;
}

@inline function advance(off: u32, p: u32, d: u64): void {
  if (p & PFX_ASZ) setReg(off, 2, reg64(off) + d);
  else setReg64(off, reg64(off) + d);
}

/** Source address (rSI) with any FS/GS override; the destination (rDI) is never overridden. */
@inline function source(p: u32): u64 {
  let a = index(REG_RSI, p);
  if (p & PFX_FS) a += load<u64>(ACTIVE + C_FS_BASE);
  else if (p & PFX_GS) a += load<u64>(ACTIVE + C_GS_BASE);
  return a;
}

/**
 * With a 67 prefix and a rep prefix, Intel parts write ECX (zero-extending RCX) even when the
 * count is already zero, and movs/stos write their 32-bit index registers too. AMD parts
 * leave all three alone when there is nothing to do; every iteration writes them on both.
 */
@inline function narrowIndexes(p: u32, rsi: bool, rdi: bool): void {
  if ((p & PFX_ASZ) == 0 || (p & (PFX_REP | PFX_REPNE)) == 0 || VENDOR != CPUVENDOR_INTEL) return;
  setReg(REG_RCX, 2, reg64(REG_RCX));
  if (rsi) setReg(REG_RSI, 2, reg64(REG_RSI));
  if (rdi) setReg(REG_RDI, 2, reg64(REG_RDI));
}

/**
 * How many iterations to run now: 1 without a rep prefix, else up to REP_CHUNK of rCX, or one
 * while single-stepping (TF): the trap follows every iteration, as on hardware.
 */
@inline function iterations(p: u32): u64 {
  if ((p & (PFX_REP | PFX_REPNE)) == 0) return 1;
  const c = index(REG_RCX, p);
  const chunk: u64 = (RF & TF) != 0 ? 1 : <u64>REP_CHUNK;
  return c < chunk ? c : chunk;
}

/** After a chunk: count down rCX and stay on the instruction if work remains. */
@inline function repeatIfLeft(e: usize, p: u32, done: u64, stoppedEarly: bool): void {
  if ((p & (PFX_REP | PFX_REPNE)) == 0) return;
  if (!stoppedEarly && index(REG_RCX, p) != 0) RIP = thisRip(e);
}

export function movs(e: usize, s: u32): void {
  const p = pfx(e), d = step(s);
  narrowIndexes(p, true, true);
  const rep = (p & (PFX_REP | PFX_REPNE)) != 0;
  const n = iterations(p);
  for (let i: u64 = 0; i < n; i++) {
    const v = readMem(source(p), s);
    if (FAULTED) return;
    writeMem(index(REG_RDI, p), v, s);
    if (FAULTED) return;
    advance(REG_RSI, p, d);
    advance(REG_RDI, p, d);
    if (rep) advance(REG_RCX, p, -1);
  }
  repeatIfLeft(e, p, n, false);
}

export function stos(e: usize, s: u32): void {
  const p = pfx(e), d = step(s);
  narrowIndexes(p, false, true);
  const rep = (p & (PFX_REP | PFX_REPNE)) != 0;
  const v = getReg(REG_RAX, s);
  const n = iterations(p);
  for (let i: u64 = 0; i < n; i++) {
    writeMem(index(REG_RDI, p), v, s);
    if (FAULTED) return;
    advance(REG_RDI, p, d);
    if (rep) advance(REG_RCX, p, -1);
  }
  repeatIfLeft(e, p, n, false);
}

export function lods(e: usize, s: u32): void {
  const p = pfx(e), d = step(s);
  narrowIndexes(p, false, false);
  const rep = (p & (PFX_REP | PFX_REPNE)) != 0;
  const n = iterations(p);
  for (let i: u64 = 0; i < n; i++) {
    const v = readMem(source(p), s);
    if (FAULTED) return;
    setReg(REG_RAX, s, v);
    advance(REG_RSI, p, d);
    if (rep) advance(REG_RCX, p, -1);
  }
  repeatIfLeft(e, p, n, false);
}

/** cmps and scas: compare, set flags as cmp, and stop a repe/repne on the first (mis)match. */
function compareString(e: usize, s: u32, withSource: bool): void {
  const p = pfx(e), d = step(s);
  narrowIndexes(p, false, false);
  const rep = (p & (PFX_REP | PFX_REPNE)) != 0;
  const n = iterations(p);
  let stopped = false;
  for (let i: u64 = 0; i < n; i++) {
    const a = withSource ? readMem(source(p), s) : getReg(REG_RAX, s);
    if (FAULTED) return;
    const b = readMem(index(REG_RDI, p), s);
    if (FAULTED) return;
    setArithCC(CC_SUB, s, a, b, a - b);
    if (withSource) advance(REG_RSI, p, d);
    advance(REG_RDI, p, d);
    if (!rep) break;
    advance(REG_RCX, p, -1);
    const equal = a == b;
    if ((p & PFX_REP) != 0 ? !equal : equal) { stopped = true; break; }
  }
  repeatIfLeft(e, p, n, stopped);
}

export function cmps(e: usize, s: u32): void { compareString(e, s, true); }
export function scas(e: usize, s: u32): void { compareString(e, s, false); }
