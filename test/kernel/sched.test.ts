import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { EventKind } from "../../src/gen/layout.js";
import { formatEvent } from "../../src/machine/events.js";

describe("context switches", () => {
  it("sleeping counts as voluntary; being preempted or yielding while runnable as involuntary (as __schedule counts them)", () => {
    const k = Kernel.boot({
      cpus: 1, preempt: "full", tickPeriod: 20_000, timeslice: 2,
      workload: [
        { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 100_000, cpu: 0 },
        { name: "sleeper", kind: "kthread", entry: "kthread_sleeper", arg: 1, cpu: 0 },
        { name: "yielder", kind: "kthread", entry: "kthread_yielder", cpu: 0 },
      ],
    });
    k.run(10_000_000);
    const t = (name: string) => k.sched.tasks.find((x) => x.name === name)!;
    expect(t("sleeper").nvcsw).toBeGreaterThan(5);
    expect(t("sleeper").nivcsw).toBeLessThan(t("sleeper").nvcsw);
    expect(t("yielder").nivcsw).toBeGreaterThan(5);
    expect(t("yielder").nvcsw).toBe(0);
    expect(t("yielder").voluntarySchedules, "a yield is a schedule() the task asked for").toBe(t("yielder").nivcsw);
    expect(t("busy").nivcsw).toBeGreaterThan(5);
    expect(t("busy").nvcsw).toBe(0);
    // The counts agree with the recorded switches.
    const away = (pid: number) => k.machine.events.ofKind(EventKind.SWITCH).filter((e) => Number(e.a) === pid).length;
    for (const name of ["busy", "sleeper", "yielder"]) expect(away(t(name).pid)).toBe(t(name).nvcsw + t(name).nivcsw);
  });

  it("user tasks enter the kernel by syscall and are rescheduled on the way back to user mode", () => {
    const k = Kernel.boot({
      cpus: 1, preempt: "none", tickPeriod: 20_000, timeslice: 2,
      workload: [
        { name: "worker", kind: "user", entry: "user_worker", cpu: 0 },
        { name: "sleeper", kind: "user", entry: "user_sleeper", cpu: 0 },
      ],
    });
    k.run(8_000_000);
    expect(k.readGlobal("work_calls", 4), "system calls made").toBeGreaterThan(100n);
    const worker = k.sched.tasks.find((x) => x.name === "worker")!;
    expect(worker.nivcsw, "preempted even under preempt=none: at return to user").toBeGreaterThan(0);
    expect(k.sched.tasks.find((x) => x.name === "sleeper")!.nvcsw).toBeGreaterThan(0);
  });
});

describe("misbehaving tasks", () => {
  it("a vCPU spinning with interrupts disabled is reported as a soft lockup naming the task, the vCPU and the RIP", () => {
    const k = Kernel.boot({
      cpus: 2, softLockupTicks: 2_000_000,
      workload: [
        { name: "spinner", kind: "kthread", entry: "kthread_spin_irqs_off", cpu: 1 },
        { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 1000, cpu: 0 },
      ],
    });
    const stop = k.run(50_000_000);
    expect(stop.kind).toBe("lockup");
    expect(k.lockups).toHaveLength(1);
    const l = k.lockups[0];
    expect([l.cpu, l.task]).toEqual([1, "spinner"]);
    expect(k.symbols.find(l.rip)?.name).toBe("kthread_spin_irqs_off");
    expect(l.text).toMatch(/soft lockup - CPU#1 stuck .*\[spinner:\d+\]/);
  });

  it("an oops in a task names the task, the vCPU, the symbolized RIP and a frame-pointer backtrace; " +
    "the task dies, the rest runs on", () => {
    const k = Kernel.boot({
      cpus: 2,
      workload: [
        { name: "oopser", kind: "kthread", entry: "kthread_oops", arg: 5, cpu: 1 },
        { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 1000, cpu: 1 },
      ],
    });
    expect(k.run(5_000_000).kind).toBe("time");
    expect(k.oopses).toHaveLength(1);
    const o = k.oopses[0];
    expect([o.task, o.cpu, o.vector, o.cr2]).toEqual(["oopser", 1, 14, 0n]);
    expect(k.symbols.find(o.rip)?.name).toBe("kthread_oops");
    expect(o.backtrace[0]).toMatch(/^kthread_oops\+0x/);
    expect(o.backtrace.some((f) => f.startsWith("task_start+"))).toBe(true);
    expect(o.text).toMatch(/BUG: kernel NULL pointer dereference, address: 0000000000000000/);
    expect(k.sched.tasks.find((t) => t.name === "oopser")!.state).toBe("dead");
    expect(k.sched.tasks.find((t) => t.name === "busy")!.runTicks).toBeGreaterThan(0);
  });
});

describe("determinism", () => {
  const log = (seed?: number) => {
    const k = Kernel.boot({ cpus: 4, seed });
    k.run(3_000_000);
    return k.machine.events.events.map(formatEvent).join("\n");
  };

  it("the same seed gives the same run, event for event", () => {
    expect(log(7)).toBe(log(7));
    expect(log()).toBe(log());
  });

  it("different seeds give different interleavings", () => {
    expect(log(7)).not.toBe(log(8));
  });
});
