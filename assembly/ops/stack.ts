// push pop (register, r/m, immediate), leave enter, pushf popf, sahf lahf.
import { FAULTED, raise } from "../fault";
import { getFlags, setSomeFlags, WRITABLE, IF, CF, PF, AF, ZF, SF } from "../flags";
import { REG_RSP, REG_RBP, CPL, getReg, setReg, reg64, setReg64 } from "../state";
import { readMem, writeMem, probeWrite, updateAlignCheck, canonical } from "../mem";
import { updateIrq, syncStepping } from "../interrupts";
import { regOp, rmOp, imm, aux, isMem, ea, loadE } from "../operand";
import { VECTOR_SS } from "../gen/constants";

/** The stack is SS-relative: a non-canonical stack address is #SS(0), not #GP(0). */
@inline function stackAddress(a: u64): bool {
  if (canonical(a)) return true;
  raise(VECTOR_SS, 0, true);
  return false;
}

/** Pushes v (2 or 8 bytes by s); RSP changes only if the store succeeds. */
@inline export function push(v: u64, s: u32): void {
  const sp = reg64(REG_RSP) - (<u64>1 << s);
  if (!stackAddress(sp)) return;
  writeMem(sp, v, s);
  if (FAULTED) return;
  setReg64(REG_RSP, sp);
}

/** Pops 2 or 8 bytes; check FAULTED before using the value. */
@inline export function pop(s: u32): u64 {
  const sp = reg64(REG_RSP);
  if (!stackAddress(sp)) return 0;
  const v = readMem(sp, s);
  if (FAULTED) return 0;
  setReg64(REG_RSP, sp + (<u64>1 << s));
  return v;
}

@inline export function pushZ(e: usize, s: u32): void {
  push(getReg(regOp(e), s), s);
}

@inline export function popZ(e: usize, s: u32): void {
  const v = pop(s);
  if (FAULTED) return;
  setReg(regOp(e), s, v);
}

export function pushI(e: usize, s: u32): void {
  push(imm(e), s);
}

export function pushE(e: usize, s: u32): void {
  const v = loadE(e, s);
  if (FAULTED) return;
  push(v, s);
}

export function popE(e: usize, s: u32): void {
  const old = reg64(REG_RSP);
  const v = pop(s);
  if (FAULTED) return;
  // The destination address is computed with RSP already incremented.
  if (isMem(e)) {
    writeMem(ea(e), v, s);
    if (FAULTED) setReg64(REG_RSP, old);
  } else setReg(rmOp(e), s, v);
}

export function leave(e: usize, s: u32): void {
  const bp = reg64(REG_RBP);
  const v = readMem(bp, s);
  if (FAULTED) return;
  setReg64(REG_RSP, bp + (<u64>1 << s));
  setReg(REG_RBP, s, v);
}

/**
 * enter size, level: a frame with `level` saved frame pointers, then `size` bytes. The final
 * stack pointer must be writable (SDM: #PF "if a write using the final value of the stack
 * pointer would cause a page fault"; an AMD host raises #AC there too when it is misaligned,
 * after the pushes have been stored): it is probed last, before the registers change.
 */
export function enter(e: usize, s: u32): void {
  const n: u64 = <u64>1 << s;
  const level = aux(e) & 31;
  let sp = reg64(REG_RSP) - n;
  writeMem(sp, getReg(REG_RBP, s), s);
  if (FAULTED) return;
  const frame = sp;
  let bp = reg64(REG_RBP);
  for (let i: u32 = 1; i < level; i++) {
    bp -= n;
    const v = readMem(bp, s);
    if (FAULTED) return;
    sp -= n;
    writeMem(sp, v, s);
    if (FAULTED) return;
  }
  if (level > 0) {
    sp -= n;
    writeMem(sp, frame, s);
    if (FAULTED) return;
  }
  if (!probeWrite(sp - imm(e), s)) return;
  setReg(REG_RBP, s, frame);
  setReg64(REG_RSP, sp - imm(e));
}

export function pushf(e: usize, s: u32): void {
  push(getFlags() & ~<u64>0x30000, s); // RF and VM never appear in the pushed image
}

export function popf(e: usize, s: u32): void {
  const v = pop(s);
  if (FAULTED) return;
  let mask = WRITABLE;
  if (CPL != 0) mask &= ~IF; // IOPL is 0: user code cannot change IF
  if (s == 1) mask &= 0xFFFF;
  setSomeFlags(mask, v);
  updateIrq();
  updateAlignCheck();
  syncStepping();
}

/** Register-file offset of AH. */
const AH: u32 = 1;

export function sahf(e: usize): void {
  setSomeFlags(CF | PF | AF | ZF | SF, getReg(AH, 0));
}

export function lahf(e: usize): void {
  setReg(AH, 0, (getFlags() & (CF | PF | AF | ZF | SF)) | 2);
}
