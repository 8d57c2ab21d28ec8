// Seed 003's argument for dynamic trampolines, measured in the guest: N ops, each tracing one
// function of its own, every function called once. Through per-ops trampolines a traced call
// costs the same whatever N; through the list function every call walks all N ops. The shipped
// scenarios (scenarios/seed003-fanout-*.yaml) run N = 1000; here N = 100 keeps the test short
// (registering a thousand ops one by one takes about a minute of host time).
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import { buildModules, EXAMPLES } from "./build.js";

let ko: Uint8Array;
beforeAll(async () => {
  ko = (await buildModules([join(EXAMPLES, "seed003_fanout.c")])).get("seed003_fanout")!;
});

/** Loads the module with `n` ops; its report: ns (= instructions) per traced call and callback calls. */
function fanout(n: number, trampolines: boolean, rounds = 1): { perCall: number; callbacks: number; k: Kernel } {
  const k = Kernel.boot({ cpus: 1, workload: [] });
  expect(k.runUntil(() => k.online.size === 1, 100_000_000n)).toBe(true);
  k.ftrace.useTrampolines = trampolines;
  k.insmod(ko, "seed003_fanout.ko", [{ name: "nr_ops", value: String(n) }, { name: "rounds", value: String(rounds) }]);
  const line = k.console.join("").split("\n").find((l) => l.includes("seed003_fanout: ")) ?? "";
  const m = new RegExp(`^seed003_fanout: ${n} ops, one function each: ${n * rounds} traced calls in \\d+ns \\((\\d+)ns/call\\), ` +
    "(\\d+) callback calls$").exec(line.replace(/^\[[^\]]*\] /, ""));
  expect(m, line).not.toBeNull();
  return { perCall: Number(m![1]), callbacks: Number(m![2]), k };
}

describe("seed 003: N ops on N functions, per-ops trampolines against the list function", () => {
  it("with trampolines a traced call costs the same for 10 ops as for 100; each site calls its own ops' trampoline", () => {
    const small = fanout(10, true), large = fanout(100, true);
    expect(large.callbacks).toBe(100);
    expect(large.perCall).toBe(small.perCall);
    const sites = large.k.ftrace.records.filter((r) => r.mod === "seed003_fanout" && r.installed);
    expect(sites).toHaveLength(100);
    expect(new Set(sites.map((r) => r.installed)).size).toBe(100);
    for (const r of sites) expect(large.k.trampolines.find(r.installed)?.state).toBe("live");
  });

  it("through the list function every call walks all N ops: the cost grows with N, 100 ops cost over 30 times a trampoline", () => {
    const tramp = fanout(100, true), list10 = fanout(10, false), list100 = fanout(100, false);
    expect(list100.callbacks).toBe(100);
    const list = list100.k.ftrace.records.filter((r) => r.mod === "seed003_fanout" && r.installed);
    expect(list).toHaveLength(100);
    expect(list.every((r) => r.installed === list100.k.symbols.get("ftrace_caller")!.addr)).toBe(true);
    // Walking 90 more ops costs about 90 times the cost of testing one.
    const perOps = (list100.perCall - list10.perCall) / 90;
    expect(perOps).toBeGreaterThan(10);
    expect(list100.perCall).toBeGreaterThan(30 * tramp.perCall);
  });
});
