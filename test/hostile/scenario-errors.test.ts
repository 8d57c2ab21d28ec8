// Scenario files that are not scenarios: every problem is a line `FILE:LINE:COL: message` and
// exit 2, never a crash. A file without machine or steps; maps and lists nested thousands
// deep (refused before the yaml package builds the document, which it does recursively); an
// empty file, a list or a number at the top, null for every key, huge numbers, strings where
// maps go, aliases (shared blocks work; an alias inside its own anchor, an unknown anchor and
// an alias bomb are refused), very long lines, binary garbage. At most 50 problems are
// printed, then how many more there were.
import { describe, it, beforeAll, afterAll, expect } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScenario } from "../../src/scenario/scenario.js";
import { MAX_DEPTH, MAX_ERRORS_SHOWN, MAX_NODES, ScenarioErrors } from "../../src/scenario/schema.js";
import { runCli } from "../cli-child.js";

let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "tramplab-hostile-scenario-")); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tramplab = (...args: string[]) => runCli(args, { timeout: 120_000 });

/** Writes `text` to a file of the test's folder and returns its path. */
function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The problems loadScenario reports as LINE:COL: message; anything else it throws fails the test. */
function problems(text: string): string[] {
  try {
    loadScenario(join(dir, "inline.yaml"), text);
    return [];
  } catch (e) {
    if (!(e instanceof ScenarioErrors)) throw e;
    return e.errors.map((x) => `${x.pos.line}:${x.pos.col}: ${x.message}`);
  }
}

/** Block maps nested `levels` deep: `a:` on each line, one more space of indentation each. */
function nestedMaps(levels: number): string {
  const lines = ["machine: {}", "steps: [boot]", "name:"];
  for (let i = 1; i <= levels; i++) lines.push(`${" ".repeat(i)}a${i}:`);
  return lines.join("\n") + ` 1\n`;
}

describe.concurrent("the command line: one line per problem, exit 2, never a crash", () => {
  const cases = [
    { name: "no machine", text: "steps: [boot]\n", lines: [/:1:1: the scenario: "machine" is required$/] },
    { name: "no steps", text: "machine: { cpus: 1 }\n", lines: [/:1:1: the scenario: "steps" is required$/] },
    { name: "neither", text: "name: nothing here\n",
      lines: [/:1:1: the scenario: "machine" is required$/, /:1:1: the scenario: "steps" is required$/] },
    { name: "2,000 nested block maps (over the size limit)", text: nestedMaps(2000),
      lines: [/^tramplab: .*: larger than 1 MiB, the limit for a scenario file$/] },
    // The top map is level 0, name's map level 1 (line 4, a1): line 3 + N is level N, indented N.
    { name: "1,400 nested block maps", text: nestedMaps(1400),
      lines: [new RegExp(`:${3 + MAX_DEPTH}:${MAX_DEPTH + 1}: maps and lists nested more than ${MAX_DEPTH} deep$`)] },
    // The first [ (column 7) is level 1.
    { name: "20,000 nested flow lists", text: "machine: {}\nsteps: [boot]\nname: " + "[".repeat(20_000) + "\n",
      lines: [new RegExp(`:3:${6 + MAX_DEPTH}: maps and lists nested more than ${MAX_DEPTH} deep$`)] },
    { name: "an empty file", text: "", lines: [/:1:1: the scenario must be a map of name, machine, ops, steps, expect$/] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const path = file(`${c.name.replace(/\W+/g, "-")}.yaml`, c.text);
      const r = await tramplab("scenario", path);
      expect(r.signal).toBe(null);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")).toEqual([...c.lines.map((l) => expect.stringMatching(l)), ""]);
      expect(r.status).toBe(2);
    });
  }

  it("hundreds of problems: the first 50 in file order, then how many more", async () => {
    const path = file("many.yaml", "machine: {}\nsteps: [boot]\nexpect:\n" + "  - nope\n".repeat(200));
    const r = await tramplab("scenario", path);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(MAX_ERRORS_SHOWN + 1);
    expect(lines[0]).toBe(`${path}:4:5: unknown expectation "nope"`);
    expect(lines[MAX_ERRORS_SHOWN - 1]).toBe(`${path}:${3 + MAX_ERRORS_SHOWN}:5: unknown expectation "nope"`);
    expect(lines[MAX_ERRORS_SHOWN]).toBe(`${path}: ${200 - MAX_ERRORS_SHOWN} more problems not shown`);
    expect(r.status).toBe(2);
  });
});

