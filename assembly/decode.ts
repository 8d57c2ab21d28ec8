// The decoder: prefixes, opcode maps, ModRM/SIB, displacement and immediate, into a record.
//
// decodeInsn runs one small scanner per part of the encoding, in order: prefixes, opcode,
// ModRM (and the group or exact table it selects), operand size, register operands, memory
// operand (SIB, displacement), immediate; then it writes the record. The scanners share the
// instruction being decoded through the D_* globals below; each returns 0 or a DEC_* code.
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
  INFO_MEM_ONLY, INFO_REG_ONLY, INFO_ZREG, INFO_F3_VARIANT, INFO_EXACT, INFO_VALID, INFO_NOSZ16,
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

// ---------------------------------------------------------------- the instruction being decoded

let D_BUF: usize = 0;      // its bytes
let D_AVAIL: u32 = 0;      // how many of them are valid
let D_POS: u32 = 0;        // the next byte to scan
let D_PFX: u32 = 0;        // PFX_* bits
let D_REX: u32 = 0;        // the REX byte, or 0
let D_LAST_REP: u32 = 0;   // the last of F2/F3, or 0
let D_OPCODE: u32 = 0;     // the opcode byte (after 0F)
let D_INFO: u64 = 0;       // its decode info (INFO_*)
let D_MODRM: u32 = 0;      // the ModRM byte, or 0
let D_OSZ: u32 = 0;        // operand size: 0 = 8, 1 = 16, 2 = 32, 3 = 64 bits
let D_REG: u32 = 0, D_RM: u32 = 0, D_SUB: u32 = 0;
let D_MEM: u32 = 0, D_BASE: u32 = 0, D_INDEX: u32 = 0, D_SCALE: u32 = 0, D_DISP: i32 = 0;
let D_IMM: u64 = 0, D_AUX: u32 = 0;

/** What running out of bytes means: more may come (fewer than 15 were given), or it is too long. */
@inline function tooShort(): i32 {
  return D_AVAIL < MAX_LEN ? DEC_NEED_MORE : DEC_GP;
}

@inline function has(info: u64): bool {
  return (D_INFO & info) != 0;
}

/**
 * Decodes the instruction at buf (avail valid bytes) into record e. Returns its length, or
 * DEC_NEED_MORE when it runs past avail (< 15), DEC_UD or DEC_GP.
 */
export function decodeInsn(e: usize, buf: usize, avail: u32): i32 {
  D_BUF = buf;
  D_AVAIL = avail;
  D_POS = 0;
  let r = scanPrefixes();
  if (r == 0) r = scanOpcode();
  if (r == 0) r = scanModrm();
  if (r == 0) r = operandSize();
  if (r == 0) r = registerOperands();
  if (r == 0) r = memoryOperand();
  if (r == 0) r = scanImmediate();
  if (r != 0) return r;
  if (D_POS > MAX_LEN) return DEC_GP;
  // LOCK is legal only on the read-modify-write forms that name memory.
  if ((D_PFX & PFX_LOCK) != 0 && (!has(INFO_LOCKABLE) || D_MEM == 0)) return DEC_UD;
  writeRecord(e);
  return <i32>D_POS;
}

/** Legacy prefixes and REX; leaves D_POS at the opcode. A REX counts only right before it. */
function scanPrefixes(): i32 {
  let pfx: u32 = 0, rex: u32 = 0, seg: u32 = 0, lastRep: u32 = 0;
  while (true) {
    if (D_POS >= D_AVAIL) return tooShort();
    if (D_POS >= MAX_LEN) return DEC_GP;
    const b = <u32>load<u8>(D_BUF + D_POS);
    if ((b & 0xF0) == 0x40) { rex = b; D_POS++; continue; }
    if (b == 0x66) pfx |= PFX_OSZ;
    else if (b == 0x67) pfx |= PFX_ASZ;
    else if (b == 0xF0) pfx |= PFX_LOCK;
    else if (b == 0xF2 || b == 0xF3) lastRep = b;
    else if (b == 0x64 || b == 0x65) seg = b;
    else if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E) seg = 0;
    else break;
    rex = 0;
    D_POS++;
  }
  if (lastRep == 0xF3) pfx |= PFX_REP;
  else if (lastRep == 0xF2) pfx |= PFX_REPNE;
  if (seg == 0x64) pfx |= PFX_FS;
  else if (seg == 0x65) pfx |= PFX_GS;
  if (rex != 0) pfx |= PFX_REX;
  D_PFX = pfx;
  D_REX = rex;
  D_LAST_REP = lastRep;
  return 0;
}

@inline function rexW(): bool { return (D_REX & 8) != 0; }
@inline function rexR(): u32 { return (D_REX & 4) << 1; }
@inline function rexX(): u32 { return (D_REX & 2) << 2; }
@inline function rexB(): u32 { return (D_REX & 1) << 3; }

