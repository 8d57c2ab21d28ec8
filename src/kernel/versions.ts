// The kernel releases tramplab models where their behaviour differs: which preemption models a
// release offers, the rule that decides whether Kconfig builds TASKS_RCU, and what
// ftrace_shutdown waits for before it frees a dynamic ops' trampoline (ftrace/release.ts).
// docs/versions.md cites the kernel's files and functions for each row, and says what was
// checked where.

export type PreemptModel = "none" | "voluntary" | "full" | "lazy";
export const PREEMPT_MODELS: readonly PreemptModel[] = ["none", "voluntary", "full", "lazy"];

/** Which Kconfig rule decides whether TASKS_RCU is built (config.ts, deriveKconfig). */
export type KconfigRule = "old" | "new";
export const KCONFIG_RULES: readonly KconfigRule[] = ["old", "new"];

export type KernelVersion = "5.15" | "6.1" | "6.6" | "6.10" | "6.12" | "6.13" | "preempt-auto-rfc";

/** The releases oldest first (the newest is the default), then the RFC. */
export const KERNEL_VERSIONS: readonly KernelVersion[] = ["5.15", "6.1", "6.6", "6.10", "6.12", "6.13", "preempt-auto-rfc"];
export const NEWEST_KERNEL: KernelVersion = "6.13";

export interface VersionFacts {
  /** How summaries and reports name the model: "kernel 6.12". */
  title: string;
  models: readonly PreemptModel[];
  /** The TASKS_RCU rule of the release's Kconfig (kconfig may pick the other only where `bothRules`). */
  rule: KconfigRule;
  bothRules: boolean;
  /** Lazy preemption selects PREEMPTION (through PREEMPT_BUILD), as 6.13's PREEMPT_LAZY does. */
  lazyIsPreemption: boolean;
  /**
   * ftrace_shutdown's wait after Tasks Rude RCU: `if-preemption` synchronize_rcu_tasks() only
   * under CONFIG_PREEMPTION (up to 6.9); `always` synchronize_rcu_tasks() whatever the model,
   * which is synchronize_rcu() when TASKS_RCU is not built (6.10 on).
   */
  tasksWait: (rule: KconfigRule) => "if-preemption" | "always";
  /** synchronize_rcu_tasks_rude() returns at once on x86 (ARCH_WANTS_NO_INSTR), from 6.13. */
  rudeNoop: boolean;
  /** How the version's oops reads (oops.ts). */
  oops: OopsDialect;
  /**
   * Firmware functions that are traced in older releases and noinstr in this one: ftrace_init
   * keeps no record for them, so no ops can reach them (docs/versions.md, "Idle").
   */
  noinstr: readonly string[];
}

/**
 * Where the oops text changed between modelled versions: utsname's release and version on the
 * task line; __die_header's "Oops: " prefix (arch/x86/kernel/dumpstack.c, "x86/dumpstack: Use
 * uniform "Oops: " prefix for die() messages", tip x86/bugs for 6.10); dump_stack_print_info's
 * "UID: %u" (lib/dump_stack.c, "lib/dump_stack: report process UID", posted June 2024 for 6.11).
 */
export interface OopsDialect {
  uts: string;
  oopsPrefix: boolean;
  uid: boolean;
}

/** Made noinstr by the "cpuidle,rcu" series (6.3): the idle poll loop calls nothing traced. */
const NOINSTR_FROM_6_3: readonly string[] = ["tick_check_broadcast_expired"];

const MAINLINE_MODELS: readonly PreemptModel[] = ["none", "voluntary", "full"];

type Wording = Omit<OopsDialect, "uts">;

function release(v: string, rule: KconfigRule, after610: boolean, words: Wording, lazy = false): VersionFacts {
  return {
    title: `kernel ${v}`, models: lazy ? [...MAINLINE_MODELS, "lazy"] : MAINLINE_MODELS, rule, bothRules: false,
    lazyIsPreemption: true, tasksWait: () => (after610 ? "always" : "if-preemption"), rudeNoop: lazy,
    oops: { uts: `${v}.0 #1`, ...words },
    noinstr: v === "5.15" || v === "6.1" ? [] : NOINSTR_FROM_6_3,
  };
}

