// The native side: compiles the harness with the machine's gcc (once per source change, into
// build/diff/) and runs case files through it.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDir, projectRoot } from "../../src/paths.js";
import type { CpuVendorName } from "../../src/machine/machine.js";
import { DATA_SIZE, decodeResults, encodeCases, harnessDefines, type CaseInput, type CpuResult } from "./layout.js";

const SOURCES = ["harness.c", "snippet.S"].map((f) => join(projectRoot, "test", "diff", "native", f));
// No stack protector or fortify: both read FS, which holds the snippet's base while it runs.
// No CET: snippets call and return in ways a shadow stack would object to.
const CFLAGS = ["-O2", "-std=gnu11", "-Wall", "-fno-stack-protector", "-U_FORTIFY_SOURCE", "-fcf-protection=none"];

let harnessPath: string | undefined;

/** Path of the compiled harness, building it if its sources or flags changed. */
export function ensureHarness(): string {
  if (harnessPath) return harnessPath;
  if (process.arch !== "x64" || process.platform !== "linux") {
    throw new Error("the differential test needs an x86-64 Linux host to run snippets natively");
  }
  const args = [...CFLAGS, ...harnessDefines()];
  const hash = createHash("sha256");
  for (const f of SOURCES) hash.update(readFileSync(f));
  hash.update(args.join(" "));
  const dir = join(buildDir, "diff");
  const out = join(dir, `harness-${hash.digest("hex").slice(0, 12)}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync("gcc", [...args, ...SOURCES, "-o", tmp], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
      throw new Error(`building the native harness failed:\n${r.error ?? ""}${r.stdout}${r.stderr}`);
    }
    renameSync(tmp, out); // atomic: a concurrent run sees either no file or a complete one
  }
  harnessPath = out;
  return out;
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tramplab-diff-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runHarness(args: string[]): void {
  const r = spawnSync(ensureHarness(), args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.error || r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new Error(`native harness ${args[0]} failed (${how}):\n${r.error ?? ""}${r.stderr}`);
  }
}

let vendor: CpuVendorName | undefined;

/** The host CPU's vendor, from CPUID leaf 0 (run through the harness): the profile to test. */
export function hostVendor(): CpuVendorName {
  if (vendor) return vendor;
  const r = spawnSync(ensureHarness(), ["vendor"], { encoding: "utf8" });
  if (r.error || r.status !== 0) throw new Error(`native harness vendor failed:\n${r.error ?? ""}${r.stderr}`);
  const name = r.stdout.trim();
  if (name === "GenuineIntel") vendor = "intel";
  else if (name === "AuthenticAMD") vendor = "amd";
  else throw new Error(`the host CPU's vendor ${JSON.stringify(name)} has no profile (GenuineIntel and AuthenticAMD do)`);
  return vendor;
}

/** Runs every case on the host CPU. */
export function runNative(cases: readonly CaseInput[]): CpuResult[] {
  return withTempDir((dir) => {
    const input = join(dir, "cases.bin");
    const output = join(dir, "results.bin");
    writeFileSync(input, encodeCases(cases));
    runHarness(["run", input, output]);
    return decodeResults(readFileSync(output), cases.length);
  });
}

/** Runs one case on the host CPU and returns its final data region (for mismatch reports). */
export function dumpNativeData(c: CaseInput): Uint8Array {
  return withTempDir((dir) => {
    const input = join(dir, "case.bin");
    const output = join(dir, "data.bin");
    writeFileSync(input, encodeCases([c]));
    runHarness(["dump", input, "0", output]);
    const data = readFileSync(output);
    if (data.length !== DATA_SIZE) throw new Error(`native dump returned ${data.length} bytes`);
    return new Uint8Array(data);
  });
}
