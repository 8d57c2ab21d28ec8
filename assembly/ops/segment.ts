// mov to and from the segment registers (8C, 8E) in 64-bit mode.
//
// Segmentation is flat here: CS and SS are checked when loaded but carry no base or limit,
// DS and ES bases are ignored, and FS/GS bases are the fsBase/gsBase fields (loaded from the
// descriptor by a non-null selector, cleared by a null one, as Intel parts and AMD family 19h
// parts with NullSelectClearsBase do). There is no LDT: a selector with TI set is #GP.
import {
  ACTIVE, C_CS, C_SS, C_DS, C_ES, C_FS, C_GS, C_FS_BASE, C_GS_BASE, C_GDT_BASE, C_GDT_LIMIT, C_SHADOW,
} from "../gen/layout";
import { FAULTED, raise, raiseGP, skipStepTrap } from "../fault";
import { RF, TF } from "../flags";
import { CPL, setReg } from "../state";
import { readSystem, writeMem } from "../mem";
import { sub, isMem, ea, rmOp, loadE } from "../operand";
import { updateIrq, SHADOW_IRQ } from "../interrupts";
import { VECTOR_NP, VECTOR_SS } from "../gen/constants";

const SREG_ES: u32 = 0, SREG_CS: u32 = 1, SREG_SS: u32 = 2, SREG_DS: u32 = 3, SREG_FS: u32 = 4, SREG_GS: u32 = 5;

/** Block-field offset of segment register n's selector (ES CS SS DS FS GS). */
function selectorField(n: u32): usize {
  switch (n) {
    case SREG_ES: return C_ES;
    case SREG_CS: return C_CS;
    case SREG_SS: return C_SS;
    case SREG_DS: return C_DS;
    case SREG_FS: return C_FS;
    default: return C_GS;
  }
}

/** mov r/m, Sreg: a register gets the selector zero-extended to the operand size, memory 16 bits. */
export function movESreg(e: usize, s: u32): void {
  const n = sub(e);
  const sel = <u64>load<u32>(ACTIVE + selectorField(n));
  if (isMem(e)) writeMem(ea(e), sel, 1);
  else setReg(rmOp(e), s, sel);
}

// Descriptor bits (the high dword of a code/data descriptor, as a u64 read).
const D_WRITABLE: u64 = <u64>1 << 41; // data: writable; code: readable
const D_CONFORMING: u64 = <u64>1 << 42;
const D_CODE: u64 = <u64>1 << 43;
const D_S: u64 = <u64>1 << 44; // code or data, not a system descriptor
const D_PRESENT: u64 = <u64>1 << 47;

/**
 * mov Sreg, r/m16 (the decoder has made CS and the reserved registers 6 and 7 #UD). The checks
 * and their order are the architecture's for 64-bit mode:
 *   null selector   SS: #GP(0) at CPL 3, or when RPL != CPL; others load it (FS/GS base 0)
 *   beyond the GDT, or TI set (no LDT)                              #GP(selector)
 *   SS: RPL == CPL, a writable data segment, DPL == CPL; not present #SS(selector)
 *   others: data or readable code; unless conforming code, DPL >= max(CPL, RPL);
 *           not present #NP(selector)
 * Loading SS holds off interrupts for one instruction, as sti does.
 */
export function movSregE(e: usize): void {
  const n = sub(e);
  const sel = <u32>loadE(e, 1);
  if (FAULTED) return;
  const rpl = sel & 3;
  const err = <u64>(sel & 0xFFFC);
  let base: u64 = 0;
  if ((sel & 0xFFFC) == 0) {
    if (n == SREG_SS && (CPL == 3 || rpl != CPL)) { raiseGP(0); return; }
  } else {
    const index = <u64>(sel & 0xFFF8);
    if ((sel & 4) != 0 || index + 7 > <u64>load<u32>(ACTIVE + C_GDT_LIMIT)) { raiseGP(err); return; }
    const d = readSystem(load<u64>(ACTIVE + C_GDT_BASE) + index, 3);
    if (FAULTED) return;
    const dpl = <u32>(d >> 45) & 3;
    if (n == SREG_SS) {
      if (rpl != CPL || (d & (D_S | D_CODE | D_WRITABLE)) != (D_S | D_WRITABLE) || dpl != CPL) { raiseGP(err); return; }
      if ((d & D_PRESENT) == 0) { raise(VECTOR_SS, err, true); return; }
    } else {
      const readable = (d & D_S) != 0 && ((d & D_CODE) == 0 || (d & D_WRITABLE) != 0);
      const conforming = (d & (D_CODE | D_CONFORMING)) == (D_CODE | D_CONFORMING);
      if (!readable || (!conforming && (dpl < CPL || dpl < rpl))) { raiseGP(err); return; }
      if ((d & D_PRESENT) == 0) { raise(VECTOR_NP, err, true); return; }
    }
    base = ((d >> 16) & 0xFF_FFFF) | (((d >> 56) & 0xFF) << 24);
  }
  store<u32>(ACTIVE + selectorField(n), sel);
  if (n == SREG_FS) store<u64>(ACTIVE + C_FS_BASE, base);
  else if (n == SREG_GS) store<u64>(ACTIVE + C_GS_BASE, base);
  else if (n == SREG_SS) {
    // Interrupts and the single-step trap wait until after the next instruction.
    store<u32>(ACTIVE + C_SHADOW, load<u32>(ACTIVE + C_SHADOW) | SHADOW_IRQ);
    updateIrq();
    if ((RF & TF) != 0) skipStepTrap();
  }
}
