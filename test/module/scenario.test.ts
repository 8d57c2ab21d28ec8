// Modules in scenarios: an insmod step loads a module built with `tramplab build-module` from the
// scenario's own folder; the ops it registers from its init is named MODULE:SYMBOL in until
// conditions and expectations; rmmod frees it. Bad lines, missing files and refused loads are
// errors at their line.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { chmodSync, copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadScenario, runScenario, report, passed } from "../../src/scenario/scenario.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { buildModule, scratch, FORGET_SOURCE, TMOD_SOURCE } from "./tools.js";

let dir: string;

beforeAll(async () => {
  dir = scratch();
  await Promise.all([buildModule(dir, "tmod", TMOD_SOURCE), buildModule(dir, "forget", FORGET_SOURCE)]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a scenario beside the module and loads it. */
function load(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return loadScenario(file, text);
}

function errorsOf(name: string, text: string): string[] {
  try {
    load(name, text);
    return [];
  } catch (e) {
    if (!(e instanceof ScenarioErrors)) throw e;
    return e.errors.map((x) => x.line.slice(dir.length + 1));
  }
}

const head = "machine:\n  cpus: 2\nsteps:\n  - boot\n";

describe("scenario steps insmod and rmmod", () => {
  it("insmod loads the module, whose ops traces work_top through its own trampoline; rmmod unregisters it and frees both", () => {
    const s = load("load-unload.yaml", `${head}
  - insmod: "tmod.ko hits=3"
  - until: { task: yielder, inside: "tmod:tmod_ops", within: 5ms }
  - run: 2ms
  - expect:
    - module: { name: tmod, state: live }
    - site: { function: work_top, calls: "ftrace_trampoline[tmod:tmod_ops]" }
    - console: { includes: ["tmod: loaded, hits=3"] }
  - rmmod: tmod
  - until: { freed: "tmod:tmod_ops", within: 10ms }
expect:
  - module: { name: tmod, state: freed }
  - release: { ops: "tmod:tmod_ops", freed: true, steps: [rcu_tasks_rude (skipped), rcu_tasks, rcu] }
  - site: { function: work_top, bytes: nop }
  - console: { includes: ["tmod: unloaded after"] }
  - no-use-after-free
`);
    const r = runScenario(s);
    expect(report(r), report(r, true)).toMatch(/^PASS /);
    expect(r.expectationsChecked).toBe(8);
    expect(r.run.log.join("\n")).toMatch(/insmod tmod\.ko hits=3\n.*module tmod loaded at 0xffff/);
    expect(r.run.log.join("\n")).toMatch(/run until yielder inside the trampoline of tmod:tmod_ops .*\n.*holds the trampoline: yielder\//);
    expect(r.run.log.join("\n")).toMatch(/rmmod tmod\n.*module tmod freed \(rmmod, after synchronize_rcu\(\)\)/);
  });

  it("the module's callback runs while it is loaded: its own counter, read from the module's memory, has counted", () => {
    const r = runScenario(load("counts.yaml", `${head}  - insmod: tmod.ko\n  - run: 2ms\n`));
    expect(passed(r), report(r, true)).toBe(true);
    const k = r.run.kernel;
    const calls = k.modules.find("tmod")!.symbols.find((s) => s.name === "calls")!;
    const bytes = k.readKernel(calls.addr, 8);
    const counted = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    expect(counted).toBeGreaterThan(0n);
    expect(k.console.join("")).toContain("tmod: loaded, hits=1\n");
  });

  it("a bad parameter value fails the load with EINVAL (the kernel log says which), and the module is freed again", () => {
    const s = load("bad-param.yaml", `${head}
  - insmod: { module: "tmod.ko hits=lots", fails: EINVAL }
expect:
  - module: { name: tmod, state: freed }
  - console: { includes: ["tmod: 'lots' invalid for parameter 'hits'"], excludes: ["tmod: loaded"] }
`);
    const r = runScenario(s);
    expect(report(r), report(r, true)).toMatch(/^PASS /);
    expect(r.run.log.join("\n"))
      .toContain("refused as expected: EINVAL: insmod: ERROR: could not insert module tmod.ko: Invalid parameters");
  });

  it("an insmod that fails without fails, or that loads when it should fail, stops the scenario at its line", () => {
    const bad = runScenario(load("unexpected-fail.yaml", `${head}  - insmod: "tmod.ko hits=lots"\n`));
    expect(passed(bad)).toBe(false);
    expect(bad.stepFailure?.at.line).toBe(5);
    expect(bad.stepFailure?.message).toMatch(/^EINVAL: insmod: ERROR: could not insert module tmod\.ko: Invalid parameters/);
    const loads = runScenario(load("unexpected-load.yaml", `${head}  - insmod: { module: tmod.ko, fails: EINVAL }\n`));
    expect(loads.stepFailure?.message).toBe("expected insmod to fail with EINVAL, but module tmod loaded");
  });

  it("rmmod of a module that is not loaded fails with ENOENT; a second insmod of a loaded one with EEXIST", () => {
    const s = load("twice.yaml", `${head}
  - rmmod: { module: tmod, fails: ENOENT }
  - insmod: tmod.ko
  - insmod: { module: tmod.ko, fails: EEXIST }
  - expect:
    - module: { name: tmod, state: live }
  - rmmod: tmod
  - rmmod: { module: tmod, fails: ENOENT }
expect:
  - module: { name: tmod, state: freed }
  - module: { name: other, state: absent }
`);
    const r = runScenario(s);
    expect(report(r), report(r, true)).toMatch(/^PASS /);
  });

  it("a module that forgets to unregister its ops: after rmmod its callback runs in freed memory, a use-after-free naming it", () => {
    const s = load("forget.yaml", `${head}
  - insmod: forget.ko
  - run: 1ms
  - rmmod: forget
  - run: 1ms
expect:
  - use-after-free: { module: forget }
  - use-after-free: { trampoline: "forget:forget_ops", count: 0 }
  - module: { name: forget, state: freed }
`);
    const r = runScenario(s);
    expect(report(r), report(r, true)).toMatch(/^PASS /);
    expect(r.run.kernel.useAfterFrees[0].text).toContain("BUG: use-after-free in forget_callback [forget, freed]");
  });

  it("the module expectation says what it found when it does not hold", () => {
    const r = runScenario(load("wrong-state.yaml", `${head}  - insmod: tmod.ko\nexpect:\n  - module: { name: tmod, state: freed }\n`));
    expect(r.failures.map((f) => [f.expected, f.actual.replace(/[\d.]+ [mun]?s$/, "T")])).toEqual([
      ["module tmod freed", "module tmod live, loaded at T"],
    ]);
  });

  it("bad module steps are errors at their position before anything runs", () => {
    copyFileSync(join(dir, "tmod.c"), join(dir, "not-an-object.ko"));
    writeFileSync(join(dir, "locked.ko"), "");
    chmodSync(join(dir, "locked.ko"), 0o000);
    const errors = errorsOf("bad-steps.yaml", `${head}
  - insmod: "missing.ko"
  - insmod: "../outside.ko"
  - insmod: "tmod.ko 'unterminated"
  - insmod: not-an-object.ko
  - insmod: { module: tmod.ko, fails: EWHAT }
  - rmmod: "a b"
  - until: { freed: "nomod:tmod_ops", within: 1ms }
  - insmod: "tmod.ko bad-name=1"
  - insmod: tmod.ko
expect:
  - release: { ops: "tmod:tmod_ops" }
  - use-after-free: { module: tmodd }
  - module: { name: tmod, state: gone }
`);
    expect(errors).toEqual([
      "bad-steps.yaml:6:13: insmod missing.ko does not exist",
      expect.stringMatching(/^bad-steps\.yaml:7:13: insmod \.\.\/outside\.ko (is outside the scenario's folder|does not exist)/),
      "bad-steps.yaml:8:13: insmod: unterminated ' in insmod line",
      "bad-steps.yaml:9:13: insmod not-an-object.ko: not an ELF file (bad magic number)",
      "bad-steps.yaml:10:39: insmod.fails must be one of EPERM, ENOENT, EINTR, E2BIG, ENOEXEC, EBADF, EAGAIN, ENOMEM, EFAULT, " +
        "EBUSY, EEXIST, ENODEV, EINVAL, ENOSPC, ENOSYS, got \"EWHAT\"",
      "bad-steps.yaml:11:12: rmmod: \"a b\" is not a module name (letters, digits, _ and -)",
      "bad-steps.yaml:12:21: until.freed: no module \"nomod\" is loaded by an earlier insmod step",
      "bad-steps.yaml:13:13: insmod: bad parameter name \"bad-name\"",
      "bad-steps.yaml:17:31: use-after-free.module: no module \"tmodd\" is loaded by an insmod step (did you mean \"tmod\"?)",
      "bad-steps.yaml:18:34: module.state must be one of live, freed, absent, got \"gone\"",
    ]);
    // Without read permission (root reads anyway: then the file is an empty object, not a module).
    const locked = errorsOf("locked.yaml", `${head}  - insmod: locked.ko\n`);
    expect(locked).toHaveLength(1);
    expect(locked[0]).toMatch(/^locked\.yaml:5:13: insmod locked\.ko: (cannot read \(EACCES\)|.*ELF.*)$/);
  });
});
