// Memory operands that land where they must: inside the data region, on both machines.
//
// An operand is built by choosing a form (register base with optional SIB index, SIB with no
// base, or RIP-relative), a displacement size, a segment override (FS/GS bases differ from 0)
// and possibly 32-bit addressing (67), then solving for whatever is still free: a base or
// index register that nothing has pinned yet gets exactly the value that makes the effective
// address hit a chosen target; with both registers already known, the displacement (or the
// target itself) is derived instead. RSP is a known base too; RSP-relative targets are kept
// well below it so they never overwrite return addresses or pushed values still in use.
import { DATA_BASE, MEM_HI, MEM_LO } from "./layout.js";
import { modrmByte, type RmOperand } from "./encode.js";
import type { Snippet } from "./snippet.js";
import type { Rng } from "./prng.js";

export interface MemRequest {
  /** Bytes the instruction accesses at the effective address. */
  size: number;
  /** Required alignment of the address (it is sometimes broken on purpose when misalign is set). */
  align?: number;
  misalign?: boolean;
  /** Extra room on both sides (bt with a register bit offset reaches around the address). */
  margin?: number;
  /** Make the address non-canonical on purpose (the instruction must fault). */
  nonCanonical?: boolean;
  /**
   * Keep the access inside one 64-byte cache line. For locked accesses: a split lock is a
   * bus lock, which this VM's host throttles to milliseconds apiece.
   */
  oneLine?: boolean;
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const SEGMENTS: [number, number][] = [[70, 0], [10, 0x64], [8, 0x65], [3, 0x2e], [3, 0x3e], [3, 0x26], [3, 0x36]];

function disp32(rng: Rng): bigint {
  return rng.weighted<() => bigint>([
    [3, () => BigInt(rng.range(-256, 256))],
    [2, () => BigInt(rng.range(-0x100000, 0x100000))],
    [2, () => BigInt.asIntN(32, BigInt(rng.u32()))],
  ])();
}

function indexValue(rng: Rng): bigint {
  return rng.weighted<() => bigint>([[4, () => BigInt(rng.range(-64, 64))], [2, () => BigInt(rng.range(-4096, 4096))],
    [1, () => rng.u64()]])();
}

function alignDown(t: number, req: MemRequest, rng: Rng): number {
  const a = req.align ?? 1;
  if (a <= 1 || (req.misalign && rng.chance(0.25))) return t;
  return t & ~(a - 1);
}

/** A target for an explicit memory operand (not RSP-relative). */
function pickTarget(rng: Rng, req: MemRequest): number {
  const m = req.margin ?? 0;
  let t = rng.chance(0.12) && m === 0 && !req.oneLine
    ? 0x1000 - rng.range(1, Math.max(1, req.size - 1))
    : rng.range(MEM_LO + m, MEM_HI - m - req.size - 16);
  t = alignDown(t, req, rng);
  if (req.oneLine && (t & 63) + req.size > 64) t = (t & ~63) + 64 - req.size;
  return DATA_BASE + Math.max(t, MEM_LO + m);
}

const crossesLine = (t: bigint, req: MemRequest) => !!req.oneLine && (t & 63n) + BigInt(req.size) > 64n;

function inRange(t: bigint, req: MemRequest, rsp: bigint | null): boolean {
  const m = BigInt(req.margin ?? 0);
  if (rsp !== null) return t >= rsp - 0x600n && t + BigInt(req.size) <= rsp - 0x200n;
  return t >= BigInt(DATA_BASE + MEM_LO) + m && t + BigInt(req.size) + m <= BigInt(DATA_BASE + MEM_HI);
}

/** Solves a memory operand for `req`, pinning the registers it uses; null after many misses. */
export function memOperand(s: Snippet, req: MemRequest): RmOperand | null {
  for (let attempt = 0; attempt < 16; attempt++) {
    const undo = s.save();
    const m = tryForm(s, req);
    if (m) return m;
    undo();
  }
  return null;
}

function tryForm(s: Snippet, req: MemRequest): RmOperand | null {
  const rng = s.rng;
  const seg = rng.weighted(SEGMENTS);
  const segBase = s.segmentBase(seg);
  const asz32 = rng.chance(0.1);
  const form = rng.weighted<string>([[12, "rip"], [6, "abs"], [82, "reg"]]);
  const prefixes: number[] = [];
  const features = ["mem"];
  if (seg) { prefixes.push(seg); features.push(`seg ${seg.toString(16)}`); }
  if (asz32) { prefixes.push(0x67); features.push("asz32"); }
  const wrap = (v: bigint) => BigInt.asUintN(asz32 ? 32 : 64, v);

  const baseReg = form === "reg" ? rng.int(16) : -1;
  const rsp = baseReg === 4 ? s.rsp() : null;
  if (baseReg === 4 && rsp === null) return null;
  if (req.nonCanonical && (asz32 || form !== "reg" || baseReg === 4)) return null;
  let target = rsp !== null ? BigInt(alignDown(Number(rsp) - rng.range(0x200, 0x600 - req.size), req, rng)) : BigInt(pickTarget(rng, req));
  if (crossesLine(target, req)) return null;
  const ea = U64(target - segBase);
  if (asz32 && ea >> 32n) return null;

  if (form === "rip") {
    if (!inRange(target, req, null) || seg === 0x65) return null; // GS is beyond rel32 reach
    features.push("riprel");
    return { mod: 0, rm: 5, dispSize: 4, disp: 0, rexX: rng.int(2), rexB: rng.int(2), prefixes, ripTarget: ea, target, features };
  }

  const useSib = form === "abs" || baseReg % 8 === 4 || rng.chance(0.25);
  let indexReg = useSib && rng.chance(0.6) ? rng.int(16) : -1;
  if (indexReg === 4 || indexReg === baseReg) indexReg = -1;
  const scale = rng.int(4);
  const mod = form === "abs" ? 0 : baseReg % 8 === 5 ? rng.range(1, 2) : rng.weighted([[20, 0], [45, 1], [35, 2]]);
  const dispSize = form === "abs" || mod === 2 ? 4 : mod === 1 ? 1 : 0;
  let disp = dispSize === 0 ? 0n : dispSize === 1 ? BigInt(rng.range(-128, 127)) : disp32(rng);

  const isNew = (r: number) => r >= 0 && r !== 4 && !s.isPinned(r) && !s.isDirty(r);
  const bNew = isNew(baseReg), xNew = isNew(indexReg);
  let bVal = baseReg < 0 ? 0n : bNew ? 0n : s.known(baseReg);
  let xVal = indexReg < 0 ? 0n : xNew ? indexValue(rng) : s.known(indexReg);
  if (bVal === null || xVal === null) return null;
  const mul = 1n << BigInt(scale);

  if (bNew) {
    bVal = wrap(ea - xVal * mul - disp);
  } else if (xNew) {
    let rest = wrap(ea - bVal - disp);
    const low = rest & (mul - 1n);
    if (low !== 0n) {
      if (dispSize === 0 || (dispSize === 1 && (disp + low > 127n))) return null;
      disp += low;
      rest -= low;
    }
    xVal = rest >> BigInt(scale);
  } else if (dispSize === 4) {
    disp = BigInt.asIntN(asz32 ? 32 : 64, wrap(ea - bVal - xVal * mul));
    if (disp < -(1n << 31n) || disp >= 1n << 31n) return null;
  } else {
    target = U64(wrap(bVal + xVal * mul + disp) + segBase);
    const a = BigInt(req.align ?? 1);
    if (!inRange(target, req, rsp) || (a > 1n && target % a !== 0n && !req.misalign) || crossesLine(target, req)) return null;
  }
  if (asz32) { // 32-bit addressing ignores the upper halves: fill them with garbage
    if (bNew && rng.chance(0.6)) bVal |= rng.u64() << 32n;
    if (xNew && rng.chance(0.6)) xVal |= rng.u64() << 32n;
  }
  if (req.nonCanonical) {
    if (!bNew) return null;
    bVal ^= 1n << 63n;
    features.push("noncanonical");
  }
  if (baseReg >= 0 && baseReg !== 4 && !s.pin(baseReg, bVal)) return null;
  if (indexReg >= 0 && !s.pin(indexReg, xVal)) return null;

  features.push(dispSize === 0 ? "disp0" : dispSize === 1 ? "disp8" : "disp32");
  if (useSib) features.push(form === "abs" ? "sib nobase" : indexReg < 0 ? "sib noindex" : "sib index");
  if (baseReg === 4) features.push("base rsp");
  if (baseReg % 8 === 5) features.push("base rbp/r13");
  const rexB = form === "abs" ? rng.int(2) : baseReg >> 3;
  const rexX = indexReg < 0 ? 0 : indexReg >> 3;
  const sib = useSib ? (scale << 6) | ((indexReg < 0 ? 4 : indexReg & 7) << 3) | (form === "abs" ? 5 : baseReg & 7) : undefined;
  return { mod, rm: useSib ? 4 : baseReg & 7, sib, dispSize, disp: Number(disp), rexX, rexB, prefixes, target, features };
}

/** A memory operand that is never accessed (lea, nop, prefetch): any registers, any shape. */
export function freeMemOperand(rng: Rng): RmOperand {
  const mod = rng.int(3);
  const rm = rng.int(8);
  const sib = rm === 4 ? rng.int(256) : undefined;
  const dispSize = mod === 1 ? 1 : mod === 2 || (mod === 0 && (rm === 5 || (sib !== undefined && (sib & 7) === 5))) ? 4 : 0;
  const disp = dispSize === 1 ? rng.range(-128, 127) : dispSize === 4 ? Number(BigInt.asIntN(32, BigInt(rng.u32()))) : 0;
  const prefixes = rng.chance(0.15) ? [rng.pick([0x64, 0x65, 0x2e, 0x3e])] : [];
  if (rng.chance(0.15)) prefixes.push(0x67);
  return { mod, rm, sib, dispSize: dispSize as 0 | 1 | 4, disp, rexX: rng.int(2), rexB: rng.int(2), prefixes,
    features: ["mem", "unaccessed"] };
}

/** A register operand in the r/m field. */
export function regOperand(r: number): RmOperand {
  return { mod: 3, rm: r & 7, dispSize: 0, disp: 0, rexX: 0, rexB: r >> 3, prefixes: [], features: ["reg"] };
}

export function modrmFor(m: RmOperand, reg: number): number {
  return modrmByte(m.mod, reg, m.rm);
}
