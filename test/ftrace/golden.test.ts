import { describe, it, expect } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { FunctionTracer, FunctionCounter } from "../../src/kernel/ftrace/tracers.js";

/**
 * Golden patch sequences: every step of every batch, as text, for a fixed scenario and seed.
 * UPDATE_GOLDEN=1 npm test rewrites the files after an intended change; review the diff.
 */
function golden(name: string, actual: string): void {
  const path = join(projectRoot, "test/golden", name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    if (process.env.CI && !existsSync(path)) throw new Error(`golden file ${name} is missing`);
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, "utf8"));
}

describe("golden patch logs", () => {
  // No task runs through the sites here, so no vCPU hits an int3 mid-patch and the log is
  // the patch sequence alone (the live tests show the int3 emulation).
  it("two tracers with overlapping filters, registered and unregistered on 2 vCPUs", () => {
    const k = Kernel.boot({ cpus: 2, seed: 1, quantum: 400, tickPeriod: 20_000, workload: [] });
    k.run(500_000);
    const tracer = new FunctionTracer(k.machine, k.heap, 256, "work_top work_leaf");
    const counter = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, "work_middle work_top");
    const step = (what: string, f: () => void) => { k.poke.log.push(`# ${what}`); f(); k.run(200_000); };
    step("register function tracer: work_top work_leaf", () => k.ftrace.register(tracer.ops));
    step("register counter: work_middle work_top", () => k.ftrace.register(counter.ops));
    step("unregister function tracer", () => k.ftrace.unregister(tracer.ops));
    step("unregister counter", () => k.ftrace.unregister(counter.ops));
    golden("ftrace-two-tracers.log", k.poke.log.join("\n") + "\n");
  });
});
