// A timer interrupt that arrives while a callback runs on a task's stack. The interrupt's traced
// code should be traced: it is not recursion. irq_enter_rcu() is traced and runs on the IRQ
// stack *before* it raises preempt_count's hardirq field; the event log shows that window:
//
//   task stack, in work_leaf's callback            IRQ stack
//   ---------------------------------------------  -----------------------------------------
//   function_slow_call ... <timer interrupt>
//                                                   irq_enter_rcu's fentry: preempt_count
//                                                     still says "task" (the window)
//                                                       per-stack: IRQ stack's own flag: run
//                                                       per-task:  NORMAL busy -> TRANSITION
//                                                       per-task, no TRANSITION: skipped
//                                                   irq_enter_rcu body: preempt_count += HARDIRQ
//                                                   update_process_times' fentry: IRQ bit / IRQ
//                                                     stack flag: run under every scheme
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { FunctionCounter } from "../../src/kernel/ftrace/tracers.js";
import { decision, type Decision } from "../../src/kernel/ftrace/recursion.js";
import { describeEvent } from "../../src/kernel/timeline.js";
import { EventKind } from "../../src/gen/layout.js";
import type { KernelConfig } from "../../src/kernel/config.js";

const TICK = 20_000;
import { HARDIRQ_MASK } from "../../src/gen/constants.js";

interface Window {
  /** The guard's decisions at irq_enter_rcu and update_process_times for that interrupt. */
  enter: Decision;
  tick: Decision;
  lines: string[];
}

/** Timer interrupts that arrived inside the slow callback, and what the guard decided next. */
function windows(o: Partial<KernelConfig>): { k: Kernel; found: Window[]; counter: FunctionCounter } {
  const k = Kernel.boot({
    cpus: 1, preempt: "full", tickPeriod: TICK, recursionEvents: true, ...o,
    workload: [{ name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 0 }],
  });
  k.run(3 * TICK);
  const slow = new FtraceOps({
    name: "slow", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "work_leaf", private: 3000n,
  });
  const counter = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, "irq_enter_rcu update_process_times", "", "irq-counter");
  k.ftrace.register(counter.ops);
  k.ftrace.register(slow);
  const from = k.machine.events.events.length;
  k.run(40 * TICK);
  const events = k.machine.events.events.slice(from);
  const enterIp = k.ftrace.record("irq_enter_rcu")!.ip, tickIp = k.ftrace.record("update_process_times")!.ip;
  const found: Window[] = [];
  events.forEach((ev, i) => {
    if (ev.kind !== EventKind.INTERRUPT || ev.a !== 0xefn || !k.symbols.format(ev.c).startsWith("function_slow_call+")) return;
    const rest = events.slice(i + 1);
    const enterAt = rest.findIndex((e) => e.kind === EventKind.RECURSION && e.a === enterIp);
    const tickAt = rest.findIndex((e) => e.kind === EventKind.RECURSION && e.a === tickIp);
    if (enterAt < 0 || tickAt < 0) return;
    const lines = [ev, ...rest.slice(0, tickAt + 1).filter((e) => e.kind === EventKind.RECURSION)]
      .map((e) => describeEvent(e, k.timelineContext));
    found.push({ enter: decision(rest[enterAt], k.stacks), tick: decision(rest[tickAt], k.stacks), lines });
  });
  return { k, found, counter };
}

describe("a timer interrupt during a callback", () => {
  it("per-stack: irq_enter_rcu runs on the IRQ stack with its own flag, traced even before preempt_count says hardirq", () => {
    const { found } = windows({ recursion: "per-stack" });
    expect(found.length).toBeGreaterThan(3);
    for (const w of found) {
      expect(w.enter.preemptCount & HARDIRQ_MASK).toBe(0);          // the window
      expect(w.enter).toMatchObject({ entered: true, stack: { name: "irq cpu0" } });
      expect(w.tick.preemptCount & HARDIRQ_MASK).not.toBe(0);
      expect(w.tick).toMatchObject({ entered: true, stack: { name: "irq cpu0" } });
    }
    expect(found[0].lines.join("\n")).toMatch(new RegExp(/interrupt 0xef at function_slow_call\+0x[0-9a-f]+\n.*/.source +
      /irq_enter_rcu: callbacks run \(in_tracing of irq cpu0 taken, preempt_count 0x0\)[^]*/.source +
      /update_process_times: callbacks run \(in_tracing of irq cpu0 taken, preempt_count 0x10000\)/.source));
  });

  it("per-task: in the window the context still reads NORMAL, which the callback holds; " +
    "the TRANSITION bit lets the interrupt through", () => {
    const { found } = windows({ recursion: "per-task" });
    expect(found.length).toBeGreaterThan(3);
    for (const w of found) {
      expect(w.enter.preemptCount & HARDIRQ_MASK).toBe(0);
      expect(w.enter).toMatchObject({ entered: true, bit: "TRANSITION" });
      expect(w.tick).toMatchObject({ entered: true, bit: "IRQ" });
    }
  });

  it("per-task without the TRANSITION bit: the interrupt's first traced call is lost as false recursion, and counted", () => {
    const { k, found, counter } = windows({ recursion: "per-task", transitionBit: false });
    expect(found.length).toBeGreaterThan(3);
    for (const w of found) {
      expect(w.enter).toMatchObject({ entered: false, bit: "NORMAL" });
      expect(w.tick).toMatchObject({ entered: true, bit: "IRQ" });
    }
    const lost = k.ftrace.recursions().sites.get("irq_enter_rcu") ?? 0n;
    expect(lost).toBeGreaterThanOrEqual(BigInt(found.length));
    // Those ticks were counted by update_process_times but not by irq_enter_rcu.
    const hits = (n: string) => counter.hits(k.ftrace.record(n)!.index);
    expect(hits("update_process_times") - hits("irq_enter_rcu")).toBe(lost);
  });
});
