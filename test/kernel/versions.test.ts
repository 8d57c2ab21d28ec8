import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { deriveKconfig, kernelConfig, type KernelVersion, type PreemptModel } from "../../src/kernel/config.js";
import { releaseSteps } from "../../src/kernel/ftrace/release.js";
import { KERNEL_VERSIONS, KernelVersionError, NEWEST_KERNEL, parseKernelVersion, VERSIONS } from "../../src/kernel/versions.js";
import { option } from "../../src/kernel/options.js";
import { parseScenario } from "../../src/scenario/parse.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { runSummary } from "../../src/cli/summary.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { runMain } from "../cli-child.js";

/** What ftrace_shutdown waits for, per version and preemption model, as release steps name it. */
const WAITS: Record<KernelVersion, Partial<Record<PreemptModel, string>>> = {
  // Up to 6.9: Tasks RCU only under CONFIG_PREEMPTION, then the kallsyms synchronize_rcu().
  "5.15": { none: "rcu_tasks_rude rcu", voluntary: "rcu_tasks_rude rcu", full: "rcu_tasks_rude rcu_tasks rcu" },
  "6.1": { none: "rcu_tasks_rude rcu", voluntary: "rcu_tasks_rude rcu", full: "rcu_tasks_rude rcu_tasks rcu" },
  "6.6": { none: "rcu_tasks_rude rcu", voluntary: "rcu_tasks_rude rcu", full: "rcu_tasks_rude rcu_tasks rcu" },
  // From 6.10: synchronize_rcu_tasks() always, which is synchronize_rcu() without TASKS_RCU.
  "6.10": { none: "rcu_tasks_rude rcu rcu", voluntary: "rcu_tasks_rude rcu rcu", full: "rcu_tasks_rude rcu_tasks rcu" },
  "6.12": { none: "rcu_tasks_rude rcu rcu", voluntary: "rcu_tasks_rude rcu rcu", full: "rcu_tasks_rude rcu_tasks rcu" },
  // From 6.13: the Rude wait is a no-op on x86, and lazy preemption is PREEMPTION.
  "6.13": {
    none: "rcu_tasks_rude (skipped) rcu rcu", voluntary: "rcu_tasks_rude (skipped) rcu rcu",
    full: "rcu_tasks_rude (skipped) rcu_tasks rcu", lazy: "rcu_tasks_rude (skipped) rcu_tasks rcu",
  },
  // The RFC as posted (old rule): lazy is not PREEMPTION, so no Tasks RCU at all.
  "preempt-auto-rfc": {
    none: "rcu_tasks_rude rcu", voluntary: "rcu_tasks_rude rcu", full: "rcu_tasks_rude rcu_tasks rcu", lazy: "rcu_tasks_rude rcu",
  },
};

/** The steps the `kernel` policy gives a dynamic ops with a trampoline, without booting. */
function waits(version: KernelVersion, model: PreemptModel, rule?: "old" | "new"): string {
  const k = deriveKconfig(model, rule, version);
  const rcu = { flavours: ["rcu", "rcu_tasks", "rcu_tasks_rude"].map((name) => ({ name })) };
  return releaseSteps("kernel", k, rcu as never).map((s) => (s.skipped ? `${s.flavour.name} (skipped)` : s.flavour.name)).join(" ");
}

