// Conditions an `until` step waits for that need a look inside the guest: whether a callback
// is half done, and where a sys_enter probe is (running, or asleep in a fault it took).
import { EventKind, taskFields } from "../gen/layout.js";
import { stackStates } from "../kernel/ftrace/recursion.js";
import { PAGE } from "../machine/paging.js";
import type { Kernel } from "../kernel/kernel.js";
import type { Task } from "../kernel/sched.js";
import type { Probe } from "../kernel/tracepoint.js";

/**
 * No callback is half done: no stack's in_tracing flag and no task's context bits are set.
 * Counts that a callback and the code it reaches keep (its calls, the skips it caused, the
 * warnings it raised) only agree at such a point.
 */
export function outsideCallbacks(k: Kernel): boolean {
  const bits = (t: { addr: bigint }) =>
    new DataView(k.machine.readPhys(k.phys(t.addr) + taskFields.traceRecursion.offset, 4).buffer).getUint32(0, true);
  return stackStates(k.stacks).every((s) => !s.inTracing) && k.sched.tasks.every((t) => bits(t) === 0);
}

/**
 * A task executing probe_user_read. Every probe calls that function, so with several
 * registered this does not tell which one runs.
 */
export function runningProbe(k: Kernel): Task | undefined {
  const fn = k.symbols.get("probe_user_read")!;
  return k.holders(fn.addr, fn.addr + fn.size).find((h) => h.hold.where === "ip")?.task;
}

/**
 * The task blocked in probe `p`: it sleeps in handle_mm_fault, called from the #PF that the
 * probe took under trace_sys_enter (the faulting probe_user_read is in the trap frame, not
 * on the frame chain), and the last page mapped on its vCPU is one of the probe's own.
 */
export function blockedIn(k: Kernel, p: Probe): Task | undefined {
  const frames = (fn: string) => {
    const s = k.symbols.get(fn)!;
    return new Set(k.holders(s.addr, s.addr + s.size).filter((h) => h.hold.where === "frame").map((h) => h.task));
  };
  if (!k.sched.tasks.some((t) => t.state === "sleeping")) return undefined;
  const inFault = frames("handle_mm_fault"), inTracepoint = frames("trace_sys_enter");
  const end = p.userAddr + BigInt(p.pages * PAGE);
  return k.sched.tasks.find((t) => {
    if (t.state !== "sleeping" || !inFault.has(t) || !inTracepoint.has(t)) return false;
    const last = k.machine.events.ofKind(EventKind.MAP_PAGE).filter((e) => e.cpu === t.cpu).at(-1);
    return last !== undefined && last.a >= p.userAddr && last.a < end;
  });
}
