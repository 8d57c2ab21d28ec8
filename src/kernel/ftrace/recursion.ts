// The host's view of ftrace's recursion guard (firmware/recursion.c): what each kernel stack's
// header says, and what each RECURSION event (a guard decision, when boot reported them) means.
import { EventKind, STACK_MAGIC } from "../../gen/layout.js";
import type { MachineEvent } from "../../machine/events.js";
import type { KernelStacks, KernelStack } from "../stacks.js";

/** The context bits (TRACE_CTX_*) of the per-task scheme, and of mainline's FTRACE bits. */
export const TRACE_CTX = ["NMI", "IRQ", "SOFTIRQ", "NORMAL", "TRANSITION"] as const;

export interface StackState {
  stack: KernelStack;
  inTracing: boolean;
  /** Callback calls made / skipped on this stack. */
  entered: bigint;
  recursions: bigint;
  /** While an IST handler runs for a trap: the stack whose flag it shares. */
  linkedTo?: KernelStack;
  /** The header's magic is gone: something overwrote the bottom of the stack. */
  corrupt: boolean;
}

export function stackStates(stacks: KernelStacks): StackState[] {
  return stacks.all.map((s) => {
    const h = stacks.header(s);
    const link = h.get("link");
    return {
      stack: s, inTracing: h.get("inTracing") !== 0, entered: h.get("entered"), recursions: h.get("recursions"),
      linkedTo: link ? stacks.find(link) : undefined, corrupt: h.get("magic") !== STACK_MAGIC,
    };
  });
}

/** `info stacks`: one line per kernel stack. */
export function describeStacks(stacks: KernelStacks): string {
  const lines = ["stack               range                                  in_tracing  entered  skipped"];
  for (const s of stackStates(stacks)) {
    const range = `0x${s.stack.base.toString(16)}-0x${s.stack.top.toString(16)}`;
    const flag = s.corrupt ? "CORRUPT" : s.inTracing ? "set" : "-";
    const link = s.linkedTo ? `  (shares ${s.linkedTo.name}'s flag)` : "";
    const counts = `${String(s.entered).padStart(8)} ${String(s.recursions).padStart(8)}`;
    lines.push(`${s.stack.name.padEnd(19)} ${range.padEnd(38)} ${flag.padEnd(10)} ${counts}${link}`);
  }
  return lines.join("\n");
}

/** A context bit's name: 0-4 the per-task scheme's or mainline's FTRACE bits, 5-9 mainline's LIST bits. */
export function bitName(bit: number): string {
  return bit < TRACE_CTX.length ? TRACE_CTX[bit] : `LIST ${TRACE_CTX[bit - TRACE_CTX.length]}`;
}

export interface Decision {
  ip: bigint;
  entered: boolean;
  /** per-stack: the stack whose flag decided; per-task and mainline: the context bit taken (or found busy). */
  stack?: KernelStack;
  bit?: string;
  preemptCount: number;
  pid: number;
  cpu: number;
  clock: bigint;
}

/** A RECURSION event as a decision (c < 16 is a context bit, else a stack header). */
export function decision(ev: MachineEvent, stacks: KernelStacks): Decision {
  if (ev.kind !== EventKind.RECURSION) throw new Error("not a RECURSION event");
  const perTask = ev.c < 16n;
  return {
    ip: ev.a, entered: ev.b === 1n, preemptCount: Number(ev.d), pid: Number(ev.e), cpu: ev.cpu === "host" ? -1 : ev.cpu, clock: ev.clock,
    ...(perTask ? { bit: bitName(Number(ev.c)) } : { stack: stacks.find(ev.c) }),
  };
}
