// Use-after-free reports: a vCPU executed (or a task returned into) trampoline memory that was
// freed. Said the way a memory-safety report says it: what was accessed, by whom, the call
// trace, what the memory was, who freed it and after which grace periods, and the events that
// led there.
import { EventKind } from "../gen/layout.js";
import type { MachineEvent } from "../machine/events.js";
import type { Oops } from "./oops.js";
import type { Trampoline } from "./ftrace/trampoline.js";
import { describeEvent, type TimelineContext } from "./timeline.js";

export interface UseAfterFree {
  task: string;
  pid: number;
  cpu: number;
  /** The faulting instruction pointer and the address accessed. */
  rip: bigint;
  address: bigint;
  trampoline: Trampoline;
  /** The task came back into the trampoline from its callback (RIP just past the call). */
  returned: boolean;
  clock: bigint;
  text: string;
}

const RULE = "==================================================================";

/** Events worth showing: the task's own switches and faults, and the host's patch, GP and free steps. */
function relevant(ev: MachineEvent, pid: number, cpu: number, since: bigint): boolean {
  if (ev.clock < since) return false;
  switch (ev.kind) {
    case EventKind.SWITCH: return Number(ev.a) === pid || Number(ev.b) === pid;
    case EventKind.EXCEPTION: return ev.cpu === cpu && Number(ev.a) === 14;
    case EventKind.POKE: case EventKind.GP: case EventKind.FREE: case EventKind.TLB_FLUSH: case EventKind.OPS: return true;
    default: return false;
  }
}

export function makeUseAfterFree(oops: Oops, t: Trampoline, clock: bigint, events: readonly MachineEvent[],
  x: TimelineContext, maxLines = 40): UseAfterFree {
  const address = t.addr <= oops.cr2 && oops.cr2 < t.addr + BigInt(t.pages.length * 4096) ? oops.cr2 : oops.rip;
  const fetch = address === oops.rip;
  const returned = oops.rip === t.addr + BigInt(t.callOffset) + 5n;
  const off = address - t.addr;
  const name = `ftrace_trampoline[${t.ops.name}]`;
  const timeline = events.filter((e) => relevant(e, oops.pid, oops.cpu, t.allocatedAt)).map((e) => describeEvent(e, x));
  const shown = timeline.slice(-maxLines);
  const lines = [
    RULE,
    `BUG: use-after-free in ${name}+0x${off.toString(16)} (freed)`,
    `${fetch ? "Instruction fetch" : "Access"} at addr ${address.toString(16).padStart(16, "0")} by task ${oops.task}/${oops.pid} on CPU ${oops.cpu}` +
      (returned ? ": it returned into the trampoline from the callback the trampoline had called" : ""),
    "",
    `RIP: ${fetch ? `${name}+0x${off.toString(16)} (freed)` : x.symbolize(oops.rip)}`,
    "Call Trace:",
    ...oops.backtrace.map((f) => ` ${f}`),
    "",
    `The address is 0x${off.toString(16)} bytes into the dynamic trampoline of ops "${t.ops.name}",`,
    ` [${t.addr.toString(16)}, ${(t.addr + BigInt(t.size)).toString(16)}) in ${t.pages.length} page(s), allocated at ${t.allocatedAt};`,
    ` freed at ${t.freedAt} by ${t.freedBy}.`,
    ` Its pages are unmapped and poisoned; this access came ${clock - (t.freedAt ?? clock)} ticks after the free.`,
    ...(t.heldAtFree?.length ? [" When it was freed, still inside it (IP or return address):", ...t.heldAtFree.map((h) => `   ${h.text}`)] : []),
    "",
    `Timeline (virtual time in ticks)${shown.length < timeline.length ? `, last ${shown.length} of ${timeline.length} events` : ""}:`,
    ...shown,
    RULE,
  ];
  return { task: oops.task, pid: oops.pid, cpu: oops.cpu, rip: oops.rip, address, trampoline: t, returned, clock, text: lines.join("\n") };
}
