import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { loadScenario, runScenario, report, passed } from "../../src/scenario/scenario.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { runMain } from "../cli-child.js";
import { unifiedDiff } from "../../src/scenario/diff.js";
import { spawnSync } from "node:child_process";

const fixture = (name: string) => `test/scenario/fixtures/${name}`;
const text = (name: string) => readFileSync(join(projectRoot, fixture(name)), "utf8");

/** The error lines a bad file gives, or [] if it loads. */
function errorsOf(name: string): string[] {
  try {
    loadScenario(fixture(name), text(name));
    return [];
  } catch (e) {
    if (!(e instanceof ScenarioErrors)) throw e;
    return e.errors.map((x) => x.line);
  }
}

const cli = (...args: string[]) => runMain(["scenario", ...args]);

describe("bad scenario files are refused before anything runs, each problem at FILE:LINE:COL", () => {
  it("broken YAML: the parser's complaint, at its position", () => {
    expect(errorsOf("syntax-error.yaml")).toEqual([
      `${fixture("syntax-error.yaml")}:6:3: Flow map in block collection must be sufficiently indented and end with a }`,
    ]);
  });

  it("unknown keys, wrong types, unknown step and expectation kinds: every one reported, in file order, with the near miss named", () => {
    const f = fixture("unknown-keys.yaml");
    expect(errorsOf("unknown-keys.yaml")).toEqual([
      `${f}:4:9: machine.cpus must be an integer from 1 to 64`,
      `${f}:5:3: machine: unknown key "preemt" (did you mean "preempt"?)`,
      `${f}:6:12: machine.release: unknown release policy "rcuu": use one of kernel, immediate, rcu, tasks, ip-check, stack-scan, ` +
        `preempt-check, or mechanisms joined by "+" from rcu, rcu_tasks, rcu_tasks_rude, rcu_tasks_trace, ip-check, stack-scan, ` +
        `preempt-check`,
      `${f}:8:44: task arg must be an integer from 0 to 2147483648`,
      `${f}:10:19: ops slow: tracer must be one of function, counter, slow, host, recursing, faulting, warning, ` +
        `got "slo" (did you mean "slow"?)`,
      `${f}:11:33: ops fn: ring must be a power of two`,
      `${f}:14:5: unknown step "registr" (did you mean "register"?)`,
      `${f}:15:17: unregister: no ops "slwo" is declared`,
      `${f}:16:10: run must be a duration: a number of ns, 250us, 5ms, 1s or "N jiffies"`,
      `${f}:17:34: interrupt.vector must be one of timer, reschedule, call-function, got "nmi"`,
      `${f}:18:12: step until: give exactly one of inside (with task), freed, all-idle, ` +
        `outside-callbacks, probe-running, probe-blocked, probe-freed`,
      `${f}:20:5: unknown expectation "no-hazards" (did you mean "no-hazard"?)`,
      `${f}:21:29: task.state must be one of running, runnable, sleeping, dead, got "asleep"`,
    ]);
  });

  it("names the firmware does not have (entry points, functions, filters, tasks) and missing golden files", () => {
    const f = fixture("bad-names.yaml");
    expect(errorsOf("bad-names.yaml")).toEqual([
      `${f}:6:7: task worker: the firmware has no kthread_nothing`,
      `${f}:6:7: task worker: cpu 2, but the machine has 2 vCPUs`,
      `${f}:8:39: ops tracer: filter "nothing_like_this*" matches no traceable function`,
      `${f}:9:33: ops slow: filter: unterminated [ in work_[top`,
      `${f}:12:5: until: no task wroker (tasks: worker, swapper/0, swapper/1)`,
      `${f}:13:5: corrupt-site: not_a_function is not a traceable function of the firmware`,
      `${f}:15:5: trace: work_topp is not a traceable function of the firmware`,
      `${f}:16:5: counter: ops slow (tracer slow) counts nothing; use a counter, function or host tracer`,
      `${f}:17:5: golden file golden/absent.log does not exist (run with --update-golden to create it)`,
      `${f}:18:5: release: ops tracer is static; unregistering it frees nothing`,
    ]);
  });

  it("recursion and probe keys: a scheme's switch under another scheme, read side, fault sleep in whole jiffies, warn-at, " +
    "probe names, counts of the run", () => {
    const f = fixture("bad-recursion-probes.yaml");
    expect(errorsOf("bad-recursion-probes.yaml")).toEqual([
      `${f}:6:3: machine.ist-link applies to the per-stack scheme only (machine.recursion is per-task)`,
      `${f}:7:25: machine.tracepoint-read-side must be one of trace, preempt, got "preemt" (did you mean "preempt"?)`,
      `${f}:8:16: machine.fault-sleep must be whole jiffies (the fault sleeps for whole timer periods of 50 us, HZ=20000), got 30 us`,
      `${f}:10:3: ops warn: the warning tracer needs warn-at (the function whose calls hit WARN_ON())`,
      `${f}:11:48: ops rec: warn-at applies to the warning tracer only`,
      `${f}:14:45: register-probe.pages must be an integer from 1 to 4096`,
      `${f}:16:21: register-probe: probe "reader2" is already registered at line 15`,
      `${f}:17:32: unregister-probe.probe: no probe "reader3" is registered by an earlier step (did you mean "reader2"?)`,
      `${f}:18:50: unregister-probe.flavour must be one of rcu, rcu_tasks, rcu_tasks_rude, rcu_tasks_trace, ` +
        `tracepoint_synchronize_unregister, got "srcu" (did you mean "rcu"?)`,
      `${f}:19:29: until.probe-blocked: no probe "readr2" is registered by an earlier step (did you mean "reader2"?)`,
      `${f}:21:16: recursion: site and count go together (the skips at that function's site)`,
      `${f}:22:31: calls.value: no ops "recc" is declared (did you mean "rec"?)`,
      `${f}:23:40: stack.entered: "/ 0" divides by zero`,
      `${f}:24:21: use-after-free: give one of trampoline, probe and module (one object was used after it was freed)`,
    ]);
  });

  it("recursion names checked against the firmware and the machine: warn-at outside the filter, " +
    "stacks, symbols of counts, functions", () => {
    const f = fixture("bad-recursion-names.yaml");
    const stacks = "stacks: task swapper/0, irq cpu0, ist #DF cpu0, ist #UD cpu0, task busy";
    expect(errorsOf("bad-recursion-names.yaml")).toEqual([
      `${f}:8:37: ops warn: warn-at work_top is not traced by the ops' filter, so the callback never sees its site`,
      `${f}:9:38: ops warn2: warn-at: not_there is not a traceable function of the firmware`,
      `${f}:14:5: stack: no kernel stack "task bussy" (${stacks})`,
      `${f}:15:5: oops.overflow: no kernel stack "ist #DF cpu1" (${stacks})`,
      `${f}:16:41: "global no_such_symbol": the firmware has no symbol no_such_symbol`,
      `${f}:17:5: warning: no task idle (tasks: busy, swapper/0)`,
      `${f}:17:5: warning.function: the firmware has no function nothing_here`,
      `${f}:18:5: recursion.site: work_lef is not a traceable function of the firmware`,
    ]);
  });

  it("machine.cpu-vendor picks the CPU vendor profile the run's machine has; another name is refused at its position", () => {
    const yaml = (vendor: string) =>
      `name: vendor\nmachine:\n  cpus: 1\n  cpu-vendor: ${vendor}\nsteps:\n  - boot\n  - run: 1 jiffy\nexpect:\n  - no-oops\n`;
    const r = runScenario(loadScenario("vendor.yaml", yaml("amd")));
    expect(passed(r)).toBe(true);
    expect(r.run.k!.machine.cpuVendor).toBe("amd");
    expect(runScenario(loadScenario("vendor.yaml", yaml("intel"))).run.k!.machine.cpuVendor).toBe("intel");
    let errors: string[] = [];
    try { loadScenario("vendor.yaml", yaml("arm")); } catch (e) { errors = (e as ScenarioErrors).errors.map((x) => x.line); }
    expect(errors).toEqual(['vendor.yaml:4:15: machine.cpu-vendor must be one of intel, amd, got "arm"']);
  });

  it("steps before boot (other than changing the image) and a second boot", () => {
    const f = fixture("boot-not-first.yaml");
    expect(errorsOf("boot-not-first.yaml")).toEqual([
      `${f}:4:5: run needs a booted machine: put it after boot`,
      `${f}:6:5: boot comes once`,
    ]);
  });

  it("the command line: every file is checked first, errors go to stderr, exit 2, nothing runs", async () => {
    const r = await cli(fixture("bad-names.yaml"), "scenarios/seed003-plain-rcu.yaml");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err.split("\n")[0]).toBe(`${fixture("bad-names.yaml")}:6:7: task worker: the firmware has no kthread_nothing`);
    expect((await cli("no/such/file.yaml")).err).toBe("tramplab: no/such/file.yaml: cannot read (ENOENT)\n");
    expect(await cli("--sed", "3", "x.yaml"))
      .toMatchObject({ code: 2, err: "tramplab scenario: unknown option --sed (see 'tramplab scenario --help')\n" });
    expect(await cli()).toMatchObject({ code: 2, err: "tramplab scenario: needs a FILE (see 'tramplab scenario --help')\n" });
  });
});

