// Long runs: every duration a scenario file gives (run, within, soft-lockup, fault-sleep,
// delays and latencies) is at most 10 s of virtual time, refused at its LINE:COL otherwise
// (`tramplab run --time` and the debugger's run TIME follow src/numbers.ts: at most 1000000s,
// test/hostile/numbers.test.ts). And every long run can be stopped:
// `tramplab run` (the kernel or a program that never exits), `tramplab scenario` and
// `tramplab torture` stop at the next slice boundary on SIGINT, print one line, exit 130.
// The SIGINT tests send a real signal once the child says it catches SIGINT, and every child
// has a timeout, so nothing here waits on a clock or hangs. Needs dist/ built.
import { describe, it, beforeAll, afterAll, expect } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { projectRoot } from "../../src/paths.js";
import { loadScenario } from "../../src/scenario/scenario.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { compile } from "../programs/build.js";
import { iterationAt, iterationCount, iterationsOf } from "../../src/torture/campaign.js";

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
  const steps = (lines: string) =>
    `machine: { cpus: 1, workload: [] }\nops: { o: { tracer: counter, filter: work_top } }\nsteps:\n  - boot\n${lines}`;

  it("run: 99999999999999s, 200001 jiffies and one ns over the limit are refused at their LINE:COL; " +
    "1e30 is no duration (src/numbers.ts)", () => {
    expect(problems(steps("  - run: 99999999999999s\n  - run: 10000000001\n  - run: 200001 jiffies\n  - run: 1e30\n"))).toEqual([
      "5:10: run can be at most 10 s of virtual time, got 99999999999999s",
      "6:10: run can be at most 10 s of virtual time, got 10000000001",
      "7:10: run can be at most 10 s of virtual time, got 200001 jiffies",
      '8:10: run must be a duration: a number of ns, 250us, 5ms, 1s or "N jiffies"',
    ]);
    expect(problems(steps("  - run: 1e30 jiffies\n")))
      .toEqual(['5:10: run must be a duration: a number of ns, 250us, 5ms, 1s or "N jiffies"']);
    // A number too long for any unit is refused without being parsed.
    expect(problems(steps(`  - run: "${"9".repeat(100_000)}s"\n`))[0])
      .toMatch(/^5:10: run can be at most 10 s of virtual time, got 9{200}/);
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
    expect(problems(machine("fault-sleep: 1000000 jiffies")))
      .toEqual(["1:48: machine.fault-sleep can be at most 10 s of virtual time, got 1000000 jiffies"]);
  });

});

describe("torture's counts are never materialized", () => {
  it("a campaign's iterations are counted and walked without an array of them; iterationAt gives the n-th", () => {
    const o = { iterations: 2n ** 31n, shard: { index: 2n ** 31n - 1n, count: 2n ** 31n } };
    expect(iterationCount(o)).toBe(1n);
    expect([...iterationsOf(o)]).toEqual([2n ** 31n - 2n]);
    expect(iterationCount({ iterations: 2n ** 31n })).toBe(2n ** 31n);
    expect(iterationsOf({ iterations: 2n ** 31n }).next().value).toBe(0n);
    expect(iterationCount({ iterations: 10n, shard: { index: 1n, count: 3n } }))
      .toBe(BigInt([...iterationsOf({ iterations: 10n, shard: { index: 1n, count: 3n } })].length));
    expect(iterationAt({ shard: { index: 2n, count: 3n } }, 2n)).toBe(7n);
    expect(iterationAt({}, 5n)).toBe(5n);
  });
});

interface Exit { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * The CLI's main() in a child process, as bin/tramplab.js runs it, with one addition for the
 * test: once the command catches SIGINT (a "SIGINT" listener exists, seen between slices), the
 * child writes "armed" on file descriptor 3. Only then does the test send a real SIGINT, so
 * it never arrives before the command is ready for it (node's own start-up handler would end
 * the process instead), and no clock is involved.
 */
const HARNESS = `import { writeSync } from "node:fs";
const { main } = await import(${JSON.stringify(join(projectRoot, "dist", "src", "cli", "main.js"))});
const watch = setInterval(() => {
  if (process.listenerCount("SIGINT") > 0) { writeSync(3, "armed\\n"); clearInterval(watch); }
}, 5);
process.exitCode = await main(process.argv.slice(2));
clearInterval(watch);
`;

/**
 * Starts the CLI, waits until it is armed (and `ready` holds for its output so far), sends
 * SIGINT and waits for the child to end. The child is killed after two minutes, so a run that
 * ignored the signal fails the test (status null) instead of hanging it.
 */
async function interrupt(args: string[], ready: (stdout: string) => boolean = () => true): Promise<Exit> {
  const harness = join(dir, "harness.mjs");
  writeFileSync(harness, HARNESS);
  const child: ChildProcess = spawn(process.execPath, [harness, ...args], { timeout: 120_000, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  let stdout = "", stderr = "", armed = false, ended = false;
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  (child.stdio[3] as NodeJS.ReadableStream).on("data", () => (armed = true));
  const done = new Promise<Exit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => { ended = true; resolve({ status, signal, stdout, stderr }); });
  });
  while (!ended && !(armed && ready(stdout))) await sleep(20);
  if (!ended) child.kill("SIGINT");
  return done;
}

