// tramplab scenario FILE --gdb: the scenario's steps up to the one asked for, then a real gdb
// (Debian's, in batch mode) attached to that machine; `monitor scenario next` carries out the
// following steps; bad --gdb-step values and option mixes are usage errors.
import { describe, it, expect, afterEach } from "vitest";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, runMain } from "../cli-child.js";
import { loadScenario } from "../../src/scenario/scenario.js";
import { gdbStepIndex, scenarioMonitor } from "../../src/cli/scenario-gdb.js";
import { ScenarioStepper } from "../../src/scenario/stepper.js";
import { finish } from "../../src/machine/slices.js";
import { Engine } from "../../src/debug/engine.js";
import { GdbServer } from "../../src/debug/gdbstub/server.js";
import { frame, textToHex } from "../../src/debug/gdbstub/packets.js";
import { Client } from "./gdbstub-client.js";
import { UsageError } from "../../src/cli/args.js";

const GDB = "/usr/bin/gdb";
const ELF = "build/firmware.elf";
const SEED003 = "scenarios/seed003-plain-rcu.yaml";

let child: ChildProcess | null = null;
afterEach(() => { if (child && child.exitCode === null) child.kill("SIGKILL"); child = null; });

/** Starts `tramplab scenario ARGS --gdb :0 --gdb-wait`; resolves once it listens, with its port and stderr so far. */
function serve(args: string[]): Promise<{ port: number; log: () => string; exited: Promise<number | null> }> {
  const c = spawn(process.execPath, [CLI, "scenario", ...args, "--gdb", ":0", "--gdb-wait"], { stdio: ["ignore", "pipe", "pipe"] });
  child = c;
  let log = "";
  const exited = new Promise<number | null>((res) => c.once("exit", (code) => res(code)));
  return new Promise((resolve, reject) => {
    c.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve({ port: Number(m[1]), log: () => log, exited });
    });
    c.once("exit", () => reject(new Error(`exited before listening: ${log}`)));
  });
}

/** Runs gdb -batch with these commands; resolves to its standard output and error together. */
function gdb(port: number, commands: string[]): Promise<string> {
  const args = ["-batch", "-nx", "-ex", `target remote :${port}`, ...commands.flatMap((c) => ["-ex", c]), ELF];
  return new Promise((resolve) => {
    execFile(GDB, args, { maxBuffer: 1 << 20 }, (_err, stdout, stderr) => resolve(stdout + stderr));
  });
}

