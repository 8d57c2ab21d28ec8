// The ops benchmark module (examples/modules/ops_bench.c) at 1, 10, 100 and 1000 relevant ops
// (all tracing the called function) and at 1 relevant next to 10, 100 and 1000 irrelevant ones
// (tracing another function). The module times its calls with ktime_get(), the vCPU's virtual
// clock: one nanosecond per instruction, so ns/call is the guest's instructions per traced
// call. With one relevant ops the site calls its own trampoline; with more, the list function
// walks them all; irrelevant ops cost nothing once each has its own trampoline.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel } from "../src/kernel/kernel.js";
import { projectRoot } from "../src/paths.js";

const COUNTS = [1, 10, 100, 1000];
const CALLS = 1000;

function run(ko: Uint8Array, relevant: number, irrelevant: number): { perCall: number; callbacks: number; loadMs: number } {
  const k = Kernel.boot({ cpus: 1, workload: [] });
  if (!k.runUntil(() => k.online.size === 1, 100_000_000n)) throw new Error("ops bench: the vCPU did not come up");
  const t0 = performance.now();
  k.insmod(ko, "ops_bench.ko", [{ name: "nr_function_calls", value: String(CALLS) },
    { name: "nr_ops_relevant", value: String(relevant) }, { name: "nr_ops_irrelevant", value: String(irrelevant) }]);
  const loadMs = performance.now() - t0;
  const line = k.console.join("").split("\n").find((l) => l.includes("attempted")) ?? "";
  const m = /\((\d+)ns\/call\), (\d+) callback calls/.exec(line);
  if (!m) throw new Error(`ops bench: no result line (${line || "nothing printed"})`);
  return { perCall: Number(m[1]), callbacks: Number(m[2]), loadMs };
}

export function moduleOpsBench(): void {
  const dir = mkdtempSync(join(tmpdir(), "tramplab-ops-bench-"));
  try {
    const out = join(dir, "ops_bench.ko");
    execFileSync(process.execPath, [join(projectRoot, "bin", "tramplab.js"), "build-module", "-o", out,
      join(projectRoot, "examples", "modules", "ops_bench.c")], { stdio: ["ignore", "ignore", "inherit"] });
    const ko = new Uint8Array(readFileSync(out));
    console.log(`\nops_bench module: ${CALLS} calls of tracee_relevant(), guest ns (= instructions) per call`);
    console.log("relevant  irrelevant  ns/call  callback calls  load (host ms)");
    const rows: [number, number][] = [...COUNTS.map((n): [number, number] => [n, 0]),
      ...COUNTS.slice(1).map((n): [number, number] => [1, n])];
    for (const [rel, irr] of rows) {
      const r = run(ko, rel, irr);
      console.log(`${String(rel).padStart(8)}  ${String(irr).padStart(10)}  ${String(r.perCall).padStart(7)}  ` +
        `${String(r.callbacks).padStart(14)}  ${r.loadMs.toFixed(0).padStart(14)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
