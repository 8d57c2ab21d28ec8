// The decoder: prefixes, opcode maps, ModRM/SIB, displacement and immediate, into a record.
//
// Tables come from tools/opcodes.mjs (gen/opcodes.ts): one packed u64 per opcode slot says
// whether a ModRM byte follows, which immediate, the operand-size rule and which handler runs.
// The decoder fills a DCACHE-sized record (fields E_* in gen/layout) so handlers never look at
// raw bytes. Anything the tables do not list is #UD; more than 15 bytes is #GP.
import {
  E_OP, E_LEN, E_OSZ, E_REG, E_RM, E_MEM, E_BASE, E_INDEX, E_SCALE, E_PFX, E_SUB, E_FLAGS, E_DISP, E_AUX, E_IMM,
  ENTRYFLAG_STACK,
} from "./gen/layout";
import { MAP_ONE_BYTE, MAP_0F, GROUPS, EXACT, F3_VARIANTS } from "./gen/opcodes";
import { REG_ZERO } from "./state";
import { VENDOR } from "./machine";
import { CPUVENDOR_AMD } from "./gen/layout";
// The packed-record bits tools/gen.mjs built the tables with (tools/constants.mjs).
import {
  INFO_ID, INFO_MODRM, INFO_GROUP, INFO_IMM_SHIFT, INFO_SIZE_SHIFT, INFO_REG_BYTE, INFO_RM_BYTE, INFO_LOCKABLE,
  INFO_MEM_ONLY, INFO_REG_ONLY, INFO_ZREG, INFO_F3_VARIANT, INFO_EXACT, INFO_VALID, INFO_RAXRM, INFO_NOSZ16,
  INFO_MODREG, INFO_CC, INFO_END, INFO_SIZED, INFO_NOPREFIX, INFO_NEAR, INFO_SREG, INFO_SREG_DEST,
  IMM_B, IMM_U, IMM_W, IMM_Z, IMM_V, IMM_O, IMM_JB, IMM_JZ, IMM_WU, IMM_ONE,
  SIZE_B, SIZE_W, SIZE_D, SIZE_Q, SIZE_V, SIZE_D64, SIZE_F64,
  MEM_PRESENT, MEM_RIPREL, MEM_ASZ, MEM_FS, MEM_GS, MEM_SLOW,
  PFX_REP, PFX_REPNE, PFX_LOCK, PFX_OSZ, PFX_ASZ, PFX_FS, PFX_GS, PFX_REX,
} from "./gen/constants";

/** Set by decodeInsn: the instruction ends a decoded block. */
export let DECODED_END: bool = false;

/** Results other than a length. */
export const DEC_NEED_MORE: i32 = -1;
export const DEC_UD: i32 = -2;
export const DEC_GP: i32 = -3;

const MAX_LEN: u32 = 15;

/** Register-file byte offset of register r, as an 8-bit operand when byte is set. */
@inline function regOffset(r: u32, byte: bool, rex: u32): u8 {
  if (byte && rex == 0 && r >= 4 && r < 8) return <u8>((r - 4) * 8 + 1); // AH CH DH BH
  return <u8>(r * 8);
}

/**
 * Decodes the instruction at buf (avail valid bytes) into record e. Returns its length, or
 * DEC_NEED_MORE when it runs past avail (< 15), DEC_UD or DEC_GP.
 */
