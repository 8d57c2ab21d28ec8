import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { EventKind, SchedReason } from "../../src/gen/layout.js";
import type { PreemptModel } from "../../src/kernel/config.js";
import type { MachineEvent } from "../../src/machine/events.js";

/**
 * One vCPU: a thread spending nearly all its time in long_work() (a traced function with no
 * preemption point of its own; cond_resched() only between calls) and a sleeper that keeps
 * waking up and wanting the CPU.
 */
function contend(preempt: PreemptModel) {
  const k = Kernel.boot({
    cpus: 1, preempt, tickPeriod: 20_000, timeslice: 2,
    workload: [
      { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 100_000, cpu: 0 },
      { name: "sleeper", kind: "kthread", entry: "kthread_sleeper", arg: 1, cpu: 0 },
    ],
  });
  expect(k.run(12_000_000).kind).toBe("time");
  const busy = k.sched.tasks.find((t) => t.name === "busy")!;
  const switches = k.machine.events.ofKind(EventKind.SWITCH).filter((e) => Number(e.a) === busy.pid);
  const inside = (e: MachineEvent, fn: string) => k.symbols.find(e.d)?.name === fn;
  return { k, busy, switches, inside };
}

describe("preemption models", () => {
  for (const model of ["full", "lazy"] as const) {
    it(`${model}: a task inside a long traced function is preempted in the middle of it, from the timer interrupt`, () => {
      const { switches, inside } = contend(model);
      const irq = switches.filter((e) => Number(e.c) === SchedReason.IRQ_PREEMPT);
      expect(irq.length).toBeGreaterThan(0);
      // The guest RIP at the preempting interrupt lies inside long_work.
      expect(irq.filter((e) => inside(e, "long_work")).length).toBeGreaterThan(0);
      expect(switches.filter((e) => Number(e.c) === SchedReason.COND_RESCHED)).toEqual([]);
    });
  }

  for (const model of ["none", "voluntary"] as const) {
    it(`${model}: the task is never preempted by an interrupt, only at its explicit preemption points`, () => {
      const { switches, busy } = contend(model);
      expect(switches.filter((e) => Number(e.c) === SchedReason.IRQ_PREEMPT)).toEqual([]);
      expect(switches.length, "it still gives the CPU up").toBeGreaterThan(0);
      expect(switches.every((e) => Number(e.c) === SchedReason.COND_RESCHED)).toBe(true);
      expect(busy.nivcsw).toBe(switches.length);
    });
  }

  it("voluntary adds might_resched() points that none ignores", () => {
    const where = (model: PreemptModel) => {
      const k = Kernel.boot({
        cpus: 1, preempt: model, tickPeriod: 20_000, timeslice: 2,
        workload: [
          { name: "worker", kind: "kthread", entry: "kthread_worker", arg: 10_000, cpu: 0 },
          { name: "sleeper", kind: "kthread", entry: "kthread_sleeper", arg: 1, cpu: 0 },
        ],
      });
      k.run(8_000_000);
      const worker = k.sched.tasks.find((t) => t.name === "worker")!;
      const switches = k.machine.events.ofKind(EventKind.SWITCH).filter((e) => Number(e.a) === worker.pid);
      expect(switches.length).toBeGreaterThan(0);
      return new Set(switches.map((e) => k.symbols.find(e.d)?.name));
    };
    expect(where("voluntary").has("work_middle")).toBe(true);  // might_resched() is called there
    expect(where("none").has("work_middle")).toBe(false);      // only cond_resched() in kthread_busy
  });

  it("lazy preemption acts one tick later than full: the tick's lazy request is upgraded at the next tick", () => {
    const runTicks = (model: PreemptModel) => {
      const { k, switches } = contend(model);
      const period = BigInt(k.config.tickPeriod);
      // How long busy ran before each interrupt preemption, from the switch that gave it the CPU.
      const all = k.machine.events.ofKind(EventKind.SWITCH);
      const lens: bigint[] = [];
      for (const e of switches.filter((s) => Number(s.c) === SchedReason.IRQ_PREEMPT)) {
        const start = [...all].reverse().find((s) => s.clock < e.clock && s.b === e.a);
        if (start) lens.push((e.clock - start.clock) / period);
      }
      return lens;
    };
    const full = runTicks("full"), lazy = runTicks("lazy");
    expect(full.length).toBeGreaterThan(1);
    expect(lazy.length).toBeGreaterThan(1);
    const median = (a: bigint[]) => [...a].sort((x, y) => (x < y ? -1 : 1))[a.length >> 1];
    expect(median(lazy)).toBe(median(full) + 1n);
  });
});
