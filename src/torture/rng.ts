// A small deterministic generator for torture plans: a plan is a pure function of (seed,
// iteration), so a failure replays exactly from those two numbers.

export class Rng {
  private s: number;

  constructor(seed: number, stream = 0) {
    // Mix seed and stream (splitmix-style) so nearby iterations get unrelated sequences.
    let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 0x632be5ab, 0xc2b2ae35)) >>> 0;
    x ^= x >>> 16;
    this.s = x || 1;
  }

  /** Next 32-bit value (xorshift32). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.next() % xs.length];
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}
