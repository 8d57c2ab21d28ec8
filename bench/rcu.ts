// Grace-period latency: how long each RCU flavour takes to end a grace period, and how long
// each trampoline-release strategy takes from unregister to free, with 10, 100 and 1000 tasks
// on 4 vCPUs (full preemption). Virtual time is exact and the same on every machine; host
// time is what the emulator spent. Runs alone as `node dist/bench/rcu.js`.
import { Kernel } from "../src/kernel/kernel.js";
import { FtraceOps } from "../src/kernel/ftrace/ops.js";
import type { TaskSpec } from "../src/kernel/config.js";
import type { Flavour } from "../src/kernel/rcu/flavour.js";
import { formatHz } from "../src/machine/units.js";

const TICK = 20_000;
const SIZES = [10, 100, 1000];

/**
 * A task mix that scales: per 10 tasks, 2 victims calling a traced function and sleeping a tick,
 * 2 CPU-bound threads that sleep every 16 rounds, 1 Tasks Trace reader that blocks inside its
 * section, 5 sleepers. Spread over the vCPUs.
 */
function workload(n: number): TaskSpec[] {
  return Array.from({ length: n }, (_, i): TaskSpec => {
    const k = i % 10;
    const [entry, arg] = k < 2 ? ["kthread_victim", 20] : k < 4 ? ["kthread_busy", 2000]
      : k === 4 ? ["kthread_trace_reader", 3] : ["kthread_sleeper", 10];
    return { name: `t${i}`, kind: "kthread", entry, arg, cpu: i % 4 };
  });
}

interface Sample { virt: bigint; hostMs: number }

function boot(n: number, release = "kernel"): Kernel {
  const k = Kernel.boot({ cpus: 4, preempt: "full", tickPeriod: TICK, timeslice: 2, workload: workload(n), release, seed: 1 });
  k.run(100 * TICK);
  return k;
}

function samplesOf(n: number): number {
  return n >= 1000 ? 4 : 8;
}

function gpSamples(k: Kernel, f: Flavour, count: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < count; i++) {
    k.run((1 + (i % 3)) * TICK); // a gap, so samples start at different points of the workload
    const t0 = performance.now();
    const virt = k.synchronize(f, 50_000n * BigInt(TICK));
    out.push({ virt, hostMs: performance.now() - t0 });
  }
  return out;
}

/** Unregister of an ops with a slow callback on the victims' traced function, to free. */
function releaseSamples(k: Kernel, count: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < count; i++) {
    const ops = new FtraceOps({
      name: `slow${i}`, callback: { kind: "guest", symbol: "function_slow_call" }, filter: "victim_traced", private: 2000n,
    });
    k.ftrace.register(ops);
    k.run((2 + (i % 3)) * TICK);
    const t0 = performance.now();
    const start = k.machine.time;
    const r = k.ftrace.unregister(ops)!;
    if (!k.runUntil(() => r.freedAt !== undefined, 50_000n * BigInt(TICK))) {
      throw new Error(`release did not finish: ${k.releases.describe(k.machine.time)}`);
    }
    out.push({ virt: r.freedAt! - start, hostMs: performance.now() - t0 });
  }
  return out;
}

function quantile(xs: bigint[], q: number): bigint {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const us = (t: bigint) => (Number(t) / 1000).toFixed(1);

export function rcuBench(): void {
  const t0 = performance.now();
  console.log(`\nRCU: grace-period latency (virtual us; host ms per grace period), 4 vCPUs, full preemption, ${formatHz(TICK)}`);
  const rows: string[][] = [["tasks", "mechanism", "n", "p50 us", "p90 us", "max us", "host ms", "p50 vs 10 tasks"]];
  const p50At10 = new Map<string, bigint>();
  const add = (n: number, name: string, s: Sample[]) => {
    const v = s.map((x) => x.virt);
    const p50 = quantile(v, 0.5);
    if (n === SIZES[0]) p50At10.set(name, p50);
    const base = p50At10.get(name);
    const growth = base && base > 0n ? `${(Number(p50) / Number(base)).toFixed(1)}x` : "";
    const host = s.reduce((a, x) => a + x.hostMs, 0) / s.length;
    rows.push([String(n), name, String(s.length), us(p50), us(quantile(v, 0.9)), us(quantile(v, 1)), host.toFixed(1), growth]);
  };
  for (const n of SIZES) {
    const k = boot(n);
    for (const f of [k.rcu.rcu, k.rcu.tasks, k.rcu.rude, k.rcu.trace]) add(n, f.name, gpSamples(k, f, samplesOf(n)));
    for (const policy of ["kernel", "stack-scan", "ip-check", "rcu"]) {
      add(n, `release: ${policy}`, releaseSamples(boot(n, policy), samplesOf(n)));
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log("  " + r.map((x, c) => (c < 2 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join("  "));
  console.log("  rcu, rcu_tasks, rcu_tasks_rude, rcu_tasks_trace: synchronize_*() from a random point of the workload " +
    `to the end of its grace period
  release: POLICY: unregister of an ops tracing the victims' function (slow callback) until its trampoline is freed;
    kernel = Tasks Rude RCU then Tasks RCU; stack-scan and ip-check replace Tasks RCU (ip-check is unsafe: see the
    trampoline-lifetime tests); rcu = plain RCU only (unsafe under preemption)
  Tasks RCU waits for every task on a run queue to switch voluntarily: it grows with the tasks and their run lengths.
  (RCU benchmark: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

if (process.argv[1]?.endsWith("rcu.js")) rcuBench();
