// A module written against the kernel's headers builds and runs unchanged; the loader's checks
// refuse bad objects with one line and change nothing; filters name modules before they load.
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import type { KernelConfig } from "../../src/kernel/config.js";
import { ModuleLoadError } from "../../src/kernel/module/loader.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { Errno } from "../../src/gen/constants.js";
import { ftraceOpsFields, FTRACE_OPS_SIZE, taskFields } from "../../src/gen/layout.js";
import { projectRoot } from "../../src/paths.js";
import { walk } from "../../src/machine/paging.js";
import { buildModules, EXAMPLES, FIXTURES } from "./build.js";
import { runCli } from "../cli-child.js";

let ko: Map<string, Uint8Array>;
beforeAll(async () => {
  ko = await buildModules([join(FIXTURES, "api_tour.c"), join(EXAMPLES, "hello.c"), join(FIXTURES, "rcu_flag.c")]);
});

function boot(config: Partial<KernelConfig> = {}): Kernel {
  const k = Kernel.boot({ cpus: 2, ...config });
  expect(k.runUntil(() => k.online.size === 2, 100_000_000n)).toBe(true);
  return k;
}

const insmodFails = (k: Kernel, bytes: Uint8Array, errno: number) => {
  let err: unknown;
  try { k.insmod(bytes, "bad.ko", []); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(ModuleLoadError);
  expect((err as ModuleLoadError).errno).toBe(errno);
  expect((err as Error).message).not.toContain("\n");
  return err as ModuleLoadError;
};

describe("a module written against the kernel's headers", () => {
  it("uses RCU, call_rcu, the Tasks flavours, kmalloc, locks, ftrace, time and printk formats, and unloads", () => {
    const k = boot();
    k.insmod(ko.get("api_tour")!, "api_tour.ko", []);
    k.rmmod("api_tour");
    const log = k.console.join("");
    expect(log).toContain("api_tour: call_rcu callback frees item 1");
    expect(log).toContain("api_tour: read 1; callbacks done: 1");
    expect(log).toContain("api_tour: irqs off under the lock: 1, preempt_count under the mutex: 0");
    expect(log).toMatch(/api_tour: work_leaf traced [1-9]\d* times, direct calls available/);
    expect(log).toMatch(/api_tour: tour_init \[api_tour\] tour_init\+0x4\/0x[0-9a-f]+ \[api_tour\] 0000000000001234 1000/);
    expect(log).toMatch(/api_tour: [1-9]\d* jiffies and [1-9]\d* us passed; insmod on cpu1/);
    expect(log).toContain("api_tour: bye");
    expect(k.warnings).toHaveLength(0);
    expect(k.oopses).toHaveLength(0);
  });

  it("WARN_ON_ONCE in a module is a warning at the module's address; BUG_ON is an oops that fails the load", () => {
    const k = boot();
    k.insmod(ko.get("api_tour")!, "api_tour.ko", [{ name: "warn", value: "y" }]);
    expect(k.warnings).toHaveLength(2); // two WARN_ON_ONCE sites, each once
    expect(k.symbols.format(k.warnings[0].rip)).toMatch(/^tour_init\+0x[0-9a-f]+ \[api_tour\]$/);
    k.rmmod("api_tour");
    const k2 = boot();
    expect(() => k2.insmod(ko.get("api_tour")!, "api_tour.ko", [{ name: "bug", value: "1" }])).toThrow(ModuleLoadError);
    expect(k2.oopses).toHaveLength(1);
    expect(k2.oopses[0].vector).toBe(6);
    expect(k2.modules.find("api_tour")!.state).toBe("coming"); // stuck, as in the kernel
    expect(() => k2.rmmod("api_tour")).toThrow(expect.objectContaining({ errno: Errno.EBUSY }));
  });

  it("has the machine's layout of struct ftrace_ops and the task fields it may read", () => {
    const dir = mkdtempSync(join(tmpdir(), "tramplab-layout-"));
    writeFileSync(join(dir, "probe.c"), [
      "#include <linux/ftrace.h>", "#include <linux/sched.h>", "#include <stdio.h>",
      "int main(void) { printf(\"%zu %zu %zu %zu %zu %zu %zu\\n\", offsetof(struct ftrace_ops, func), " +
      "offsetof(struct ftrace_ops, flags), offsetof(struct ftrace_ops, private), offsetof(struct ftrace_ops, direct_call), " +
      "sizeof(struct ftrace_ops), offsetof(struct task_struct, pid), offsetof(struct task_struct, comm)); return 0; }",
    ].join("\n"));
    const inc = join(projectRoot, "firmware", "module", "include");
    execFileSync("gcc", ["-std=gnu11", "-I", inc, "-idirafter", join(projectRoot, "firmware", "include"), "-o", join(dir, "probe"),
      join(dir, "probe.c")]);
    const got = execFileSync(join(dir, "probe"), { encoding: "utf8" }).trim().split(" ").map(Number);
    expect(got).toEqual([ftraceOpsFields.func.offset, ftraceOpsFields.flags.offset, ftraceOpsFields.private.offset,
      ftraceOpsFields.directCall.offset, FTRACE_OPS_SIZE, taskFields.pid.offset, taskFields.name.offset]);
  });
});

describe("where the loader puts a module", () => {
  it("maps text read-only and executable, rodata read-only, data writable and not executable; unmaps all at rmmod", () => {
    const k = boot();
    const m = k.insmod(ko.get("hello")!, "hello.ko", [{ name: "count", value: "0" }]);
    const page = (va: bigint) => walk(k.machine, k.booted.space.root, va);
    const rights = (va: bigint) => { const t = page(va); return t && { w: t.writable, x: t.exec, u: t.user }; };
    expect(rights(m.bases.text)).toEqual({ w: false, x: true, u: false });
    expect(rights(m.bases.rodata)).toEqual({ w: false, x: false, u: false });
    expect(rights(m.bases.data)).toEqual({ w: true, x: false, u: false });
    k.rmmod("hello");
    expect(page(m.bases.text)).toBeNull();
    expect(page(m.bases.data)).toBeNull();
  });
});

describe("the loader's checks", () => {
  it("lists every unknown symbol and fails with -ENOENT, loading nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tramplab-unknown-"));
    writeFileSync(join(dir, "needs.c"), "#include <linux/module.h>\nextern void secret_function(void);\nextern int secret_data;\n" +
      "static int __init needs_init(void) { secret_function(); return secret_data; }\nmodule_init(needs_init);\n");
    expect((await runCli(["build-module", "-o", join(dir, "needs.ko"), join(dir, "needs.c")])).status).toBe(0);
    const k = boot();
    insmodFails(k, new Uint8Array(readFileSync(join(dir, "needs.ko"))), Errno.ENOENT);
    const log = k.console.join("");
    expect(log).toContain("needs: Unknown symbol secret_function (err -2)");
    expect(log).toContain("needs: Unknown symbol secret_data (err -2)");
    expect(k.modules.all).toHaveLength(0);
  });

  it("refuses what is not a module object with -ENOEXEC and one line", () => {
    const k = boot();
    const before = k.ftrace.records.length;
    insmodFails(k, new TextEncoder().encode("not an ELF file at all"), Errno.ENOEXEC);
    insmodFails(k, readFileSync(join(projectRoot, "build", "firmware.elf")), Errno.ENOEXEC); // ET_EXEC
    insmodFails(k, ko.get("hello")!.subarray(0, 200), Errno.ENOEXEC); // truncated
    expect(k.modules.all).toHaveLength(0);
    expect(k.ftrace.records.length).toBe(before);
  });

  it("rmmod of a module that is not loaded is -ENOENT", () => {
    const k = boot();
    expect(() => k.rmmod("nothing")).toThrow(expect.objectContaining({ errno: Errno.ENOENT }));
  });

  it("a module with an init but no exit cannot be removed (-EBUSY)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tramplab-noexit-"));
    writeFileSync(join(dir, "stays.c"), "#include <linux/module.h>\nstatic int __init stays_init(void) { return 0; }\n" +
      "module_init(stays_init);\nMODULE_LICENSE(\"GPL\");\n");
    expect((await runCli(["build-module", "-o", join(dir, "stays.ko"), join(dir, "stays.c")])).status).toBe(0);
    const k = boot();
    k.insmod(new Uint8Array(readFileSync(join(dir, "stays.ko"))), "stays.ko", []);
    expect(() => k.rmmod("stays")).toThrow(expect.objectContaining({ errno: Errno.EBUSY }));
    expect(k.modules.find("stays")!.state).toBe("live");
  });
});

