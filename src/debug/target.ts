// What the debugger debugs: the guest kernel (kernelTarget), or a user program run alone as
// `tramplab run PROGRAM` runs it (src/debug/program.ts). The engine, the cursor and the
// checkpoints need only this; the kernel's views (ftrace, tramp, rcu, stacks...) need the kernel
// itself and refuse, naming the program, when there is none.
import type { Kernel } from "../kernel/kernel.js";
import type { Machine } from "../machine/machine.js";
import type { Interleaver, StopReason } from "../machine/interleave.js";
import type { SymbolTable } from "../machine/symbols.js";
import type { LineRow } from "../machine/dwarf-line.js";

export interface DebugTarget {
  readonly machine: Machine;
  readonly symbols: SymbolTable;
  /** The schedule of the vCPUs, with the host's handlers (hypercalls, or a program's system calls). */
  readonly interleaver: Interleaver;
  /** The kernel, when the target is one. */
  readonly kernel?: Kernel;
  /** What the session debugs, for messages: "the guest kernel", "the program ./hello". */
  readonly title: string;
  /** A copy of the host's state besides guest memory (checkpoints keep it). */
  saveState(): unknown;
  /** Puts a state from saveState() back (a copy of it, so it can be restored again). */
  restoreState(saved: unknown): void;
  /** A run stopped for `stop`: note it where the target keeps such things, and say what happened. */
  stopped(stop: StopReason): string;
  /** "firmware/work.c:45": the source line of an address, when the image has DWARF lines. */
  sourceLine(addr: bigint): string | undefined;
  /** The line-table row an address belongs to (its addr: where the line's code starts), for step and next. */
  lineRow(addr: bigint): LineRow | undefined;
  /** gdb's name of the thread that is vCPU `cpu`: "CPU#0 [swapper/0]". */
  threadName(cpu: number): string;
  /** Why the target cannot run any more (a program that exited), or null. */
  finished(): string | null;
  /** The signal a machine stop delivers to a program (gdb's stop replies name it), if it is one. */
  signalOf?(stop: StopReason): number | undefined;
  /** What was added to the file's addresses when it was loaded (a position-independent program). */
  readonly loadBias?: bigint;
}

/** The guest kernel as a debug target. */
export function kernelTarget(kernel: Kernel): DebugTarget {
  return {
    machine: kernel.machine,
    get symbols() { return kernel.symbols; },
    interleaver: kernel.interleaver,
    kernel,
    title: "the guest kernel",
    saveState: () => kernel.saveState(),
    restoreState: (s) => kernel.restoreState(s as ReturnType<Kernel["saveState"]>),
    stopped: (stop) => {
      if (stop.kind === "lockup") kernel.reportLockup(stop.cpu, stop.rip, stop.ticks);
      return kernel.describe(stop);
    },
    sourceLine: (addr) => kernel.sourceLine(addr),
    lineRow: (addr) => kernel.lineRow(addr),
    threadName: (cpu) => `CPU#${cpu} [${kernel.sched.current[cpu]?.name ?? "?"}]`,
    finished: () => null,
  };
}
