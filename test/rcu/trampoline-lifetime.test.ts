import { describe, it, expect } from "vitest";
import { EventKind, SchedReason } from "../../src/gen/layout.js";
import { victimRun, TICK } from "./victim.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";

describe("seed 003: a task preempted inside a dynamic trampoline while its ops is unregistered", () => {
  it("plain RCU frees the trampoline under the preempted task; it faults returning into it, and the report says so", () => {
    const { k, release, heldAtUnregister } = victimRun({ preempt: "full", release: "rcu" });
    expect(heldAtUnregister.some((h) =>
      /^victim\/\d+ \(runnable, preempted\): the return address at \w+ is ftrace_trampoline\[slow\]\+0x/.test(h))).toBe(true);
    expect(release.freedAt).toBeDefined();
    expect(k.useAfterFrees).toHaveLength(1);
    const uaf = k.useAfterFrees[0];
    expect(uaf.task).toBe("victim");
    expect(uaf.returned, "it came back from the callback").toBe(true);
    expect(uaf.clock).toBeGreaterThan(release.freedAt!);
    const text = uaf.text;
    expect(text).toMatch(/^BUG: use-after-free in ftrace_trampoline\[slow\]\+0x[0-9a-f]+ \(freed\)$/m);
    expect(text).toMatch(/^Instruction fetch at addr [0-9a-f]{16} by task victim\/\d+ on CPU 0: it returned into the trampoline/m);
    // The call trace passes through the trampoline's frame records to the traced function and its caller.
    expect(text).toMatch(
      /Call Trace:\n ftrace_trampoline\[slow\]\(freed\)\+0x[0-9a-f]+\n victim_traced\+0x5\n kthread_victim\+0x[0-9a-f]+\n task_start/);
    expect(text).toMatch(new RegExp(/freed at [\d.]+ (?:ns|us|ms) by ftrace_shutdown\(slow\), policy rcu: /.source +
      /after rcu gp \d+ \([\d.]+ (?:ns|us|ms)\.\.[\d.]+ (?:ns|us|ms)\)\./.source));
    expect(text).toMatch(/still inside it \(IP or return address\):\n {3}victim\/\d+ \(runnable, preempted\)/);
    // The timeline has the steps in order: preempted, unregister, patch, grace period, free, fault.
    const order = ["victim/\\d+ preempted by an interrupt", "unregister ftrace ops \"slow\"", "text_poke batch",
      "rcu grace period \\d+ ends", "trampoline 0x[0-9a-f]+ \\(\\d+ bytes\\) of \"slow\" freed", "victim/\\d+ runs",
      "PF at ftrace_trampoline\\[slow\\]\\(freed\\)"];
    let at = 0;
    for (const step of order) {
      const m = new RegExp(step).exec(text.slice(at));
      expect(m, `timeline step "${step}"`).not.toBeNull();
      at += m!.index + m![0].length;
    }
    // The task died of it, and the kernel went on.
    expect(k.sched.tasks.find((t) => t.name === "victim")!.state).toBe("dead");
    expect(k.oopses).toHaveLength(1);
  });

  it("freeing at once is caught the same way", () => {
    const { k, release } = victimRun({ preempt: "full", release: "immediate" });
    expect(release.freedAt).toBe(release.unregisteredAt);
    expect(k.useAfterFrees.map((u) => u.task)).toEqual(["victim"]);
  });

  it("Tasks RCU waits until the task has left and switched voluntarily: no fault, and the delay is reported", () => {
    const { k, release, unregisteredAt } = victimRun({ preempt: "full", kernel: "6.12", release: "kernel" });
    expect(k.kconfig.TASKS_RCU).toBe(true);
    expect(release.steps.map((s) => s.flavour.name)).toEqual(["rcu_tasks_rude", "rcu_tasks", "rcu"]);
    expect(release.freedAt).toBeDefined();
    expect(k.useAfterFrees).toEqual([]);
    expect(k.oopses).toEqual([]);
    const victim = k.sched.tasks.find((t) => t.name === "victim")!;
    const voluntary = k.machine.events.ofKind(EventKind.SWITCH)
      .find((e) => e.clock > unregisteredAt && Number(e.a) === victim.pid && Number(e.c) === SchedReason.VOLUNTARY)!;
    expect(voluntary).toBeDefined();
    expect(release.freedAt!).toBeGreaterThan(voluntary.clock);
    expect(k.trampolines.all[0].heldAtFree).toEqual([]);
    expect(k.releases.describe(k.machine.time)).toMatch(/^slow: trampoline 0x[0-9a-f]+, policy kernel, freed at [\d.]+ (?:ns|us|ms)$/);
    // The victim keeps calling the (now untraced) function.
    const calls = k.readGlobal("victim_calls");
    k.run(50 * TICK);
    expect(k.readGlobal("victim_calls")).toBeGreaterThan(calls);
  });
});

