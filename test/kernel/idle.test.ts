import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps, type HostCall } from "../../src/kernel/ftrace/ops.js";
import { FtraceError } from "../../src/kernel/ftrace/ftrace.js";
import { NOP5 } from "../../src/kernel/ftrace/records.js";
import type { KernelConfig } from "../../src/kernel/config.js";
import { X86_EFLAGS_IF } from "../../src/gen/constants.js";

const TICK = 20_000;

/** Idle vCPUs only (no workload): every traced call in the run comes from the idle loop. */
function idleKernel(config: Partial<KernelConfig>): Kernel {
  return Kernel.boot({ cpus: 2, tickPeriod: TICK, workload: [], ...config });
}

/** Where each call of the traced `filter` ran: interrupts on or off, RCU watching or not. */
function contexts(k: Kernel, filter: string, ticks: number): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  const at = (call: HostCall) => {
    const irqs = k.machine.cpus[call.cpu].get("rflags") & X86_EFLAGS_IF ? "irqs on" : "irqs off";
    const rcu = k.percpuU32(call.cpu, "rcuWatching") ? "RCU watching" : "RCU not watching";
    const name = k.symbols.find(call.ip)!.name;
    if (!seen.has(name)) seen.set(name, new Set());
    seen.get(name)!.add(`${irqs}, ${rcu}`);
  };
  k.ftrace.register(new FtraceOps({ name: "where", filter, callback: { kind: "host", fn: at } }));
  k.run(ticks * TICK);
  return seen;
}

describe("idle in do_idle()'s order", () => {
  it("halt: arch_cpu_idle_enter runs with interrupts off and RCU watching; the halt is where RCU stops watching", () => {
    const k = idleKernel({ kernel: "6.13" });
    const seen = contexts(k, "arch_cpu_idle_enter arch_cpu_idle_exit", 20);
    expect(seen.get("arch_cpu_idle_enter")).toEqual(new Set(["irqs off, RCU watching"]));
    expect(seen.get("arch_cpu_idle_exit")).toEqual(new Set(["irqs on, RCU watching"]));
    expect(k.allIdle()).toBe(true);
    expect(k.machine.cpus.every((c) => k.percpuU32(c.index, "rcuWatching") === 0)).toBe(true);
  });

  it("5.15, broadcast: tick_check_broadcast_expired is called by do_idle (RCU watching) and by the poll loop (irqs on, RCU not)", () => {
    const k = idleKernel({ kernel: "5.15", idle: "broadcast" });
    const seen = contexts(k, "tick_check_broadcast_expired", 20);
    expect(seen.get("tick_check_broadcast_expired")).toEqual(new Set(["irqs off, RCU watching", "irqs on, RCU not watching"]));
  });

  it("idle=poll: cpu_idle_force_poll short-circuits the broadcast check, so the poll loop calls nothing traced", () => {
    // Sleepers bring the vCPUs out of the poll loop (need_resched) and back into idle.
    const sleeper = (cpu: number) => ({ name: `sleeper/${cpu}`, kind: "kthread" as const, entry: "kthread_sleeper", arg: 2, cpu });
    const k = idleKernel({ kernel: "5.15", idle: "poll", workload: [sleeper(0), sleeper(1)] });
    const seen = contexts(k, "tick_check_broadcast_expired arch_cpu_idle_enter", 20);
    expect(seen.has("tick_check_broadcast_expired")).toBe(false);
    expect(seen.get("arch_cpu_idle_enter")).toEqual(new Set(["irqs off, RCU watching"]));
    // Polling, never halted.
    expect(k.machine.cpus.some((c) => c.get("halted") !== 0)).toBe(false);
  });

  it("tick_check_broadcast_expired is traced in 5.15 and 6.1, noinstr from 6.6 on: no record, its site a NOP, a filter refused", () => {
    for (const kernel of ["5.15", "6.1"] as const) {
      expect(idleKernel({ kernel }).ftrace.record("tick_check_broadcast_expired"), kernel).toBeDefined();
    }
    for (const kernel of ["6.6", "6.10", "6.12", "6.13", "preempt-auto-rfc"] as const) {
      const k = idleKernel({ kernel });
      expect(k.ftrace.record("tick_check_broadcast_expired"), kernel).toBeUndefined();
      const site = k.symbols.get("tick_check_broadcast_expired")!.addr;
      expect([...k.readKernel(site, 5)], kernel).toEqual([...NOP5]);
      const ops = new FtraceOps({ name: "poll", filter: "tick_check_broadcast_expired", callback: { kind: "host", fn: () => undefined } });
      let error: unknown;
      try { k.ftrace.register(ops); } catch (e) { error = e; }
      expect(error, kernel).toBeInstanceOf(FtraceError);
      const release = kernel === "preempt-auto-rfc" ? "PREEMPT_AUTO RFC" : `kernel ${kernel},`;
      expect((error as Error).message).toContain(`(tick_check_broadcast_expired: noinstr in ${release}`);
      expect(ops.enabled).toBe(false);
    }
  });

  it("arch_cpu_idle_enter's callbacks run with interrupts off: the unpatching's sync IPIs wait them out, even for a free at once", () => {
    const k = Kernel.boot({ cpus: 2, preempt: "full", kernel: "6.13", tickPeriod: TICK, timeslice: 2, release: "immediate",
      workload: [{ name: "burst", kind: "kthread", entry: "kthread_burst", arg: 0, cpu: 0 }] });
    const ops = new FtraceOps({
      name: "idle-slow", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "arch_cpu_idle_enter", private: 50_000n,
    });
    k.run(5 * TICK);
    k.ftrace.register(ops);
    const t = ops.trampoline!;
    const idleInside = () => k.holders(t.addr, t.addr + 4096n).some((h) => h.task.kind === "idle");
    expect(k.runUntil(idleInside, 500 * TICK)).toBe(true);
    const release = k.ftrace.unregister(ops)!;
    k.runUntil(() => release.freedAt !== undefined, 2000 * TICK);
    k.run(50 * TICK);
    expect(release.freedAt).toBeDefined();
    expect(k.trampolines.all[0].heldAtFree).toEqual([]);
    expect(k.useAfterFrees).toEqual([]);
  });

  it("an interrupt taken where RCU is not watching makes RCU watch while its handler runs (irqentry_enter)", () => {
    const k = idleKernel({ kernel: "5.15", idle: "broadcast" });
    const seen = contexts(k, "update_process_times", 10);
    expect(seen.get("update_process_times")).toEqual(new Set(["irqs off, RCU watching"]));
  });
});