/** The opcode byte (two with 0F) and its decode info, through the F3-variant table. */
function scanOpcode(): i32 {
  const b = <u32>load<u8>(D_BUF + D_POS++);
  let info: u64;
  D_OPCODE = b;
  if (b == 0x0F) {
    if (D_POS >= D_AVAIL) return tooShort();
    D_OPCODE = load<u8>(D_BUF + D_POS++);
    if (D_OPCODE == 0x38 || D_OPCODE == 0x3A) return DEC_UD;
    info = load<u64>(MAP_0F + (<usize>D_OPCODE << 3));
  } else if (b == 0x90 && rexB() != 0) {
    info = load<u64>(MAP_ONE_BYTE + (<usize>0x91 << 3)); // xchg r8, rax: not a nop
  } else {
    info = load<u64>(MAP_ONE_BYTE + (<usize>b << 3));
  }
  if (info & INFO_F3_VARIANT) {
    info = load<u64>(F3_VARIANTS + (<usize>((info & INFO_ID) * 2 + (D_LAST_REP == 0xF3 ? 0 : 1)) << 3));
  }
  D_INFO = info;
  return 0;
}

/** The ModRM byte, and the group or exact table it selects; then whether the encoding exists. */
function scanModrm(): i32 {
  D_MODRM = 0;
  if (has(INFO_MODRM)) {
    if (D_POS >= D_AVAIL) return tooShort();
    const modrm = <u32>load<u8>(D_BUF + D_POS++);
    D_MODRM = modrm;
    if (has(INFO_GROUP)) {
      const regForm = (modrm >> 6) == 3;
      D_INFO = load<u64>(GROUPS + (<usize>((D_INFO & INFO_ID) * 16 + (regForm ? 8 : 0) + ((modrm >> 3) & 7)) << 3));
      if (has(INFO_EXACT)) D_INFO = load<u64>(EXACT + (<usize>((D_INFO & INFO_ID) * 8 + (modrm & 7)) << 3));
    }
  }
  if (!has(INFO_VALID)) return DEC_UD;
  if (has(INFO_NOPREFIX) && ((D_PFX & PFX_OSZ) != 0 || D_LAST_REP != 0)) return DEC_UD;
  return 0;
}

/** The operand size the opcode's rule, 66 and REX.W give. */
function operandSize(): i32 {
  const rule = (D_INFO >> INFO_SIZE_SHIFT) & 7;
  const o16 = (D_PFX & PFX_OSZ) != 0;
  let osz: u32 = 2;
  if (rule == SIZE_B) osz = 0;
  else if (rule == SIZE_W) osz = 1;
  else if (rule == SIZE_D) osz = 2;
  else if (rule == SIZE_Q || rule == SIZE_F64) osz = 3;
  else if (rule == SIZE_V) osz = rexW() ? 3 : o16 ? 1 : 2;
  else if (rule == SIZE_D64) osz = rexW() ? 3 : o16 ? 1 : 3;
  // Near branches: Intel parts ignore a 66 prefix in 64-bit mode, AMD parts honour it.
  if (has(INFO_NEAR) && VENDOR == CPUVENDOR_AMD && o16 && !rexW()) osz = 1;
  if (has(INFO_NOSZ16) && osz == 1) return DEC_UD;
  D_OSZ = osz;
  return 0;
}

/** The register operands: ModRM.reg (or the opcode's low bits), a control or segment register. */
function registerOperands(): i32 {
  D_REG = 0;
  D_RM = 0; // RAX: what INFO_RAXRM forms (which have no ModRM) keep
  D_SUB = 0;
  if (has(INFO_ZREG)) {
    D_REG = regOffset((D_OPCODE & 7) | rexB(), has(INFO_REG_BYTE), D_REX);
  } else if (has(INFO_MODRM)) {
    const digit = (D_MODRM >> 3) & 7;
    const r = digit | rexR();
    D_REG = regOffset(r, has(INFO_REG_BYTE), D_REX);
    D_SUB = has(INFO_MODREG) ? r : digit;
    // mov to and from control registers: CR0, CR2, CR3, CR4 and CR8 exist; the rest are #UD.
    if (has(INFO_MODREG) && r != 0 && r != 2 && r != 3 && r != 4 && r != 8) return DEC_UD;
    // Segment registers: ES CS SS DS FS GS (REX.R is ignored); CS cannot be loaded.
    if (has(INFO_SREG) && (D_SUB > 5 || (D_SUB == 1 && has(INFO_SREG_DEST)))) return DEC_UD;
  }
  if (has(INFO_CC)) D_SUB = D_OPCODE & 15;
  return 0;
}

