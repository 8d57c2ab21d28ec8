// What a Linux process would die of, for each x86 exception.
import { Vector } from "../gen/layout.js";
import { PF_PRESENT, PF_WRITE, PF_USER, PF_RSVD, PF_FETCH } from "../gen/constants.js";

export const SIGNALS = { SIGILL: 4, SIGTRAP: 5, SIGBUS: 7, SIGFPE: 8, SIGSEGV: 11, SIGXCPU: 24 } as const;
export type SignalName = keyof typeof SIGNALS;

export function signalFor(vector: number): SignalName {
  switch (vector) {
    case Vector.DE: return "SIGFPE";
    case Vector.DB:
    case Vector.BP: return "SIGTRAP";
    case Vector.UD: return "SIGILL";
    case Vector.AC: return "SIGBUS";
    default: return "SIGSEGV"; // #GP, #PF, #SS, and int n through a gate user code may not use
  }
}

const VECTOR_TEXT: Record<number, string> = {
  [Vector.DE]: "divide error (#DE)",
  [Vector.DB]: "debug trap (#DB)",
  [Vector.BP]: "breakpoint (#BP)",
  [Vector.OF]: "overflow (#OF)",
  [Vector.UD]: "invalid opcode (#UD)",
  [Vector.DF]: "double fault (#DF)",
  [Vector.SS]: "stack-segment fault (#SS)",
  [Vector.GP]: "general protection fault (#GP)",
  [Vector.PF]: "page fault (#PF)",
  [Vector.AC]: "alignment check (#AC)",
};

export function describeVector(vector: number): string {
  return VECTOR_TEXT[vector] ?? `exception vector ${vector}`;
}

/**
 * A fault in words: the vector, and what its error code or address says. A #GP whose error
 * code names an IDT entry came from `int n` through a gate user code may not use.
 */
export function describeFault(vector: number, error: bigint, address: bigint): string {
  const what = describeVector(vector);
  if (vector === Vector.PF) return `${what} at 0x${address.toString(16)} (${describePageFault(error)})`;
  if (vector === Vector.GP && (error & 3n) === 2n) {
    return `${what} from int $0x${(error >> 3n).toString(16)}: its IDT gate is for the kernel only ` +
      `(DPL 0, error code 0x${error.toString(16)})`;
  }
  if (vector === Vector.GP && error !== 0n) return `${what} (error code 0x${error.toString(16)})`;
  return what;
}

/** The #PF error code in words. */
export function describePageFault(error: bigint): string {
  const what = error & PF_FETCH ? "executing" : error & PF_WRITE ? "writing" : "reading";
  const why = error & PF_RSVD ? "reserved bit or no RAM" : error & PF_PRESENT ? "protection violation" : "not present";
  const who = error & PF_USER ? "user" : "kernel";
  return `${who} ${what}, ${why}`;
}
