// The recursion guard where mainline puts it (recursion: "mainline"): no guard in the
// trampolines; the list function and ftrace_ops_assist_func take the LIST bits, each callback its
// own FTRACE bits with ftrace_test_recursion_trylock(), whose unlock is a preemption point.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { decision } from "../../src/kernel/ftrace/recursion.js";
import { guardSequences } from "../../src/kernel/ftrace/guard-sites.js";
import { EventKind } from "../../src/gen/layout.js";
import { FtraceOpsFlag } from "../../src/gen/constants.js";
import { FunctionCounter } from "../../src/kernel/ftrace/tracers.js";
import type { RecursionSchemeName } from "../../src/kernel/config.js";

const TICK = 20_000;

function boot(recursion: RecursionSchemeName, recursionEvents = false): Kernel {
  return Kernel.boot({
    cpus: 1, preempt: "full", tickPeriod: TICK, recursion, recursionEvents,
    workload: [{ name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 0 }],
  });
}

function recursing(flags: { recursion?: boolean } = {}): FtraceOps {
  return new FtraceOps({
    name: "recursing", callback: { kind: "guest", symbol: "function_recursing_call" }, filter: "work_leaf recursion_target", ...flags,
  });
}

describe("mainline: no guard in the trampolines", () => {
  it("every guard sequence of ftrace_caller and ftrace_regs_caller starts with a jump over it; a dynamic trampoline copies that", () => {
    // Found in a kernel booted with the guard in place (the same image, the same addresses).
    const guarded = boot("per-stack");
    const seqs = guardSequences({
      read: (va, len) => guarded.readKernel(va, len), write: () => undefined, sym: (n) => guarded.symbols.get(n)!.addr,
    });
    const k = boot("mainline");
    expect(seqs.map((s) => `${s.trampoline} ${s.part}`)).toEqual(
      ["ftrace_caller enter", "ftrace_caller exit", "ftrace_regs_caller enter", "ftrace_regs_caller exit"]);
    for (const s of seqs) {
      const [op, rel] = k.readKernel(s.start, 2);
      expect(op, `${s.trampoline} ${s.part}`).toBe(0xeb);
      expect(s.start + 2n + BigInt(rel)).toBe(s.end);
    }
    k.run(3 * TICK);
    const ops = recursing();
    k.ftrace.register(ops);
    const t = ops.trampoline!;
    const enter = seqs[0].start - k.symbols.get("ftrace_caller")!.addr;
    expect(k.readKernel(t.addr + enter, 1)[0]).toBe(0xeb);
    // Under the other schemes the guard is there: each sequence begins with its movabs.
    for (const s of seqs) expect([...guarded.readKernel(s.start, 2)]).toEqual([0x48, 0xb8]);
  });
});

describe("mainline: a callback that calls a traced function", () => {
  it("the callback's own FTRACE bits skip the second nested call (TRANSITION lets one through), every skip counted at its site", () => {
    const k = boot("mainline", true);
    k.run(3 * TICK);
    const ops = recursing();
    k.ftrace.register(ops);
    k.run(40 * TICK);
    const calls = k.ftrace.calls(ops);
    const skipped = k.ftrace.recursions();
    expect(calls).toBeGreaterThan(100n);
    // work_leaf -> callback (FTRACE NORMAL) -> recursion_target -> callback (FTRACE TRANSITION)
    // -> recursion_target -> callback: both bits held, it returns at once. Two calls counted
    // per work_leaf call, one skip at recursion_target.
    // (The run may stop inside a pair, before its skip.)
    const pairs = skipped.sites.get("recursion_target")!;
    expect(calls - 2n * pairs).toBeGreaterThanOrEqual(0n);
    expect(calls - 2n * pairs).toBeLessThanOrEqual(2n);
    expect(k.readGlobal("recursion_target_calls")).toBe(calls);
    expect(skipped.sites.get("work_leaf")).toBeUndefined();
    expect(skipped.total).toBe(pairs);
    expect(k.oopses).toEqual([]);
    // The decisions are the callback's: FTRACE bits only (no trampoline guard, no list function).
    const decisions = k.machine.events.ofKind(EventKind.RECURSION).map((e) => decision(e, k.stacks));
    const bits = new Set(decisions.map((d) => `${d.entered} ${d.bit}`));
    expect([...bits].sort()).toEqual(["false NORMAL", "true NORMAL", "true TRANSITION"]);
  });

  it("an ops with FTRACE_OPS_FL_RECURSION gets ftrace_ops_assist_func: its LIST bits skip the second nested call first", () => {
    const k = boot("mainline", true);
    k.run(3 * TICK);
    const ops = recursing({ recursion: true });
    k.ftrace.register(ops);
    // ftrace_ops_get_func: the trampoline calls the assist function, not the callback.
    const t = ops.trampoline!;
    const call = k.readKernel(t.addr + BigInt(t.callOffset), 5);
    const target = t.addr + BigInt(t.callOffset) + 5n + BigInt(new DataView(call.buffer, call.byteOffset).getInt32(1, true));
    expect(target).toBe(k.symbols.get("ftrace_ops_assist_func")!.addr);
    k.run(40 * TICK);
    const calls = k.ftrace.calls(ops);
    expect(calls).toBeGreaterThan(100n);
    const pairs = k.ftrace.recursions().sites.get("recursion_target")!;
    expect(calls - 2n * pairs).toBeGreaterThanOrEqual(0n);
    expect(calls - 2n * pairs).toBeLessThanOrEqual(2n);
    const skips = k.machine.events.ofKind(EventKind.RECURSION).map((e) => decision(e, k.stacks)).filter((d) => !d.entered);
    expect(skips.length).toBe(Number(pairs));
    // The assist function found LIST NORMAL and LIST TRANSITION held: the callback was never reached.
    expect(new Set(skips.map((d) => d.bit))).toEqual(new Set(["LIST NORMAL"]));
    expect(k.oopses).toEqual([]);
  });
});