describe("scenario --gdb: gdb attached at a step of a scenario", () => {
  it("seed 003 stopped before its unregister: gdb sees both vCPUs, the live ops and the preempted victim in its trampoline", async () => {
    const { port, log, exited } = await serve([SEED003, "--gdb-step", "unregister"]);
    // The banner names where the machine stopped and every step that will not run unless gdb asks.
    expect(log()).toContain(`${SEED003} stopped before step 5 of 7, line 28: unregister slow`);
    expect(log()).toMatch(/step 5 of 7, line 28: unregister slow\n +step 6 of 7, line 29: run until every release of slow freed/);
    expect(log()).toContain("expectations are not checked in a --gdb session");
    const out = await gdb(port, ["info threads", "monitor ftrace enabled_functions", "monitor tramp", "monitor scenario", "detach"]);
    expect(out).toMatch(/1 +Thread 1 \(CPU#0 \[\w+\]\)/);
    expect(out).toMatch(/2 +Thread 2 \(CPU#1 \[\w+\]\)/);
    expect(out).toMatch(/^victim_traced \(1\) +\ttramp: 0xffffffffa/m);
    expect(out).toMatch(/ops slow: live, 1 sites/);
    expect(out).toMatch(/held: victim\/\d+ \(runnable, preempted\)/);
    expect(out).toMatch(/done +4 +line 27: run until victim inside the trampoline of slow, preempted/);
    expect(out).toMatch(/next +5 +line 28: unregister slow/);
    expect(out).toContain("[Inferior 1 (Remote target) detached]");
    expect(out).not.toMatch(/Remote connection closed|Protocol error|Remote failure/);
    // Detached, the machine runs on, served still; Ctrl-C ends the process.
    child!.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("monitor scenario next carries out the unregister on the stopped machine; reverse execution stops at the step", async () => {
    const { port, exited } = await serve([SEED003, "--gdb-step", "5"]);
    const out = await gdb(port, [
      "monitor scenario next", "monitor tramp", "monitor scenario steps", "maintenance flush register-cache", "reverse-stepi",
      "monitor scenario next", "monitor rcu", "kill",
    ]);
    expect(out).toMatch(/carried out step 5 of 7, line 28: unregister slow\n +\d[\d.]* us +line 28: unregister slow\n/);
    expect(out).toContain("next: step 6 of 7, line 29: run until every release of slow freed");
    expect(out).toMatch(/ops slow: releasing, 0 sites/);
    expect(out).toMatch(/done +5 +line 28: unregister slow\nnext +6 +line 29/);
    // The scenario's own state is not in the checkpoints: gdb cannot go back across the step.
    expect(out).toContain("No more reverse-execution history.");
    expect(out).toContain("carried out step 6 of 7, line 29: run until every release of slow freed");
    expect(out).not.toMatch(/slow: trampoline 0x[0-9a-f]+, policy rcu, waiting/);
    expect(out).toContain("[Inferior 1 (Remote target) killed]");
    expect(await exited).toBe(0);
  });

  it("a step that fails under monitor scenario next is reported, and no step runs after it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scengdb-"));
    try {
      const file = join(dir, "fails.yaml");
      // register must fail with ENODEV, but the site is intact: the step fails.
      writeFileSync(file, readFileSync("scenarios/ftrace-bug-at-boot.yaml", "utf8").replace(/ +- corrupt-site:.*\n/, ""));
      const { port, exited } = await serve([file]);
      const out = await gdb(port, ["monitor scenario next", "monitor scenario next", "monitor scenario", "kill"]);
      expect(out).toContain("carried out step 2 of 3, line");
      expect(out).toContain("step failed: expected the call to fail with ENODEV, but it succeeded");
      expect(out).toContain("error: step 2 of 3, line");
      expect(out).toMatch(/failed; the scenario stops there/);
      expect(out).toMatch(/^failed +2 +line \d+: register tracer \(must fail: ENODEV\)\n +3 +line/m);
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The 1-based line of `text` in `file`. */
function lineOf(file: string, text: string): number {
  return readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(text)) + 1;
}

describe("monitor scenario next over the protocol", () => {
  it("0x03 stops a long step part way: it counts as failed, no step runs after it, and the stub serves on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scengdb-"));
    let server: GdbServer | null = null;
    try {
      // Its last step runs 1 s of virtual time: far more slices than the interrupt needs to land in.
      const file = join(dir, "long.yaml");
      writeFileSync(file, readFileSync("scenarios/seed003-tasks-rcu.yaml", "utf8").replace("  - run: 100 jiffies\n", "  - run: 1s\n"));
      const st = new ScenarioStepper(loadScenario(file, readFileSync(file, "utf8")));
      finish(st.upTo(6));
      const k = st.run.k!;
      const before = k.machine.time;
      server = new GdbServer(new Engine(k), { host: "127.0.0.1", port: 0, wait: true, monitor: scenarioMonitor(st) });
      const c = await Client.open(await server.listen());
      // The interrupt comes right behind the request, as gdb sends it on Ctrl-C.
      c.raw(Buffer.concat([frame("qRcmd," + textToHex("scenario next")), Buffer.from([3])]));
      expect(await c.reply()).toBe("OK");
      expect(c.console).toContain(`carried out step 7 of 7, line ${lineOf(file, "- run: 1s")}: run 1 s`);
      expect(c.console).toContain("step failed: interrupted part way\nno further step runs");
      expect(st.failure?.index).toBe(6);
      expect(k.machine.time - before).toBeLessThan(1_000_000_000n);
      c.console = "";
      expect(await c.ask("qRcmd," + textToHex("scenario"))).toBe("OK");
      expect(c.console).toMatch(new RegExp(`^failed +7 +line ${lineOf(file, "- run: 1s")}: run 1 s$`, "m"));
      c.console = "";
      expect(await c.ask("qRcmd," + textToHex("scenario next"))).toBe("E01");
      expect(c.console).toBe(`error: step 7 of 7, line ${lineOf(file, "- run: 1s")}: run 1 s failed; the scenario stops there\n`);
      expect(await c.ask("qfThreadInfo")).toBe("m1,2");
      await c.end();
    } finally {
      server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("scenario --gdb-step", () => {
  const atBoot = loadScenario("scenarios/ftrace-bug-at-boot.yaml", readFileSync("scenarios/ftrace-bug-at-boot.yaml", "utf8"));
  const seed003 = loadScenario(SEED003, readFileSync(SEED003, "utf8"));

  it("defaults to right after boot; numbers count from 1 as the report does; a kind is its first step after boot", () => {
    expect(gdbStepIndex(seed003, undefined)).toBe(1);
    expect(gdbStepIndex(atBoot, undefined)).toBe(2); // corrupt-site comes before boot there
    expect(gdbStepIndex(seed003, "5")).toBe(4);
    expect(gdbStepIndex(seed003, "8")).toBe(7); // after the last step
    expect(gdbStepIndex(seed003, "until")).toBe(3);
    expect(gdbStepIndex(seed003, "run")).toBe(1);
  });

  it("refuses a step before the machine exists, past the end, an absent kind and a bad word, naming the valid range", () => {
    const refused = (s: typeof seed003, v: string) => {
      try { gdbStepIndex(s, v); } catch (e) { if (e instanceof UsageError) return e.message; throw e; }
      return "accepted";
    };
    expect(refused(seed003, "1"))
      .toBe(`--gdb-step 1: ${SEED003} has steps 1 to 7, step 1 boots: --gdb-step is 2 to 8 (8: after the last step)`);
    expect(refused(seed003, "9")).toContain("--gdb-step is 2 to 8");
    expect(refused(seed003, "0")).toContain("--gdb-step is 2 to 8");
    expect(refused(atBoot, "2")).toContain("step 2 boots: --gdb-step is 3 to 5");
    expect(refused(seed003, "99999999999999999999")).toMatch(/^--gdb-step needs a step number or a step's kind/);
    expect(refused(seed003, "rmmod"))
      .toBe(`--gdb-step rmmod: ${SEED003} has no rmmod step after boot (its steps after boot: run, register, until, unregister)`);
    expect(refused(atBoot, "corrupt-site")).toContain("has no corrupt-site step after boot");
    expect(refused(seed003, "-1")).toMatch(/^--gdb-step needs a step number or a step's kind \(boot, run, .*\), got "-1"/);
    expect(refused(seed003, "")).toMatch(/got ""$/);
    expect(refused(seed003, "x".repeat(500)).length).toBeLessThan(300);
  });

  it("the command line: one FILE, no --update-golden, --gdb-step needs --gdb; bad values exit 2 before anything runs", async () => {
    const cases: [string[], string][] = [
      [[SEED003, "--gdb", ":0", "--gdb-step", "9"], "--gdb-step is 2 to 8"],
      [[SEED003, "--gdb", ":0", "--gdb-step", "bogus"], "--gdb-step needs a step number or a step's kind"],
      [[SEED003, SEED003, "--gdb", ":0"], "--gdb serves one scenario's machine: give one FILE (got 2)"],
      [[SEED003, "--gdb", ":0", "--update-golden"], "--gdb checks no expectation: --update-golden does not apply"],
      [[SEED003, "--gdb-step", "3"], "--gdb-step needs --gdb"],
      [[SEED003, "--gdb", "host:port"], "--gdb needs [HOST:]PORT"],
    ];
    for (const [args, message] of cases) {
      const r = await runMain(["scenario", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err).not.toContain("listening");
    }
  });
});