describe("odd YAML is a list of positioned problems (loadScenario throws nothing else)", () => {
  it("nothing, or something other than a map, at the top", () => {
    for (const text of ["", " ", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n", "42\n", "true\n", '"a string"\n', "[]\n",
      "- boot\n- run: 1ms\n", "[machine, steps]\n", "!!binary aGVsbG8=\n", "\uFEFF"]) {
      expect(problems(text), JSON.stringify(text))
        .toEqual([expect.stringMatching(/^1:\d+: the scenario must be a map of name, machine, ops, steps, expect$/)]);
    }
    expect(problems("machine: {}\nsteps: [boot]\n---\nmachine: {}\n")[0]).toMatch(/^3:1: Source contains multiple documents/);
  });

  it("null, a list, a string or a number for every key, at every level", () => {
    const odd = ["", "~", "[]", "[1, 2]", "{}", "x", "-1", ".inf", ".nan", "1e400", "99999999999999999999999", "true", '"*"'];
    const machineKeys = ["cpus", "preempt", "kernel", "kconfig", "release", "seed", "quantum", "tick-period", "timeslice", "recursion",
      "ist-link", "transition-bit", "recursion-events", "tracepoint-read-side", "fault-sleep", "xmc-policy", "cpu-vendor", "soft-lockup",
      "trampolines", "workload"];
    const steps = ["boot", "run", "register", "unregister", "filter", "synchronize", "interrupt", "until", "corrupt-site",
      "register-probe", "unregister-probe", "mark", "expect"];
    const expectations = ["no-hazard", "use-after-free", "ftrace-bug", "trace", "patch-log", "release", "grace-period", "counter", "global",
      "task", "console", "poke", "site", "calls", "recursion", "stack", "warning", "oops"];
    let reported = 0;
    for (const v of odd) {
      const docs = [
        `name: ${v}\nmachine: ${v}\nops: ${v}\nsteps: ${v}\nexpect: ${v}\n`,
        `machine: { ${machineKeys.map((k) => `${k}: ${v}`).join(", ")} }\nsteps: [boot]\n`,
        `machine: { workload: [${v || "~"}] }\nsteps: [boot]\n`,
        `machine: {}\nops: { o: ${v}, p: { tracer: ${v}, filter: ${v}, ring: ${v}, spin: ${v} } }\nsteps: [boot]\n`,
        `machine: {}\nsteps:\n  - boot\n${steps.map((k) => `  - ${k}: ${v}\n  - ${k}: { ops: ${v}, within: ${v}, cpu: ${v} }\n`).join("")}`,
        `machine: {}\nsteps: [boot]\nexpect:\n` +
          `${expectations.map((k) => `  - ${k}: ${v}\n  - ${k}: { ops: ${v}, count: ${v}, value: { min: ${v}, max: ${v} } }\n`).join("")}`,
      ];
      for (const d of docs) {
        const p = problems(d);
        expect(p.length, d).toBeGreaterThan(0);
        for (const line of p) expect(line).toMatch(/^\d+:\d+: \S/);
        reported += p.length;
      }
    }
    expect(reported).toBeGreaterThan(odd.length * 6);
  });

  it("huge numbers are refused where a count or a size goes, without overflowing", () => {
    expect(problems("machine: { cpus: 99999999999999999999999 }\nsteps: [boot]\n"))
      .toEqual(["1:18: machine.cpus must be an integer from 1 to 64"]);
    expect(problems("machine: { cpus: 1e400 }\nsteps: [boot]\n")).toEqual(["1:18: machine.cpus must be an integer from 1 to 64"]);
    expect(problems("machine: { tick-period: 1_000_000_000_000 }\nsteps: [boot]\n"))
      .toEqual(["1:25: machine.tick-period must be an integer from 1000 to 100000000"]);
    expect(problems("machine: {}\nsteps: [boot]\nexpect:\n" +
      "  - global: { symbol: work_sink, value: 999999999999999999999999999 }\n")).toEqual([
      "4:41: global.value must be an integer from 0 to 18446744073709551615",
    ]);
  });

  it("what a file asks for must fit the firmware and the machine: a ring too big for guest memory, " +
    "a global element past its symbol", () => {
    expect(problems("machine: { cpus: 64 }\nops: { o: { tracer: function, ring: 1048576 } }\n" +
      "steps: [boot, register: o, run: 1ms]\n")).toEqual([
      "2:8: ops o: its rings (1048576 entries on each of 64 vCPUs) do not fit in the guest's memory " +
        "(out of guest physical memory for page frames)",
    ]);
    expect(problems("machine: {}\nsteps: [boot]\nexpect:\n  - global: { symbol: work_sink, index: 1048576, value: 0 }\n")).toEqual([
      "4:5: global: work_sink[1048576] is past the end of work_sink (8 bytes: 1 u64 element(s))",
    ]);
    expect(problems("machine: {}\nsteps: [boot]\nexpect:\n  - global: { symbol: __stop_mcount_loc, index: 1048576, value: 0 }\n")[0])
      .toMatch(/^4:5: global: __stop_mcount_loc\[1048576\] \(0x[0-9a-f]+\) is not mapped$/);
    expect(problems("machine: {}\nsteps: [boot]\nexpect:\n" +
      "  - global: { symbol: work_sink, value: \"global work_sink[99999999999999999999]\" }\n")).toEqual([
      "4:41: global.value: the index of global work_sink must be an integer from 0 to 1048576, got 99999999999999999999",
    ]);
  });

  it("lists are bounded: at most 1000 workload tasks and 1000 ops (1000 tasks on 64 vCPUs still boot)", () => {
    const tasks = (n: number) => `machine:\n  cpus: 64\n  workload:\n` +
      `${Array.from({ length: n }, (_, i) => `    - { name: t${i}, entry: kthread_busy, cpu: ${i % 64} }\n`).join("")}steps: [boot]\n`;
    expect(problems(tasks(1000))).toEqual([]);
    expect(problems(tasks(1001))).toEqual(["4:5: machine.workload: at most 1000 tasks, got 1001"]);
    const ops = Array.from({ length: 1001 }, (_, i) => `  o${i}: { tracer: counter, filter: work_top }\n`).join("");
    expect(problems(`machine: { cpus: 1, workload: [] }\nops:\n${ops}steps: [boot]\n`)).toEqual(["3:3: ops: at most 1000 ops, got 1001"]);
  });

  it("anchors and aliases: a shared block works; an alias inside its own anchor, an unknown anchor and an alias bomb do not", () => {
    expect(problems("machine: &m { cpus: 1, workload: [] }\nsteps: [boot]\nexpect:\n  - &nh no-hazard\n  - *nh\n")).toEqual([]);
    expect(problems("machine: {}\nsteps: &s [boot, { expect: *s }]\n")).toEqual(["2:28: the alias *s is inside the node its anchor names"]);
    expect(problems("machine: {}\nsteps: [boot]\nexpect: [*nowhere, &nowhere no-hazard]\n"))
      .toEqual(["3:10: the alias *nowhere has no anchor &nowhere before it"]);
    // Ten times ten times ... : 10^12 nodes from a few hundred bytes.
    let bomb = "machine: {}\nsteps: [boot]\nexpect:\n" +
      "  - &a0 [no-hazard, no-hazard, no-hazard, no-hazard, no-hazard, no-hazard, no-hazard, no-hazard, no-hazard, no-hazard]\n";
    for (let i = 1; i < 12; i++) bomb += `  - &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
    expect(problems(bomb)).toEqual([expect.stringMatching(new RegExp(
      `^\\d+:\\d+: the file has more than ${MAX_NODES} nodes here, counting each alias as the nodes its anchor names$`))]);
    // 30,000 aliases of one expectation are fine (each alias is resolved once, not by a search of the file).
    expect(problems("machine: { cpus: 1, workload: [] }\nsteps: [boot]\nexpect:\n  - &nh no-hazard\n" + "  - *nh\n".repeat(30_000)))
      .toEqual([]);
  });

  it("very long lines: the message quoting a long value is cut", () => {
    const p = problems(`machine: {}\nsteps: [boot]\nexpect:\n  - ${"x".repeat(500_000)}\n`);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^4:5: unknown expectation "x+\.\.\. \(cut\)$/);
    expect(p[0].length).toBeLessThan(400);
    expect(problems(`name: ${"n".repeat(500_000)}\nmachine: { cpus: 1, workload: [] }\nsteps: [boot]\n`)).toEqual([]);
  });

  it("binary garbage", () => {
    // A fixed sequence of pseudo-random bytes (xorshift), so the test is the same every time.
    let x = 0x2545f491;
    for (let n = 0; n < 200; n++) {
      const bytes = Buffer.alloc(64 + (n % 64));
      for (let i = 0; i < bytes.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; bytes[i] = x & 0xff; }
      const p = problems(bytes.toString("utf8"));
      expect(p.length).toBeGreaterThan(0);
      for (const line of p) expect(line).toMatch(/^\d+:\d+: /);
    }
  });
});
