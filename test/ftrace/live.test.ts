import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { EventKind } from "../../src/gen/layout.js";
import { FunctionTracer, FunctionCounter } from "../../src/kernel/ftrace/tracers.js";
import { FtraceOps, type HostCall } from "../../src/kernel/ftrace/ops.js";
import { enabledFunctions } from "../../src/kernel/ftrace/tracefs.js";
import type { KernelConfig } from "../../src/kernel/config.js";

/** The workload functions and their index in the firmware's work_calls[] counters. */
const WORK = { work_leaf: 0, work_middle: 1, work_top: 2 } as const;
type Work = keyof typeof WORK;
const FILTERS = ["work_*", "work_top work_leaf", "work_middle long_work", "*_top", "work_* !work_middle"];

function bursty(seed: number, extra: Partial<KernelConfig> = {}) {
  return Kernel.boot({
    cpus: 4, seed, quantum: 400, tickPeriod: 20_000, ...extra,
    workload: [0, 1, 2, 3].map((cpu) => ({
      name: `burst/${cpu}`, kind: "kthread" as const, entry: "kthread_burst", arg: 10 | (4 << 16), cpu,
    })),
  });
}

function workCalls(k: Kernel): Record<Work, bigint> {
  return Object.fromEntries(Object.entries(WORK).map(([f, i]) => [f, k.readGlobal("work_calls", i)])) as Record<Work, bigint>;
}

describe("tracing switched on and off while 4 vCPUs run through the sites", () => {
  it("overlapping filters, many seeds: never a hazard, int3 emulation exercised, every call made while enabled traced", () => {
    let int3Hits = 0n, checkedWindows = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const k = bursty(seed);
      k.run(1_000_000);
      for (let round = 0; round < 4; round++) {
        const tracer = new FunctionTracer(k.machine, k.heap, 1 << 14, FILTERS[round % FILTERS.length]);
        const counter = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, FILTERS[(round + 1) % FILTERS.length]);
        k.ftrace.register(tracer.ops);
        k.ftrace.register(counter.ops);
        // A window that starts and ends with every vCPU idle: no call is half done at its edges.
        expect(k.runUntil(() => k.allIdle(), 20_000_000), `seed ${seed}: the vCPUs go idle`).toBe(true);
        tracer.consume();
        const c0 = workCalls(k);
        const h0 = Object.keys(WORK).map((f) => counter.hits(k.ftrace.record(f)!.index));
        k.run(2_000_000);
        expect(k.runUntil(() => k.allIdle(), 20_000_000)).toBe(true);
        const c1 = workCalls(k);
        const recs = tracer.consume();
        expect(tracer.lost, "nothing overwritten in the window").toBe(0n);
        for (const f of Object.keys(WORK) as Work[]) {
          const rec = k.ftrace.record(f)!;
          const calls = c1[f] - c0[f];
          expect(calls > 0n, `${f} ran`).toBe(true);
          const traced = BigInt(recs.filter((r) => r.ip === rec.ip).length);
          expect(traced, `seed ${seed} round ${round}: ${f} under "${tracer.ops.filter}"`).toBe(tracer.ops.traces(rec.index) ? calls : 0n);
          const hits = counter.hits(rec.index) - h0[Object.keys(WORK).indexOf(f)];
          expect(hits, `seed ${seed} round ${round}: ${f} counted under "${counter.ops.filter}"`)
            .toBe(counter.ops.traces(rec.index) ? calls : 0n);
          checkedWindows++;
        }
        k.ftrace.unregister(counter.ops);
        k.ftrace.unregister(tracer.ops);
      }
      expect(k.machine.events.ofKind(EventKind.HAZARD), `seed ${seed}`).toEqual([]);
      expect(k.oopses).toEqual([]);
      int3Hits += k.poke.stats.int3Hits;
    }
    expect(checkedWindows).toBeGreaterThan(0);
    expect(int3Hits, "some vCPU ran into a site mid-patch and had the new instruction emulated").toBeGreaterThan(0n);
  });
});

/** Every vCPU runs through the work_* sites all the time (no sleeping, so no interrupt between). */
function busy(seed: number, extra: Partial<KernelConfig> = {}) {
  return Kernel.boot({
    cpus: 4, seed, quantum: 400, tickPeriod: 50_000, ...extra,
    workload: [0, 1, 2, 3].map((cpu) => ({ name: `worker/${cpu}`, kind: "kthread" as const, entry: "kthread_worker", arg: 1000, cpu })),
  });
}