describe("filters that name a module", () => {
  it("an ops filtering on greet:mod:hello before the load traces greet once hello is loaded (ftrace_module_enable)", () => {
    const k = boot();
    const ops = new FtraceOps({ name: "watch", callback: { kind: "guest", symbol: "function_count_call" }, filter: "greet:mod:hello" });
    k.ftrace.register(ops);
    expect(ops.filterSet.size).toBe(0);
    k.insmod(ko.get("hello")!, "hello.ko", [{ name: "count", value: "1" }]);
    const rec = k.ftrace.record("greet")!;
    expect(rec.mod).toBe("hello");
    expect(rec.installed).toBe(ops.trampoline!.addr);
    k.rmmod("hello");
    expect(rec.gone).toBe(true);
    k.ftrace.unregister(ops);
  });
});

describe("check-noinstr on a module object", () => {
  it("links it against the kernel's symbols and names the kernel function a noinstr function calls", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tramplab-noinstr-mod-"));
    writeFileSync(join(dir, "ni.c"), "#include <linux/module.h>\n#include <linux/sched.h>\n" +
      "static noinstr int quiet(int x) { return x + 1; }\nstatic noinstr void loud(void) { schedule(); }\n" +
      "static int __init ni_init(void) { loud(); return quiet(1) - 2; }\nmodule_init(ni_init);\nMODULE_LICENSE(\"GPL\");\n");
    expect((await runCli(["build-module", "-o", join(dir, "ni.ko"), join(dir, "ni.c")])).status).toBe(0);
    const r = await runCli(["check-noinstr", join(dir, "ni.ko")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("loud+0x0: call to schedule() leaves .noinstr.text section");
    expect(r.stdout).toContain("2 functions");
    expect(r.stdout).not.toContain("quiet+");
  });
});

describe("ftrace_ops flags with the kernel's meaning", () => {
  it("FTRACE_OPS_FL_RCU: no callback where RCU is not watching (5.15's broadcast poll loop), while a plain ops is called there", () => {
    // Sleepers only: the vCPUs go idle between their wakeups, and poll for the tick broadcast.
    const sleeper = (cpu: number) => ({ name: `sleeper/${cpu}`, kind: "kthread" as const, entry: "kthread_sleeper", arg: 2, cpu });
    const k = boot({ workload: [sleeper(0), sleeper(1)], kernel: "5.15", idle: "broadcast" });
    k.insmod(ko.get("rcu_flag")!, "rcu_flag.ko", []);
    k.run(5_000_000n);
    expect(k.readGlobal("plain_poll_calls")).toBeGreaterThan(0n);
    expect(k.readGlobal("rcu_work_calls")).toBeGreaterThan(0n);
    expect(k.readGlobal("rcu_check_calls")).toBeGreaterThan(0n); // do_idle's own check, RCU watching
    expect(k.readGlobal("rcu_idle_calls")).toBe(0n);
    k.rmmod("rcu_flag");
  });
});
