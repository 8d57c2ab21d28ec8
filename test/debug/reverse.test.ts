// Reverse continue with watchpoints and event breakpoints: it lands on the very state the
// forward run stopped at.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { fullState } from "./state.js";

describe("reverse continue", () => {
  it("with a watch on work_sink, c past two changes then rc lands on the earlier change with the forward run's exact state", () => {
    const k = Kernel.boot({ cpus: 2 });
    const s = new Session(new Engine(k));
    s.execute("run 100us");
    expect(s.execute("watch work_sink").text).toMatch(/^Watchpoint 1: work_sink/);
    const first = s.execute("c").text;
    expect(first).toMatch(
      /^Continuing.\nWatchpoint 1: work_sink\n\nOld value = \d+ \(0x[0-9a-f]+\)\nNew value = \d+ \(0x[0-9a-f]+\)\n\[cpu\d\] => /);
    const atFirst = fullState(k);
    const second = s.execute("c").text;
    expect(second).not.toBe(first);
    const atSecond = fullState(k);
    const back = s.execute("rc").text;
    expect(fullState(k)).toBe(atFirst);
    // The same report as the forward stop (minus "Continuing.").
    expect(back).toBe(first.replace(/^Continuing.\n/, ""));
    expect(s.execute("info breakpoints").text).toContain("breakpoint already hit 2 times");
    // Forward again: the same second change.
    expect(s.execute("c").text).toBe(second);
    expect(fullState(k)).toBe(atSecond);
  });
});

describe("reverse continue with event breakpoints", () => {
  it("break-on gp: after two grace-period events of an unregistered ops' release, " +
    "rc lands on the earlier one with the forward run's exact state", () => {
    const k = Kernel.boot({ cpus: 2 });
    k.run(50_000n);
    const ops = new FtraceOps({
      name: "slow", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "work_leaf", private: 300n,
    });
    k.ftrace.register(ops);
    k.run(50_000n);
    k.ftrace.unregister(ops); // its trampoline is freed after grace periods: GP events follow
    const s = new Session(new Engine(k));
    expect(s.execute("break-on gp").text).toBe("Breakpoint 1: any grace period starts or ends");
    const first = s.execute("c").text;
    expect(first).toMatch(/^Continuing.\nGrace period 1, \S+: grace period \d+ (started|ended)\n\[cpu\d\] => /);
    const atFirst = fullState(k);
    const second = s.execute("c").text;
    expect(second).not.toBe(first);
    const back = s.execute("rc").text;
    expect(fullState(k)).toBe(atFirst);
    expect(back).toBe(first.replace(/^Continuing.\n/, ""));
  });
});
