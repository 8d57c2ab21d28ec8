// Generate, run natively, run emulated, compare: one scenario at a time.
import { DATA_SIZE, type CpuResult } from "./layout.js";
import { EmulatorRunner } from "./emulator.js";
import { generateCase, type GeneratedCase, type ScenarioName } from "./generator.js";
import { dumpNativeData, hostVendor, runNative } from "./native.js";
import type { CpuVendorName } from "../../src/machine/machine.js";
import { vendorDivergent } from "./vendor.js";
import { compareCase, formatMismatch, listing, type MismatchReport } from "./compare.js";
import { fillData } from "./prng.js";

export interface ScenarioRun {
  scenario: ScenarioName;
  seed: bigint;
  /** The emulator's vendor profile (the host's unless asked otherwise). */
  vendor: CpuVendorName;
  cases: GeneratedCase[];
  /** Native outcomes, per case. */
  native: CpuResult[];
  mismatches: MismatchReport[];
  /**
   * With `otherVendor`: the cases without a vendor-divergent instruction, run under the other
   * profile, that did not match the host (there should be none), and how many were divergent.
   */
  other?: { vendor: CpuVendorName; mismatches: MismatchReport[]; divergent: number };
  ms: { generate: number; native: number; emulator: number };
}

const runners = new Map<CpuVendorName, EmulatorRunner>();
function runnerFor(vendor: CpuVendorName): EmulatorRunner {
  let r = runners.get(vendor);
  if (!r) runners.set(vendor, (r = new EmulatorRunner(vendor)));
  return r;
}
/** One-line entries after the detailed ones, at most. */
const MAX_LINES = 2000;

/** Runs cases [first, first + count) of a scenario (or just the listed indices). */
export function runScenario(scenario: ScenarioName, seed: bigint, count: number,
  opts: { first?: number; only?: number[]; vendor?: CpuVendorName; otherVendor?: boolean } = {}): ScenarioRun {
  const vendor = opts.vendor ?? hostVendor();
  const t0 = performance.now();
  const indices = opts.only ?? Array.from({ length: count }, (_, i) => (opts.first ?? 0) + i);
  const cases = indices.map((i) => generateCase(scenario, seed, i, vendor));
  const t1 = performance.now();
  const native = runNative(cases);
  const t2 = performance.now();
  const emu = runnerFor(vendor);
  const mismatches: MismatchReport[] = [];
  cases.forEach((c, i) => {
    const e = emu.run(c);
    const diffs = compareCase(c, native[i], e);
    if (diffs.length) mismatches.push({ c, native: native[i], emu: e, diffs });
  });
  let other: ScenarioRun["other"];
  if (opts.otherVendor) {
    const otherVendor: CpuVendorName = vendor === "intel" ? "amd" : "intel";
    const emu2 = runnerFor(otherVendor);
    other = { vendor: otherVendor, mismatches: [], divergent: 0 };
    cases.forEach((c, i) => {
      if (vendorDivergent(c)) { other!.divergent++; return; }
      const e = emu2.run(c);
      const diffs = compareCase(c, native[i], e);
      if (diffs.length) other!.mismatches.push({ c, native: native[i], emu: e, diffs });
    });
  }
  const t3 = performance.now();
  return { scenario, seed, vendor, cases, native, mismatches, other, ms: { generate: t1 - t0, native: t2 - t1, emulator: t3 - t2 } };
}

/** Fetches both final data regions for a mismatch whose memory differs (for byte diffs). */
function withMemory(m: MismatchReport, vendor: CpuVendorName): MismatchReport {
  if (!m.diffs.some((d) => d.what === "data region")) return m;
  const initial = new Uint8Array(DATA_SIZE);
  fillData(m.c.seed, initial);
  const emu = runnerFor(vendor).run(m.c, true).data!;
  return { ...m, memory: { initial, native: dumpNativeData(m.c), emu } };
}

/**
 * A report of a run's mismatches: the first `detail` in full, then which rows the failing
 * snippets contain most often relative to how often the run used them (the likely culprits).
 */
export function report(run: ScenarioRun, detail = 25): string {
  if (run.mismatches.length === 0) return `${run.scenario}: ${run.cases.length} cases, no mismatches`;
  const parts = [`${run.scenario}: ${run.mismatches.length} of ${run.cases.length} cases differ ` +
    `between the host CPU and the emulator (${run.vendor} profile)`];
  for (const m of run.mismatches.slice(0, detail)) parts.push(formatMismatch(withMemory(m, run.vendor), run.seed));
  const rest = run.mismatches.slice(detail);
  if (rest.length) {
    // The others one line each: what differs, and the snippet.
    const lines = rest.slice(0, MAX_LINES).map((m) => `${m.c.scenario}#${m.c.index}: ${m.diffs.map((d) => d.what).join(", ")} | ` +
      `${listing(m.c).map((l) => l.replace(/^\S+\s+(?:[0-9a-f]{2} )*[0-9a-f]{2}\s+/, "")).join(" ; ")}`);
    if (rest.length > MAX_LINES) lines.push(`... and ${rest.length - MAX_LINES} more`);
    parts.push(lines.join("\n"));
  }
  parts.push(suspects(run));
  return parts.join("\n\n");
}

function rowsOf(c: GeneratedCase): Set<string> {
  return new Set(c.insns.filter((i) => i.row).map((i) => (i.invalid ? "invalid encodings (LOCK misuse, >15 bytes, bad CRn)" : i.row!.key)));
}

function suspects(run: ScenarioRun): string {
  const total = new Map<string, number>(), failing = new Map<string, number>();
  for (const c of run.cases) for (const k of rowsOf(c)) total.set(k, (total.get(k) ?? 0) + 1);
  for (const m of run.mismatches) for (const k of rowsOf(m.c)) failing.set(k, (failing.get(k) ?? 0) + 1);
  const kinds = new Map<string, number>();
  for (const m of run.mismatches) for (const d of m.diffs) kinds.set(d.what, (kinds.get(d.what) ?? 0) + 1);
  const rows = [...failing.entries()]
    .map(([k, f]) => ({ k, f, t: total.get(k)!, r: f / total.get(k)! }))
    .sort((a, b) => b.r - a.r || b.f - a.f)
    .slice(0, 20);
  return [
    `what differs: ${[...kinds.entries()].map(([k, v]) => `${k} ×${v}`).join(", ")}`,
    "rows in failing snippets (failing/used):",
    ...rows.map((x) => `  ${(100 * x.r).toFixed(0).padStart(3)}%  ${String(x.f).padStart(5)}/${String(x.t).padEnd(5)} ${x.k}`),
  ].join("\n");
}
