// The guest kernel's configuration: the preemption model and what Kconfig derives from it.
// Each field's default, range and spellings are in the options table (options.ts).
import {
  libraryDefault, option, OPTIONS, type IdleMode, type KconfigRule, type PreemptModel, type RecursionSchemeName,
} from "./options.js";
import type { ReadSide } from "./tracepoint.js";
import type { CpuVendorName } from "../machine/machine.js";
import { checkKernelVersion, NEWEST_KERNEL, VERSIONS, versionRule, type KernelVersion } from "./versions.js";

export { KERNEL_VERSIONS, NEWEST_KERNEL, type KernelVersion } from "./versions.js";
export { PREEMPT_MODELS, RECURSION_SCHEMES, type KconfigRule, type PreemptModel, type RecursionSchemeName } from "./options.js";

export interface Kconfig {
  /** The release (or patch set) whose rules these are (versions.ts). */
  version: KernelVersion;
  /** The TASKS_RCU rule it was derived under. */
  rule: KconfigRule;
  PREEMPTION: boolean;
  /** `default y if PREEMPTION` (kernel/rcu/Kconfig): a tick outside preempt-disabled code is a quiescent state. */
  PREEMPT_RCU: boolean;
  /** Selected by the function tracer (and kprobes, BPF); the symbol exists from 6.10 and in the RFC's `new` rule. */
  NEED_TASKS_RCU: boolean;
  TASKS_RCU: boolean;
  TASKS_RUDE_RCU: boolean;
  TASKS_TRACE_RCU: boolean;
}

/**
 * What Kconfig derives from the preemption model, for a version (versions.ts) and the rule
 * that decides whether TASKS_RCU is built (the version's own unless given):
 *   old: TASKS_RCU if PREEMPTION   (5.15: `def_bool PREEMPTION`; 6.1 to 6.9: the function
 *                                   tracer's `select TASKS_RCU if PREEMPTION`)
 *   new: TASKS_RCU if NEED_TASKS_RCU && (PREEMPTION || PREEMPT_AUTO)   (6.10 on; mainline has
 *        no PREEMPT_AUTO symbol, so there it is NEED_TASKS_RCU && PREEMPTION)
 * 6.13's PREEMPT_LAZY selects PREEMPT_BUILD and so PREEMPTION: both rules build Tasks RCU.
 * Only the PREEMPT_AUTO RFC (seed 000's thread) has lazy preemption without PREEMPTION, which
 * is what made the old rule leave Tasks RCU out. Throws KernelVersionError for a model the
 * version does not offer, or a rule a release does not have.
 */
export function deriveKconfig(model: PreemptModel, rule?: KconfigRule, given: string = NEWEST_KERNEL): Kconfig {
  // The library takes a version as people write it too ("6.13+"), and refuses one not modelled.
  const version = checkKernelVersion(given);
  const r = versionRule(version, model, rule);
  const PREEMPTION = model === "full" || (model === "lazy" && VERSIONS[version].lazyIsPreemption);
  const NEED_TASKS_RCU = r === "new";
  const preemptAuto = model === "lazy" && !VERSIONS[version].lazyIsPreemption;
  const TASKS_RCU = r === "old" ? PREEMPTION : NEED_TASKS_RCU && (PREEMPTION || preemptAuto);
  return { version, rule: r, PREEMPTION, PREEMPT_RCU: PREEMPTION, NEED_TASKS_RCU, TASKS_RCU, TASKS_RUDE_RCU: true, TASKS_TRACE_RCU: true };
}

/**
 * A preset, or grace-period mechanisms to wait for in order, joined by "+" (for example
 * "rcu_tasks" alone, or "rcu_tasks_rude+stack-scan"); ftrace/release.ts checks and applies it.
 */
export type ReleasePolicy = string;

export interface TaskSpec {
  name: string;
  kind: "kthread" | "user";
  /** Firmware symbol: a kernel thread function, or a user program in the .user section. */
  entry: string;
  arg?: number;
  /** The vCPU whose run queue it starts on (default: spread round-robin). */
  cpu?: number;
}

