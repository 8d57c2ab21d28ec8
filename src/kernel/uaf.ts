// Use-after-free reports: a vCPU executed freed trampoline memory (or a task returned into
// it), or read or wrote a freed guarded object (an ftrace_ops, a hash). Said the way a
// memory-safety report says it: what was accessed and how, by whom, the call trace, what the
// memory was, who freed it and after which grace periods, and the events that led there.
import { EventKind } from "../gen/layout.js";
import { PF_WRITE, PF_FETCH } from "../gen/constants.js";
import type { MachineEvent } from "../machine/events.js";
import { formatTime } from "../machine/units.js";
import type { Oops } from "./oops.js";
import type { Trampoline } from "./ftrace/trampoline.js";
import type { GuardedBlock } from "./heap.js";
import type { LoadedModule } from "./module/loader.js";
import { describeEvent, type TimelineContext } from "./timeline.js";

/** What was freed: a dynamic trampoline or a guarded heap object, described alike. */
export interface FreedObject {
  /** "the dynamic trampoline of ops \"x\"", "ftrace_ops ops0". */
  what: string;
  start: bigint;
  size: number;
  /** Bytes of pages it occupied (all unmapped now). */
  span: number;
  allocatedAt: bigint;
  freedAt?: bigint;
  freedBy?: string;
  /** Tasks found pointing into it when it was freed. */
  heldAtFree?: { text: string }[];
  trampoline?: Trampoline;
}

export function freedTrampoline(t: Trampoline): FreedObject {
  const what = t.kind === "ops-code" ? "the per-ops code (behind a permanent trampoline)" : "the dynamic trampoline";
  return { what: `${what} of ops "${t.ops.name}"`, start: t.addr, size: t.size, span: t.pages.length * 4096,
    allocatedAt: t.allocatedAt, freedAt: t.freedAt, freedBy: t.freedBy, heldAtFree: t.heldAtFree, trampoline: t };
}

export function freedBlock(b: GuardedBlock): FreedObject {
  return { what: b.what, start: b.va, size: b.size, span: b.pages.length * 4096,
    allocatedAt: b.allocatedAt, freedAt: b.freedAt, freedBy: b.freedBy };
}

export function freedModule(m: LoadedModule): FreedObject {
  const start = m.bases.text;
  const span = m.pages.length * 4096;
  return { what: `module ${m.name}`, start, size: span, span, allocatedAt: m.loadedAt, freedAt: m.freedAt, freedBy: m.freedBy };
}

export interface UseAfterFree {
  task: string;
  pid: number;
  cpu: number;
  /** The faulting instruction pointer and the address accessed. */
  rip: bigint;
  address: bigint;
  access: "fetch" | "read" | "write";
  object: FreedObject;
  /** Set when the freed object is a trampoline. */
  trampoline?: Trampoline;
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

export function makeUseAfterFree(oops: Oops, o: FreedObject, clock: bigint, events: readonly MachineEvent[],
  x: TimelineContext, maxLines = 40): UseAfterFree {
  const inside = (a: bigint) => a >= o.start && a < o.start + BigInt(o.span);
  const access = oops.error & PF_FETCH || (inside(oops.rip) && !inside(oops.cr2)) ? "fetch" : oops.error & PF_WRITE ? "write" : "read";
  const address = access === "fetch" ? oops.rip : oops.cr2;
  const t = o.trampoline;
  const returned = t !== undefined && oops.rip === t.addr + BigInt(t.callOffset) + 5n;
  const off = address - o.start;
  const where = t ? `ftrace_trampoline[${t.ops.name}]+0x${off.toString(16)} (freed)` : x.symbolize(oops.rip);
  const timeline = events.filter((e) => relevant(e, oops.pid, oops.cpu, o.allocatedAt)).map((e) => describeEvent(e, x));
  const shown = timeline.slice(-maxLines);
  const how = { fetch: "Instruction fetch", read: "Read", write: "Write" }[access];
  const lines = [
    RULE,
    `BUG: use-after-free in ${where}`,
    `${how} at addr ${address.toString(16).padStart(16, "0")} by task ${oops.task}/${oops.pid} on CPU ${oops.cpu}` +
      (returned ? ": it returned into the trampoline from the callback the trampoline had called" : ""),
    "",
    `RIP: ${access === "fetch" ? where : x.symbolize(oops.rip)}`,
    "Call Trace:",
    ...oops.backtrace.map((f) => ` ${f}`),
    "",
    `The address is 0x${off.toString(16)} bytes into ${o.what},`,
    ` [${o.start.toString(16)}, ${(o.start + BigInt(o.size)).toString(16)}), allocated at ${formatTime(o.allocatedAt)};`,
    ` freed at ${o.freedAt === undefined ? "?" : formatTime(o.freedAt)} by ${o.freedBy}.`,
    ` Its pages are unmapped${t ? " and poisoned" : ""}; this access came ${formatTime(clock - (o.freedAt ?? clock))} after the free.`,
    ...(o.heldAtFree?.length
      ? [" When it was freed, still inside it (IP or return address):", ...o.heldAtFree.map((h) => `   ${h.text}`)]
      : []),
    "",
    `Timeline (virtual time)${shown.length < timeline.length ? `, last ${shown.length} of ${timeline.length} events` : ""}:`,
    ...shown,
    RULE,
  ];
  return { task: oops.task, pid: oops.pid, cpu: oops.cpu, rip: oops.rip, address, access, object: o, trampoline: t, returned, clock,
    text: lines.join("\n") };
}
