// Seed 004: system-call tracepoint probes that fault on user memory, and so may sleep. A probe
// blocks inside a page fault (a major fault: the handler sleeps) while it is unregistered. The
// probe's data may be freed only after every reader that could still use it is done, and which
// grace period sees such a reader depends on how readers are protected.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import type { ReadSide } from "../../src/kernel/tracepoint.js";

const TICK = 20_000;
/** The major fault's wait, in timer ticks. */
const FAULT_SLEEP = 40;

function blockedProbe(readSide: ReadSide, waitFor: "rcu" | "rcu_tasks_trace") {
  const k = Kernel.boot({
    cpus: 2, preempt: "full", tickPeriod: TICK, tracepointReadSide: readSide,
    workload: [
      { name: "user-worker", kind: "user", entry: "user_worker", cpu: 0 },
      { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 1 },
    ],
  });
  k.demand.sleepJiffies = FAULT_SLEEP;
  k.run(2 * TICK);
  const probe = k.sysEnter.register("user-reader", 8);
  const worker = k.sched.tasks.find((t) => t.name === "user-worker")!;
  // The first system call runs the probe, which touches its first user page and sleeps in the fault.
  if (!k.runUntil(() => k.demand.mapped.length === 1 && worker.state === "sleeping", 50 * TICK)) throw new Error("the probe never blocked in a fault");
  const unregisteredAt = k.machine.time;
  const flavour = waitFor === "rcu" ? k.rcu.rcu : k.rcu.trace;
  k.sysEnter.unregister(probe, flavour);
  k.runUntil(() => probe.state === "freed", 500 * TICK);
  const ranBeforeFree = worker.runTicks;
  k.run(100 * TICK);
  return { k, probe, worker, unregisteredAt, ranBeforeFree };
}

describe("a probe blocked in a page fault while it is unregistered", () => {
  it("rcu_read_lock_trace() readers, Tasks Trace RCU: the data outlives the blocked probe; no fault, the wait is reported", () => {
    const { k, probe, worker, unregisteredAt, ranBeforeFree } = blockedProbe("trace", "rcu_tasks_trace");
    expect(probe.state).toBe("freed");
    // The grace period could not end before the probe woke up and left its read-side section.
    expect(probe.freedAt! - unregisteredAt).toBeGreaterThanOrEqual(BigInt(FAULT_SLEEP * TICK) / 2n);
    expect(k.useAfterFrees).toEqual([]);
    expect(k.oopses).toEqual([]);
    expect(k.console.join("")).not.toMatch(/BUG/);
    expect(k.rcu.trace.history.at(-1)!.holdouts).toBeGreaterThanOrEqual(1);
    // The worker kept running its system calls afterwards, with no probe attached.
    expect(worker.state).not.toBe("dead");
    expect(worker.runTicks).toBeGreaterThan(ranBeforeFree);
  });

  it("rcu_read_lock_trace() readers, plain RCU: the sleep is a quiescent state, the data is freed under the probe, and its next read is caught", () => {
    const { k, probe, worker, unregisteredAt } = blockedProbe("trace", "rcu");
    expect(probe.state).toBe("freed");
    expect(probe.freedAt! - unregisteredAt).toBeLessThan(BigInt(FAULT_SLEEP * TICK));
    expect(k.useAfterFrees).toHaveLength(1);
    const uaf = k.useAfterFrees[0].text;
    expect(uaf).toMatch(/use-after-free/i);
    expect(uaf).toContain('probe_data of probe "user-reader"');
    expect(uaf).toContain(`after a rcu grace period`);
    expect(uaf).toMatch(/probe_user_read/);
    expect(worker.state).toBe("dead");
  });

  it("preempt_disable() readers: the probe sleeps in atomic context (reported), which ends the grace period; the use-after-free is caught", () => {
    const { k, probe } = blockedProbe("preempt", "rcu");
    const console = k.console.join("");
    expect(console).toContain("BUG: sleeping function called from invalid context (page fault)");
    expect(console).toContain("BUG: scheduling while atomic");
    expect(probe.state).toBe("freed");
    expect(k.useAfterFrees).toHaveLength(1);
    expect(k.useAfterFrees[0].text).toContain('probe_data of probe "user-reader"');
  });

  it("preempt_disable() readers are invisible to Tasks Trace RCU as well: the mismatched grace period frees under the probe", () => {
    const { k } = blockedProbe("preempt", "rcu_tasks_trace");
    expect(k.useAfterFrees).toHaveLength(1);
  });
});