/** The r/m operand: a register, or a memory operand with its SIB byte and displacement. */
function memoryOperand(): i32 {
  D_MEM = 0;
  D_BASE = REG_ZERO;
  D_INDEX = REG_ZERO;
  D_SCALE = 0;
  D_DISP = 0;
  if (!has(INFO_MODRM)) return 0;
  const mod = D_MODRM >> 6;
  if (mod == 3 || has(INFO_MODREG)) {
    if (has(INFO_MEM_ONLY)) return DEC_UD;
    D_RM = regOffset((D_MODRM & 7) | rexB(), has(INFO_RM_BYTE), D_REX);
    return 0;
  }
  if (has(INFO_REG_ONLY)) return DEC_UD;
  let mem: u32 = MEM_PRESENT;
  let dispSize: u32 = mod == 1 ? 1 : mod == 2 ? 4 : 0;
  const rmf = D_MODRM & 7;
  if (rmf == 4) {
    if (D_POS >= D_AVAIL) return tooShort();
    const sib = <u32>load<u8>(D_BUF + D_POS++);
    D_SCALE = sib >> 6;
    const idx = ((sib >> 3) & 7) | rexX();
    if (idx != 4) D_INDEX = idx * 8;
    if ((sib & 7) == 5 && mod == 0) dispSize = 4;
    else D_BASE = ((sib & 7) | rexB()) * 8;
  } else if (rmf == 5 && mod == 0) {
    mem |= MEM_RIPREL;
    dispSize = 4;
  } else {
    D_BASE = (rmf | rexB()) * 8;
  }
  if (D_POS + dispSize > D_AVAIL) return tooShort();
  if (dispSize == 1) D_DISP = <i32>load<i8>(D_BUF + D_POS);
  else if (dispSize == 4) D_DISP = load<i32>(D_BUF + D_POS);
  D_POS += dispSize;
  if (D_PFX & PFX_ASZ) mem |= MEM_ASZ;
  if (D_PFX & PFX_FS) mem |= MEM_FS;
  if (D_PFX & PFX_GS) mem |= MEM_GS;
  if (mem != MEM_PRESENT) mem |= MEM_SLOW;
  D_MEM = mem;
  return 0;
}

/** The immediate: its size from the opcode's kind and the operand or address size. */
function scanImmediate(): i32 {
  const kind = (D_INFO >> INFO_IMM_SHIFT) & 15;
  const osz = D_OSZ;
  let size: u32 = 0;
  if (kind == IMM_B || kind == IMM_U || kind == IMM_JB) size = 1;
  else if (kind == IMM_W) size = 2;
  else if (kind == IMM_WU) size = 3;
  else if (kind == IMM_Z || kind == IMM_JZ) size = osz == 1 ? 2 : 4;
  else if (kind == IMM_V) size = osz == 3 ? 8 : osz == 1 ? 2 : 4;
  else if (kind == IMM_O) size = (D_PFX & PFX_ASZ) != 0 ? 4 : 8;
  if (D_POS + size > D_AVAIL) return tooShort();
  const p = D_BUF + D_POS;
  let imm: u64 = 0;
  D_AUX = 0;
  if (kind == IMM_B || kind == IMM_JB) imm = <u64><i64>load<i8>(p);
  else if (kind == IMM_U) imm = <u64>load<u8>(p);
  else if (kind == IMM_W) imm = <u64>load<u16>(p);
  else if (kind == IMM_WU) { imm = <u64>load<u16>(p); D_AUX = load<u8>(p, 2); }
  else if (kind == IMM_Z || kind == IMM_JZ) imm = size == 2 ? <u64><i64>load<i16>(p) : <u64><i64>load<i32>(p);
  else if (kind == IMM_V) imm = size == 8 ? load<u64>(p) : size == 2 ? <u64>load<u16>(p) : <u64>load<u32>(p);
  else if (kind == IMM_O) imm = size == 8 ? load<u64>(p) : <u64>load<u32>(p);
  else if (kind == IMM_ONE) imm = 1;
  D_IMM = imm;
  D_POS += size;
  return 0;
}

/** Writes the decoded instruction into record e (fields E_* in gen/layout). */
function writeRecord(e: usize): void {
  let op = <u32>(D_INFO & INFO_ID);
  if (has(INFO_SIZED)) op += D_OSZ - 1;
  else if (has(INFO_NEAR) && D_OSZ == 3) op += 1;
  DECODED_END = has(INFO_END);
  store<u16>(e + E_OP, <u16>op);
  store<u8>(e + E_LEN, <u8>D_POS);
  store<u8>(e + E_OSZ, <u8>D_OSZ);
  store<u8>(e + E_REG, <u8>D_REG);
  store<u8>(e + E_RM, <u8>D_RM);
  store<u8>(e + E_MEM, <u8>D_MEM);
  store<u8>(e + E_BASE, <u8>D_BASE);
  store<u8>(e + E_INDEX, <u8>D_INDEX);
  store<u8>(e + E_SCALE, <u8>D_SCALE);
  store<u8>(e + E_PFX, <u8>D_PFX);
  store<u8>(e + E_SUB, <u8>D_SUB);
  // A memory operand based on RSP or RBP is SS-relative: a non-canonical address there is #SS.
  const stack = D_MEM != 0 && (D_BASE == 32 || D_BASE == 40) && (D_MEM & (MEM_FS | MEM_GS)) == 0;
  store<u8>(e + E_FLAGS, stack ? <u8>ENTRYFLAG_STACK : 0);
  store<i32>(e + E_DISP, D_DISP);
  store<u32>(e + E_AUX, D_AUX);
  store<u64>(e + E_IMM, D_IMM);
}
