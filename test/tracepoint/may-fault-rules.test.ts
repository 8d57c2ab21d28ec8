// Seed 004's registration rule (TRACEPOINT_MAY_FAULT, as the faultable-tracepoint series posted
// it) and tracepoint_synchronize_unregister()'s order: Tasks Trace RCU, then plain RCU.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { synchronizeUnregisterOrder, TracepointError, type ReadSide } from "../../src/kernel/tracepoint.js";

const TICK = 20_000;

function boot(readSide: ReadSide): Kernel {
  const k = Kernel.boot({
    cpus: 2, preempt: "full", tickPeriod: TICK, tracepointReadSide: readSide,
    workload: [
      { name: "user-worker", kind: "user", entry: "user_worker", cpu: 0 },
      { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 1 },
    ],
  });
  k.run(2 * TICK);
  return k;
}

const refusal = (f: () => unknown): TracepointError | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof TracepointError) return e;
    throw e;
  }
  return undefined;
};

describe("TRACEPOINT_MAY_FAULT: a probe's faultability must match the tracepoint's", () => {
  it("a tracepoint whose readers disable preemption refuses a faultable probe with EINVAL and publishes nothing", () => {
    const k = boot("preempt");
    expect(k.sysEnter.faultable).toBe(false);
    const e = refusal(() => k.sysEnter.register("faulting", 4, true));
    expect(e?.errno).toBe("EINVAL");
    expect(e?.message).toBe('probe "faulting" has TRACEPOINT_MAY_FAULT, and sys_enter is not faultable (its readers disable preemption)');
    expect(k.sysEnter.probes).toEqual([]);
    expect(k.readGlobal("sys_enter_probes")).toBe(0n);
    expect(k.sysEnter.register("careful", 4, false).mayFault).toBe(false);
  });

  it("a faultable tracepoint refuses a probe without the flag, and takes one with it", () => {
    const k = boot("trace");
    expect(k.sysEnter.faultable).toBe(true);
    expect(refusal(() => k.sysEnter.register("plain", 4, false))?.errno).toBe("EINVAL");
    expect(k.sysEnter.probes).toEqual([]);
    expect(k.sysEnter.register("faulting", 4, true).mayFault).toBe(true);
    // Without a flag (no such flag where the series was merged) the probe takes the tracepoint's kind.
    expect(k.sysEnter.register("unflagged", 4).mayFault).toBe(true);
  });
});

describe("tracepoint_synchronize_unregister()", () => {
  it("waits for Tasks Trace RCU on a faultable tracepoint, then for RCU; plain RCU alone otherwise", () => {
    expect(synchronizeUnregisterOrder(true)).toEqual(["rcu_tasks_trace", "rcu"]);
    expect(synchronizeUnregisterOrder(false)).toEqual(["rcu"]);
  });

  it("frees the probe's data after a Tasks Trace RCU grace period and an RCU one that started after it ended", () => {
    const k = boot("trace");
    const p = k.sysEnter.register("user-reader", 8, true);
    expect(k.runUntil(() => k.demand.mapped.length >= 1, 50 * TICK)).toBe(true);
    const at = k.machine.time;
    k.sysEnter.unregisterAfter(p, synchronizeUnregisterOrder(k.sysEnter.faultable).map((n) => k.rcu.flavours.find((f) => f.name === n)!));
    expect(k.runUntil(() => p.state === "freed", 500 * TICK)).toBe(true);
    const trace = k.rcu.trace.history.find((g) => g.startedAt >= at)!;
    const rcu = k.rcu.rcu.history.find((g) => g.startedAt >= trace.endedAt)!;
    expect(trace).toBeDefined();
    expect(rcu).toBeDefined();
    expect(p.freedAt).toBe(rcu.endedAt);
    expect(p.releasedAfter).toBe("rcu_tasks_trace, then rcu");
    expect(k.useAfterFrees).toEqual([]);
  });
});
