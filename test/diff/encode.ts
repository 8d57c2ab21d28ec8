// Assembling one instruction from its parts, and the value distributions used for
// immediates and initial registers.
import type { Rng } from "./prng.js";

/** A memory or register operand in ModRM form, as memory.ts produces it. */
export interface RmOperand {
  mod: number;
  rm: number;
  sib?: number;
  dispSize: 0 | 1 | 4;
  disp: number;
  rexX: number;
  rexB: number;
  /** Segment override and address-size prefixes the operand needs. */
  prefixes: number[];
  /** RIP-relative: the effective address the displacement must reach (patched at layout). */
  ripTarget?: bigint;
  /** The linear address accessed, when the operand was solved for one. */
  target?: bigint;
  features: string[];
}

export interface Parts {
  /** Legacy prefixes, emitted in this order. */
  legacy: number[];
  /** REX byte (0x40-0x4F) or 0 for none. */
  rex: number;
  opcode: number[];
  modrm?: number;
  rmOperand?: RmOperand;
  imms: { size: number; value: bigint }[];
}

export interface Assembled {
  bytes: number[];
  /** Offset of the displacement field (for RIP-relative fixups), or -1. */
  dispAt: number;
  /** Offsets of the immediate fields. */
  immAt: number[];
}

export function le(value: bigint, size: number): number[] {
  const v = BigInt.asUintN(size * 8, value);
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(Number((v >> BigInt(i * 8)) & 0xffn));
  return out;
}

export function modrmByte(mod: number, reg: number, rm: number): number {
  return ((mod & 3) << 6) | ((reg & 7) << 3) | (rm & 7);
}

export function assemble(p: Parts): Assembled {
  const bytes = [...p.legacy];
  if (p.rex) bytes.push(p.rex);
  bytes.push(...p.opcode);
  let dispAt = -1;
  if (p.modrm !== undefined) {
    bytes.push(p.modrm);
    const m = p.rmOperand;
    if (m?.sib !== undefined) bytes.push(m.sib);
    if (m && m.dispSize) {
      dispAt = bytes.length;
      bytes.push(...le(BigInt(m.disp), m.dispSize));
    }
  }
  const immAt: number[] = [];
  for (const imm of p.imms) {
    immAt.push(bytes.length);
    bytes.push(...le(imm.value, imm.size));
  }
  return { bytes, dispAt, immAt };
}

/** Randomly ordered legacy prefixes: the CPU accepts them in any order. */
export function shuffled(rng: Rng, prefixes: number[]): number[] {
  const a = [...new Set(prefixes)];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const mask = (bits: number) => (1n << BigInt(bits)) - 1n;

/** A value of `bits` width biased toward the edges where flags change. */
export function interesting(rng: Rng, bits: number): bigint {
  const top = 1n << BigInt(bits - 1);
  return rng.weighted<() => bigint>([
    [3, () => rng.u64() & mask(bits)],
    [1, () => BigInt(rng.int(16))],
    [1, () => mask(bits) - BigInt(rng.int(4))],
    [1, () => top + BigInt(rng.int(3)) - 1n],
    [1, () => BigInt(rng.int(256))],
  ])() & mask(bits);
}

/** An initial register value: any width of interesting value, sign- or zero-extended. */
export function randomRegValue(rng: Rng): bigint {
  const bits = rng.pick([8, 16, 32, 64, 64, 64]);
  const v = interesting(rng, bits);
  if (bits < 64 && rng.chance(0.3)) return BigInt.asUintN(64, BigInt.asIntN(bits, v));
  if (bits < 64 && rng.chance(0.3)) return v | (rng.u64() & ~mask(bits)); // garbage above
  return v;
}

/** An immediate of `size` bytes. */
export function immValue(rng: Rng, size: number): bigint {
  return interesting(rng, size * 8);
}