describe("seed 000: lazy preemption and the Kconfig rule for TASKS_RCU (the PREEMPT_AUTO RFC)", () => {
  it("lazy + old rule: TASKS_RCU is not built, ftrace_shutdown skips Tasks RCU (no PREEMPTION), and the use-after-free is back", () => {
    const { k, release } = victimRun({ preempt: "lazy", kernel: "preempt-auto-rfc", kconfig: "old", release: "kernel" });
    expect(k.kconfig.TASKS_RCU).toBe(false);
    // The plain RCU grace period is the kallsyms one: it does not wait for a preempted task.
    expect(release.steps.map((s) => s.flavour.name)).toEqual(["rcu_tasks_rude", "rcu"]);
    expect(k.useAfterFrees.map((u) => u.task)).toEqual(["victim"]);
  });

  it("lazy + NEED_TASKS_RCU rule: Tasks RCU is built and waited for; no fault", () => {
    const { k, release } = victimRun({ preempt: "lazy", kernel: "preempt-auto-rfc", kconfig: "new", release: "kernel" });
    expect(k.kconfig.TASKS_RCU).toBe(true);
    expect(release.steps.map((s) => s.flavour.name)).toEqual(["rcu_tasks_rude", "rcu_tasks", "rcu"]);
    expect(release.freedAt).toBeDefined();
    expect(k.useAfterFrees).toEqual([]);
  });

  for (const preempt of ["none", "voluntary"] as const) {
    it(`${preempt}: a task inside the trampoline cannot be preempted there, so plain RCU is enough`, () => {
      const { k, release, heldAtUnregister } = victimRun({ preempt, kernel: "6.6", kconfig: "old", release: "rcu" });
      expect(heldAtUnregister.some((h) => /^victim\/\d+ \(running\)/.test(h)), "the victim was running inside when unregistered")
        .toBe(true);
      expect(release.freedAt).toBeDefined();
      expect(k.useAfterFrees).toEqual([]);
      expect(k.trampolines.all[0].heldAtFree).toEqual([]);
      const victim = k.sched.tasks.find((t) => t.name === "victim")!;
      expect(k.machine.events.ofKind(EventKind.SWITCH)
        .filter((e) => Number(e.a) === victim.pid && Number(e.c) === SchedReason.IRQ_PREEMPT)).toEqual([]);
    });
  }
});

