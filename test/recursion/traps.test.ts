// A trap taken inside a callback belongs to the code that caused it: its handler's traced calls
// must not re-enter the tracer. Per stack, the handler shares the interrupted stack's flag, on
// the same stack (#PF) or through the IST link (#UD). Per task, preempt_count does not change
// on an exception, so the handler looks like the transition window: its traced calls get
// through one at a time on the TRANSITION bit.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { FunctionCounter } from "../../src/kernel/ftrace/tracers.js";
import { DEMAND_START } from "../../src/kernel/memory.js";
import type { KernelConfig } from "../../src/kernel/config.js";
import { taskFields, EventKind } from "../../src/gen/layout.js";
import { decision } from "../../src/kernel/ftrace/recursion.js";

const TICK = 20_000;

function boot(o: Partial<KernelConfig>): Kernel {
  return Kernel.boot({
    cpus: 1, preempt: "full", tickPeriod: TICK, ...o,
    workload: [{ name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 0 }],
  });
}

/** No stack's in_tracing flag and no task's recursion bits are set. */
function outsideCallbacks(k: Kernel): boolean {
  const view = new DataView(k.machine.ram.buffer, k.machine.ram.byteOffset);
  const taskBits = k.sched.tasks.every((t) => view.getUint32(k.phys(t.addr) + taskFields.traceRecursion.offset, true) === 0);
  return taskBits && k.stacks.all.every((s) => k.stacks.header(s).get("inTracing") === 0);
}

/** A callback on work_leaf that traps, and a counter on the handler's traced functions. */
function trapRun(o: Partial<KernelConfig>, callback: "function_faulting_call" | "function_warning_call", handler: string) {
  const k = boot(o);
  k.run(3 * TICK);
  const leaf = k.ftrace.record("work_leaf")!;
  const trapping = new FtraceOps({ name: "trapping", callback: { kind: "guest", symbol: callback }, filter: "work_leaf",
    private: callback === "function_faulting_call" ? DEMAND_START : leaf.ip });
  const counter = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, handler, "", "handler-counter");
  k.ftrace.register(counter.ops);
  k.ftrace.register(trapping);
  k.run(30 * TICK);
  // Stop where no callback is half done, so the counters are comparable.
  if (!k.runUntil(() => outsideCallbacks(k), 100 * TICK)) throw new Error("a callback never finished");
  const hits = (name: string) => counter.hits(k.ftrace.record(name)!.index);
  return { k, calls: k.ftrace.calls(trapping), hits, skipped: k.ftrace.recursions().sites };
}

describe("a callback that takes a page fault", () => {
  const handler = "handle_mm_fault mm_account_fault";

  it("per-stack: the #PF handler runs on the same stack, sees its in_tracing flag set, and none of its traced calls is traced", () => {
    const { k, calls, hits, skipped } = trapRun({ recursion: "per-stack" }, "function_faulting_call", handler);
    const faults = k.readGlobal("demand_faults");
    expect(calls).toBeGreaterThan(50n);
    expect(faults).toBe(calls); // every call touched a new page
    expect(k.demand.mapped).toHaveLength(Number(calls));
    expect(hits("handle_mm_fault")).toBe(0n);
    expect(hits("mm_account_fault")).toBe(0n);
    expect(skipped.get("handle_mm_fault")).toBe(faults);
    expect(skipped.get("mm_account_fault")).toBe(faults);
    expect(k.oopses).toEqual([]);
  });

  it("per-task: every traced call of the handler is traced, each on the TRANSITION bit, since the trap left the context NORMAL", () => {
    // The faulting callback holds NORMAL for the whole fault. handle_mm_fault's fentry takes
    // TRANSITION, runs the counter and gives it back before handle_mm_fault's body calls
    // mm_account_fault, whose fentry takes it again. Only a callback nested in a callback is
    // refused: the scheme cannot tell a trap from the interrupt-entry window.
    const { k, calls, hits, skipped } = trapRun({ recursion: "per-task", recursionEvents: true }, "function_faulting_call", handler);
    const faults = k.readGlobal("demand_faults");
    expect(calls).toBeGreaterThan(50n);
    expect(faults).toBe(calls);
    expect(hits("handle_mm_fault")).toBe(faults);
    expect(hits("mm_account_fault")).toBe(faults);
    for (const fn of ["handle_mm_fault", "mm_account_fault"]) {
      const ip = k.ftrace.record(fn)!.ip;
      const bits = k.machine.events.ofKind(EventKind.RECURSION).filter((e) => e.a === ip).map((e) => decision(e, k.stacks).bit);
      expect(bits.length).toBe(Number(faults));
      expect(new Set(bits)).toEqual(new Set(["TRANSITION"]));
    }
    expect(skipped.get("handle_mm_fault")).toBeUndefined();
    expect(skipped.get("mm_account_fault")).toBeUndefined();
    expect(k.oopses).toEqual([]);
  });
});

