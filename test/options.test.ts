// The options table (src/kernel/options.ts) and what is made from it: the library's defaults,
// the usage texts' option lines, the scenario docs' machine table. No machine is booted.
import { describe, it, expect } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import { OPTIONS, MACHINE_OPTIONS, TORTURE_OPTIONS, libraryDefault, option, fillText } from "../src/kernel/options.js";
import { configFields, kernelConfig, defaultWorkload } from "../src/kernel/config.js";
import { RUN_SECTIONS, RUN_USAGE, DEBUG_USAGE, wrap } from "../src/cli/usage.js";
import { machineOptionsMarkdown } from "../src/scenario/machine-doc.js";
import { describeConfig, makePlan, parsePins, PlanError } from "../src/torture/plan.js";
import { MAX_DURATION, readDuration } from "../src/numbers.js";
import { MAX_SCENARIO_DURATION } from "../src/machine/units.js";

describe("the options table", () => {
  it("names every option once, by library name and by key", () => {
    expect(new Set(OPTIONS.map((o) => o.name)).size).toBe(OPTIONS.length);
    expect(new Set(OPTIONS.map((o) => o.key)).size).toBe(OPTIONS.length);
  });

  it("gives kernelConfig() its defaults", () => {
    const c = kernelConfig();
    for (const o of OPTIONS.filter((x) => x.applies === "config" && x.default !== undefined)) {
      expect(c[o.name as keyof typeof c], o.name).toEqual(libraryDefault(o));
    }
    expect(c.tickPeriod).toBe(50_000);
    expect(c.xmcPolicy).toBe("NEW");
    expect(c.seed).toBeUndefined();
    expect(c.workload).toEqual(defaultWorkload(4));
    expect(kernelConfig({ cpus: 2, preempt: undefined }).workload).toEqual(defaultWorkload(2));
    expect(kernelConfig({ preempt: undefined }).preempt).toBe("full");
  });

  it("keeps every default inside its own range and choices", () => {
    for (const o of OPTIONS) {
      if (o.default === undefined) continue;
      const t = o.type;
      if (t.kind === "int") expect(o.default as number, o.name).toBeGreaterThanOrEqual(t.min);
      if (t.kind === "int") expect(o.default as number, o.name).toBeLessThanOrEqual(t.max);
      if (t.kind === "enum") expect(t.choices, o.name).toContain(o.default);
    }
  });

  it("picks the KernelConfig fields out of a command's or a scenario's options", () => {
    expect(configFields({ cpus: 2, time: 5n, trampolines: false, filter: "x", cpuVendor: "amd" })).toEqual({ cpus: 2, cpuVendor: "amd" });
  });

  it("lays every run flag out once in run --help, and debug's in the same order", () => {
    const laid = RUN_SECTIONS.flatMap((s) => s.keys);
    expect([...laid].sort()).toEqual(OPTIONS.filter((o) => o.cli).map((o) => o.key).sort());
    for (const o of OPTIONS.filter((x) => x.cli)) expect(RUN_USAGE, o.key).toContain(`  --${o.key}`);
    for (const o of OPTIONS.filter((x) => x.cli?.debug)) expect(DEBUG_USAGE, o.key).toContain(`--${o.key}`);
  });

  it("fills a text's {range}, {choices} and {default}, and leaves other braces alone", () => {
    expect(fillText("{range} ({default}) {x}", { range: "1 to 64", default: "4" })).toBe("1 to 64 (4) {x}");
  });

  it("wraps usage text greedily at its width", () => {
    expect(wrap("aa bb cc dd".split(" "), "  -x", 5, 11)).toBe("  -x aa bb\n     cc dd");
    expect(wrap(["a"], "  ", 4, 80)).toBe("  a");
  });

  it("is where torture --config takes its dimensions and bounds from", () => {
    expect(TORTURE_OPTIONS.map((o) => o.key)).toEqual(["cpus", "preempt", "kconfig", "release", "timeslice", "recursion"]);
    expect(parsePins("cpus=08,timeslice=1000000")).toEqual({ cpus: "8", timeslice: "1000000" });
    expect(() => parsePins("cpus=9")).toThrow(new PlanError("--config cpus must be an integer from 1 to 8, got 9"));
    const slice = "--config timeslice must be an integer from 1 to 1000000 (jiffies), got 0";
    expect(() => parsePins("timeslice=0")).toThrow(new PlanError(slice));
    expect(() => parsePins("kconfig=mid")).toThrow(new PlanError("--config kconfig must be old or new, got mid"));
    // A report's config line, pasted back: the kernel it names is the only one torture models.
    const line = describeConfig(makePlan(3n, 0n).config).split(" ")[0];
    expect(describeConfig(makePlan(4n, 7n, parsePins(line)).config).split(" ")[0]).toBe(line);
    const other = "--config kernel: torture machines model preempt-auto-rfc only, got 6.12";
    expect(() => parsePins("kernel=6.12")).toThrow(new PlanError(other));
    expect(() => parsePins("kernel=preempt-auto-rfc,kernel=preempt-auto-rfc")).toThrow(new PlanError("--config: kernel is given twice"));
  });

  it("spells the machine section's keys in the order the docs list them", () => {
    expect(MACHINE_OPTIONS.map((o) => o.key)).toEqual(["cpus", "preempt", "kernel", "kconfig", "release", "seed", "quantum", "tick-period",
      "timeslice", "idle", "recursion", "ist-link", "transition-bit", "recursion-events", "tracepoint-read-side", "fault-sleep",
      "xmc-policy", "cpu-vendor", "soft-lockup", "trampolines", "workload", "image"]);
    expect(option("softLockupTicks").key).toBe("soft-lockup");
  });
});

describe("durations, read once for every caller", () => {
  it("tells a malformed duration from one longer than the caller takes", () => {
    expect(readDuration("5ms")).toBe(5_000_000n);
    expect(readDuration("2 jiffies", { jiffy: 20_000 })).toBe(40_000n);
    for (const bad of [undefined, "", "5.5ms", " 5ms", "5 minutes", "-1", "2 jiffies"]) {
      expect(readDuration(bad), String(bad)).toBe("malformed");
    }
    expect(readDuration("1000001s")).toBe("too long");
    expect(readDuration("1000000s")).toBe(MAX_DURATION);
    expect(readDuration("10s", { max: MAX_SCENARIO_DURATION })).toBe(MAX_SCENARIO_DURATION);
    expect(readDuration("10000000001", { max: MAX_SCENARIO_DURATION })).toBe("too long");
    expect(readDuration("500001 jiffies", { jiffy: 20_000, max: MAX_SCENARIO_DURATION })).toBe("too long");
    // A caller's limit never lifts the one every duration keeps.
    expect(readDuration("1000001s", { max: MAX_DURATION * 2n })).toBe("too long");
  });
});

describe("docs/scenarios.md", () => {
  const file = join(projectRoot, "docs/scenarios.md");
  const start = "<!-- made from src/kernel/options.ts; test/options.test.ts checks it (UPDATE_DOCS=1 rewrites it) -->" + "\n";
  const end = "\n<!-- end of the options table -->";

  it("shows the machine section's keys as the options table has them", () => {
    const text = readFileSync(file, "utf8");
    const a = text.indexOf(start), b = text.indexOf(end);
    expect(a >= 0 && b > a, "the generated table's markers").toBe(true);
    const made = machineOptionsMarkdown();
    if (process.env.UPDATE_DOCS) writeFileSync(file, text.slice(0, a + start.length) + made + text.slice(b));
    else expect(text.slice(a + start.length, b)).toBe(made);
  });
});
