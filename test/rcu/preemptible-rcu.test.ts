// Preemptible RCU's readers (firmware/rcu.c, src/kernel/rcu/rcu.ts): a reader preempted inside
// rcu_read_lock() goes on the blocked-tasks list and holds the grace period from there; without
// preemptible RCU the reader is a preempt-disabled region the grace period waits for.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { EventKind, PERCPU_SIZE, percpuFields, SchedReason, taskFields } from "../../src/gen/layout.js";
import { physOfDirect } from "../../src/kernel/memory.js";
import type { Task } from "../../src/kernel/task.js";
import type { KernelVersion, PreemptModel } from "../../src/kernel/config.js";

const TICK = 20_000;

function boot(preempt: PreemptModel, kernel?: KernelVersion) {
  return Kernel.boot({ cpus: 2, preempt, kernel, tickPeriod: TICK, timeslice: 2, workload: [
    { name: "reader", kind: "kthread", entry: "kthread_rcu_reader", arg: 300, cpu: 0 },
    { name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 },
  ] });
}

const u32 = (k: Kernel, pa: number) => new DataView(k.machine.ram.buffer, k.machine.ram.byteOffset).getUint32(pa, true);
const nesting = (k: Kernel, t: Task) => u32(k, physOfDirect(t.addr) + taskFields.rcuReadLockNesting.offset);
const preemptCount = (k: Kernel, cpu: number) =>
  u32(k, physOfDirect(k.booted.percpuBase) + cpu * PERCPU_SIZE + percpuFields.preemptCount.offset);
const reader = (k: Kernel) => k.sched.tasks.find((t) => t.name === "reader")!;

/** Records when the host runs rcu_read_unlock_special() for a task. */
function watchUnlocks(k: Kernel): bigint[] {
  const at: bigint[] = [];
  const orig = k.rcu.unlockSpecial.bind(k.rcu);
  k.rcu.unlockSpecial = (cpu, t, deferred) => { at.push(k.machine.time); orig(cpu, t, deferred); };
  return at;
}

describe("preemptible RCU (PREEMPT_RCU)", () => {
  it("a reader preempted inside rcu_read_lock() holds a grace period from the blocked-tasks list until it runs again and unlocks", () => {
    const k = boot("full");
    const r = reader(k), rcu = k.rcu.rcu;
    const unlocks = watchUnlocks(k);
    expect(k.runUntil(() => r.state === "runnable" && r.preempted && nesting(k, r) > 0, 2000 * TICK), "preempted inside").toBe(true);
    expect(rcu.blocked.map((b) => b.task)).toEqual([r]);
    const seq = rcu.request(k.machine.time);
    // Every vCPU reports its quiescent state; the grace period still waits, for the task.
    expect(k.runUntil(() => rcu.state === "wait_qs" && !rcu.owes(0) && !rcu.owes(1), 200 * TICK)).toBe(true);
    expect(rcu.done(seq)).toBe(false);
    expect(rcu.holdingGp().map((b) => b.task)).toEqual([r]);
    expect(nesting(k, r), "still inside its reader").toBeGreaterThan(0);
    expect(rcu.describe(k.machine.time)).toContain(`blocked readers: reader:${r.pid} (holds the gp)`);
    // It runs again, leaves the reader: rcu_read_unlock_special() dequeues it and the grace period ends.
    const waitFrom = k.machine.time;
    expect(k.runUntil(() => rcu.done(seq), 5000 * TICK)).toBe(true);
    const unlock = unlocks.find((t) => t >= waitFrom);
    expect(unlock, "the unlock took the special path").toBeDefined();
    const gp = rcu.history.find((g) => g.seq === seq)!;
    expect(gp.endedAt).toBeGreaterThanOrEqual(unlock!);
    expect(rcu.blocked).toEqual([]);
  });

  it("a tick inside a reader is no quiescent state: with nothing else to run, the grace period waits for the unlock", () => {
    const k = Kernel.boot({ cpus: 1, preempt: "full", tickPeriod: TICK, timeslice: 2, workload: [
      { name: "reader", kind: "kthread", entry: "kthread_rcu_reader", arg: 300, cpu: 0 },
    ] });
    const r = reader(k), rcu = k.rcu.rcu;
    expect(k.runUntil(() => r.state === "running" && nesting(k, r) > 0, 2000 * TICK)).toBe(true);
    const start = k.machine.time;
    const seq = rcu.request(start);
    k.run(3 * TICK);
    expect(rcu.done(seq) || nesting(k, r) === 0, "ticks passed inside the reader without ending the grace period").toBe(false);
    // Asked to schedule, it passes through __schedule() inside its reader and goes on the blocked
    // list; the grace period ends in the first round that finds it out of its section.
    let inside = -1;
    expect(k.runUntil(() => rcu.done(seq) && (inside = nesting(k, r)) >= 0, 5000 * TICK)).toBe(true);
    expect(inside, "out of its section when the grace period ended").toBe(0);
    expect(rcu.history.find((g) => g.seq === seq)!.endedAt).toBeGreaterThan(start + BigInt(3 * TICK));
  });
});

describe("non-preemptible RCU", () => {
  it("rcu_read_lock() disables preemption: the reader is never preempted inside, and the grace period waits for its region", () => {
    // Lazy preemption on the PREEMPT_AUTO RFC preempts kernel code but is not PREEMPTION, so RCU is not preemptible.
    const k = boot("lazy", "preempt-auto-rfc");
    expect(k.kconfig.PREEMPT_RCU).toBe(false);
    const r = reader(k), rcu = k.rcu.rcu;
    expect(k.runUntil(() => k.sched.current[0] === r && preemptCount(k, 0) === 1, 2000 * TICK), "inside the region").toBe(true);
    expect(nesting(k, r), "no nesting count without PREEMPT_RCU").toBe(0);
    const start = k.machine.time;
    const latency = k.synchronize(rcu);
    const left = k.machine.events.ofKind(EventKind.SWITCH).find((e) => e.clock >= start && Number(e.a) === r.pid)!;
    expect(left, "the reader left the CPU").toBeDefined();
    expect(Number(left.c), "only by its own msleep() after the region").toBe(SchedReason.VOLUNTARY);
    expect(rcu.history.at(-1)!.endedAt).toBeGreaterThanOrEqual(left.clock);
    expect(latency).toBeGreaterThan(BigInt(10 * TICK));
    expect(rcu.blocked).toEqual([]);
  });
});
