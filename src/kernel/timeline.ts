// One line per event, for people: the timelines of use-after-free reports, the REPL's `events`
// command and failing scenario runs. Field meanings are in docs/events.md.
import { EventKind, EventKindName, SchedReason, SchedReasonName, VectorName } from "../gen/layout.js";
import type { MachineEvent } from "../machine/events.js";
import { formatJiffies, formatTime } from "../machine/units.js";
import { bitName } from "./ftrace/recursion.js";

export interface TimelineContext {
  symbolize: (addr: bigint) => string;
  task: (pid: number) => string;
  /** Name of the grace-period mechanism with this index (GP events). */
  flavour: (index: number) => string;
  /** Name of the ftrace ops with this id (OPS events). */
  ops: (id: number) => string;
  /** Name of the kernel stack whose header is at this address (RECURSION events). */
  stack?: (header: bigint) => string;
  /** The local timer's period in ns (jiffies in MAP_PAGE events). */
  tickPeriod: number;
}

const REASON: Record<number, string> = {
  [SchedReason.VOLUNTARY]: "switched out voluntarily",
  [SchedReason.IRQ_PREEMPT]: "preempted by an interrupt",
  [SchedReason.COND_RESCHED]: "preempted at cond_resched()",
  [SchedReason.PREEMPT_ENABLE]: "preempted at preempt_enable()",
};

export function describeEvent(ev: MachineEvent, x: TimelineContext): string {
  const where = ev.cpu === "host" ? "host" : `cpu${ev.cpu}`;
  const hex = (v: bigint) => "0x" + v.toString(16);
  let what: string;
  switch (ev.kind) {
    case EventKind.SWITCH: {
      const reason = REASON[Number(ev.c)] ?? SchedReasonName[Number(ev.c)] ?? `reason ${ev.c}`;
      const at = ev.d ? ` at ${x.symbolize(ev.d)}` : "";
      what = `${x.task(Number(ev.a))} ${reason}${at}; ${x.task(Number(ev.b))} runs`;
      break;
    }
    case EventKind.WAKEUP: what = `${x.task(Number(ev.a))} wakes up`; break;
    case EventKind.INTERRUPT: what = `interrupt ${hex(ev.a)} at ${x.symbolize(ev.c)}`; break;
    case EventKind.EXCEPTION: {
      const addr = Number(ev.a) === 14 ? ` (address ${hex(ev.d)})` : "";
      what = `${VectorName[Number(ev.a)] ?? `vector ${ev.a}`} at ${x.symbolize(ev.c)}${addr}`;
      break;
    }
    case EventKind.POKE:
      what = ev.c === 1n ? `ftrace_bug at ${x.symbolize(ev.a)}`
        : `text_poke batch ${ev.a}: ${ev.b} site${ev.b === 1n ? "" : "s"}${ev.d ? `, first ${x.symbolize(ev.d)}` : ""}`;
      break;
    case EventKind.OPS:
      what = `${ev.b === 1n ? "register" : "unregister"} ftrace ops "${x.ops(Number(ev.a))}"${ev.c ? ` (trampoline ${hex(ev.c)})` : ""}`;
      break;
    case EventKind.GP: what = `${x.flavour(Number(ev.a))} grace period ${ev.b} ${ev.c === 0n ? "starts" : "ends"}`; break;
    case EventKind.TLB_FLUSH: what = `TLB shootdown of ${hex(ev.a)}+${hex(ev.b)} on every vCPU`; break;
    case EventKind.FREE: what = `trampoline ${hex(ev.a)} (${ev.b} bytes) of "${x.ops(Number(ev.c))}" freed`; break;
    case EventKind.OOPS: what = `oops in ${x.task(Number(ev.a))}: ${VectorName[Number(ev.b)] ?? ev.b} at ${x.symbolize(ev.c)}`; break;
    case EventKind.RECURSION: {
      const by = ev.c < 16n ? `per-task bit ${bitName(Number(ev.c))}` : `in_tracing of ${x.stack?.(ev.c) ?? hex(ev.c)}`;
      const outcome = ev.b === 1n ? `callbacks run (${by} taken` : `skipped as recursion (${by} busy`;
      what = `${x.symbolize(ev.a)}: ${outcome}, preempt_count ${hex(ev.d)})`;
      break;
    }
    case EventKind.WARN: what = `WARNING in ${x.task(Number(ev.a))} at ${x.symbolize(ev.b)}`; break;
    case EventKind.MAP_PAGE:
      what = `page ${hex(ev.a)} mapped on demand${ev.b ? `, the fault sleeps ${formatJiffies(ev.b, x.tickPeriod)}` : ""}`;
      break;
    case EventKind.LOCKUP: what = `soft lockup in ${x.task(Number(ev.a))} at ${x.symbolize(ev.b)}`; break;
    default: what = `${EventKindName[ev.kind] ?? ev.kind} ${hex(ev.a)} ${hex(ev.b)} ${hex(ev.c)}`;
  }
  return `${formatTime(ev.clock).padStart(13)}  ${where.padEnd(5)} ${what}`;
}
