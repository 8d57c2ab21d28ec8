// ftrace's recursion guard: a callback that calls traced code, with the per-stack in_tracing
// flag (seed 002), the kernel's per-task context bits, and no guard at all.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { stackStates, describeStacks } from "../../src/kernel/ftrace/recursion.js";
import { FunctionTracer } from "../../src/kernel/ftrace/tracers.js";
import type { RecursionSchemeName } from "../../src/kernel/config.js";

const TICK = 20_000;

function boot(recursion: RecursionSchemeName): Kernel {
  return Kernel.boot({
    cpus: 1, preempt: "full", tickPeriod: TICK, recursion,
    workload: [{ name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 0 }],
  });
}

/** Registers the recursing callback on work_leaf and on the function it calls, runs, unregisters. */
function recursingRun(recursion: RecursionSchemeName) {
  const k = boot(recursion);
  k.run(3 * TICK);
  const ops = new FtraceOps({
    name: "recursing", callback: { kind: "guest", symbol: "function_recursing_call" }, filter: "work_leaf recursion_target",
  });
  k.ftrace.register(ops);
  k.run(40 * TICK);
  const calls = k.ftrace.calls(ops);
  const targetCalls = k.readGlobal("recursion_target_calls");
  const skipped = k.ftrace.recursions();
  const busy = stackStates(k.stacks).find((s) => s.stack.name === "task busy")!;
  return { k, calls, targetCalls, skipped, busy };
}

describe("a callback that calls a traced function", () => {
  it("per-stack: the nested call is never traced, every one is counted at its site and on the task's stack", () => {
    const { k, calls, targetCalls, skipped, busy } = recursingRun("per-stack");
    expect(calls).toBeGreaterThan(100n);
    // Every callback call came from work_leaf and called recursion_target once; the guard
    // skipped the callbacks of every one of those nested calls.
    expect(targetCalls).toBe(calls);
    expect(skipped.sites.get("recursion_target")).toBe(targetCalls);
    expect(skipped.sites.get("work_leaf")).toBeUndefined();
    expect(skipped.total).toBe(targetCalls);
    expect(busy.entered).toBe(calls);
    expect(busy.recursions).toBe(targetCalls);
    expect(k.oopses).toEqual([]);
    expect(describeStacks(k.stacks)).toMatch(new RegExp(`task busy .* - +${calls} +${targetCalls}`));
  });

  it("per-task: the TRANSITION bit lets one nested level through, so the callback runs twice per work_leaf call", () => {
    const { k, calls, targetCalls, skipped } = recursingRun("per-task");
    expect(calls).toBeGreaterThan(100n);
    expect(calls % 2n).toBe(0n);
    // work_leaf's callback (NORMAL bit) -> recursion_target traced on TRANSITION -> callback
    // again -> recursion_target: NORMAL and TRANSITION busy, skipped.
    expect(targetCalls).toBe(calls);
    expect(skipped.sites.get("recursion_target")).toBe(calls / 2n);
    expect(skipped.total).toBe(calls / 2n);
    expect(k.oopses).toEqual([]);
  });

  it("with no guard the callback recurses until the task's stack runs into its guard gap: a double fault names the stack", () => {
    const k = boot("none");
    k.run(3 * TICK);
    const ops = new FtraceOps({
      name: "recursing", callback: { kind: "guest", symbol: "function_recursing_call" }, filter: "work_leaf recursion_target",
    });
    k.ftrace.register(ops);
    k.run(10 * TICK);
    expect(k.oopses).toHaveLength(1);
    const oops = k.oopses[0];
    expect(oops.vector).toBe(8);
    expect(oops.overflow).toBe("task busy");
    expect(oops.text).toMatch(
      /^BUG: stack guard page was hit at 0x[0-9a-f]+ \(stack is .*, task busy\)\nOops: kernel stack overflow \(double-fault\): 0000 /);
    // The recursion never got past recursion_target's fentry call: the backtrace is that call
    // and the trampoline, over and over.
    expect(oops.backtrace.filter((f) => f.startsWith("recursion_target+")).length).toBeGreaterThanOrEqual(7);
    expect(oops.backtrace.filter((f) => f.startsWith("ftrace_trampoline[recursing]+")).length).toBeGreaterThanOrEqual(7);
    expect(stackStates(k.stacks).find((s) => s.stack.name === "task busy")!.corrupt).toBe(true);
  });
});

describe("the function tracer on every traced function", () => {
  for (const recursion of ["per-stack", "per-task"] as const) {
    it(`${recursion}: runs on 4 vCPUs without lockups or oopses; the trap and interrupt entries have no patch site`, () => {
      const k = Kernel.boot({ cpus: 4, recursion });
      for (const entry of ["do_int3", "do_double_fault", "do_page_fault", "do_invalid_op", "do_general_protection", "do_divide_error",
        "timer_interrupt", "call_function_interrupt", "reschedule_interrupt", "irqentry_exit", "__schedule"]) {
        expect(k.ftrace.record(entry), entry).toBeUndefined();
      }
      k.run(1_000_000);
      const tracer = new FunctionTracer(k.machine, k.heap, 1 << 14);
      k.ftrace.register(tracer.ops);
      k.run(2_000_000);
      const records = tracer.consume();
      k.ftrace.unregister(tracer.ops);
      k.run(500_000);
      expect(records.length).toBeGreaterThan(1000);
      expect(k.lockups).toEqual([]);
      expect(k.oopses).toEqual([]);
    });
  }
});
