// Softirqs at the end of an interrupt, as x86-64 runs them (firmware/softirq.c): on the IRQ stack
// the tick already uses, with SOFTIRQ_OFFSET in preempt_count and interrupts enabled; a tick that
// arrives meanwhile nests on the same stack below the softirq's frames and returns to it.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FunctionTracer } from "../../src/kernel/ftrace/tracers.js";
import { TraceFlag } from "../../src/gen/layout.js";
import * as C from "../../src/gen/constants.js";

const [SOFTIRQ_OFFSET, SOFTIRQ_MASK, HARDIRQ_MASK] = [C.SOFTIRQ_OFFSET, C.SOFTIRQ_MASK, C.HARDIRQ_MASK].map(BigInt);
const IF = C.X86_EFLAGS_IF;

/** One vCPU: a kthread making traced calls, and a timer whose callback makes `calls` more each tick. */
function timerKernel(calls: number): Kernel {
  return Kernel.boot({
    cpus: 1, seed: 3, quantum: 400, tickPeriod: 20_000,
    workload: [{ name: "softirq-timer", kind: "kthread", entry: "kthread_softirq_timer", arg: calls, cpu: 0 }],
  });
}

const irqStack = (k: Kernel) => k.stacks.all.find((s) => s.name === "irq cpu0")!;

describe("softirqs run at irq_exit on the IRQ stack, with interrupts on", () => {
  it("the timer softirq runs after the tick's hardirq part: softirq count 1, no hardirq count, IF set, on the IRQ stack", () => {
    const k = timerKernel(10);
    k.run(2_000_000);
    expect(k.readGlobal("softirq_runs")).toBeGreaterThan(10n);
    expect(k.readGlobal("softirq_timer_calls")).toBeGreaterThan(10n);
    const pc = k.readGlobal("softirq_seen_preempt_count");
    expect(pc & SOFTIRQ_MASK).toBe(SOFTIRQ_OFFSET);
    expect(pc & HARDIRQ_MASK).toBe(0n);
    expect(k.readGlobal("softirq_seen_flags") & IF).toBe(IF);
    const rsp = k.readGlobal("softirq_seen_rsp"), s = irqStack(k);
    expect(rsp >= s.base && rsp < s.top, `rsp ${rsp.toString(16)} on ${s.name}`).toBe(true);
    expect(k.oopses).toEqual([]);
  });

  it("the function tracer marks the softirq's traced calls softirq, interrupts on; the task's calls are neither", () => {
    const k = timerKernel(10);
    const tracer = new FunctionTracer(k.machine, k.heap, 1 << 14, "work_top run_timer_softirq softirq_timer_fn");
    k.ftrace.register(tracer.ops);
    k.run(1_000_000);
    const recs = tracer.consume();
    const ip = (f: string) => k.ftrace.record(f)!.ip;
    const ctx = (r: { flags: number }) => r.flags & (TraceFlag.SOFTIRQ | TraceFlag.HARDIRQ | TraceFlag.IRQS_OFF);
    const handler = recs.filter((r) => r.ip === ip("run_timer_softirq") || r.ip === ip("softirq_timer_fn"));
    expect(handler.length).toBeGreaterThan(10);
    for (const r of handler) expect(ctx(r)).toBe(TraceFlag.SOFTIRQ);
    const work = recs.filter((r) => r.ip === ip("work_top"));
    expect(work.some((r) => ctx(r) === TraceFlag.SOFTIRQ), "work_top called by the timer callback").toBe(true);
    expect(work.some((r) => ctx(r) === 0), "work_top called by the task").toBe(true);
  });

  it("a tick during a long softirq nests on the IRQ stack below the softirq's frames and returns into it", () => {
    const k = timerKernel(3000); // a callback longer than a tick period
    k.run(5_000_000);
    const nested = k.readGlobal("irq_in_softirq");
    expect(nested, "ticks arrived while the softirq ran").toBeGreaterThan(0n);
    const regs = k.readGlobal("irq_in_softirq_regs"), s = irqStack(k);
    expect(regs >= s.base && regs < s.top, `the nested tick's pt_regs on ${s.name}`).toBe(true);
    expect(regs, "below the callback's frame").toBeLessThan(k.readGlobal("softirq_seen_rsp"));
    const rip = k.symbols.format(k.readGlobal("irq_in_softirq_rip"));
    expect(rip, "the nested tick interrupted the softirq's own code").toMatch(/^(softirq_timer_fn|work_\w+|__fentry__)\+/);
    // Each nested tick came back to its softirq: the callbacks keep completing, nothing died.
    const done = k.readGlobal("softirq_timer_calls");
    k.run(2_000_000);
    expect(k.readGlobal("softirq_timer_calls")).toBeGreaterThan(done);
    expect(k.oopses).toEqual([]);
    expect(k.lockups).toEqual([]);
  });
});

describe("seed 000's levels: an interrupt during a softirq during an interrupt", () => {
  it("preemption comes at IRQ 1's exit after the softirq: the task's stack holds IRQ 1's frame, the IP check's one level", () => {
    const k = Kernel.boot({
      cpus: 1, seed: 5, quantum: 400, tickPeriod: 20_000, preempt: "full",
      workload: [
        { name: "softirq-timer", kind: "kthread", entry: "kthread_softirq_timer", arg: 3000, cpu: 0 },
        { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 3000, cpu: 0 },
      ],
    });
    const tracer = new FunctionTracer(k.machine, k.heap, 1 << 12, "work_*");
    k.ftrace.register(tracer.ops);
    const [tramp] = k.trampolines.mapped();
    const inTramp = (a: bigint) => a >= tramp.addr && a < tramp.addr + BigInt(tramp.pages.length * 4096);
    const task = k.sched.tasks.find((t) => t.name === "softirq-timer")!;
    const softirqCode = /^(softirq_timer_fn|run_timer_softirq|irq_exit_rcu)\+/;
    let preemptedInTramp = 0, preemptions = 0, last = -1n;
    for (let round = 0; round < 4000 && preemptedInTramp < 3; round++) {
      k.run(3000);
      if (task.state !== "runnable" || !task.preempted || task.preemptedAt === last) continue;
      last = task.preemptedAt;
      preemptions++;
      // Never preempted inside the softirq: a tick that interrupts it sees SOFTIRQ_OFFSET.
      expect(k.symbols.format(task.preemptedAt)).not.toMatch(softirqCode);
      if (!inTramp(task.preemptedAt)) continue;
      preemptedInTramp++;
      // The one interrupted IP is IRQ 1's pt_regs->rip, on the task's own stack: what the IP check
      // reads, and a word the stack scan finds. Nothing of the softirq or of IRQ 2 is left.
      const stack = k.readKernel(task.stackBase, Number(task.stackTop - task.stackBase));
      const v = new DataView(stack.buffer, stack.byteOffset);
      const words = Array.from({ length: stack.length / 8 }, (_, i) => v.getBigUint64(i * 8, true));
      expect(words).toContain(task.preemptedAt);
      const holder = k.holders(tramp.addr, tramp.addr + BigInt(tramp.pages.length * 4096)).find((h) => h.task === task);
      expect(holder?.hold.where).toBe("ip");
      expect(k.readGlobal("irq_stack_inuse")).toBe(0n);
    }
    expect(k.readGlobal("irq_in_softirq"), "ticks interrupted the softirq").toBeGreaterThan(0n);
    expect(preemptions).toBeGreaterThan(0);
    expect(preemptedInTramp, "the task was preempted inside the trampoline").toBeGreaterThan(0);
    expect(k.oopses).toEqual([]);
  });
});
