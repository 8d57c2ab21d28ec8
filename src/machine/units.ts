// Time for people. The machine counts virtual time in ticks of 1 ns (an instruction retired, or
// a nanosecond spent halted); the guest's local timer interrupts every tick period, and the
// kernel counts those interrupts in jiffies (HZ of them per second). Every text that shows
// either kind of number goes through here, so they read the same everywhere.

/**
 * The longest stretch of virtual time one duration of a scenario file may ask for (its run,
 * within, soft-lockup, fault-sleep, delays and latencies), on top of src/numbers.ts's
 * MAX_DURATION for every duration. The shipped scenarios need at most 250 ms; 10 s of virtual
 * time on 4 busy vCPUs is over ten minutes of host time.
 */
export const MAX_SCENARIO_DURATION = 10_000_000_000n;

const UNITS = [
  { name: "s", ns: 1_000_000_000n, digits: 9 },
  { name: "ms", ns: 1_000_000n, digits: 6 },
  { name: "us", ns: 1000n, digits: 3 },
];

/**
 * Virtual time in the largest unit that keeps it at 1 or more, exactly (no rounding: a run is
 * deterministic to the nanosecond): "1.25 ms", "830 us", "412 ns", "440.123 us", "0 ns".
 */
export function formatTime(ns: bigint | number): string {
  const v = BigInt(ns);
  const sign = v < 0n ? "-" : "";
  const a = v < 0n ? -v : v;
  for (const u of UNITS) {
    if (a < u.ns) continue;
    const frac = a % u.ns;
    const decimals = frac === 0n ? "" : "." + frac.toString().padStart(u.digits, "0").replace(/0+$/, "");
    return `${sign}${a / u.ns}${decimals} ${u.name}`;
  }
  return `${sign}${a} ns`;
}

/** "HZ=50000" for a timer period of 20000 ns (up to two decimals when the period does not divide a second). */
export function formatHz(tickPeriod: number): string {
  return `HZ=${Number((1e9 / tickPeriod).toFixed(2))}`;
}

/** A count of timer ticks: "40 jiffies (800 us at HZ=50000)", "1 jiffy (20 us at HZ=50000)". */
export function formatJiffies(n: number | bigint, tickPeriod: number): string {
  const count = BigInt(n);
  return `${count} ${count === 1n ? "jiffy" : "jiffies"} (${formatTime(count * BigInt(tickPeriod))} at ${formatHz(tickPeriod)})`;
}
