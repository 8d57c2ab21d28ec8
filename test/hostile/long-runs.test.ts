// Long runs: every duration a scenario file gives (run, within, soft-lockup, fault-sleep,
// delays and latencies) is at most 10 s of virtual time, refused at its LINE:COL otherwise,
// as are `tramplab run --time` and the debugger's run TIME.
import { describe, it, beforeAll, afterAll, expect } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScenario } from "../../src/scenario/scenario.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { parseDuration } from "../../src/cli/args.js";

let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "tramplab-hostile-long-")); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems loadScenario finds, as LINE:COL: message. */
function problems(text: string): string[] {
  try {
    loadScenario(join(dir, "d.yaml"), text);
    return [];
  } catch (e) {
    if (!(e instanceof ScenarioErrors)) throw e;
    return e.errors.map((x) => `${x.pos.line}:${x.pos.col}: ${x.message}`);
  }
}

describe("durations in a scenario file are at most 10 s of virtual time", () => {
  const steps = (lines: string) => `machine: { cpus: 1, workload: [] }\nops: { o: { tracer: counter, filter: work_top } }\nsteps:\n  - boot\n${lines}`;

  it("run: 99999999999999s, 1e30 jiffies and one ns over the limit are refused at their LINE:COL", () => {
    expect(problems(steps("  - run: 99999999999999s\n  - run: 10000000001\n  - run: 200001 jiffies\n  - run: 1e30\n"))).toEqual([
      "5:10: run can be at most 10 s of virtual time, got 99999999999999s",
      "6:10: run can be at most 10 s of virtual time, got 10000000001",
      "7:10: run can be at most 10 s of virtual time, got 200001 jiffies",
      "8:10: run can be at most 10 s of virtual time, got 1e+30",
    ]);
    expect(problems(steps("  - run: 1e30 jiffies\n"))).toEqual(['5:10: run must be a duration: a number of ns, 250us, 5ms, 1s or "N jiffies"']);
    // A number too long for any unit is refused without being parsed.
    expect(problems(steps(`  - run: "${"9".repeat(100_000)}s"\n`))[0]).toMatch(/^5:10: run can be at most 10 s of virtual time, got 9{200}/);
  });

  it("exactly 10 s is accepted, in any unit", () => {
    expect(problems(steps("  - run: 10s\n  - run: 10000ms\n  - run: 10000000000\n  - run: 200000 jiffies\n"))).toEqual([]);
  });

  it("within of until, synchronize and interrupt, and the machine's and expectations' durations too", () => {
    expect(problems(steps(
      "  - until: { all-idle: true, within: 11s }\n" +
      "  - synchronize: { flavour: rcu, within: 20000000000 }\n" +
      "  - interrupt: { cpu: 0, vector: timer, within: 999s }\n" +
      "expect:\n" +
      "  - grace-period: { flavour: rcu, latency: { max: 11s } }\n",
    ))).toEqual([
      "5:38: until.within can be at most 10 s of virtual time, got 11s",
      "6:42: synchronize.within can be at most 10 s of virtual time, got 20000000000",
      "7:49: interrupt.within can be at most 10 s of virtual time, got 999s",
      "9:51: grace-period.latency.max can be at most 10 s of virtual time, got 11s",
    ]);
    const machine = (key: string) => `machine: { cpus: 1, workload: [], ${key} }\nsteps: [boot]\n`;
    expect(problems(machine("soft-lockup: 1000s"))).toEqual(["1:48: machine.soft-lockup can be at most 10 s of virtual time, got 1000s"]);
    expect(problems(machine("fault-sleep: 1000000 jiffies"))).toEqual(["1:48: machine.fault-sleep can be at most 10 s of virtual time, got 1000000 jiffies"]);
  });

  it("tramplab run --time and the debugger's run TIME have the same limit", () => {
    expect(parseDuration("10s")).toBe(10_000_000_000n);
    expect(() => parseDuration("11s")).toThrow("--time can be at most 10 s of virtual time, got 11s");
    expect(() => parseDuration("999999999999999999999999999999s")).toThrow("--time can be at most 10 s of virtual time");
    expect(() => parseDuration("10000000001", "run")).toThrow("run can be at most 10 s of virtual time, got 10000000001");
  });
});
