// Argument parsing shared by the commands.

export class UsageError extends Error {}

/** "50ms", "200us", "1s", "3ns" or a plain number, which is ns (one tick of virtual time). */
export function parseDuration(v: string | undefined): bigint {
  const m = v ? /^(\d+)(ns|us|ms|s)?$/.exec(v) : null;
  if (!m) throw new UsageError(`--time needs a duration like 50ms, 200us, 1s or a plain number of ns, got ${v ?? "nothing"}`);
  const scale = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n }[(m[2] ?? "ns") as "ns"];
  return BigInt(m[1]) * scale;
}
