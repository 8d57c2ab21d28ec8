import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { loadScenario, runScenario, report, passed } from "../../src/scenario/scenario.js";
import { parseScenario } from "../../src/scenario/parse.js";
import { formatTime } from "../../src/machine/units.js";

/** Every file in scenarios/ runs here: they are the examples people copy, so they must pass. */
const dir = join(projectRoot, "scenarios");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
const rel = (f: string) => relative(projectRoot, join(dir, f));
/** UPDATE_GOLDEN=1 npm test rewrites scenarios/golden/ too, as it does the tests' golden files. */
const updateGolden = process.env.UPDATE_GOLDEN === "1";
const load = (f: string) => loadScenario(rel(f), readFileSync(join(dir, f), "utf8"), { updateGolden });

describe("the shipped scenarios", () => {
  it("there are scenarios for seeds 000, 002, 003 and 004, a golden patch log and an ftrace bug", () => {
    expect(files).toEqual(expect.arrayContaining(["seed002-per-stack-recursing-callback.yaml", "seed002-per-task-transition.yaml",
      "seed002-no-guard-stack-overflow.yaml", "seed002-warn-in-callback-ist-link.yaml", "seed002-warn-in-callback-no-ist-link.yaml",
      "seed002-interrupt-window-per-stack.yaml", "seed002-interrupt-window-per-task-no-transition.yaml",
      "seed004-trace-rcu-safe.yaml", "seed004-plain-rcu-uaf.yaml", "seed004-preempt-read-side-trace-rcu.yaml",
      "seed004-preempt-read-side-plain-rcu.yaml", "seed003-plain-rcu.yaml", "seed003-tasks-rcu.yaml", "seed000-lazy-old-kconfig.yaml",
      "seed000-lazy-new-kconfig.yaml", "seed000-none-plain-rcu.yaml", "seed000-voluntary-plain-rcu.yaml",
      "two-tracers-patch-log.yaml", "ftrace-bug-corrupted-site.yaml", "seed000-permanent-plain-rcu.yaml", "seed000-preempt-check.yaml",
      "seed003-fanout-trampolines.yaml", "seed003-fanout-list.yaml", "seed004-may-fault-rules.yaml",
      "seed004-synchronize-unregister.yaml"]));
  });

  for (const f of files) {
    const name = parseScenario(rel(f), readFileSync(join(dir, f), "utf8")).name;
    // Seed 003's thousand ops are registered one by one: up to a minute of host time each.
    const timeout = f.startsWith("seed003-fanout-") ? 600_000 : undefined;
    it(`${f}: ${name}`, () => {
      const r = runScenario(load(f), { updateGolden });
      expect(passed(r), report(r)).toBe(true);
      expect(r.expectationsChecked).toBeGreaterThan(0);
    }, timeout);
  }
});

describe("what the seed scenarios report", () => {
  it("seed 003 with plain RCU: the summary names the use-after-free, the task and its return into the trampoline", () => {
    const text = report(runScenario(load("seed003-plain-rcu.yaml")));
    expect(text).toMatch(/^PASS scenarios\/seed003-plain-rcu.yaml: /);
    expect(text).toMatch(
      /caught: BUG: use-after-free in ftrace_trampoline\[slow\]\+0x[0-9a-f]+ \(freed\) by victim\/\d+ on CPU 0, returning into it/);
    expect(text).toMatch(/slow: freed [\d.]+ (?:ns|us|ms) after unregister; policy rcu: after rcu gp 1/);
  });

  it("seed 003 with Tasks RCU: no use-after-free, and the delay Tasks RCU cost is in the summary", () => {
    const r = runScenario(load("seed003-tasks-rcu.yaml"));
    const rel_ = r.run.kernel.releases.all[0];
    expect(r.run.kernel.useAfterFrees).toEqual([]);
    const delay = rel_.freedAt! - rel_.unregisteredAt;
    expect(report(r)).toContain(`slow: freed ${formatTime(delay)} after unregister; policy kernel: after rcu_tasks_rude gp 1`);
  });

  it("seed 002 per stack: the summary counts the skipped callbacks, all at recursion_target, as many as the callback's calls", () => {
    const r = runScenario(load("seed002-per-stack-recursing-callback.yaml"));
    const calls = r.run.kernel.ftrace.calls(r.run.live("recursing").ops);
    expect(report(r)).toContain(`  recursion guard: ${calls} callback call(s) skipped (recursion_target ${calls})`);
  });

  it("seed 004 with plain RCU: the use-after-free is of the probe's data, freed after an rcu grace period, read by probe_user_read", () => {
    const r = runScenario(load("seed004-plain-rcu-uaf.yaml"));
    const [uaf] = r.run.kernel.useAfterFrees;
    expect(uaf.object.what).toBe('probe_data of probe "user-reader"');
    expect(uaf.text).toContain("after a rcu grace period");
    expect(report(r)).toMatch(new RegExp(/probe user-reader: data freed [\d.]+ (?:ns|us|ms) after unregister, /.source +
      /after a rcu grace period\n  caught: BUG: use-after-free in probe_user_read\+0x[0-9a-f]+ by user-worker\/\d+ on CPU 0/.source));
  });

  it("the two-tracer scenario's golden patch log is the ftrace tests' golden, byte for byte", () => {
    expect(readFileSync(join(dir, "golden/two-tracers.log"), "utf8"))
      .toBe(readFileSync(join(projectRoot, "test/golden/ftrace-two-tracers.log"), "utf8"));
  });

  it("same file, same result: two runs give the same report, step log and virtual time", () => {
    const a = runScenario(load("live-filters.yaml")), b = runScenario(load("live-filters.yaml"));
    expect(report(b, true)).toBe(report(a, true));
    expect(b.run.kernel.machine.time).toBe(a.run.kernel.machine.time);
  });
});
