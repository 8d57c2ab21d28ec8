// What a traced call costs the guest, in instructions: the argument of the 2014 thread that
// gave x86-64 per-ops dynamic trampolines. Without them every traced site calls ftrace_caller,
// whose ftrace_call goes to ftrace_ops_list_func, which tests every registered ops' hash for
// every call; with them a site traced by a single ops calls that ops' own trampoline, which
// calls its callback directly, however many other ops exist.
//
// One vCPU runs kthread_bench_calls over bench_f0..bench_f999; the guest stores its clock (one
// tick per instruction) at the start of every round, and with the timer never firing and no
// other task, the difference of two round starts is that round's exact instruction count.
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { Kernel } from "../src/kernel/kernel.js";
import { kernelConfig, type TaskSpec } from "../src/kernel/config.js";
import { FtraceOps } from "../src/kernel/ftrace/ops.js";
import { formatTime } from "../src/machine/units.js";
import { ftraceOpsFields } from "../src/gen/layout.js";

/** Functions the loop calls per round. */
export const CALLS_PER_ROUND = 1000;
/** Rounds measured per configuration (all must cost the same; they are checked). */
export const MEASURED_ROUNDS = 3;
export const OPS_COUNTS = [1, 10, 100, 1000];
/** Must match BENCH_CLOCK_RING in bench/firmware/bench.h. */
const CLOCK_RING = 1024;
/** The local timer's initial count is 32 bits: this period means no tick while we measure. */
const NO_TICK = 0xffff_ffff;

/** Boots `firmware` with one vCPU per entry, each running that bench thread, and starts them. */
export function bootBench(firmware: Uint8Array, entries: string[], n: number, tickPeriod?: number): Kernel {
  const cpus = entries.length;
  const workload: TaskSpec[] = entries.map((entry, c) => ({ name: `bench/${c}`, kind: "kthread", entry, arg: n, cpu: c }));
  const k = new Kernel(kernelConfig({ cpus, workload, tickPeriod }), firmware);
  if (!k.runUntil(() => k.online.size === cpus, 10_000_000)) throw new Error("bench: the vCPUs did not come up");
  // The idle task only schedules when asked; normally the first timer tick does that.
  for (let c = 0; c < cpus; c++) k.sched.setResched(c, false);
  return k;
}

/** Round-start clock of round r (from the guest's ring). */
function roundClock(k: Kernel, r: number): bigint {
  return k.readGlobal("bench_round_clock", r % CLOCK_RING);
}

/**
 * Instructions per round, exactly: waits for the next round to start, then for `rounds` more,
 * and checks every one of them cost the same (anything else means something other than the
 * loop ran, and the number would not be exact).
 */
export function insnsPerRound(k: Kernel, rounds = MEASURED_ROUNDS, maxTicks = 2_000_000_000): bigint {
  const done = () => Number(k.readGlobal("bench_rounds"));
  // Round `first` starts after everything the host did so far.
  const first = done() + 1, last = first + rounds;
  // Round `last` has started once its ring slot is newer than the slot before it.
  const started = () => done() >= last && roundClock(k, last) > roundClock(k, last - 1);
  // The clock counts instructions and halted time: if their difference moves, the vCPU
  // halted meanwhile and clock differences would not be instruction counts.
  const cpu = k.machine.cpus[0], idle = () => cpu.get("clock") - cpu.get("insns");
  const idleBefore = idle();
  if (!k.runUntil(started, maxTicks)) throw new Error(`bench: ${rounds} rounds did not finish within ${formatTime(maxTicks)}`);
  if (idle() !== idleBefore) throw new Error("bench: the vCPU halted during the measured rounds");
  const clocks = Array.from({ length: rounds + 1 }, (_, i) => roundClock(k, first + i));
  const costs = clocks.slice(1).map((c, i) => c - clocks[i]);
  if (costs.some((c) => c !== costs[0])) throw new Error(`bench: rounds cost different instruction counts: ${costs.join(", ")}`);
  return costs[0];
}

