// Long runs in slices. A run that can take long (Interleaver.runForSlices, Kernel.runSlices, a
// scenario, a torture iteration, a user program) is a generator that yields at slice
// boundaries: between rounds of quanta, when a slice of virtual time is over. Whoever drives it
// may do other work there: the CLI lets the event loop in, so Ctrl-C can stop the run at the
// next boundary. Run to the end with finish(), it is exactly the run the synchronous API makes
// (the slices change nothing the machine sees; they only hand control back in between).

/** A run in slices: it yields at each slice boundary and returns its result. */
export type Slices<T> = Generator<void, T, void>;

/** Runs every slice: the synchronous API (Kernel.run, runScenario, runIteration...) is this. */
export function finish<T>(slices: Slices<T>): T {
  for (;;) {
    const r = slices.next();
    if (r.done) return r.value;
  }
}

/**
 * vCPU time (virtual time times the number of vCPUs) a slice covers before it yields: about 4
 * million instructions on busy vCPUs, a few tens of milliseconds of host time.
 */
export const SLICE_TICKS = 4_000_000n;

/** Says when a slice is over; a run asks at the points where it may yield. */
export class SliceTimer {
  private start: bigint;

  constructor(private readonly machine: { readonly time: bigint; readonly ncpus: number }) {
    this.start = machine.time;
  }

  /** A slice's worth of vCPU time has passed since the last boundary (which this makes now). */
  due(): boolean {
    if ((this.machine.time - this.start) * BigInt(this.machine.ncpus) < SLICE_TICKS) return false;
    this.start = this.machine.time;
    return true;
  }
}