describe("the same changes written naively", () => {
  it("5 bytes written in place under running vCPUs are reported as cross-modifying-code hazards", () => {
    const k = busy(3);
    k.run(1_000_000);
    k.poke.naive = true;
    const tracer = new FunctionTracer(k.machine, k.heap, 1 << 12, "work_*");
    k.ftrace.register(tracer.ops);
    k.run(3_000_000);
    const hazards = k.machine.events.ofKind(EventKind.HAZARD);
    expect(hazards.length).toBeGreaterThan(0);
    const sites = new Set(["work_top", "work_middle", "work_leaf"].map((f) => k.ftrace.record(f)!.ip));
    expect(hazards.every((h) => sites.has(h.a)), "the hazards are at the patched sites").toBe(true);
    expect(hazards.every((h) => h.b >> 48n === 0xffffn), "written by the host").toBe(true);
  });

  it("with the torn policy a vCPU executes a mix of old and new bytes, and the guest crashes", () => {
    const outcomes: string[] = [];
    for (let seed = 1; seed <= 12 && !outcomes.some((o) => o.startsWith("crash")); seed++) {
      const k = busy(seed, { xmcPolicy: "TORN", softLockupTicks: 5_000_000 });
      k.run(1_000_000);
      k.poke.naive = true;
      k.ftrace.register(new FunctionTracer(k.machine, k.heap, 1 << 12, "work_*").ops);
      const stop = k.run(5_000_000);
      const crashed = k.oopses.length > 0 || stop.kind !== "time";
      outcomes.push(`${crashed ? "crash" : "ran"}(seed ${seed}: ${stop.kind}, ${k.oopses.length} oops)`);
    }
    expect(outcomes.some((o) => o.startsWith("crash")), outcomes.join(" ")).toBe(true);
  });
});

describe("where each site points", () => {
  it("a site traced by one ops calls that ops' trampoline, which calls the callback directly; " +
    "a site two ops share goes through ftrace_caller and the list function", () => {
    const k = bursty(1);
    const calls: { ops: string; call: HostCall }[] = [];
    const host = (name: string, filter: string) =>
      new FtraceOps({ name, filter, callback: { kind: "host", fn: (call) => calls.push({ ops: name, call }) } });
    const a = host("a", "work_top work_middle"), b = host("b", "work_middle work_leaf");
    k.ftrace.register(a);
    k.ftrace.register(b);
    const target = (f: string) => k.ftrace.record(f)!.installed;
    expect(target("work_top")).toBe(a.trampoline!.addr);
    expect(target("work_leaf")).toBe(b.trampoline!.addr);
    expect(target("work_middle")).toBe(k.symbols.get("ftrace_caller")!.addr);
    k.run(4_000_000);
    const listFunc = k.symbols.get("ftrace_ops_list_func")!;
    const via = (ops: string, f: string) => {
      const ip = k.ftrace.record(f)!.ip;
      return new Set(calls.filter((c) => c.ops === ops && c.call.ip === ip).map((c) =>
        a.trampoline!.addr <= c.call.caller && c.call.caller < a.trampoline!.addr + 4096n ? "tramp-a"
          : b.trampoline!.addr <= c.call.caller && c.call.caller < b.trampoline!.addr + 4096n ? "tramp-b"
            : k.symbols.find(c.call.caller)?.name === listFunc.name ? "list" : "other"));
    };
    expect(via("a", "work_top")).toEqual(new Set(["tramp-a"]));
    expect(via("b", "work_leaf")).toEqual(new Set(["tramp-b"]));
    expect(via("a", "work_middle")).toEqual(new Set(["list"]));
    expect(via("b", "work_middle")).toEqual(new Set(["list"]));
    // Each callback got its own ops, and only for the functions in its filter.
    expect(calls.every((c) => c.call.op === (c.ops === "a" ? a.addr : b.addr))).toBe(true);
    expect(calls.some((c) => c.ops === "a" && c.call.ip === k.ftrace.record("work_leaf")!.ip)).toBe(false);
    const ef = enabledFunctions(k.ftrace, k.trampolines, k.symbols);
    expect(ef).toMatch(/^work_leaf \(1\) {11}\ttramp: 0x[0-9a-f]+ \(ftrace_host_callback\+0x0\/0x[0-9a-f]+\)/m);
    expect(ef).toMatch(/^work_middle \(2\) {11} ->ftrace_ops_list_func\+0x0\/0x[0-9a-f]+$/m);
    // Unregistering one of them moves the shared site to the other's trampoline.
    k.ftrace.unregister(a);
    expect(target("work_middle")).toBe(b.trampoline!.addr);
    expect(target("work_top")).toBe(0n);
  });
});
