// A small deterministic generator for torture plans: a plan is a pure function of (seed,
// iteration), so a failure replays exactly from those two numbers. Both are 64-bit: the start
// state is mix64(mix64(seed) ^ iteration), a bijection of either one when the other is fixed,
// so no two seeds give the same plan for an iteration and no two iterations of a seed share
// one. The draws are SplitMix64 (src/machine/random.ts), 32 bits at a time.
import { mix64, splitmixStep } from "../machine/random.js";

export class Rng {
  private s: bigint;

  constructor(seed: bigint, stream = 0n) {
    this.s = mix64(mix64(seed) ^ stream);
  }

  /** Next 32-bit value (the high half of a SplitMix64 output). */
  next(): number {
    this.s = splitmixStep(this.s);
    return Number(mix64(this.s) >> 32n);
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
