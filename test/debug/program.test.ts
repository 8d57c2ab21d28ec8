// tramplab debug PROGRAM: the REPL and the gdb stub on a static user program built with -g
// (test/programs/debugme.c), the same loader and system calls as `tramplab run PROGRAM`.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { compile } from "../programs/build.js";
import { serveChild } from "./serve.js";

const bin = join(projectRoot, "bin/tramplab.js");
let dir = "";
let prog = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-debugprog-"));
  prog = await compile(["debugme.c"], join(dir, "debugme"), ["-O0", "-g"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `tramplab debug ARGS...` with these commands on standard input. */
function repl(args: string[], commands: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, [bin, "debug", ...args], { input: commands.join("\n") + "\n", encoding: "utf8" });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** The source line of debugme.c that holds `text`. */
function lineOf(text: string): number {
  const src = spawnSync("grep", ["-n", "-F", text, join(projectRoot, "test/programs/debugme.c")], { encoding: "utf8" }).stdout;
  return Number(src.split(":")[0]);
}

describe("debug PROGRAM: the REPL on a user program", () => {
  it("b main stops in main at its source line; c runs to the exit, the program's output shown once", () => {
    const r = repl([prog], ["b main", "c", "bt", "info cpus", "c", "c"]);
    expect(r.out).toMatch(/^tramplab debugger: the program .*debugme, stopped at its first instruction\./);
    expect(r.out).toContain("=> 0x401000 <_start>");
    expect(r.out).toMatch(new RegExp(`Breakpoint 1, main at .*test/programs/debugme\\.c:${lineOf("int main(")}\\n`));
    expect(r.out).toMatch(/#0  0x[0-9a-f]+ <main> at .*debugme\.c:\d+  <- selected\n#1  0x[0-9a-f]+ <_start\+0x[0-9a-f]+>/);
    expect(r.out).toMatch(/\*   0  running .* debugme\/1 +0x[0-9a-f]+ <main>/);
    // 1 + 4 + 9 = 14; the exit status is 14 & 7, printed in octal as gdb does.
    expect(r.out).toContain("total 14\n[Inferior 1 (process 1) exited with code 06]");
    expect(r.out).toContain("error: The program is not being run: the program exited with code 6.");
    expect(r.out.match(/total 14/g)?.length).toBe(1);
    expect(r.status).toBe(1); // the refused c is an error line
  });

  it("reverse-stepi after the exit goes back to the exit system call; the replayed run prints nothing again", () => {
    const r = repl([prog], ["b out_dec", "c", "delete", "c", "rsi", "info registers rax", "rc", "c"]);
    expect(r.out).toMatch(/\(tramplab\) rsi\n\[cpu0\] => 0x[0-9a-f]+ <sys_exit\+0x[0-9a-f]+>:\s+0f 05\s+syscall/);
    expect(r.out).toMatch(/rax +0x3c\b/); // exit's system-call number
    // rc with nothing to stop at goes back to the start of the history; c then runs it all again.
    expect(r.out.match(/\[Inferior 1 \(process 1\) exited with code 06\]/g)?.length).toBe(2);
    expect(r.out.match(/total 14/g)?.length).toBe(1);
    expect(r.status).toBe(0);
  });

  it("a null dereference stops with SIGSEGV and the fault report; the program then runs no further", () => {
    const r = repl([prog, "--", "crash"], ["c", "p $rip", "si"]);
    expect(r.out).toContain("Program received signal SIGSEGV, Segmentation fault.\npage fault (#PF) at 0x0 (user reading, not present)\n");
    expect(r.out).toMatch(/\n {2}at 0x[0-9a-f]+ <main\+0x[0-9a-f]+>: [0-9a-f ]+ mov /);
    expect(r.out).toContain("error: The program is not being run: the program was killed by SIGSEGV.");
  });

  it("next and step walk source lines: next over square's call, step into it, back to main, out to _start", () => {
    const r = repl([prog], ["b main", "c", "n", "n", "n", "s", "bt", "n", "n", "n 100", "n", "c"]);
    const at = (fn: string, text: string) => `${fn} at test/programs/debugme.c:${lineOf(text)}\n`;
    const title = /^(?:\w+ at \S+:\d+|_start\+0x[0-9a-f]+: no line number information)$/gm;
    const titles = [...r.out.matchAll(title)].map((m) => m[0] + "\n");
    expect(titles).toEqual([
      at("main", "int total = 0;"), at("main", "for (int i"), at("main", "total += square"), at("square", "return x * x;"),
      at("square", "}"), at("main", "total += square"), "_start+0x14: no line number information\n",
    ]);
    expect(r.out).toMatch(/#0  0x[0-9a-f]+ <square\+0x[0-9a-f]+> at .*debugme\.c:\d+  <- selected\n/);
    expect(r.out).toMatch(/\n#1  0x[0-9a-f]+ <main\+0x[0-9a-f]+> at .*debugme\.c:\d+\n/);
    expect(r.out).toContain("error: no line number information at _start+0x14: use ni or finish");
    expect(r.out).toContain("total 14\n[Inferior 1 (process 1) exited with code 06]");
  });

  it("the kernel's views refuse, naming the program", () => {
    const r = repl([prog], ["ftrace", "info tasks"]);
    expect(r.out).toMatch(/error: no kernel here: this session debugs the program .*debugme\n.*\n?error: no kernel here/);
  });

  it("kernel options and a kernel image's arguments are refused with one line each", () => {
    const cpus = spawnSync(process.execPath, [bin, "debug", "--cpus", "2", prog], { encoding: "utf8" });
    expect(cpus.status).toBe(2);
    expect(cpus.stderr).toMatch(/--cpus: for the kernel, not for a program/);
    const image = spawnSync(process.execPath, [bin, "debug", "build/firmware.elf", "x"], { encoding: "utf8", cwd: projectRoot });
    expect(image.status).toBe(2);
    expect(image.stderr).toContain("build/firmware.elf is a kernel image: it takes no arguments");
  });
});

describe("gdb attached to a user program (tramplab debug PROGRAM --gdb)", () => {
  /** Starts the stub on an ephemeral port; its standard output is the program's. */
  function serve(args: string[]) {
    return serveChild([bin, "debug", prog, "--gdb", ":0", ...args]);
  }

  function gdb(port: number, commands: string[]): Promise<string> {
    const args = ["-batch", "-nx", prog, "-ex", `target remote :${port}`, ...commands.flatMap((c) => ["-ex", c])];
    return new Promise((resolve) => execFile("/usr/bin/gdb", args, { maxBuffer: 1 << 20 }, (_e, so, se) => resolve(so + se)));
  }

  it("b main, next, info locals, reverse-next, c: gdb sees the source, the locals and the exit status", async () => {
    const { child, port, output } = await serve([]);
    try {
      const out = await gdb(port, ["b main", "c", "next", "next", "info locals", `tbreak debugme.c:${lineOf("out_dec(")}`, "c",
        "info locals", "p argc", "info threads", "next", "reverse-next", "info locals", "c"]);
      expect(out).toMatch(/Breakpoint 1, main \(argc=1, argv=0x7fffffff[0-9a-f]+\) at .*debugme\.c:\d+/);
      expect(out).toMatch(new RegExp(`\\n${lineOf("for (int i")}\\s+for \\(int i = 0;`));
      expect(out).toMatch(/i = 0\ntotal = 0\n/);
      expect(out).toMatch(/debugme\.c:\d+\n\d+\s+out_dec\("total", total\);\ntotal = 14\n/);
      expect(out).toMatch(/\$1 = 1\n/);
      expect(out).toMatch(/\* 1 +Thread 1 \(debugme\) main \(/);
      // next ran out_dec (the write); reverse-next went back before the call.
      expect(out).toMatch(new RegExp(`\\n${lineOf("if (argc > 1")}\\s+if \\(argc > 1.*\\n${lineOf("out_dec(")}\\s+out_dec`));
      expect(out).toContain("[Inferior 1 (Remote target) exited with code 06]");
      expect(out).not.toMatch(/Protocol error|Remote failure|Remote connection closed/);
      // The program's output (written at its exit) went to the stub's standard output, once.
      expect(output().match(/total 14/g)?.length).toBe(1);
    } finally {
      child.kill();
    }
  });

  it("a fault reaches gdb as SIGSEGV at the faulting line", async () => {
    const { child, port } = await serve(["--", "crash"]);
    try {
      const out = await gdb(port, ["c", "p total", "kill"]);
      expect(out).toMatch(/Program received signal SIGSEGV, Segmentation fault\.\n(0x[0-9a-f]+ in )?main \(argc=2,.*\n?.*debugme\.c:\d+/);
      expect(out).toMatch(/\$1 = 29/);
    } finally {
      child.kill();
    }
  });
});
