// `tramplab run --insmod ... --rmmod ...` as a person types it: the kernel log in dmesg's format,
// the modules in the summary, insmod's and rmmod's words for what fails, and the exit status.
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli-child.js";
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