describe("kernel versions: what ftrace_shutdown waits for before freeing a dynamic ops' trampoline", () => {
  for (const v of KERNEL_VERSIONS) {
    for (const model of VERSIONS[v].models) {
      it(`${v}, ${model} preemption: ${WAITS[v][model]}`, () => {
        expect(waits(v, model)).toBe(WAITS[v][model]);
      });
    }
  }

  it("the RFC with its NEED_TASKS_RCU fix: lazy preemption builds Tasks RCU and ftrace_shutdown waits for it", () => {
    expect(deriveKconfig("lazy", "new", "preempt-auto-rfc").TASKS_RCU).toBe(true);
    expect(waits("preempt-auto-rfc", "lazy", "new")).toBe("rcu_tasks_rude rcu_tasks rcu");
    expect(waits("preempt-auto-rfc", "none", "new")).toBe("rcu_tasks_rude rcu rcu");
  });

  it("6.13's PREEMPT_LAZY selects PREEMPTION: Tasks RCU and preemptible RCU are built; in the RFC lazy is not PREEMPTION", () => {
    expect(deriveKconfig("lazy", undefined, "6.13")).toMatchObject({ PREEMPTION: true, PREEMPT_RCU: true, TASKS_RCU: true, rule: "new" });
    expect(deriveKconfig("lazy", "old", "preempt-auto-rfc")).toMatchObject({ PREEMPTION: false, PREEMPT_RCU: false, TASKS_RCU: false });
    for (const v of ["5.15", "6.1", "6.6"] as const) expect(deriveKconfig("none", undefined, v).rule).toBe("old");
    for (const v of ["6.10", "6.12", "6.13"] as const) expect(deriveKconfig("none", undefined, v).NEED_TASKS_RCU).toBe(true);
  });

  it("a booted 6.13 kernel shows the Rude wait as skipped and frees after Tasks RCU and the kallsyms grace period", () => {
    const k = Kernel.boot({ cpus: 2, preempt: "full", kernel: "6.13", tickPeriod: 20_000, workload: [] });
    const ops = new FtraceOps({ name: "t", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "victim_traced" });
    k.run(100_000);
    k.ftrace.register(ops);
    const r = k.ftrace.unregister(ops)!;
    k.runUntil(() => r.freedAt !== undefined, 50_000_000);
    expect(r.freedAt).toBeDefined();
    expect(r.steps.map((s) => [s.flavour.name, s.skipped !== undefined, s.kallsyms === true])).toEqual([
      ["rcu_tasks_rude", true, false], ["rcu_tasks", false, false], ["rcu", false, true]]);
    expect(r.steps[0].seq).toBeUndefined();
    expect(k.rcu.flavours.find((f) => f.name === "rcu_tasks_rude")!.completed).toBe(0);
  });
});

describe("kernel versions: configurations a version cannot build are refused", () => {
  it("lazy preemption before 6.13 is refused, naming the versions that have it", () => {
    expect(() => deriveKconfig("lazy", undefined, "5.15")).toThrow(KernelVersionError);
    expect(() => deriveKconfig("lazy", undefined, "6.12")).toThrow(
      "kernel 6.12 has no lazy preemption model (kernel/Kconfig.preempt offers none, voluntary, full); lazy is in 6.13, preempt-auto-rfc");
    expect(() => Kernel.boot({ cpus: 1, preempt: "lazy", kernel: "6.6", workload: [] })).toThrow(KernelVersionError);
    // The library refuses a version it does not model, and reads one as people write it.
    expect(() => deriveKconfig("full", undefined, "4.19")).toThrow('unknown kernel version "4.19"');
    expect(deriveKconfig("full", undefined, "6.14").version).toBe("6.13");
  });

  it("a release's other TASKS_RCU rule is refused; the RFC takes both", () => {
    expect(() => deriveKconfig("full", "old", "6.13")).toThrow(
      "kernel 6.13 builds TASKS_RCU by the new rule (kernel/rcu/Kconfig); the old rule is in 5.15, 6.1, 6.6, preempt-auto-rfc");
    expect(() => deriveKconfig("none", "new", "6.1")).toThrow(KernelVersionError);
    expect(deriveKconfig("lazy", "new", "preempt-auto-rfc").rule).toBe("new");
  });

  it("versions as people write them: 6.13+ and newer 6.x are 6.13; others are refused", () => {
    expect(parseKernelVersion("6.13+")).toBe("6.13");
    expect(parseKernelVersion("6.18")).toBe("6.13");
    expect(parseKernelVersion("6.10")).toBe("6.10");
    for (const bad of ["6.9", "6.11", "5.10", "7.0", "6.1000", "", "latest", "6.13-rc1"]) {
      expect(parseKernelVersion(bad), bad).toBeUndefined();
    }
    expect(option("kernel").default).toBe(NEWEST_KERNEL);
    expect(kernelConfig().kernel).toBe("6.13");
  });
});