describe.concurrent("Ctrl-C stops a long run at the next slice boundary: one line, exit 130", () => {
  it("tramplab run (the built-in kernel, 10 s of virtual time)", async () => {
    const r = await interrupt(["run", "--time", "10s"]);
    expect(r.signal).toBe(null);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^tramplab run: interrupted \(SIGINT\) at [\d.]+ [nmu]?s of virtual time \(of 10 s\)\n$/);
    expect(r.status).toBe(130);
  });

  it("tramplab run --tracer function (the run is in three parts)", async () => {
    const r = await interrupt(["run", "--time", "10s", "--tracer", "function", "--cpus", "1"]);
    expect(r.stderr).toMatch(/^tramplab run: interrupted \(SIGINT\) at .* of virtual time \(of 10 s\)\n$/);
    expect(r.status).toBe(130);
  });

  it("tramplab run PROGRAM, a program that never exits", async () => {
    const src = join(dir, "forever.c");
    writeFileSync(src, '#include "rt.h"\nint main(void) {\n  put_str(STDOUT, "looping\\n");\n  rt_flush(STDOUT);\n' +
      "  for (volatile u64 i = 0;; i++) {}\n}\n");
    const prog = await compile([src], join(dir, "forever"), ["-O1"]);
    const r = await interrupt(["run", prog], (out) => out.includes("looping"));
    expect(r.signal).toBe(null);
    expect(r.stdout).toBe("looping\n");
    expect(r.stderr).toBe(`tramplab run: interrupted (SIGINT) while ${prog} was running\n`);
    expect(r.status).toBe(130);
  });

  it("tramplab scenario: the scenarios that finished are reported, the one running is named", async () => {
    const quick = join(dir, "quick.yaml"), long = join(dir, "long.yaml");
    writeFileSync(quick, "machine: { cpus: 1, workload: [] }\nsteps:\n  - boot\n  - run: 1ms\n");
    writeFileSync(long, "machine: { cpus: 4 }\nsteps:\n  - boot\n  - run: 10s\n");
    const r = await interrupt(["scenario", quick, long], (out) => out.includes(`PASS ${quick}`));
    expect(r.signal).toBe(null);
    expect(r.stdout).toMatch(new RegExp(`^PASS ${quick}\n`));
    expect(r.stdout).not.toContain(long);
    expect(r.stderr).toBe(`tramplab scenario: interrupted (SIGINT) while running ${long}; 1 of 2 scenario(s) ran, 1 passed\n`);
    expect(r.status).toBe(130);
  });

  it("tramplab scenario: a long until step stops too", async () => {
    const file = join(dir, "until.yaml");
    // The ops is never registered, so no task is ever inside its trampoline: the step runs for all of its 10 s.
    writeFileSync(file, "machine: { cpus: 2 }\nops: { slow: { tracer: slow, filter: victim_traced } }\nsteps:\n  - boot\n" +
      "  - until: { task: swapper/0, inside: slow, within: 10s }\n");
    const r = await interrupt(["scenario", file]);
    expect(r.stderr).toBe(`tramplab scenario: interrupted (SIGINT) while running ${file}; 0 of 1 scenario(s) ran, 0 passed\n`);
    expect(r.status).toBe(130);
  });

  it("tramplab torture: stops in the iteration running, saying how many ran", async () => {
    const r = await interrupt(["torture", "--iterations", "100000"], (out) => /^ {4}0 /m.test(out));
    expect(r.signal).toBe(null);
    expect(r.stdout).toMatch(/^torture: seed 1, 100000 iteration\(s\)\n/);
    expect(r.stderr)
      .toMatch(/^tramplab torture: interrupted \(SIGINT\) in iteration (\d+); \1 of 100000 iteration\(s\) ran, \d+ failed\n$/);
    expect(r.status).toBe(130);
  });
});
