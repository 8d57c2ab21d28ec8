// Releasing an unregistered ops: the tail of ftrace_shutdown. Its sites were already patched
// away; what remains is to wait until no CPU and no task can still be in its trampoline (or
// its callback, reached through it), then free the trampoline and the ops' memory.
//
// The kernel's steps for a dynamic ops (kernel/trace/ftrace.c, restated):
//   1. synchronize_rcu_tasks_rude()  every CPU schedules: none is still inside with
//                                    preemption off, even where RCU is not watching (idle)
//   2. synchronize_rcu_tasks()       every task switches voluntarily, runs in user mode or
//                                    sleeps: none is preempted inside. Without TASKS_RCU
//                                    this is synchronize_rcu(), which does not wait for that.
//   3. ftrace_trampoline_free()      unmap the trampoline
//
// Other policies exist to reproduce the hazards (free at once; plain RCU only) and to compare
// seed 000's alternatives (ip-check, stack-scan in place of step 2).
import type { Kconfig, ReleasePolicy } from "../config.js";
import type { RcuSubsystem } from "../rcu/index.js";
import type { Flavour, FlavourState } from "../rcu/flavour.js";
import type { OpsState } from "./ops.js";
import type { Trampoline } from "./trampoline.js";
import { formatTime } from "../../machine/units.js";

export type { ReleasePolicy } from "../config.js";

export const RELEASE_PRESETS: Record<string, { steps: (k: Kconfig) => string[]; doc: string }> = {
  kernel: {
    steps: (k) => ["rcu_tasks_rude", k.TASKS_RCU ? "rcu_tasks" : "rcu"],
    doc: "Tasks Rude RCU, then synchronize_rcu_tasks() (plain RCU when TASKS_RCU is not built)",
  },
  immediate: { steps: () => [], doc: "free at once (unsafe on purpose)" },
  rcu: { steps: () => ["rcu"], doc: "plain RCU only (unsafe on preemptible kernels)" },
  tasks: { steps: () => ["rcu_tasks_rude", "rcu_tasks"], doc: "Tasks Rude RCU, then Tasks RCU, whatever Kconfig says" },
  "ip-check": {
    steps: () => ["rcu_tasks_rude", "ip-check"],
    doc: "Tasks Rude RCU, then wait while a task's IP is in the trampoline (alternative a)",
  },
  "stack-scan": {
    steps: () => ["rcu_tasks_rude", "stack-scan"],
    doc: "Tasks Rude RCU, then wait while a task's IP or stack points into it (alternative b)",
  },
};

export class ReleasePolicyError extends Error {}

/** The grace-period mechanisms a policy can name (RcuSubsystem.flavours). */
export const RELEASE_MECHANISMS = ["rcu", "rcu_tasks", "rcu_tasks_rude", "rcu_tasks_trace", "ip-check", "stack-scan"];

/** Throws ReleasePolicyError unless `policy` is a preset or mechanisms joined by "+". */
export function checkReleasePolicy(policy: ReleasePolicy): void {
  if (RELEASE_PRESETS[policy]) return;
  const names = policy.split("+");
  if (names.length > 0 && names.every((n) => RELEASE_MECHANISMS.includes(n))) return;
  throw new ReleasePolicyError(`unknown release policy "${policy}": use one of ${Object.keys(RELEASE_PRESETS).join(", ")}, ` +
    `or mechanisms joined by "+" from ${RELEASE_MECHANISMS.join(", ")}`);
}

/** The grace-period mechanisms a policy waits for, in order. */
export function releaseSteps(policy: ReleasePolicy, kconfig: Kconfig, rcu: RcuSubsystem): Flavour[] {
  checkReleasePolicy(policy);
  const preset = RELEASE_PRESETS[policy];
  const names = preset ? preset.steps(kconfig) : policy.split("+");
  return names.map((n) => rcu.flavours.find((x) => x.name === n)!);
}

export interface ReleaseStep {
  /** The mechanism's state (in the kernel state, like the release). */
  flavour: FlavourState;
  /** The grace period waited for (known once the step started). */
  seq?: number;
  startedAt?: bigint;
  endedAt?: bigint;
}

export interface Release {
  ops: OpsState;
  trampoline?: Trampoline;
  /** The ops' guest memory: its struct and hashes, freed with the trampoline. */
  memory: { va: bigint; size: number }[];
  policy: ReleasePolicy;
  steps: ReleaseStep[];
  /** Index of the step being waited for; steps.length once freed. */
  step: number;
  unregisteredAt: bigint;
  freedAt?: bigint;
}

export interface ReleaseDeps {
  /** The behaviour of the mechanism a step names. */
  flavour: (name: string) => Flavour;
  freeTrampoline: (t: Trampoline, now: bigint, why: string) => void;
  freeMemory: (va: bigint, size: number, why: string) => void;
  /** Told once a release freed everything. */
  freed: (r: Release) => void;
}

/** Every release so far, oldest first: the state is KernelState.releases. */
export class Releases {
  constructor(private readonly st: () => Release[], private readonly d: ReleaseDeps) {}

  get all(): Release[] { return this.st(); }

  start(r: Omit<Release, "step">, now: bigint): Release {
    const rel: Release = { ...r, step: 0 };
    this.all.push(rel);
    this.advanceOne(rel, now);
    return rel;
  }

  pending(): Release[] {
    return this.all.filter((r) => r.freedAt === undefined);
  }

  advance(now: bigint): void {
    for (const r of this.pending()) this.advanceOne(r, now);
  }

  private advanceOne(r: Release, now: bigint): void {
    while (r.step < r.steps.length) {
      const s = r.steps[r.step];
      const flavour = this.d.flavour(s.flavour.name);
      if (s.seq === undefined) {
        s.seq = flavour.request(now);
        s.startedAt = now;
        flavour.advance(now);
      }
      if (!flavour.done(s.seq)) return;
      s.endedAt = now;
      r.step++;
    }
    if (r.freedAt !== undefined) return;
    r.freedAt = now;
    const why = describeWait(r);
    if (r.trampoline) this.d.freeTrampoline(r.trampoline, now, why);
    for (const m of r.memory) this.d.freeMemory(m.va, m.size, why);
    this.d.freed(r);
  }

  describe(now: bigint): string {
    const lines = this.all.map((r) => {
      const what = r.trampoline ? `trampoline 0x${r.trampoline.addr.toString(16)}` : "no trampoline";
      const state = r.freedAt !== undefined ? `freed at ${formatTime(r.freedAt)}`
        : `waiting for ${r.steps[r.step].flavour.name} for ${formatTime(now - (r.steps[r.step].startedAt ?? now))}`;
      return `${r.ops.name}: ${what}, policy ${r.policy}, ${state}`;
    });
    return lines.length ? lines.join("\n") : "no ops released";
  }
}

/** "ftrace_shutdown(name), policy p: after rcu_tasks_rude gp 3 (120 us..180 us), rcu gp 9 (180 us..1.2 ms)". */
export function describeWait(r: Release): string {
  const at = (t: bigint | undefined) => (t === undefined ? "?" : formatTime(t));
  const waited = r.steps.map((s) => `${s.flavour.name} gp ${s.seq} (${at(s.startedAt)}..${at(s.endedAt)})`);
  return `ftrace_shutdown(${r.ops.name}), policy ${r.policy}: ` + (waited.length ? `after ${waited.join(", ")}` : "with no grace period");
}