describe("a failing scenario says what differs, the seed, and how to replay it", () => {
  it("wrong expectations: expected vs actual for each, a unified diff for the golden patch log, " +
    "seed and replay command; exit 1", async () => {
    const r = await cli(fixture("wrong-expectations.yaml"));
    expect(r.code).toBe(1);
    const f = fixture("wrong-expectations.yaml");
    expect(r.out).toMatch(new RegExp(`^FAIL ${f}: expectations that do not hold\n`));
    expect(r.out).toContain(`${f}:25:5: expectation no-use-after-free failed\n  expected: no use-after-free(s)\n` +
      `  actual:   1 use-after-free(s): BUG: use-after-free in ftrace_trampoline[slow]+0x`);
    expect(r.out).toContain(`${f}:26:5: expectation release failed\n` +
      `  expected: waits for rcu_tasks_rude + rcu_tasks\n  actual:   waited for rcu\n`);
    expect(r.out).toContain(`${f}:27:5: expectation patch-log failed\n  expected: the text of golden/wrong.log (3 lines)\n` +
      `  actual:   44 changed lines: 2 removed, 42 added (diff below; --update-golden rewrites it, review the diff)\n`);
    expect(r.out).toMatch(new RegExp(/ {4}--- golden\/wrong.log \(golden\)\n {4}\+\+\+ actual\n {4}@@ -1,3 \+1,\d+ @@\n/.source +
      / {4}-# register slow\n {5}batch 1: 1 site\n {4}- {2}int3 {2}victim_traced {2}nop5 -> cc 1f 44 00 00\n/.source +
      / {4}\+ {2}int3 {2}ftrace_call/.source));
    expect(r.out).toMatch(/last notable events .*\n(.*\n)*.*oops in victim\/\d+: PF at ftrace_trampoline\[slow\]\(freed\)/);
    expect(r.out.trimEnd().split("\n").at(-1)).toBe(`seed 11; replay: tramplab scenario ${f} --seed 11`);
  });

  it("a step that cannot be carried out stops the run there, at its line", () => {
    const s = loadScenario(fixture("never-inside.yaml"), text("never-inside.yaml"));
    const r = runScenario(s);
    expect(passed(r)).toBe(false);
    expect(r.stepFailure!.at).toEqual({ line: 12, col: 5 });
    expect(report(r)).toContain(`${fixture("never-inside.yaml")}:12:5: step failed: ` +
      `the condition did not hold within 500 us (sleeper inside the trampoline of slow)`);
    expect(report(r)).toMatch(
      /no seed \(plain round-robin quanta\); replay: tramplab scenario test\/scenario\/fixtures\/never-inside.yaml$/);
  });

  it("a count of the run in an expectation: the failure shows the value it had and what it stands for, or why it could not be read", () => {
    const text = "machine: { cpus: 1, recursion: per-task, tick-period: 20000, " +
      `workload: [{ name: busy, entry: kthread_busy, arg: 2000, cpu: 0 }] }
ops:
  recursing: { tracer: recursing, filter: work_leaf recursion_target }
  gone: { tracer: counter, filter: work_top }
steps:
  - boot
  - register: recursing
  - register: gone
  - run: 20 jiffies
  - unregister: gone
expect:
  - recursion: { site: recursion_target, count: calls of recursing }
  - calls: { ops: recursing, value: { max: calls of gone } }
`;
    const r = runScenario(loadScenario("counts.yaml", text));
    const calls = r.run.kernel.ftrace.calls(r.run.live("recursing").ops);
    expect(r.failures.map((f) => [f.at.line, f.expected, f.actual])).toEqual([
      [12, `exactly ${calls} (calls of recursing) recursion(s) skipped at recursion_target`,
        `${calls / 2n} at recursion_target; ${calls / 2n} in all: recursion_target ${calls / 2n}`],
      [13, 'a count for "calls of gone"', "ops gone is not registered now, so its calls cannot be read"],
    ]);
  });

  it("--seed replaces the file's seed, and the replay command carries it", async () => {
    const r = await cli("--seed", "5", fixture("wrong-expectations.yaml"));
    expect(r.out).toMatch(/seed 5; replay: tramplab scenario \S+ --seed 5\n$/);
  });
});

