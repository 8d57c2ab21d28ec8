// `tramplab run --insmod ... --rmmod ...` as a person types it: the kernel log in dmesg's format,
// the modules in the summary, insmod's and rmmod's words for what fails, and the exit status.
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, runCli } from "../cli-child.js";
import { execFile } from "node:child_process";
import { serveChild } from "../debug/serve.js";
import { projectRoot } from "../../src/paths.js";
import { EXAMPLES } from "./build.js";

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-run-insmod-"));
  const r = await runCli(["build-module", "-o", join(dir, "hello.ko"), join(EXAMPLES, "hello.c")]);
  expect(r.status, r.stderr).toBe(0);
  // __mcount_loc lists a site that is no `call __fentry__`: ftrace_module_init must refuse it.
  writeFileSync(join(dir, "badsite.S"), ".text\n.globl init_module\ninit_module:\n\tnopl 0(%rax)\n\tnop\n\txor %eax, %eax\n\tret\n" +
    ".section __mcount_loc, \"a\"\n\t.quad init_module\n");
  const b = await runCli(["build-module", "-o", join(dir, "badsite.ko"), join(dir, "badsite.S")]);
  expect(b.status, b.stderr).toBe(0);
});

describe("run --insmod and --rmmod", () => {
  it("prints the module's lines in the kernel log with their virtual time, and the module in the summary", async () => {
    const r = await runCli(["run", "--cpus", "2", "--time", "3ms", "--insmod", `${join(dir, "hello.ko")} count=1 who='two words'`,
      "--rmmod", "hello"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[ {4}0\.\d{6}\] hello: loading: count=1 delay_ms=1 magic=0xfeed init at hello_init \[hello\]$/m);
    expect(r.stdout).toMatch(/^\[ {4}0\.\d{6}\] hello: hello two words #0 from greeter on cpu0$/m);
    expect(r.stdout).toMatch(/^\[ {4}0\.\d{6}\] hello: unloading: the greeter said hello 1 times$/m);
    expect(r.stdout).toMatch(/^ {2}hello: unloaded, memory freed at .* \(rmmod, after synchronize_rcu\(\)\)$/m);
  });

  it("a refused load is insmod's error line and exit 1; the kernel runs on", async () => {
    const r = await runCli(["run", "--cpus", "2", "--time", "1ms", "--insmod", `${join(dir, "hello.ko")} count=many`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`insmod: ERROR: could not insert module ${join(dir, "hello.ko")}: Invalid parameters`);
    expect(r.stdout).toContain("hello: 'many' invalid for parameter 'count' (int)");
    expect(r.stdout).toContain("stopped: ran for the requested time");
  });

  it("rmmod of a module that is not loaded is rmmod's error line and exit 1", async () => {
    const r = await runCli(["run", "--cpus", "2", "--time", "1ms", "--rmmod", "nothing"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("rmmod: ERROR: Module nothing is not currently loaded");
  });

  it("a site that is not `call __fentry__` is an ftrace bug at load (ftrace_module_init checks before it writes)", async () => {
    const r = await runCli(["run", "--cpus", "2", "--time", "1ms", "--insmod", join(dir, "badsite.ko")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/insmod: ERROR: could not insert module .*badsite\.ko: Invalid parameters \(ftrace failed/);
  });

  it("bad insmod lines and files are usage errors (exit 2) before anything runs", async () => {
    const quote = await runCli(["run", "--insmod", "x.ko who='unterminated"]);
    expect(quote.status).toBe(2);
    expect(quote.stderr).toContain("unterminated ' in insmod line");
    const missing = await runCli(["run", "--insmod", join(dir, "missing.ko")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("missing.ko");
    const empty = await runCli(["run", "--insmod", " "]);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain("--insmod needs a module and its parameters");
  });
});

describe("run --gdb", () => {
  it("loads the modules, then serves gdb: a real gdb sees the module's thread and stops in the kernel", async () => {
    const args = [CLI, "run", "--cpus", "2", "--insmod", `${join(dir, "hello.ko")} count=1000`, "--gdb", ":0", "--gdb-wait"];
    const { port, exited } = await serveChild(args);
    const out = await new Promise<string>((resolve) => {
      execFile("gdb", ["-batch", "-nx", "-ex", `target remote :${port}`, "-ex", "monitor tramp", "-ex", "b work_leaf", "-ex", "c",
        "-ex", "kill", join(projectRoot, "build", "firmware.elf")], { maxBuffer: 1 << 20 }, (_e, so, se) => resolve(so + se));
    });
    expect(out).toMatch(/Breakpoint 1, work_leaf \(.*\) at firmware\/work\.c:\d+/);
    expect(await exited).toBe(0);
  });
});

describe("a hostile module's parameter table", () => {
  it("a variable outside the module's data is refused (-EINVAL), never written", async () => {
    writeFileSync(join(dir, "badparam.S"), ".section .rodata\nn:\t.asciz \"p\"\n" +
      ".section __param, \"a\"\n\t.quad n\n\t.quad 0xffffffff81000000\n\t.long 1\n\t.short 0, 0\n");
    expect((await runCli(["build-module", "-o", join(dir, "badparam.ko"), join(dir, "badparam.S")])).status).toBe(0);
    const r = await runCli(["run", "--cpus", "2", "--time", "1ms", "--insmod", `${join(dir, "badparam.ko")} p=1`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Invalid parameters \(parameter p's variable at 0xffffffff81000000 is not in the module's data\)/);
    expect(r.stdout).toContain("stopped: ran for the requested time");
  });
});
