// Deterministic randomness shared by both sides of the differential test.
//
// xorshift64* fills each case's data region; the native harness (native/harness.c) runs the
// same recurrence in C, so only the 64-bit seed travels in a case. It is written with 32-bit
// halves instead of BigInt because the emulator side fills 16 KiB per case and BigInt
// arithmetic would make that the slowest part of a 20,000-case run. FNV-1a 64 (the data
// region hash the harness reports) is written the same way for the same reason.

const MUL_HI = 0x2545f491;
const MUL_LO = 0x4f6cdd1d;

/** Writes the low 64 bits of (aHi:aLo) * (bHi:bLo) to out[0] (hi) and out[1] (lo). */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number, out: Uint32Array): void {
  const a0 = aLo & 0xffff, a1 = aLo >>> 16, b0 = bLo & 0xffff, b1 = bLo >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  out[1] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  out[0] = hi + Math.imul(aLo, bHi) + Math.imul(aHi, bLo);
}

export class XorShift64Star {
  private hi: number;
  private lo: number;

  constructor(seed: bigint) {
    const s = BigInt.asUintN(64, seed) || 0x9e3779b97f4a7c15n; // the state must not be zero
    this.hi = Number(s >> 32n);
    this.lo = Number(s & 0xffffffffn);
  }

  /** Advances the state and writes the next output's halves to out[0] (hi), out[1] (lo). */
  nextInto(out: Uint32Array): void {
    let hi = this.hi, lo = this.lo;
    // x ^= x >> 12
    lo ^= (lo >>> 12) | (hi << 20);
    hi ^= hi >>> 12;
    // x ^= x << 25
    hi ^= (hi << 25) | (lo >>> 7);
    lo ^= lo << 25;
    // x ^= x >> 27
    lo ^= (lo >>> 27) | (hi << 5);
    hi ^= hi >>> 27;
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    mul64(this.hi, this.lo, MUL_HI, MUL_LO, out);
  }
}

/**
 * Fills `out` (a multiple of 8 bytes) with the xorshift64* stream of `seed`, little-endian.
 * The recurrence is inlined on locals: this runs for 16 KiB per emulated case.
 */
export function fillData(seed: bigint, out: Uint8Array): void {
  const s = BigInt.asUintN(64, seed) || 0x9e3779b97f4a7c15n;
  let hi = Number(s >> 32n), lo = Number(s & 0xffffffffn);
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  for (let i = 0; i < words.length; i += 2) {
    lo ^= (lo >>> 12) | (hi << 20);
    hi ^= hi >>> 12;
    hi ^= (hi << 25) | (lo >>> 7);
    lo ^= lo << 25;
    lo ^= (lo >>> 27) | (hi << 5);
    hi ^= hi >>> 27;
    hi >>>= 0;
    lo >>>= 0;
    // (hi:lo) * 0x2545F4914F6CDD1D mod 2^64, the low product in 16-bit pieces
    const a0 = lo & 0xffff, a1 = lo >>> 16;
    const p00 = a0 * 0xdd1d, p01 = a0 * 0x4f6c, p10 = a1 * 0xdd1d, p11 = a1 * 0x4f6c;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    words[i] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
    words[i + 1] = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(lo, MUL_HI) + Math.imul(hi, MUL_LO);
  }
}

/**
 * FNV-1a 64 of `bytes`. The state is kept as four 16-bit limbs so every step stays in small
 * integers; multiplying by the prime 2^40 + 0x1b3 is a multiply by 0x1b3 plus a shifted add.
 */
export function fnv1a64(bytes: Uint8Array): bigint {
  let a0 = 0x2325, a1 = 0x8422, a2 = 0x9ce4, a3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    a0 ^= bytes[i];
    const t0 = a0 * 0x1b3;
    const t1 = a1 * 0x1b3 + (t0 >>> 16);
    const t2 = a2 * 0x1b3 + (t1 >>> 16) + (a0 << 8);
    const t3 = a3 * 0x1b3 + (t2 >>> 16) + (a1 << 8);
    a0 = t0 & 0xffff;
    a1 = t1 & 0xffff;
    a2 = t2 & 0xffff;
    a3 = t3 & 0xffff;
  }
  return (BigInt(a3) << 48n) | (BigInt(a2) << 32n) | (BigInt(a1) << 16n) | BigInt(a0);
}

/** The generator's random source: small helpers over the same xorshift64* stream. */
export class Rng {
  private readonly g: XorShift64Star;
  private readonly pair = new Uint32Array(2);

  constructor(seed: bigint) {
    this.g = new XorShift64Star(seed);
  }

  u32(): number {
    this.g.nextInto(this.pair);
    return this.pair[0]; // the high half: xorshift64*'s best bits
  }

  u64(): bigint {
    this.g.nextInto(this.pair);
    return (BigInt(this.pair[0]) << 32n) | BigInt(this.pair[1]);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Picks from [weight, value] pairs. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = (this.u32() / 4294967296) * total;
    for (const [w, v] of choices) {
      if ((r -= w) < 0) return v;
    }
    return choices[choices.length - 1][1];
  }
}