describe("a callback that hits WARN_ON(): #UD, handled on an IST stack", () => {
  it("per-stack with the IST link: report_bug() shares the task stack's flag and is not traced", () => {
    const { k, calls, hits, skipped } = trapRun({ recursion: "per-stack", istLink: true }, "function_warning_call", "report_bug");
    expect(calls).toBeGreaterThan(50n);
    expect(k.warnings.length).toBe(Number(calls));
    expect(k.warnings[0].text).toMatch(/^WARNING: CPU: 0 PID: 1 at function_warning_call\+0x[0-9a-f]+\nComm: busy/);
    expect(hits("report_bug")).toBe(0n);
    expect(skipped.get("report_bug")).toBe(calls);
    expect(k.oopses).toEqual([]);
  });

  it("per-stack without the link: the IST stack's own flag is clear, so report_bug() is traced from inside the callback", () => {
    const { k, calls, hits, skipped } = trapRun({ recursion: "per-stack", istLink: false }, "function_warning_call", "report_bug");
    expect(calls).toBeGreaterThan(50n);
    expect(hits("report_bug")).toBe(calls);
    expect(skipped.get("report_bug")).toBeUndefined();
    const ist = k.stacks.all.find((s) => s.name === "ist #UD cpu0")!;
    expect(k.stacks.header(ist).get("entered")).toBe(calls);
  });

  it("per-task: report_bug() is traced once per warning on the TRANSITION bit, whatever stack it runs on", () => {
    const { k, calls, hits } = trapRun({ recursion: "per-task" }, "function_warning_call", "report_bug");
    expect(calls).toBeGreaterThan(50n);
    expect(hits("report_bug")).toBe(calls);
    expect(k.warnings.length).toBe(Number(calls));
  });
});

describe("a WARN inside a callback that report_bug() itself ran", () => {
  for (const o of [{ recursion: "per-task" }, { recursion: "per-stack", istLink: false }] as Partial<KernelConfig>[]) {
    it(`${o.recursion}${o.istLink === false ? " without the IST link" : ""}: ` +
      "the nested #UD lands below the outer handler's frame (IST shift) and both return", () => {
      const k = boot(o);
      k.run(3 * TICK);
      const warnOn = (name: string, fn: string) => new FtraceOps({ name, callback: { kind: "guest", symbol: "function_warning_call" },
        filter: fn, private: k.ftrace.record(fn)!.ip });
      const outer = warnOn("warn-leaf", "work_leaf"), inner = warnOn("warn-report", "report_bug");
      k.ftrace.register(outer);
      k.ftrace.register(inner);
      k.run(20 * TICK);
      const outerCalls = k.ftrace.calls(outer), innerCalls = k.ftrace.calls(inner);
      // Each work_leaf warning's report_bug is traced, and that callback warns again: two
      // warnings per work_leaf call, and the task keeps going.
      expect(outerCalls).toBeGreaterThan(20n);
      expect(innerCalls >= outerCalls && innerCalls <= outerCalls + 1n).toBe(true);
      expect(BigInt(k.warnings.length) >= outerCalls + innerCalls - 1n).toBe(true);
      expect(k.oopses).toEqual([]);
      expect(k.console.join("")).not.toMatch(/panic/);
    });
  }
});

describe("an oops in a callback running in an interrupt", () => {
  it("panics the vCPU (Fatal exception in interrupt) instead of killing the task from the IRQ stack", () => {
    const k = boot({ cpus: 1 } as Partial<KernelConfig>);
    k.run(3 * TICK);
    // function_faulting_call touches op->private: an address that is neither mapped nor demand-paged.
    const bad = new FtraceOps({
      name: "bad", callback: { kind: "guest", symbol: "function_faulting_call" }, filter: "update_process_times", private: 0x10_0000n,
    });
    k.ftrace.register(bad);
    k.run(5 * TICK);
    expect(k.oopses).toHaveLength(1);
    expect(k.oopses[0].backtrace.some((f) => f.startsWith("update_process_times"))).toBe(true);
    expect(k.console.join("")).toContain("Kernel panic - not syncing: Fatal exception in interrupt");
    expect(k.machine.cpus[0].get("halted")).toBe(1);
    const busy = k.sched.tasks.find((t) => t.name === "busy")!;
    expect(busy.state).not.toBe("dead");
  });
});