describe("seed 000's alternatives to Tasks RCU, on the same runs", () => {
  it("(a) checking the preempted task's IP misses a task preempted in the callback: " +
    "its IP is in core text, its return address is not", () => {
    const { k, heldAtUnregister } = victimRun({ preempt: "full", release: "ip-check" });
    // The counter-example: the victim was preempted in function_slow_call, with the trampoline only on its stack.
    expect(heldAtUnregister.find((h) => h.startsWith("victim/"))).toMatch(/the return address at \w+ is ftrace_trampoline/);
    expect(k.sched.tasks.find((t) => t.name === "victim")!.state).toBe("dead");
    expect(k.useAfterFrees.map((u) => u.task)).toEqual(["victim"]);
    expect(k.useAfterFrees[0].text).toMatch(
      /policy ip-check: after rcu_tasks_rude gp 1 \([\d.]+ (?:ns|us|ms)\.\.[\d.]+ (?:ns|us|ms)\), ip-check gp 1/);
  });

  it("(b) scanning stacks for trampoline addresses is safe, and ends much sooner than Tasks RCU", () => {
    const scan = victimRun({ preempt: "full", release: "stack-scan" });
    const tasks = victimRun({ preempt: "full", release: "kernel" });
    expect(scan.k.useAfterFrees).toEqual([]);
    expect(scan.k.rcu.stackScan.history[0].holdouts, "the victim was a holdout").toBe(1);
    expect(scan.k.rcu.stackScan.history[0].scans).toBeGreaterThan(0);
    const delay = (r: typeof scan) => r.release.freedAt! - r.release.unregisteredAt;
    expect(delay(scan) * 10n).toBeLessThan(delay(tasks));
  });

  it("(b) under many interleavings: never a use-after-free; (a) is caught whenever the victim was preempted in the callback", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const scan = victimRun({ preempt: "full", release: "stack-scan", seed });
      expect(scan.k.useAfterFrees, `seed ${seed}`).toEqual([]);
      const ip = victimRun({ preempt: "full", release: "ip-check", seed });
      const inCallback = ip.heldAtUnregister.some((h) => h.startsWith("victim/") && h.includes("the return address at"));
      expect(ip.k.useAfterFrees.length, `seed ${seed}`).toBe(inCallback ? 1 : 0);
    }
  });
});

describe("idle: a trampoline reached where RCU is not watching", () => {
  /**
   * Kernel 5.15 with a timer-stopping idle state: after each wake-up cpu_idle_poll() spins with
   * interrupts on and RCU not watching, calling the traced tick_check_broadcast_expired(). The
   * callback is long enough that the vCPUs are still in it after the sites were patched away.
   */
  function idleRun(release: string) {
    const k = Kernel.boot({ cpus: 2, preempt: "full", kernel: "5.15", idle: "broadcast", tickPeriod: TICK, timeslice: 2, release,
      workload: [{ name: "burst", kind: "kthread", entry: "kthread_burst", arg: 0, cpu: 0 }] });
    const ops = new FtraceOps({
      name: "idle-slow", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "tick_check_broadcast_expired",
      private: 50_000n,
    });
    k.run(5 * TICK);
    k.ftrace.register(ops);
    const t = ops.trampoline!;
    const idleInside = () => k.holders(t.addr, t.addr + 4096n).some((h) => h.task.kind === "idle");
    expect(k.runUntil(idleInside, 500 * TICK)).toBe(true);
    const held = k.holders(t.addr, t.addr + 4096n).map((h) => h.text);
    const release_ = k.ftrace.unregister(ops)!;
    k.runUntil(() => release_.freedAt !== undefined, 2000 * TICK);
    k.run(50 * TICK);
    return { k, held, release: release_ };
  }

  it("plain RCU counts the polling idle vCPU as quiescent while it runs the trampoline: use-after-free in the idle task", () => {
    const { k, held } = idleRun("rcu");
    expect(held.some((h) => h.startsWith("swapper/"))).toBe(true);
    expect(k.useAfterFrees.length).toBeGreaterThan(0);
    expect(k.useAfterFrees.every((u) => u.task.startsWith("swapper/"))).toBe(true);
    expect(k.console.join("")).toContain("Kernel panic - not syncing: Attempted to kill the idle task!");
  });

  it("Tasks RCU never waits for idle tasks: use-after-free too", () => {
    const { k, release } = idleRun("rcu_tasks");
    expect(release.steps[0].flavour.name).toBe("rcu_tasks");
    expect(k.useAfterFrees.length).toBeGreaterThan(0);
    expect(k.useAfterFrees.every((u) => u.task.startsWith("swapper/"))).toBe(true);
  });

  it("Tasks Rude RCU makes every vCPU schedule, which the polling idle vCPU does only after leaving the trampoline: safe", () => {
    const { k, release } = idleRun("rcu_tasks_rude");
    expect(release.freedAt).toBeDefined();
    expect(k.useAfterFrees).toEqual([]);
    expect(k.trampolines.all[0].heldAtFree).toEqual([]);
  });
});