/**
 * An ops for many-ops runs, identical to FtraceOps except that traces(i) is a bitmap lookup.
 * Ftrace.register re-accounts every record against every registered ops, so registering 1000
 * ops calls traces() about records x 500,000 times; FtraceOps.traces (a trim of the filter
 * string and two Set lookups each time) makes that take longer than the whole benchmark may.
 * Host bookkeeping only: the guest runs the same instructions either way.
 */
export class BenchOps extends FtraceOps {
  private bits = new Uint8Array(0);
  private bitsOf?: Set<number>;

  constructor(name: string, filter: string) {
    super({ name, callback: { kind: "guest", symbol: "bench_ops_call" }, filter });
    // The bitmap below encodes "in the filter"; an empty filter or a notrace would need more.
    if (filter.trim() === "") throw new Error("BenchOps needs a filter");
  }

  override traces(i: number): boolean {
    // Ftrace assigns a new Set whenever the filter changes: rebuild then.
    if (this.bitsOf !== this.filterSet) {
      if (this.notraceSet.size > 0) throw new Error("BenchOps takes no notrace");
      this.bitsOf = this.filterSet;
      this.bits = new Uint8Array(Math.max(0, ...this.filterSet) + 1);
      for (const j of this.filterSet) this.bits[j] = 1;
    }
    return this.bits[i] === 1;
  }

  /** op->calls: how often bench_ops_call ran for this ops. */
  calls(k: Kernel): bigint {
    return k.heap.readU64(this.addr + BigInt(ftraceOpsFields.calls.offset));
  }
}

/**
 * Globs selecting bench_f{lo} .. bench_f{lo + 10^digits - 1}, lo a multiple of 10^digits:
 * the names are decimal without leading zeros, so the block starting at 0 needs one glob per
 * length. ("bench_f3[0-9]" is 30..39; block 0 of two digits is "bench_f[0-9] bench_f[1-9][0-9]".)
 */
export function blockGlob(lo: number, digits: number): string {
  const any = "[0-9]".repeat(digits);
  if (lo > 0) return `bench_f${lo / 10 ** digits}${any}`;
  if (digits === 0) return "bench_f0";
  return Array.from({ length: digits }, (_, len) => (len === 0 ? "bench_f[0-9]" : `bench_f[1-9]${"[0-9]".repeat(len)}`)).join(" ");
}

export interface CallCost {
  ops: number;
  trampolines: boolean;
  /** Guest instructions per round of CALLS_PER_ROUND calls. */
  roundInsns: bigint;
  /** Host milliseconds spent registering the ops (patching included). */
  registerMs: number;
}

/**
 * `nops` ops, ops i filtering the i-th block of 1000/nops functions, so every call of the
 * loop is traced by exactly one ops whatever their number.
 */
export function tracedCallCost(firmware: Uint8Array, nops: number, trampolines: boolean): CallCost {
  const block = CALLS_PER_ROUND / nops, digits = Math.log10(block);
  if (!Number.isInteger(digits)) throw new Error(`bench: ${CALLS_PER_ROUND} calls do not split into ${nops} blocks of 10^k`);
  const k = bootBench(firmware, ["kthread_bench_calls"], CALLS_PER_ROUND, NO_TICK);
  k.ftrace.useTrampolines = trampolines;
  const roundsBefore = k.readGlobal("bench_rounds");
  const t0 = performance.now();
  const ops: BenchOps[] = [];
  for (let i = 0; i < nops; i++) {
    const o = new BenchOps(`bench${i}`, blockGlob(i * block, digits));
    k.ftrace.register(o);
    if (o.filterSet.size !== block) throw new Error(`bench: ${o.filter} selects ${o.filterSet.size} functions, not ${block}`);
    ops.push(o);
  }
  const registerMs = performance.now() - t0;
  checkRouting(k, ops, trampolines);
  const roundInsns = insnsPerRound(k);
  checkCalls(k, ops, block, roundsBefore);
  return { ops: nops, trampolines, roundInsns, registerMs };
}