describe("kernel versions: the scenario key and the summary", () => {
  const machine = (lines: string) =>
    `name: v\nmachine:\n${lines}\n  workload: []\nsteps:\n  - boot\n  - run: 1ms\nexpect:\n  - no-use-after-free\n`;

  it("machine.kernel takes a quoted version, refuses an unquoted number and a version without the preemption model", () => {
    expect(parseScenario("v.yaml", machine('  kernel: "6.10"')).machine.kernel).toBe("6.10");
    expect(parseScenario("v.yaml", machine("  kernel: 6.13+")).machine.kernel).toBe("6.13");
    const err = (text: string) => {
      try { parseScenario("v.yaml", text); } catch (e) { return (e as ScenarioErrors).message; }
      return "no error";
    };
    expect(err(machine("  kernel: 6.10"))).toContain('machine.kernel must be quoted ("6.10"): YAML reads it as a number');
    expect(err(machine('  kernel: "6.9"'))).toContain('machine.kernel: unknown kernel version "6.9"');
    expect(err(machine('  kernel: "6.6"\n  preempt: lazy'))).toContain("machine: kernel 6.6 has no lazy preemption model");
  });

  it("the summary's first line names the version modelled", () => {
    const k = Kernel.boot({ cpus: 1, kernel: "6.12", workload: [] });
    k.run(10_000);
    expect(runSummary(k).split("\n")[0]).toMatch(/^tramplab: kernel 6\.12 model, 1 vCPUs, preempt=full, /);
    const rfc = Kernel.boot({ cpus: 1, kernel: "preempt-auto-rfc", preempt: "lazy", kconfig: "old", workload: [] });
    expect(runSummary(rfc).split("\n")[0]).toMatch(/^tramplab: PREEMPT_AUTO RFC \(Feb 2024, not a release\) model, old TASKS_RCU rule, /);
  });
});

describe("kernel versions on the command line", () => {
  it("run --kernel names the version in the summary; a bad version or a model it lacks is one error line", async () => {
    const ok = await runMain(["run", "--kernel", "6.10", "--cpus", "1", "--time", "1ms"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^tramplab: kernel 6\.10 model, 1 vCPUs, preempt=full, /m);
    const bad = await runMain(["run", "--kernel", "6.9"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('tramplab run: --kernel: unknown kernel version "6.9": use one of 5.15, 6.1, 6.6, 6.10, 6.12, 6.13, ' +
      "preempt-auto-rfc (6.13+ or a newer 6.x: 6.13) (see 'tramplab run --help')\n");
    const lazy = await runMain(["run", "--kernel", "5.15", "--preempt", "lazy"]);
    expect(lazy.code).toBe(2);
    expect(lazy.err).toBe("tramplab run: kernel 5.15 has no lazy preemption model (kernel/Kconfig.preempt offers none, " +
      "voluntary, full); lazy is in 6.13, preempt-auto-rfc (see 'tramplab run --help')\n");
    const rule = await runMain(["run", "--kconfig", "old"]);
    expect(rule.err).toMatch(/^tramplab run: kernel 6\.13 builds TASKS_RCU by the new rule/);
  });

  it("run --help lists the versions and the default", async () => {
    const help = await runMain(["run", "--help"]);
    expect(help.out.replace(/\s+/g, " ")).toContain("--kernel VERSION the kernel release modelled where releases differ: 5.15, 6.1, " +
      "6.6, 6.10, 6.12, 6.13 (default; also 6.13+ or a newer 6.x), or preempt-auto-rfc (seed 000's PREEMPT_AUTO patch set, not a release)");
  });
});
