// Which flags an instruction leaves architecturally undefined, so the comparison can ignore
// exactly those and the generator can avoid reading them.
//
// iced-x86 answers for most instructions. For shifts and rotates its answer cannot depend on
// the count, but the SDM's does, so with a known count (immediate or pinned CL) the rules
// below replace it:
//   masked count 0       no flag changes at all (not even "undefined" ones)
//   ROL ROR RCL RCR      CF defined; OF defined only for a masked count of 1
//   SHL SAL SHR SAR      SF ZF PF CF defined, AF undefined; OF defined only for count 1;
//                        CF undefined for SHL/SHR when the count is >= the operand width
//   SHLD SHRD            CF SF ZF PF defined, AF undefined; OF only for count 1; for 16-bit
//                        operands a count above 16 leaves result and flags undefined (the
//                        generator never makes one)
import { F, STATUS_FLAGS, type InsnInfo } from "./iced.js";

export interface FlagEffect {
  read: number;
  defined: number;
  undefined: number;
}

const ROTATES = new Set(["rol", "ror", "rcl", "rcr"]);
const SHIFTS = new Set(["shl", "sal", "shr", "sar"]);

/** Whether `mnemonic` (iced's, lower case) is one of the count-dependent instructions. */
export function isCountShift(mnemonic: string): boolean {
  return ROTATES.has(mnemonic) || SHIFTS.has(mnemonic) || mnemonic === "shld" || mnemonic === "shrd";
}

/** Flag effect of a shift or rotate of a `width`-bit operand by `count` (before masking). */
export function shiftEffect(mnemonic: string, width: number, count: number): FlagEffect {
  const m = count & (width === 64 ? 63 : 31);
  const read = mnemonic === "rcl" || mnemonic === "rcr" ? F.CF : 0;
  if (m === 0) return { read, defined: 0, undefined: 0 };
  const of1 = m === 1 ? F.OF : 0;
  const ofX = m === 1 ? 0 : F.OF;
  if (ROTATES.has(mnemonic)) return { read, defined: F.CF | of1, undefined: ofX };
  if (SHIFTS.has(mnemonic)) {
    const cfUndefined = mnemonic !== "sar" && m >= width;
    const cf = cfUndefined ? 0 : F.CF;
    return { read, defined: F.SF | F.ZF | F.PF | cf | of1, undefined: F.AF | ofX | (cfUndefined ? F.CF : 0) };
  }
  if (width === 16 && m > 16) return { read, defined: 0, undefined: STATUS_FLAGS };
  return { read, defined: F.CF | F.SF | F.ZF | F.PF | of1, undefined: F.AF | ofX };
}

/** The effect to plan with: iced's, or the count rule when the count is known. */
export function flagEffect(info: InsnInfo, shift?: { width: number; count: number }): FlagEffect {
  if (shift && isCountShift(info.mnemonic)) return shiftEffect(info.mnemonic, shift.width, shift.count);
  return { read: info.flagsRead, defined: info.flagsDefined & ~info.flagsUndefined, undefined: info.flagsUndefined };
}

/** Undefined-flag set after an instruction with effect `e` runs in state `undef`. */
export function applyEffect(undef: number, e: FlagEffect): number {
  return (undef & ~e.defined) | e.undefined;
}

const NAMES: [string, number][] = [["CF", F.CF], ["PF", F.PF], ["AF", F.AF], ["ZF", F.ZF], ["SF", F.SF],
  ["TF", F.TF], ["IF", F.IF], ["DF", F.DF], ["OF", F.OF], ["NT", 1 << 14], ["RF", 1 << 16], ["AC", 1 << 18], ["ID", 1 << 21]];

/** "CF ZF" style names of the set bits (unnamed bits as bitN). */
export function flagNames(bits: number | bigint): string {
  const b = Number(BigInt.asUintN(32, BigInt(bits)));
  const out: string[] = [];
  for (let i = 0; i < 32; i++) {
    if (!(b & (1 << i))) continue;
    const n = NAMES.find(([, v]) => v === 1 << i);
    out.push(n ? n[0] : `bit${i}`);
  }
  return out.join(" ") || "-";
}