export const VERSIONS: Record<KernelVersion, VersionFacts> = {
  "5.15": release("5.15", "old", false, { oopsPrefix: false, uid: false }),
  "6.1": release("6.1", "old", false, { oopsPrefix: false, uid: false }),
  "6.6": release("6.6", "old", false, { oopsPrefix: false, uid: false }),
  "6.10": release("6.10", "new", true, { oopsPrefix: true, uid: false }),
  "6.12": release("6.12", "new", true, { oopsPrefix: true, uid: true }),
  "6.13": release("6.13", "new", true, { oopsPrefix: true, uid: true }, true),
  // Not a release: the PREEMPT_AUTO series seed 000's thread discusses (Feb 2024, on a 6.8 base),
  // with lazy preemption taken as the thread reasons about it, not setting PREEMPTION. `old` is
  // the series as posted; `new` adds the NEED_TASKS_RCU rule and the ftrace_shutdown change
  // posted in answer, which 6.10 merged.
  "preempt-auto-rfc": {
    title: "PREEMPT_AUTO RFC (Feb 2024, not a release)", models: [...MAINLINE_MODELS, "lazy"], rule: "old", bothRules: true,
    lazyIsPreemption: false, tasksWait: (rule) => (rule === "new" ? "always" : "if-preemption"), rudeNoop: false,
    // Named as the series' later posting on 6.10-rc1 (which has the "Oops: " prefix, not the UID).
    oops: { uts: "6.10.0-rc1-preempt-auto #1", oopsPrefix: true, uid: false },
    noinstr: NOINSTR_FROM_6_3,
  },
};

/** The names --kernel and machine.kernel take, for messages and help. */
export const KERNEL_SPELLINGS = `${KERNEL_VERSIONS.join(", ")} (6.13+ or a newer 6.x: 6.13)`;

export class KernelVersionError extends Error {}

/** A version as people write it: a modelled one, "6.13+", or a newer 6.x taken as 6.13; undefined if none. */
export function parseKernelVersion(text: string): KernelVersion | undefined {
  const t = text.trim();
  if ((KERNEL_VERSIONS as readonly string[]).includes(t)) return t as KernelVersion;
  if (t === "6.13+") return "6.13";
  const m = /^6\.(\d{1,3})$/.exec(t);
  if (m && Number(m[1]) > 13) return "6.13";
  return undefined;
}

/** Throws KernelVersionError unless `text` names a modelled version. */
export function checkKernelVersion(text: string): KernelVersion {
  const v = parseKernelVersion(text);
  if (!v) throw new KernelVersionError(`unknown kernel version "${text.slice(0, 40)}": use one of ${KERNEL_SPELLINGS}`);
  return v;
}

/**
 * The TASKS_RCU rule a configuration builds with (the version's own unless given), after
 * refusing what the version cannot build: a preemption model it does not offer, or the other
 * rule on a release (a release's Kconfig has one rule).
 */
export function versionRule(version: KernelVersion, model: PreemptModel, rule?: KconfigRule): KconfigRule {
  const f = VERSIONS[version];
  if (!f.models.includes(model)) {
    const has = KERNEL_VERSIONS.filter((v) => VERSIONS[v].models.includes(model)).join(", ");
    throw new KernelVersionError(`${f.title} has no ${model} preemption model (kernel/Kconfig.preempt offers ` +
      `${f.models.join(", ")}); ${model} is in ${has}`);
  }
  if (rule !== undefined && rule !== f.rule && !f.bothRules) {
    const has = KERNEL_VERSIONS.filter((v) => VERSIONS[v].rule === rule || VERSIONS[v].bothRules).join(", ");
    throw new KernelVersionError(`${f.title} builds TASKS_RCU by the ${f.rule} rule (kernel/rcu/Kconfig); ` +
      `the ${rule} rule is in ${has}`);
  }
  return rule ?? f.rule;
}

/** How summaries and reports name what is modelled: "kernel 6.13 model", and the rule where a version has both. */
export function modelTitle(version: KernelVersion, rule: KconfigRule): string {
  const f = VERSIONS[version];
  return f.bothRules ? `${f.title} model, ${rule} TASKS_RCU rule` : `${f.title} model`;
}