export function decodeInsn(e: usize, buf: usize, avail: u32): i32 {
  let i: u32 = 0;
  let pfx: u32 = 0;
  let rex: u32 = 0;
  let seg: u32 = 0;
  let lastRep: u32 = 0;

  // Legacy prefixes and REX. A REX counts only when the opcode follows it directly.
  let b: u32 = 0;
  while (true) {
    if (i >= avail) return avail < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
    if (i >= MAX_LEN) return DEC_GP;
    b = load<u8>(buf + i);
    if ((b & 0xF0) == 0x40) { rex = b; i++; continue; }
    if (b == 0x66) pfx |= PFX_OSZ;
    else if (b == 0x67) pfx |= PFX_ASZ;
    else if (b == 0xF0) pfx |= PFX_LOCK;
    else if (b == 0xF2 || b == 0xF3) lastRep = b;
    else if (b == 0x64 || b == 0x65) seg = b;
    else if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E) seg = 0;
    else break;
    rex = 0;
    i++;
  }
  if (lastRep == 0xF3) pfx |= PFX_REP;
  else if (lastRep == 0xF2) pfx |= PFX_REPNE;
  if (seg == 0x64) pfx |= PFX_FS;
  else if (seg == 0x65) pfx |= PFX_GS;
  if (rex != 0) pfx |= PFX_REX;
  const rexW = (rex & 8) != 0;
  const rexR: u32 = (rex & 4) << 1;
  const rexX: u32 = (rex & 2) << 2;
  const rexB: u32 = (rex & 1) << 3;

  // Opcode.
  i++;
  let info: u64;
  let opcode = b;
  if (b == 0x0F) {
    if (i >= avail) return avail < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
    opcode = load<u8>(buf + i++);
    if (opcode == 0x38 || opcode == 0x3A) return DEC_UD;
    info = load<u64>(MAP_0F + (<usize>opcode << 3));
  } else if (b == 0x90 && rexB != 0) {
    info = load<u64>(MAP_ONE_BYTE + (<usize>0x91 << 3)); // xchg r8, rax: not a nop
  } else {
    info = load<u64>(MAP_ONE_BYTE + (<usize>b << 3));
  }
  if (info & INFO_F3_VARIANT) {
    info = load<u64>(F3_VARIANTS + (<usize>((info & INFO_ID) * 2 + (lastRep == 0xF3 ? 0 : 1)) << 3));
  }

  // ModRM, and the group or exact table it selects.
  let modrm: u32 = 0;
  if (info & INFO_MODRM) {
    if (i >= avail) return avail < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
    modrm = load<u8>(buf + i++);
    if (info & INFO_GROUP) {
      const reg = (modrm >> 3) & 7;
      const regForm = (modrm >> 6) == 3;
      info = load<u64>(GROUPS + (<usize>((info & INFO_ID) * 16 + (regForm ? 8 : 0) + reg) << 3));
      if (info & INFO_EXACT) info = load<u64>(EXACT + (<usize>((info & INFO_ID) * 8 + (modrm & 7)) << 3));
    }
  }
  if ((info & INFO_VALID) == 0) return DEC_UD;
  if ((info & INFO_NOPREFIX) != 0 && (pfx & PFX_OSZ) != 0 || (info & INFO_NOPREFIX) != 0 && lastRep != 0) return DEC_UD;
  const mod = modrm >> 6;

  // Operand size.
  let osz: u32 = 2;
  const sizeKind = (info >> INFO_SIZE_SHIFT) & 7;
  if (sizeKind == SIZE_B) osz = 0;
  else if (sizeKind == SIZE_W) osz = 1;
  else if (sizeKind == SIZE_D) osz = 2;
  else if (sizeKind == SIZE_Q || sizeKind == SIZE_F64) osz = 3;
  else if (sizeKind == SIZE_V) osz = rexW ? 3 : (pfx & PFX_OSZ) != 0 ? 1 : 2;
  else if (sizeKind == SIZE_D64) osz = rexW ? 3 : (pfx & PFX_OSZ) != 0 ? 1 : 3;
  // Near branches: Intel parts ignore a 66 prefix in 64-bit mode, AMD parts honour it.
  if ((info & INFO_NEAR) != 0 && VENDOR == CPUVENDOR_AMD && (pfx & PFX_OSZ) != 0 && !rexW) osz = 1;
  if ((info & INFO_NOSZ16) != 0 && osz == 1) return DEC_UD;

  // Register operands.
  let reg: u8 = 0;
  let rm: u8 = 0;
  let sub: u32 = 0;
  if (info & INFO_ZREG) {
    reg = regOffset((opcode & 7) | rexB, (info & INFO_REG_BYTE) != 0, rex);
  } else if (info & INFO_MODRM) {
    const r = ((modrm >> 3) & 7) | rexR;
    reg = regOffset(r, (info & INFO_REG_BYTE) != 0, rex);
    sub = info & INFO_MODREG ? r : (modrm >> 3) & 7;
    // mov to and from control registers: CR0, CR2, CR3, CR4 and CR8 exist; the rest are #UD.
    if ((info & INFO_MODREG) != 0 && r != 0 && r != 2 && r != 3 && r != 4 && r != 8) return DEC_UD;
    // Segment registers: ES CS SS DS FS GS (REX.R is ignored); CS cannot be loaded.
    if ((info & INFO_SREG) != 0 && (sub > 5 || (sub == 1 && (info & INFO_SREG_DEST) != 0))) return DEC_UD;
  }
  if (info & INFO_CC) sub = opcode & 15;
  if (info & INFO_RAXRM) rm = 0;

  // Memory operand.
  let mem: u32 = 0;
  let base: u32 = REG_ZERO, index: u32 = REG_ZERO, scale: u32 = 0;
  let disp: i32 = 0;
  if (info & INFO_MODRM) {
    if (mod == 3 || (info & INFO_MODREG) != 0) {
      if (info & INFO_MEM_ONLY) return DEC_UD;
      rm = regOffset((modrm & 7) | rexB, (info & INFO_RM_BYTE) != 0, rex);
    } else {
      if (info & INFO_REG_ONLY) return DEC_UD;
      mem = MEM_PRESENT;
      let dispSize: u32 = mod == 1 ? 1 : mod == 2 ? 4 : 0;
      const rmf = modrm & 7;
      if (rmf == 4) {
        if (i >= avail) return avail < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
        const sib = <u32>load<u8>(buf + i++);
        scale = sib >> 6;
        const idx = ((sib >> 3) & 7) | rexX;
        if (idx != 4) index = idx * 8;
        if ((sib & 7) == 5 && mod == 0) dispSize = 4;
        else base = ((sib & 7) | rexB) * 8;
      } else if (rmf == 5 && mod == 0) {
        mem |= MEM_RIPREL;
        dispSize = 4;
      } else {
        base = (rmf | rexB) * 8;
      }
      if (i + dispSize > avail) return avail < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
      if (dispSize == 1) disp = <i32>load<i8>(buf + i);
      else if (dispSize == 4) disp = load<i32>(buf + i);
      i += dispSize;
      if (pfx & PFX_ASZ) mem |= MEM_ASZ;
      if (pfx & PFX_FS) mem |= MEM_FS;
      if (pfx & PFX_GS) mem |= MEM_GS;
      if (mem != MEM_PRESENT) mem |= MEM_SLOW;
    }
  }

  // Immediate.
  let imm: u64 = 0;
  let aux: u32 = 0;
  let immSize: u32 = 0;
  const immKind = (info >> INFO_IMM_SHIFT) & 15;
  if (immKind == IMM_B || immKind == IMM_U || immKind == IMM_JB) immSize = 1;
  else if (immKind == IMM_W) immSize = 2;
  else if (immKind == IMM_WU) immSize = 3;
  else if (immKind == IMM_Z) immSize = osz == 1 ? 2 : 4;
  else if (immKind == IMM_JZ) immSize = osz == 1 ? 2 : 4;
  else if (immKind == IMM_V) immSize = osz == 3 ? 8 : osz == 1 ? 2 : 4;
  else if (immKind == IMM_O) immSize = (pfx & PFX_ASZ) != 0 ? 4 : 8;
  if (i + immSize > avail) return avail < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
  const p = buf + i;
  if (immKind == IMM_B || immKind == IMM_JB) imm = <u64><i64>load<i8>(p);
  else if (immKind == IMM_U) imm = <u64>load<u8>(p);
  else if (immKind == IMM_W) imm = <u64>load<u16>(p);
  else if (immKind == IMM_WU) { imm = <u64>load<u16>(p); aux = load<u8>(p, 2); }
  else if (immKind == IMM_Z) imm = immSize == 2 ? <u64><i64>load<i16>(p) : <u64><i64>load<i32>(p);
  else if (immKind == IMM_JZ) imm = immSize == 2 ? <u64><i64>load<i16>(p) : <u64><i64>load<i32>(p);
  else if (immKind == IMM_V) imm = immSize == 8 ? load<u64>(p) : immSize == 2 ? <u64>load<u16>(p) : <u64>load<u32>(p);
  else if (immKind == IMM_O) imm = immSize == 8 ? load<u64>(p) : <u64>load<u32>(p);
  else if (immKind == IMM_ONE) imm = 1;
  i += immSize;
  if (i > MAX_LEN) return DEC_GP;

  // LOCK is legal only on the read-modify-write forms that name memory.
  if ((pfx & PFX_LOCK) != 0 && ((info & INFO_LOCKABLE) == 0 || mem == 0)) return DEC_UD;

  let op = <u32>(info & INFO_ID);
  if (info & INFO_SIZED) op += osz - 1;
  else if ((info & INFO_NEAR) != 0 && osz == 3) op += 1;
  DECODED_END = (info & INFO_END) != 0;
  store<u16>(e + E_OP, <u16>op);
  store<u8>(e + E_LEN, <u8>i);
  store<u8>(e + E_OSZ, <u8>osz);
  store<u8>(e + E_REG, reg);
  store<u8>(e + E_RM, rm);
  store<u8>(e + E_MEM, <u8>mem);
  store<u8>(e + E_BASE, <u8>base);
  store<u8>(e + E_INDEX, <u8>index);
  store<u8>(e + E_SCALE, <u8>scale);
  store<u8>(e + E_PFX, <u8>pfx);
  store<u8>(e + E_SUB, <u8>sub);
  // A memory operand based on RSP or RBP is SS-relative: a non-canonical address there is #SS.
  const stack = mem != 0 && (base == 32 || base == 40) && (mem & (MEM_FS | MEM_GS)) == 0;
  store<u8>(e + E_FLAGS, stack ? <u8>ENTRYFLAG_STACK : 0);
  store<i32>(e + E_DISP, disp);
  store<u32>(e + E_AUX, aux);
  store<u64>(e + E_IMM, imm);
  return <i32>i;
}
