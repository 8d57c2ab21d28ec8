// The trampoline-lifetime scenario of seeds 000 and 003: a victim thread calls a traced
// function whose ops has a dynamic trampoline and a slow callback; another thread competes for
// its vCPU. The ops is unregistered at the worst moment — while the victim is inside the
// trampoline or its callback — and the release policy decides whether that is survived.
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import type { KconfigRule, KernelConfig, KernelVersion, PreemptModel } from "../../src/kernel/config.js";
import type { Release } from "../../src/kernel/ftrace/release.js";
import { PAGE } from "../../src/machine/paging.js";

export const TICK = 20_000;

export interface VictimOptions {
  preempt: PreemptModel;
  /** The version modelled (default: the newest). */
  kernel?: KernelVersion;
  kconfig?: KconfigRule;
  release: string;
  seed?: number;
  /** Unregister while the victim is preempted inside (default for preemptible models) or running inside. */
  when?: "preempted" | "running";
}

export interface VictimRun {
  k: Kernel;
  ops: FtraceOps;
  release: Release;
  /** What held the trampoline when the ops was unregistered (Kernel.holders). */
  heldAtUnregister: string[];
  unregisteredAt: bigint;
}

/** The machine of seeds 000 and 003, booted, with the slow ops registered on victim_traced. */
export function bootVictim(config: Partial<KernelConfig>): { k: Kernel; ops: FtraceOps } {
  const k = Kernel.boot({
    cpus: 2, tickPeriod: TICK, timeslice: 10, ...config,
    workload: [
      { name: "victim", kind: "kthread", entry: "kthread_victim", arg: 20, cpu: 0 },
      { name: "long", kind: "kthread", entry: "kthread_busy", arg: 100_000, cpu: 0 },
      { name: "busy1", kind: "kthread", entry: "kthread_busy", arg: 100_000, cpu: 1 },
    ],
  });
  const ops = new FtraceOps({
    name: "slow", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "victim_traced", private: 3000n,
  });
  k.run(5 * TICK);
  k.ftrace.register(ops);
  return { k, ops };
}

export function victimRun(o: VictimOptions): VictimRun {
  const { k, ops } = bootVictim({ preempt: o.preempt, kernel: o.kernel, kconfig: o.kconfig, seed: o.seed, release: o.release });
  const t = ops.trampoline!;
  const victim = k.sched.tasks.find((x) => x.name === "victim")!;
  const when = o.when ?? (o.preempt === "full" || o.preempt === "lazy" ? "preempted" : "running");
  const inside = () => {
    const held = k.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE)).some((h) => h.task === victim);
    return held && (when === "running" ? victim.state === "running" : victim.state === "runnable" && victim.preempted);
  };
  if (!k.runUntil(inside, 2000 * TICK)) throw new Error(`the victim was never ${when} inside the trampoline`);
  const heldAtUnregister = k.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE)).map((h) => h.text);
  const unregisteredAt = k.machine.time;
  const release = k.ftrace.unregister(ops)!;
  k.runUntil(() => release.freedAt !== undefined, 20_000 * TICK); // Tasks RCU waits HZ/10 jiffies and more
  k.run(100 * TICK);
  return { k, ops, release, heldAtUnregister, unregisteredAt };
}