describe("steps", () => {
  const inline = (steps: string, expect_ = "") => `machine: { cpus: 2, seed: 3, tick-period: 20000 }\nsteps:\n  - boot\n${steps}${expect_}`;

  it("interrupt at-insn: the vCPU has retired exactly that many instructions when the interrupt is raised", () => {
    const s = loadScenario("inline.yaml",
      inline("  - run: 1ms\n  - interrupt: { cpu: 1, vector: timer, at-insn: 1234567 }\n  - run: 1ms\n"));
    const r = runScenario(s);
    expect(passed(r), report(r)).toBe(true);
    expect(r.run.log.find((l) => l.includes("interrupt raised")))
      .toMatch(/timer interrupt raised on cpu1 after instruction 1234567, at \S+ \(/);
  });

  it("interrupt at-insn in the past is a step failure, not a silent skip", () => {
    const r = runScenario(loadScenario("inline.yaml", inline("  - run: 1ms\n  - interrupt: { cpu: 0, vector: timer, at-insn: 10 }\n")));
    expect(r.stepFailure?.message).toMatch(/^cpu0 already retired \d+ instructions, past 10$/);
  });

  it("--update-golden writes the golden file, which then passes; a bad file writes nothing", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "tramplab-scenario-"));
    mkdirSync(join(tmp, "golden"));
    const file = join(tmp, "log.yaml");
    writeFileSync(file, inline("  - run: 200000\n  - mark: hello\n", "expect:\n  - patch-log: golden/log.log\n"));
    expect((await cli(file)).code).toBe(2); // the golden file does not exist yet
    expect((await cli("--update-golden", file)).code).toBe(0);
    expect(readFileSync(join(tmp, "golden/log.log"), "utf8")).toBe("# hello\n");
    expect((await cli(file)).code).toBe(0);
    // One line of the golden file changed: the summary counts the changed lines, not the file's.
    writeFileSync(join(tmp, "golden/log.log"), "# hullo\n");
    const changed = await cli(file);
    expect(changed.code).toBe(1);
    expect(changed.out).toContain("  actual:   2 changed lines: 1 removed, 1 added " +
      "(diff below; --update-golden rewrites it, review the diff)\n" +
      "    --- golden/log.log (golden)\n    +++ actual\n    @@ -1,1 +1,1 @@\n    -# hullo\n    +# hello\n");
    expect((await cli("--update-golden", file)).code).toBe(0);
    writeFileSync(join(tmp, "bad.yaml"), inline("  - mark: x\n  - wait: 3\n", "expect:\n  - patch-log: golden/bad.log\n"));
    expect((await cli("--update-golden", join(tmp, "bad.yaml"))).code).toBe(2);
    expect(existsSync(join(tmp, "golden/bad.log"))).toBe(false);
  });
});

