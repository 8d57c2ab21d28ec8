// SplitMix64, the seeded generator behind the interleaving of vCPUs and torture plans. Its state
// is any 64-bit value (zero included) and each step is a bijection of it, so every seed from 0
// to 2^64 - 1 starts a stream of its own: no two seeds are the same seed.

const MASK = (1n << 64n) - 1n;
/** The step added to the state each draw (2^64 divided by the golden ratio, odd). */
const GAMMA = 0x9e3779b97f4a7c15n;

/** SplitMix64's finalizer: a bijection of 64-bit values that spreads every input bit over the output. */
export function mix64(x: bigint): bigint {
  let z = x & MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

/** The state after `state`. */
export function splitmixStep(state: bigint): bigint {
  return (state + GAMMA) & MASK;
}
