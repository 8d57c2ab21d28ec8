// Ctrl-C for the long runs of run, scenario and torture. Their runs come in slices
// (src/machine/slices.ts); between slices the event loop gets a turn, so a SIGINT is seen,
// and the run stops at the next slice boundary. The command then prints one line saying so
// and exits 130 (128 + SIGINT, what a shell shows for a process Ctrl-C ended).
import type { Slices } from "../machine/slices.js";

/** The exit status after Ctrl-C. */
export const INTERRUPTED = 130;

/**
 * Catches SIGINT from its creation until close(): the process then no longer ends at once on
 * Ctrl-C, but runs driven by run() stop at their next slice boundary.
 */
export class Interrupts {
  /** A SIGINT came. */
  requested = false;
  private readonly onSigint = () => { this.requested = true; };

  constructor() {
    process.on("SIGINT", this.onSigint);
  }

  close(): void {
    process.off("SIGINT", this.onSigint);
  }

  /**
   * Runs every slice and returns the run's result, or undefined when SIGINT came first (before
   * it or at a slice boundary: the rest of the run is not carried out).
   */
  async run<T>(slices: Slices<T>): Promise<T | undefined> {
    for (;;) {
      if (this.requested) return undefined;
      const r = slices.next();
      if (r.done) return r.value;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/** Runs `body` with SIGINT caught (Interrupts), and stops catching it afterwards. */
export async function withInterrupts<T>(body: (i: Interrupts) => Promise<T>): Promise<T> {
  const i = new Interrupts();
  try {
    return await body(i);
  } finally {
    i.close();
  }
}

/** The one line printed when Ctrl-C stopped a command: `tramplab COMMAND: interrupted (SIGINT) WHERE`. */
export function interruptedNote(command: string, where: string): string {
  return `tramplab ${command}: interrupted (SIGINT) ${where}\n`;
}