/** Each site calls what the mode says: its ops' trampoline, or ftrace_caller. */
function checkRouting(k: Kernel, ops: BenchOps[], trampolines: boolean): void {
  const caller = k.symbols.get("ftrace_caller")!.addr;
  for (const o of [ops[0], ops[ops.length - 1]]) {
    const rec = k.ftrace.records[[...o.filterSet][0]];
    const want = trampolines ? o.trampoline?.addr : caller;
    if (want === undefined || rec.installed !== want) {
      const expected = want === undefined ? "a trampoline" : k.symbols.format(want);
      throw new Error(`bench: ${rec.name} calls ${k.symbols.format(rec.installed)}, expected ${expected}`);
    }
  }
}

/**
 * Every ops' callback ran for each of its functions in each measured round, and no call was
 * counted twice: the calls of all ops together are at most one per call the loop made since
 * the first ops was registered.
 */
function checkCalls(k: Kernel, ops: BenchOps[], block: number, roundsBefore: bigint): void {
  const calls = ops.map((o) => o.calls(k));
  const least = BigInt(block * MEASURED_ROUNDS);
  const short = calls.findIndex((c) => c < least);
  if (short >= 0) throw new Error(`bench: ${ops[short].name} ran ${calls[short]} times, less than ${least}`);
  const most = (k.readGlobal("bench_rounds") - roundsBefore + 1n) * BigInt(CALLS_PER_ROUND);
  const total = calls.reduce((a, b) => a + b, 0n);
  if (total > most) throw new Error(`bench: the callbacks ran ${total} times for at most ${most} calls`);
}

/** A loop over NOP sites (tracing off), or over the copies compiled without fentry. */
export function untracedCallCost(firmware: Uint8Array, withFentry: boolean): bigint {
  const k = bootBench(firmware, [withFentry ? "kthread_bench_calls" : "kthread_bench_plain_calls"], CALLS_PER_ROUND, NO_TICK);
  return insnsPerRound(k);
}

// ---------------------------------------------------------------- running the measurements

/** One configuration to measure: a fresh kernel each, so no run inherits another's state. */
export type CallJob = { kind: "traced"; nops: number; trampolines: boolean } | { kind: "untraced"; withFentry: boolean };

function runJob(firmware: Uint8Array, job: CallJob): bigint {
  return job.kind === "traced"
    ? tracedCallCost(firmware, job.nops, job.trampolines).roundInsns
    : untracedCallCost(firmware, job.withFentry);
}

/**
 * Runs each group of jobs on its own thread (a worker per group, when there are cores for
 * them): registering 1000 ops costs the host seconds per column, and the columns are
 * independent machines. Instruction counts do not depend on how the host schedules them.
 * Returns the per-round instruction counts in the order of `groups`.
 */
export async function runCallJobs(firmwarePath: string, groups: CallJob[][]): Promise<bigint[][]> {
  if (availableParallelism() < 2) {
    const fw = readFileSync(firmwarePath);
    return groups.map((g) => g.map((j) => runJob(fw, j)));
  }
  return Promise.all(groups.map((jobs) => new Promise<bigint[]>((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { benchFtraceCalls: { firmwarePath, jobs } } });
    w.once("message", resolve);
    w.once("error", reject);
    w.once("exit", (code) => reject(new Error(`bench worker exited with ${code}`)));
  })));
}

// A worker started by runCallJobs: measure its jobs, post the counts (bigints clone fine).
if (!isMainThread && workerData?.benchFtraceCalls) {
  const { firmwarePath, jobs } = workerData.benchFtraceCalls as { firmwarePath: string; jobs: CallJob[] };
  const fw = readFileSync(firmwarePath);
  parentPort!.postMessage(jobs.map((j) => runJob(fw, j)));
}
