// Seed 004: system-call tracepoint probes that fault on user memory, and so may sleep. A probe
// blocks inside a page fault (a major fault: the handler sleeps) while it is unregistered. The
// probe's data may be freed only after every reader that could still use it is done, and which
// grace period sees such a reader depends on how readers are protected. Classic probes run with
// preemption off: they cannot fault at all (their reads fail), and only plain RCU waits for them.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import type { ReadSide } from "../../src/kernel/tracepoint.js";
import type { Task } from "../../src/kernel/sched.js";

const TICK = 20_000;
/** The major fault's wait, in timer ticks. */
const FAULT_SLEEP = 40;

/** A user task making system calls on cpu0 (a busy thread on cpu1), and one probe registered. */
function withProbe(readSide: ReadSide, pages: number) {
  const k = Kernel.boot({
    cpus: 2, preempt: "full", tickPeriod: TICK, tracepointReadSide: readSide,
    workload: [
      { name: "user-worker", kind: "user", entry: "user_worker", cpu: 0 },
      { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 1 },
    ],
  });
  k.demand.sleepJiffies = FAULT_SLEEP;
  k.run(2 * TICK);
  const probe = k.sysEnter.register("user-reader", pages);
  const worker = k.sched.tasks.find((t) => t.name === "user-worker")!;
  return { k, probe, worker };
}

function blockedProbe(readSide: ReadSide, waitFor: "rcu" | "rcu_tasks_trace") {
  const { k, probe, worker } = withProbe(readSide, 8);
  // The first system call runs the probe, which touches its first user page and sleeps in the fault.
  if (!k.runUntil(() => k.demand.mapped.length === 1 && worker.state === "sleeping", 50 * TICK)) {
    throw new Error("the probe never blocked in a fault");
  }
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
    // The blocked call finished (all its pages read, none refused) before the data was freed.
    expect(probe.hitsAtFree).toBe(1n);
    expect(probe.efaultsAtFree).toBe(0n);
    // The worker kept running its system calls afterwards, with no probe attached.
    expect(worker.state).not.toBe("dead");
    expect(worker.runTicks).toBeGreaterThan(ranBeforeFree);
  });

  it("rcu_read_lock_trace() readers, plain RCU: the sleep is a quiescent state, the data is freed under the probe, " +
    "and its next read is caught", () => {
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

});

/** The worker is inside probe_user_read (its IP there) with preemption off around it. */
function insideProbe(k: Kernel, worker: Task): boolean {
  const fn = k.symbols.get("probe_user_read")!;
  return k.holders(fn.addr, fn.addr + BigInt(fn.size)).some((h) => h.task === worker && h.hold.where === "ip");
}

function preemptReader(waitFor: "rcu" | "rcu_tasks_trace") {
  const { k, probe, worker } = withProbe("preempt", 64);
  k.run(5 * TICK);
  const hits = k.sysEnter.hits(probe), efaults = k.sysEnter.efaults(probe);
  if (!k.runUntil(() => insideProbe(k, worker), 50 * TICK)) throw new Error("the worker never ran the probe");
  k.sysEnter.unregister(probe, waitFor === "rcu" ? k.rcu.rcu : k.rcu.trace);
  k.runUntil(() => probe.state === "freed", 500 * TICK);
  k.run(20 * TICK);
  return { k, probe, worker, hits, efaults };
}

describe("classic probes: preempt_disable() readers", () => {
  it("cannot take a fault that sleeps: every read of unmapped user memory fails with -EFAULT, nothing is mapped, nothing sleeps", () => {
    const { k, hits, efaults } = preemptReader("rcu");
    expect(hits).toBeGreaterThan(2n);
    // Every page of every completed call (and of the call in progress): the data is lost.
    expect(efaults >= hits * 64n && efaults < (hits + 1n) * 64n).toBe(true);
    expect(k.demand.mapped).toEqual([]);
    expect(k.readGlobal("user_faults_refused")).toBeGreaterThanOrEqual(efaults);
    expect(k.console.join("")).not.toMatch(/BUG/);
  });

  it("plain RCU waits for a preempt-disabled reader: unregistered while the probe runs, the data is freed after it returns", () => {
    const { k, probe } = preemptReader("rcu");
    expect(probe.state).toBe("freed");
    expect(k.useAfterFrees).toEqual([]);
    expect(k.oopses).toEqual([]);
  });

  it("Tasks Trace RCU ignores preempt-disabled readers, yet its grace period contains a plain RCU one: " +
    "unregistered while the probe runs, the data is freed only after the probe returns", () => {
    const { k, probe, worker } = preemptReader("rcu_tasks_trace");
    // rcu_tasks_trace_postscan() waits for an RCU grace period (what rcu_trace_implies_rcu_gp() relies on).
    expect(probe.state).toBe("freed");
    expect(k.rcu.rcu.history.some((g) => g.startedAt >= k.rcu.trace.history[0].startedAt &&
      g.endedAt <= k.rcu.trace.history[0].endedAt)).toBe(true);
    expect(k.useAfterFrees).toEqual([]);
    expect(worker.state).not.toBe("dead");
  });
});