export interface KernelConfig {
  cpus: number;
  preempt: PreemptModel;
  /** The kernel release modelled where releases differ (versions.ts). */
  kernel: KernelVersion;
  /** The TASKS_RCU Kconfig rule; undefined: the version's own. */
  kconfig?: KconfigRule;
  /** Local timer period in ticks (1 tick = 1 instruction = 1 ns of virtual time). */
  tickPeriod: number;
  /** Timer ticks a task may run before it is asked to give the CPU up. */
  timeslice: number;
  ramBytes: number;
  /**
   * Seed of the interleaving (quanta); undefined = plain round-robin. Any integer from 0 to
   * 2^64 - 1 (a bigint above 2^53); every bit of it counts.
   */
  seed?: number | bigint;
  /** Ticks each vCPU runs per turn of the machine's round-robin. */
  quantum: number;
  workload: TaskSpec[];
  /** Stop and report when a vCPU spends this many ticks with interrupts off (0 = never). */
  softLockupTicks: number;
  /** What a cross-modifying-code hazard does in the core (default: report, run the new bytes). */
  xmcPolicy?: "NEW" | "OLD" | "TORN" | "STOP";
  /** Whose CPUs the core imitates where Intel and AMD parts differ (default intel; docs/cpu.md). */
  cpuVendor?: CpuVendorName;
  /** What unregistering a dynamic ops waits for before freeing its trampoline (ftrace/release.ts). */
  release: ReleasePolicy;
  /**
   * How ftrace keeps callbacks from recursing: an in_tracing flag per kernel stack (seed 002's
   * proposal), current->trace_recursion's context bits taken in the trampoline, nothing, or
   * `mainline`: no guard in the trampoline, the bits taken by the list function, the assist
   * function and each callback (docs/recursion.md).
   */
  recursion: RecursionSchemeName;
  /** Per-stack scheme: a trap handled on an IST stack shares the interrupted stack's flag. */
  istLink: boolean;
  /** Per-task scheme: tolerate one nested entry in the same context (the kernel's TRANSITION bit). */
  transitionBit: boolean;
  /** Report every recursion-guard decision as a RECURSION event (slow: one hypercall each). */
  recursionEvents: boolean;
  /** How the sys_enter tracepoint protects its probes (firmware/tracepoint.c). */
  tracepointReadSide: ReadSide;
  /** How an idle vCPU waits (firmware/idle.c). */
  idle: IdleMode;
}

/** Per vCPU a busy thread and a sleeper; a yielder, a user worker and a user sleeper shared out. */
export function defaultWorkload(cpus: number): TaskSpec[] {
  const w: TaskSpec[] = [];
  for (let c = 0; c < cpus; c++) {
    w.push({ name: `busy/${c}`, kind: "kthread", entry: "kthread_busy", arg: 3000, cpu: c });
    w.push({ name: `sleeper/${c}`, kind: "kthread", entry: "kthread_sleeper", arg: 3, cpu: c });
  }
  w.push({ name: "yielder", kind: "kthread", entry: "kthread_yielder", arg: 0, cpu: 0 });
  w.push({ name: "user-worker", kind: "user", entry: "user_worker", cpu: cpus > 1 ? 1 : 0 });
  w.push({ name: "user-sleeper", kind: "user", entry: "user_sleeper", cpu: cpus > 2 ? 2 : 0 });
  return w;
}

/** The KernelConfig fields among `values` (options of a command or a scenario, by library name). */
export function configFields(values: object): Partial<KernelConfig> {
  const v = values as Record<string, unknown>;
  return Object.fromEntries(OPTIONS.filter((o) => o.applies === "config" && v[o.name] !== undefined).map((o) => [o.name, v[o.name]]));
}

/** A complete KernelConfig: the options table's defaults, then the fields given. */
export function kernelConfig(overrides: Partial<KernelConfig> = {}): KernelConfig {
  // An option given as undefined means "the default", not "undefined".
  overrides = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<KernelConfig>;
  const defaults = OPTIONS.filter((o) => o.applies === "config" && o.default !== undefined).map((o) => [o.name, libraryDefault(o)]);
  const cpus = overrides.cpus ?? (libraryDefault(option("cpus")) as number);
  return { ...(Object.fromEntries(defaults) as Omit<KernelConfig, "workload">), workload: defaultWorkload(cpus), ...overrides };
}
