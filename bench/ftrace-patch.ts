// Patching throughput: turning tracing on for all 10,000 bench functions and off again, under
// four vCPUs that are running through those very functions. Every site changes through the
// batched INT3 protocol (src/kernel/ftrace/textpoke.ts): batches of at most 256 sites, three
// sync IPI rounds per batch, and vCPUs that hit a site mid-patch take the int3 and have the
// new instruction emulated. The cross-modifying-code checker of the core must see nothing.
import { EventKind } from "../src/gen/layout.js";
import type { Kernel } from "../src/kernel/kernel.js";
import { FunctionCounter } from "../src/kernel/ftrace/tracers.js";
import type { PokeStats } from "../src/kernel/ftrace/textpoke.js";
import { TEXT_POKE_MAX } from "../src/kernel/ftrace/textpoke.js";
import { bootBench } from "./ftrace-calls.js";
import { BENCH_IMAGES } from "./ftrace-firmware.js";

export const PATCH_CPUS = 4;
/** Times each direction is measured; the fastest counts (host timing is noisy). */
export const PATCH_REPEATS = 3;
/** Virtual time the traced functions run between enabling and disabling (and after). */
const RUN_TRACED = 400_000;

export interface PatchRun {
  what: "enable" | "disable";
  /** Deltas of the TextPoke statistics over this one operation. */
  stats: PokeStats;
  ms: number;
  /** Virtual time the operation took (ticks of the slowest vCPU). */
  ticks: bigint;
  /** Cross-modifying-code hazards the core reported, and events it logged, meanwhile. */
  hazards: number;
  events: number;
  dropped: number;
}

export interface PatchResult {
  /** The fastest run of each direction. */
  enable: PatchRun;
  disable: PatchRun;
  /** Over every run. */
  hazards: number;
  events: number;
  dropped: number;
  /** Calls the counter saw while enabled, over all repeats. */
  tracedCalls: bigint;
}

function delta(after: PokeStats, before: PokeStats): PokeStats {
  return {
    batches: after.batches - before.batches, syncs: after.syncs - before.syncs, ipis: after.ipis - before.ipis,
    sitesChanged: after.sitesChanged - before.sitesChanged, int3Hits: after.int3Hits - before.int3Hits,
  };
}

/**
 * Runs one register/unregister and accounts for it. The event log is emptied first: the
 * HAZARD events of this operation are then all of them, and TextPoke's wait for its sync IPIs
 * (which looks for new INTERRUPT events past the log's length) never meets a log that is full.
 */
function measure(k: Kernel, what: PatchRun["what"], op: () => void): PatchRun {
  const ev = k.machine.events;
  ev.clear();
  const dropped = ev.dropped, before = { ...k.poke.stats }, t0 = k.machine.time;
  const start = performance.now();
  op();
  const ms = performance.now() - start;
  return {
    what, stats: delta(k.poke.stats, before), ms, ticks: k.machine.time - t0,
    hazards: ev.ofKind(EventKind.HAZARD).length, events: ev.events.length, dropped: ev.dropped - dropped,
  };
}

/** Bench functions whose site calls `target` (0n: a NOP). */
function sitesCalling(k: Kernel, target: bigint): number {
  return k.ftrace.records.filter((r) => r.name.startsWith("bench_f") && r.installed === target).length;
}

export function patchThroughput(firmware: Uint8Array): PatchResult {
  const nsites = BENCH_IMAGES.patch;
  // Default timer: the threads are preemptible and the vCPUs take ticks, as in a real run.
  // Half the threads walk the functions downwards, so running code meets every open batch.
  const entries = Array.from({ length: PATCH_CPUS }, (_, c) => (c % 2 ? "kthread_bench_calls_down" : "kthread_bench_calls"));
  const k = bootBench(firmware, entries, nsites);
  // Let every vCPU get into its loop before the first patch.
  const started = k.runUntil(() => k.readGlobal("bench_rounds") >= BigInt(2 * PATCH_CPUS), 50_000_000);
  if (!started) throw new Error("bench: the bench threads did not run");
  const bench = k.ftrace.records.filter((r) => r.name.startsWith("bench_f"));
  if (bench.length !== nsites) throw new Error(`bench: ${bench.length} bench_f* records, expected ${nsites}`);

  const runs: PatchRun[] = [];
  let tracedCalls = 0n;
  for (let rep = 0; rep < PATCH_REPEATS; rep++) {
    const counter = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, "bench_f*", "", `bench-all-${rep}`);
    runs.push(measure(k, "enable", () => k.ftrace.register(counter.ops)));
    const tramp = counter.ops.trampoline!.addr;
    if (sitesCalling(k, tramp) !== nsites) {
      throw new Error(`bench: ${sitesCalling(k, tramp)} of ${nsites} sites call the counter's trampoline`);
    }
    k.run(RUN_TRACED);
    const hits = bench.reduce((n, r) => n + counter.hits(r.index), 0n);
    if (hits === 0n) throw new Error("bench: tracing is on but the counter saw no call");
    tracedCalls += hits;
    runs.push(measure(k, "disable", () => k.ftrace.unregister(counter.ops)));
    if (sitesCalling(k, 0n) !== nsites) {
      throw new Error(`bench: ${nsites - sitesCalling(k, 0n)} sites still call something after disabling`);
    }
    k.run(RUN_TRACED);
  }
  if (k.oopses.length > 0 || k.lockups.length > 0) throw new Error(`bench: the kernel failed:\n${k.console.join("")}`);

  for (const r of runs) {
    // The protocol's bound: one int3 round, one tail round, one head round per batch.
    if (r.stats.syncs > 3 * r.stats.batches) throw new Error(`bench: ${r.what}: ${r.stats.syncs} syncs for ${r.stats.batches} batches`);
    if (r.stats.sitesChanged > r.stats.batches * TEXT_POKE_MAX) throw new Error(`bench: ${r.what}: batches over ${TEXT_POKE_MAX} sites`);
  }
  const best = (what: PatchRun["what"]) => runs.filter((r) => r.what === what).reduce((a, b) => (b.ms < a.ms ? b : a));
  const sum = (f: (r: PatchRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  return {
    enable: best("enable"), disable: best("disable"),
    hazards: sum((r) => r.hazards), events: sum((r) => r.events), dropped: sum((r) => r.dropped), tracedCalls,
  };
}
