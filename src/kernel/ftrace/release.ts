// Releasing an unregistered ops: the tail of ftrace_shutdown. Its sites were already patched
// away; what remains is to wait until no CPU and no task can still be in its trampoline (or
// its callback, reached through it), then free the trampoline and the ops' memory.
//
// The kernel's steps for a dynamic ops (kernel/trace/ftrace.c, restated; per version in
// docs/versions.md):
//   1. synchronize_rcu_tasks_rude()  every CPU schedules: none is still inside with
//                                    preemption off, even where RCU is not watching (idle).
//                                    From 6.13 a no-op on x86 (ARCH_WANTS_NO_INSTR): the step
//                                    is kept, shown as skipped.
//   2. synchronize_rcu_tasks()       every task switches voluntarily, runs in user mode or
//                                    sleeps: none is preempted inside. Up to 6.9 only under
//                                    CONFIG_PREEMPTION; from 6.10 always, and without TASKS_RCU
//                                    it is synchronize_rcu(), which does not wait for that.
//   3. ftrace_trampoline_free()      ftrace_remove_trampoline_from_kallsyms() unlinks the ops
//                                    from the trampolines' kallsyms list and calls
//                                    synchronize_rcu() (every version; only for an ops with an
//                                    allocated trampoline), then the trampoline is unmapped
//
// Other policies exist to reproduce the hazards (free at once; plain RCU only) and to compare
// seed 000's alternatives (ip-check, stack-scan, preempt-check in place of step 2; an ops on a
// permanent trampoline is released with plain RCU, `rcu`).
import type { Kconfig, ReleasePolicy } from "../config.js";
import type { RcuSubsystem } from "../rcu/index.js";
import type { Flavour, FlavourState } from "../rcu/flavour.js";
import type { OpsState } from "./ops.js";
import type { Trampoline } from "./trampoline.js";
import { formatTime } from "../../machine/units.js";
import { VERSIONS } from "../versions.js";

export type { ReleasePolicy } from "../config.js";

/**
 * One wait of a release: a mechanism's name; `skipped`: why the version makes it a no-op (it
 * is shown, not waited for); `kallsyms`: the synchronize_rcu() of removing the trampoline from
 * kallsyms, which only an ops with a trampoline has.
 */
export interface StepSpec { name: string; skipped?: string; kallsyms?: boolean }

const named = (...names: string[]): StepSpec[] => names.map((name) => ({ name }));

/** What ftrace_shutdown of the modelled version (Kconfig.version) waits for. */
function kernelSteps(k: Kconfig): StepSpec[] {
  const v = VERSIONS[k.version];
  const rude: StepSpec = v.rudeNoop
    ? { name: "rcu_tasks_rude", skipped: "synchronize_rcu_tasks_rude() is a no-op on x86 (ARCH_WANTS_NO_INSTR) from 6.13" }
    : { name: "rcu_tasks_rude" };
  const tasks = v.tasksWait(k.rule) === "always" ? named(k.TASKS_RCU ? "rcu_tasks" : "rcu") : k.PREEMPTION ? named("rcu_tasks") : [];
  return [rude, ...tasks, { name: "rcu", kallsyms: true }];
}

export const RELEASE_PRESETS: Record<string, { steps: (k: Kconfig) => StepSpec[]; doc: string }> = {
  kernel: {
    steps: kernelSteps,
    doc: "what the modelled version's ftrace_shutdown waits for: Tasks Rude RCU (a no-op from 6.13), synchronize_rcu_tasks() " +
      "(up to 6.9 only with PREEMPTION; plain RCU when TASKS_RCU is not built), then the kallsyms synchronize_rcu()",
  },
  immediate: { steps: () => [], doc: "free at once (unsafe on purpose)" },
  rcu: { steps: () => named("rcu"), doc: "plain RCU only (unsafe on preemptible kernels)" },
  tasks: { steps: () => named("rcu_tasks_rude", "rcu_tasks"), doc: "Tasks Rude RCU, then Tasks RCU, whatever Kconfig says" },
  "ip-check": {
    steps: () => named("rcu_tasks_rude", "ip-check"),
    doc: "Tasks Rude RCU, then wait while a task's IP is in the trampoline (alternative a)",
  },
  "stack-scan": {
    steps: () => named("rcu_tasks_rude", "stack-scan"),
    doc: "Tasks Rude RCU, then wait while a task's IP or stack points into it (alternative b)",
  },
  "preempt-check": {
    steps: () => named("rcu_tasks_rude", "preempt-check"),
    doc: "Tasks Rude RCU, then wait for the tasks the scheduler marked as preempted outside kernel and module text",
  },
};

export class ReleasePolicyError extends Error {}

/** The grace-period mechanisms a policy can name (RcuSubsystem.flavours). */
export const RELEASE_MECHANISMS = ["rcu", "rcu_tasks", "rcu_tasks_rude", "rcu_tasks_trace", "ip-check", "stack-scan", "preempt-check"];

/** Throws ReleasePolicyError unless `policy` is a preset or mechanisms joined by "+". */
export function checkReleasePolicy(policy: ReleasePolicy): void {
  if (RELEASE_PRESETS[policy]) return;
  const names = policy.split("+");
  if (names.length > 0 && names.every((n) => RELEASE_MECHANISMS.includes(n))) return;
  throw new ReleasePolicyError(`unknown release policy "${policy}": use one of ${Object.keys(RELEASE_PRESETS).join(", ")}, ` +
    `or mechanisms joined by "+" from ${RELEASE_MECHANISMS.join(", ")}`);
}

/** A step of a policy with its mechanism. */
export interface PolicyStep { flavour: Flavour; skipped?: string; kallsyms?: boolean }

/** The grace-period mechanisms a policy waits for, in order. */
export function releaseSteps(policy: ReleasePolicy, kconfig: Kconfig, rcu: RcuSubsystem): PolicyStep[] {
  checkReleasePolicy(policy);
  const preset = RELEASE_PRESETS[policy];
  const specs = preset ? preset.steps(kconfig) : named(...policy.split("+"));
  return specs.map((s) => ({ ...s, flavour: rcu.flavours.find((x) => x.name === s.name)! }));
}

export interface ReleaseStep {
  /** The mechanism's state (in the kernel state, like the release). */
  flavour: FlavourState;
  /** Why the version makes this wait a no-op: it ends as it starts, with no grace period. */
  skipped?: string;
  /** The synchronize_rcu() of ftrace_remove_trampoline_from_kallsyms. */
  kallsyms?: boolean;
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
      if (s.skipped !== undefined) {
        s.startedAt = s.endedAt = now;
        r.step++;
        continue;
      }
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

/** A step as expectations and reports name it: "rcu_tasks_rude (skipped)" for a no-op. */
export function stepName(s: ReleaseStep): string {
  return s.skipped !== undefined ? `${s.flavour.name} (skipped)` : s.flavour.name;
}

/** "ftrace_shutdown(name), policy p: after rcu_tasks_rude gp 3 (120 us..180 us), rcu gp 9 (180 us..1.2 ms)". */
export function describeWait(r: Release): string {
  const at = (t: bigint | undefined) => (t === undefined ? "?" : formatTime(t));
  const waited = r.steps.map((s) => (s.skipped !== undefined ? `${stepName(s)} at ${at(s.startedAt)}`
    : `${s.flavour.name} gp ${s.seq}${s.kallsyms ? " for kallsyms" : ""} (${at(s.startedAt)}..${at(s.endedAt)})`));
  return `ftrace_shutdown(${r.ops.name}), policy ${r.policy}: ` + (waited.length ? `after ${waited.join(", ")}` : "with no grace period");
}