/** Two ops on every traced function, host callbacks that note whether RCU watched the vCPU. */
// Traced code where RCU is not watching: 5.15's idle loop, polling for the timer broadcast,
// calls the traced tick_check_broadcast_expired() after ct_cpuidle_enter() (docs/versions.md).
function rcuRun(recursion: RecursionSchemeName, withPlain: boolean) {
  const k = Kernel.boot({
    cpus: 1, preempt: "full", tickPeriod: TICK, recursion, kernel: "5.15", idle: "broadcast",
    workload: [{ name: "sleeper", kind: "kthread", entry: "kthread_sleeper", arg: 3, cpu: 0 }],
  });
  k.run(3 * TICK);
  const seen = { rcu: { watching: 0, not: 0 }, plain: { watching: 0, not: 0 } };
  const note = (which: "rcu" | "plain") => (c: { cpu: number }) => {
    if (k.percpuU32(c.cpu, "rcuWatching")) seen[which].watching++;
    else seen[which].not++;
  };
  k.ftrace.register(new FtraceOps({ name: "rcu", callback: { kind: "host", fn: note("rcu") }, extraFlags: FtraceOpsFlag.RCU }));
  if (withPlain) k.ftrace.register(new FtraceOps({ name: "plain", callback: { kind: "host", fn: note("plain") } }));
  // Counted from here: registering runs the vCPUs (text poke), with the first ops alone meanwhile.
  seen.rcu = { watching: 0, not: 0 };
  seen.plain = { watching: 0, not: 0 };
  const skipsBefore = k.ftrace.rcuSkips();
  k.run(30 * TICK);
  return { k, seen, rcuSkips: k.ftrace.rcuSkips() - skipsBefore };
}

describe("FTRACE_OPS_FL_RCU", () => {
  for (const recursion of ["mainline", "per-stack"] as const) {
    it(`${recursion}: never called where RCU is not watching; an ops without the flag is, as often as the skips counted`, () => {
      const { seen, rcuSkips } = rcuRun(recursion, true);
      // Both ops trace every function: the sites call the list function.
      expect(seen.plain.not).toBeGreaterThan(0);
      expect(seen.rcu.not).toBe(0);
      expect(seen.rcu.watching).toBe(seen.plain.watching);
      expect(rcuSkips).toBe(BigInt(seen.plain.not));
    });
  }

  it("mainline, alone on its sites: its trampoline calls ftrace_ops_assist_func, which skips it where RCU is not watching, counted", () => {
    const { k, seen, rcuSkips } = rcuRun("mainline", false);
    expect(seen.rcu.watching).toBeGreaterThan(0);
    expect(seen.rcu.not).toBe(0);
    expect(rcuSkips).toBeGreaterThan(0n);
    const t = k.ftrace.ops.find((o) => o.name === "rcu")!.trampoline!;
    const call = k.readKernel(t.addr + BigInt(t.callOffset), 5);
    expect(t.addr + BigInt(t.callOffset) + 5n + BigInt(new DataView(call.buffer, call.byteOffset).getInt32(1, true)))
      .toBe(k.symbols.get("ftrace_ops_assist_func")!.addr);
  });
});

describe("a second tracer on what a first tracer's callback calls (seed 002's \"one flag per tracer\")", () => {
  function twoTracers(recursion: RecursionSchemeName) {
    const k = boot(recursion);
    k.run(3 * TICK);
    const first = new FtraceOps({ name: "first", callback: { kind: "guest", symbol: "function_recursing_call" }, filter: "work_leaf" });
    const second = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, "recursion_target", "", "second");
    k.ftrace.register(first);
    k.ftrace.register(second.ops);
    const before = k.readGlobal("recursion_target_calls");
    const seenBefore = second.hits(k.ftrace.record("recursion_target")!.index);
    k.run(40 * TICK);
    return {
      calls: k.readGlobal("recursion_target_calls") - before,
      seen: second.hits(k.ftrace.record("recursion_target")!.index) - seenBefore, skipped: k.ftrace.recursions().total,
    };
  }

  it("per-stack: one flag for every tracer, so the second never sees the first's callback's calls; mainline: it sees each one", () => {
    const perStack = twoTracers("per-stack");
    expect(perStack.calls).toBeGreaterThan(50n);
    expect(perStack.seen).toBe(0n);
    expect(perStack.skipped).toBeGreaterThanOrEqual(perStack.calls);
    // Mainline: the bits are per task and shared by the tracers too, but the second callback
    // finds FTRACE NORMAL held by the first and runs on TRANSITION.
    const mainline = twoTracers("mainline");
    expect(mainline.calls).toBeGreaterThan(50n);
    expect(mainline.seen).toBe(mainline.calls);
    expect(mainline.skipped).toBe(0n);
  });
});
