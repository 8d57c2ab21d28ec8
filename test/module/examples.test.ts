// The example modules, built from examples/modules and loaded into a running kernel: each proves
// one thing a test module is for.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import type { KernelConfig } from "../../src/kernel/config.js";
import { ModuleLoadError } from "../../src/kernel/module/loader.js";
import { Errno } from "../../src/gen/constants.js";
import { callInsn, NOP5, sameBytes } from "../../src/kernel/ftrace/records.js";
import { buildModules, EXAMPLES } from "./build.js";

let ko: Map<string, Uint8Array>;
beforeAll(async () => {
  ko = await buildModules(["hello", "seed003", "forgetful", "direct", "direct_modify", "direct_shared", "ops_bench"]
    .map((n) => join(EXAMPLES, `${n}.c`)));
});

function boot(config: Partial<KernelConfig> = {}): Kernel {
  const k = Kernel.boot({ cpus: 2, ...config });
  expect(k.runUntil(() => k.online.size === 2, 100_000_000n)).toBe(true);
  return k;
}

const log = (k: Kernel) => k.console.join("");
const u64 = (k: Kernel, sym: string) => k.readGlobal(sym);
const siteBytes = (k: Kernel, fn: string) => k.readKernel(k.ftrace.record(fn)!.ip, 5);

describe("hello: parameters, the kernel log and a kernel thread", () => {
  it("gives every parameter type its value, greets from its thread, and stops it at rmmod", () => {
    const k = boot();
    const m = k.insmod(ko.get("hello")!, "hello.ko", [
      { name: "count", value: "2" }, { name: "delay_ms", value: "0x2" }, { name: "magic", value: "18446744073709551615" },
      { name: "shout" }, { name: "who", value: "tramp lab" },
    ]);
    expect(m.state).toBe("live");
    k.run(10_000_000n);
    k.rmmod("hello");
    const text = log(k);
    expect(text).toContain("hello: loading: count=2 delay_ms=2 magic=0xffffffffffffffff init at hello_init [hello]");
    expect(text).toContain("hello: HELLO tramp lab #0 from greeter on cpu0");
    expect(text).toContain("hello: HELLO tramp lab #1 from greeter on cpu0");
    expect(text).toContain("hello: unloading: the greeter said hello 2 times");
    expect(k.sched.tasks.find((t) => t.name === "greeter")!.state).toBe("dead");
    expect(k.modules.find("hello")).toBeUndefined();
    expect(k.modules.all[0].state).toBe("freed");
  });

  it("refuses a bad value with -EINVAL, says which, and leaves nothing loaded", () => {
    const k = boot();
    const records = k.ftrace.records.length;
    let err: unknown;
    try { k.insmod(ko.get("hello")!, "hello.ko", [{ name: "count", value: "12abc" }]); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ModuleLoadError);
    expect((err as ModuleLoadError).errno).toBe(Errno.EINVAL);
    expect(log(k)).toContain("hello: '12abc' invalid for parameter 'count' (int)");
    expect(k.modules.loaded).toHaveLength(0);
    expect(k.ftrace.records.filter((r) => r.mod && !r.gone)).toHaveLength(0);
    expect(k.ftrace.records.length).toBeGreaterThanOrEqual(records);
  });

  it("fails init with its own error (-EINVAL from a negative count) and unwinds", () => {
    const k = boot();
    expect(() => k.insmod(ko.get("hello")!, "hello.ko", [{ name: "count", value: "-1" }])).toThrow(/init_module returned -22/);
    expect(k.modules.loaded).toHaveLength(0);
  });

  it("ignores an unknown parameter with the kernel's warning", () => {
    const k = boot();
    k.insmod(ko.get("hello")!, "hello.ko", [{ name: "colour", value: "blue" }, { name: "count", value: "0" }]);
    expect(log(k)).toContain("hello: unknown parameter 'colour' ignored");
  });

  it("refuses a second module of the same name (-EEXIST)", () => {
    const k = boot();
    k.insmod(ko.get("hello")!, "hello.ko", [{ name: "count", value: "0" }]);
    expect(() => k.insmod(ko.get("hello")!, "hello.ko", [])).toThrow(expect.objectContaining({ errno: Errno.EEXIST }));
    expect(k.modules.loaded).toHaveLength(1);
  });
});

describe("seed003: rmmod while a task is preempted in the module's trampoline", () => {
  const config: Partial<KernelConfig> = { preempt: "full", tickPeriod: 20000, timeslice: 10, seed: 1n,
    workload: [{ name: "busy1", kind: "kthread", entry: "kthread_busy", arg: 100000, cpu: 1 }] };

  /** Loads the module, waits until the victim is preempted inside the trampoline, and unloads it. */
  function rmmodWhilePreemptedInside(release: string): Kernel {
    const k = boot({ ...config, release });
    k.insmod(ko.get("seed003")!, "seed003.ko", []);
    const ops = k.ftrace.ops.find((o) => o.name === "seed003:slow_ops")!;
    expect(ops.dynamic).toBe(true);
    const t = ops.trampoline!;
    const victim = k.sched.tasks.find((x) => x.name === "victim")!;
    const inside = () => victim.state === "runnable" && victim.preempted &&
      k.holders(t.addr, t.addr + BigInt(t.pages.length * 4096)).some((h) => h.task === victim);
    expect(k.runUntil(inside, 2_000_000_000n)).toBe(true);
    k.rmmod("seed003");
    k.run(5_000_000n);
    return k;
  }

  it("is caught under plain RCU on a preemptible kernel: the victim returns into the freed trampoline", () => {
    const k = rmmodWhilePreemptedInside("rcu");
    expect(k.useAfterFrees).toHaveLength(1);
    const uaf = k.useAfterFrees[0];
    expect(uaf.task).toBe("victim");
    expect(uaf.object.what).toBe('the dynamic trampoline of ops "seed003:slow_ops"');
    expect(uaf.object.heldAtFree?.map((h) => h.text).join()).toMatch(/victim\/\d+ \(runnable, preempted\)/);
  });

  it("is safe under the kernel's policy: Tasks RCU waits for the victim to leave", () => {
    const k = rmmodWhilePreemptedInside("kernel");
    expect(k.useAfterFrees).toHaveLength(0);
    expect(k.oopses).toHaveLength(0);
    const r = k.releases.all.find((x) => x.ops.name === "seed003:slow_ops")!;
    // kernel 6.13 (the default): the Rude wait is a no-op on x86, then Tasks RCU and the kallsyms RCU.
    expect(r.steps.map((s) => s.flavour.name)).toEqual(["rcu_tasks_rude", "rcu_tasks", "rcu"]);
    expect(r.steps[0].skipped).toBeDefined();
    expect(r.trampoline!.heldAtFree).toEqual([]);
    expect(log(k)).toMatch(/seed003: unregistered after \d+ callback calls/);
  });
});