describe("reporting", () => {
  it("unified diff: separate hunks for changes far apart, with context, and nothing for equal texts", () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const b = [...a];
    b[2] = "changed 2";
    b.splice(15, 1);
    expect(unifiedDiff(a.join("\n"), a.join("\n"), ["g", "a"]).lines).toEqual([]);
    expect(unifiedDiff(a.join("\n"), b.join("\n"), ["g", "a"], 1).lines).toEqual([
      "--- g", "+++ a",
      "@@ -2,3 +2,3 @@", " line 1", "-line 2", "+changed 2", " line 3",
      "@@ -15,3 +15,2 @@", " line 14", "-line 15", " line 16",
    ]);
  });

  it("bin/tramplab.js scenario: exit status 0 for a pass, 1 for a failure, 2 for a bad file", () => {
    const run = (f: string) => spawnSync(process.execPath, [join(projectRoot, "bin/tramplab.js"), "scenario", f],
      { cwd: projectRoot, encoding: "utf8", timeout: 60_000 });
    const pass = run("scenarios/ftrace-bug-at-boot.yaml");
    expect([pass.status, pass.stdout.split("\n")[0]]).toEqual([
      0, "PASS scenarios/ftrace-bug-at-boot.yaml: a site that is not a call to __fentry__ in the image stops ftrace at boot",
    ]);
    expect(run(fixture("never-inside.yaml")).status).toBe(1);
    const bad = run(fixture("boot-not-first.yaml"));
    expect([bad.status, bad.stdout, bad.stderr.split("\n")[0]]).toEqual([
      2, "", `${fixture("boot-not-first.yaml")}:4:5: run needs a booted machine: put it after boot`,
    ]);
  });
});
