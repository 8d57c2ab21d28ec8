import { describe, it, expect } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";

const bin = join(projectRoot, "bin/tramplab.js");
const golden = (name: string) => join(projectRoot, "test/debug/golden", name);

/**
 * Kernel text addresses move whenever the firmware changes; symbol names and offsets do not
 * (as much), so transcripts keep `<work_top+0x5>` and mask the raw address next to it.
 */
function normalize(s: string): string {
  return s.replace(/0x[fF]{8}81[0-9a-fA-F]{6}/g, "0xffffffff81XXXXXX");
}

/** Compares with a golden file; UPDATE_GOLDEN=1 rewrites it (review the diff). */
function expectGolden(name: string, actual: string): void {
  const path = golden(name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    if (process.env.CI && !existsSync(path)) throw new Error(`golden file ${name} is missing`);
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, "utf8"));
}

describe("debugger transcripts", () => {
  it("batch mode on standard input: breakpoint, bt, x/i, stepping, rsi, tbreak, finish, errors, ftrace", () => {
    const r = spawnSync(process.execPath, [bin, "debug", "--cpus", "2"], { input: readFileSync(golden("session.cmds")), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1); // the session has failing commands on purpose
    expectGolden("session.txt", normalize(r.stdout));
  });

  it("-x FILE --batch runs the same commands with the same output", () => {
    const r = spawnSync(process.execPath, [bin, "debug", "--cpus", "2", "-x", golden("session.cmds"), "--batch"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(normalize(r.stdout)).toBe(readFileSync(golden("session.txt"), "utf8"));
  });

  it("in batch mode a run that nothing stops (ni over start_kernel_cpu, which never returns) " +
    "ends after 100 ms of virtual time, saying so", () => {
    const r = spawnSync(process.execPath, [bin, "debug", "--cpus", "1"], { input: "ni\nni\ninfo cpus\n", encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("(batch mode: nothing stopped the run within 100 ms of virtual time)\nInterrupted.");
    expect(r.stdout).toContain("(tramplab) info cpus");
  });

  it("batch mode exits 1 when a command fails (prints an error line), as gdb -batch does, and 0 when none does", () => {
    const debug = (input: string, ...args: string[]) =>
      spawnSync(process.execPath, [bin, "debug", "--cpus", "1", ...args], { input, encoding: "utf8" });
    const good = debug("info cpus\np 1 + 2\nsi\nquit\n");
    expect(good.stdout).not.toContain("error:");
    expect(good.status).toBe(0);
    // A failure is counted even when later commands succeed, and even after quit.
    const bad = debug("info cpus\np no_such_symbol\nsi\nquit\n");
    expect(bad.stdout).toContain("(tramplab) p no_such_symbol\nerror: ");
    expect(bad.stdout).toContain("(tramplab) si\n");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("");
  });

  it("-x FILE --batch exits 1 when a command in FILE fails, also inside a sourced file, and 0 when none does", () => {
    const dir = mkdtempSync(join(tmpdir(), "tramplab-debug-"));
    try {
      const file = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
      const inner = file("inner.cmds", "frobnicate\n");
      const runX = (path: string) =>
        spawnSync(process.execPath, [bin, "debug", "--cpus", "1", "-x", path, "--batch"], { encoding: "utf8" });
      expect(runX(file("good.cmds", "si\ninfo cpus\n")).status).toBe(0);
      expect(runX(file("bad.cmds", "si\nundisplay 7\ninfo cpus\n")).status).toBe(1);
      const sourced = runX(file("sources.cmds", `source ${inner}\ninfo cpus\n`));
      expect(sourced.stdout).toContain('error: undefined command "frobnicate"');
      expect(sourced.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a bad option is refused with one line and a pointer to debug --help", () => {
    const r = spawnSync(process.execPath, [bin, "debug", "--cpus", "99"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("tramplab debug: --cpus needs an integer from 1 to 64, got 99 (see 'tramplab debug --help')\n");
  });

  it("--recursion SCHEME is taken as tramplab run takes it (the same parser), and the recursion command shows it", () => {
    const r = spawnSync(process.execPath, [bin, "debug", "--cpus", "1", "--recursion", "per-task"],
      { input: "recursion\nquit\n", encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("(tramplab) recursion\nrecursion guard: per-task (TRANSITION bit on)\ncallback calls skipped: 0\n");
    const mainline = spawnSync(process.execPath, [bin, "debug", "--cpus", "1", "--recursion", "mainline"],
      { input: "run 2ms\nrecursion\nquit\n", encoding: "utf8" });
    expect(mainline.status).toBe(0);
    expect(mainline.stdout).toMatch(/\(tramplab\) recursion\nrecursion guard: mainline \(no guard in the trampolines: LIST bits .*\)\n/);
    expect(mainline.stdout).toContain("FTRACE_OPS_FL_RCU callback calls skipped where RCU was not watching: 0\n");
    const bad = ["--recursion", "sideways"];
    const viaDebug = spawnSync(process.execPath, [bin, "debug", ...bad], { encoding: "utf8" });
    const viaRun = spawnSync(process.execPath, [bin, "run", ...bad], { encoding: "utf8" });
    const message = "--recursion must be one of per-stack, per-task, none, mainline, got sideways";
    expect(viaDebug.status).toBe(2);
    expect(viaDebug.stderr).toBe(`tramplab debug: ${message} (see 'tramplab debug --help')\n`);
    expect(viaRun.stderr).toBe(`tramplab run: ${message} (see 'tramplab run --help')\n`);
  });
});

/**
 * A real pseudo-terminal: util-linux `script` runs the REPL on a pty (node-pty would need a
 * native build; `script` is on every Debian machine). Keys are typed, the screen is read back.
 */
// util-linux `script` provides the pseudo-terminal (.ci/run installs it if missing).
describe("debugger on a terminal", () => {
  it("tab completion, a breakpoint, and Ctrl-C stopping a running machine", async () => {
    const child = spawn("script", ["-qfec", `${process.execPath} ${bin} debug --cpus 2`, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout.on("data", (d: Buffer) => { screen += d.toString("utf8"); });
    let seen = 0;
    /** Waits until `text` appears after what was already consumed. */
    const waitFor = (text: string) => new Promise<void>((resolve, reject) => {
      const check = () => {
        const at = screen.indexOf(text, seen);
        if (at >= 0) { seen = at + text.length; resolve(); return true; }
        return false;
      };
      if (check()) return;
      const onExit = () => reject(new Error(`exited before "${text}" appeared:\n${screen}`));
      const onData = () => { if (check()) { child.stdout.off("data", onData); child.off("exit", onExit); } };
      child.stdout.on("data", onData);
      child.once("exit", onExit);
    });
    const type = (keys: string) => child.stdin.write(keys);

    await waitFor("(tramplab) ");
    type("disas\t");
    await waitFor("disassemble ");
    type("work_to\t");
    await waitFor("work_top");
    type("\r");
    await waitFor("Dump of assembler code for function work_top:");
    await waitFor("(tramplab) ");
    type("b work_top\r");
    await waitFor("Breakpoint 1 at");
    type("c\r");
    await waitFor("Breakpoint 1, work_top");
    await waitFor("(tramplab) ");
    type("delete\r");
    await waitFor("(tramplab) ");
    type("c\r");
    await waitFor("Continuing.");
    type("\x03");
    await waitFor("Interrupted.");
    await waitFor("[cpu");
    await waitFor("(tramplab) ");
    type("quit\r");
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
  });
});