describe("forgetful: a module that does not unregister its ops", () => {
  it("is caught when the traced function next runs into the freed callback, and the report names the module", () => {
    const k = boot();
    k.insmod(ko.get("forgetful")!, "forgetful.ko", []);
    k.run(2_000_000n);
    k.rmmod("forgetful");
    k.run(2_000_000n);
    expect(k.useAfterFrees.length).toBeGreaterThan(0);
    const uaf = k.useAfterFrees[0];
    expect(uaf.object.what).toBe("module forgetful");
    expect(uaf.access).toBe("fetch");
    expect(uaf.text).toContain("BUG: use-after-free in count_hits [forgetful, freed]");
  });
});

describe("direct calls", () => {
  it("register_ftrace_direct: work_leaf calls the module's trampoline directly, and is a NOP again after rmmod", () => {
    const k = boot();
    k.insmod(ko.get("direct")!, "direct.ko", []);
    const tramp = k.symbols.get("my_tramp")!.addr;
    expect(sameBytes(siteBytes(k, "work_leaf"), callInsn(k.ftrace.record("work_leaf")!.ip, tramp))).toBe(true);
    k.run(2_000_000n);
    expect(u64(k, "direct_calls")).toBeGreaterThan(0n);
    k.rmmod("direct");
    expect(sameBytes(siteBytes(k, "work_leaf"), NOP5)).toBe(true);
    expect(log(k)).toMatch(/direct: [1-9]\d* direct calls/);
  });

  it("a site shared with another ops goes through ftrace_regs_caller, and both are called", () => {
    const k = boot();
    k.insmod(ko.get("direct_shared")!, "direct_shared.ko", []);
    const ip = k.ftrace.record("work_leaf")!.ip;
    expect(sameBytes(siteBytes(k, "work_leaf"), callInsn(ip, k.symbols.get("ftrace_regs_caller")!.addr))).toBe(true);
    const [d0, c0] = [u64(k, "direct_calls"), u64(k, "callback_calls")];
    k.run(2_000_000n);
    // A vCPU may stop between the callback and the direct call that follows it (the list
    // function, the callback, the return to ftrace_regs_caller, the jump to my_tramp): the counts
    // must agree again once no call is half done, which comes within a few calls.
    const calls = () => [u64(k, "callback_calls") - c0, u64(k, "direct_calls") - d0];
    expect(k.runUntil(() => calls()[0] === calls()[1], 200_000n), `${calls()}`).toBe(true);
    expect(u64(k, "direct_calls") - d0).toBeGreaterThan(0n);
    k.rmmod("direct_shared");
    expect(k.oopses).toHaveLength(0);
  });

  it("modify_ftrace_direct moves the live site between trampolines with the INT3 protocol", () => {
    const k = boot();
    k.insmod(ko.get("direct_modify")!, "direct_modify.ko", [{ name: "period_ms", value: "1" }]);
    k.run(5_000_000n);
    const tramps = /my_tramp\d \[direct_modify\].*my_tramp\d \[direct_modify\]/;
    const moves = k.poke.log.filter((l) => /tail {2}work_leaf/.test(l) && tramps.test(l));
    expect(moves.length).toBeGreaterThan(1);
    expect(u64(k, "calls1")).toBeGreaterThan(0n);
    expect(u64(k, "calls2")).toBeGreaterThan(0n);
    k.rmmod("direct_modify");
    expect(k.oopses).toHaveLength(0);
    expect(log(k)).toMatch(/direct_modify: [1-9]\d* moves/);
  });
});

describe("ops_bench: the cost of a traced call against the number of ops", () => {
  it("calls every relevant ops once per call and none of the irrelevant ones", () => {
    const k = boot();
    k.insmod(ko.get("ops_bench")!, "ops_bench.ko", [{ name: "nr_function_calls", value: "100" },
      { name: "nr_ops_relevant", value: "3" }, { name: "nr_ops_irrelevant", value: "2" }]);
    const line = log(k).split("\n").find((l) => l.includes("attempted"))!;
    expect(line).toMatch(new RegExp("attempted 100 calls to tracee_relevant \\[ops_bench\\] in \\d+ns \\(\\d+ns/call\\), " +
      "300 callback calls; 3 relevant ops, 2 irrelevant ops"));
    k.rmmod("ops_bench");
    expect(k.releases.all.filter((r) => r.ops.name.startsWith("ops@"))).toHaveLength(5);
  });
});
