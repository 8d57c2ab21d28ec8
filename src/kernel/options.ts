// Every option of the machine, the guest kernel and `tramplab run`, described once. The
// library's defaults (kernelConfig()), the command line's flags, checks and usage text, a
// scenario's `machine:` keys, torture's --config pins and the machine table of
// docs/scenarios.md are all made from this table; docs/design.md ("Adding an option") shows
// how to add one.
//
// The table is plain data. How each face words a bad value is the face's own (src/cli,
// src/scenario/parse.ts, src/torture/plan.ts): they switch on the value's kind, not on the
// option, so a new option of a known kind needs no code anywhere else.
import { CPU_VENDORS } from "../machine/machine.js";
import { formatHz } from "../machine/units.js";
import { U64_MAX } from "../numbers.js";
import { READ_SIDES } from "./tracepoint.js";
import { KCONFIG_RULES, NEWEST_KERNEL, parseKernelVersion, PREEMPT_MODELS } from "./versions.js";

// The preemption models and Kconfig rules are the versions' (versions.ts, which needs them).
export { KCONFIG_RULES, PREEMPT_MODELS, type KconfigRule, type PreemptModel } from "./versions.js";

/** How an idle vCPU waits (firmware/idle.c): halt, the kernel's idle=poll, or a timer-stopping state polling for its broadcast. */
export type IdleMode = "halt" | "poll" | "broadcast";
export const IDLE_MODES: readonly IdleMode[] = ["halt", "poll", "broadcast"];

export type RecursionSchemeName = "per-stack" | "per-task" | "none" | "mainline";
export const RECURSION_SCHEMES: readonly RecursionSchemeName[] = ["per-stack", "per-task", "none", "mainline"];

/** What a cross-modifying-code hazard executes, as people write it (the library takes it in capitals). */
export const XMC_POLICIES = ["new", "old", "torn", "stop"] as const;

/** How an option's value is written, and the bounds it must keep. */
export type ValueType =
  | { kind: "int"; min: number; max: number }
  /** An integer past 2^53 (counts of instructions): a bigint. */
  | { kind: "count"; min: bigint; max: bigint }
  /** `phrase`: how the command line names the choices where "one of A, B" would read badly. */
  | { kind: "enum"; choices: readonly string[]; phrase?: string }
  | { kind: "bool" }
  /** A command-line switch that takes no value. */
  | { kind: "flag" }
  | { kind: "seed" }
  /** Virtual time in ns (src/numbers.ts); `wholeJiffies`: kept as a count of timer periods. */
  | { kind: "duration"; wholeJiffies?: boolean }
  /** A release policy (ftrace/release.ts: checkReleasePolicy). */
  | { kind: "release" }
  /** A kernel version (versions.ts: checkKernelVersion). */
  | { kind: "kernel" }
  /** Free text; `needs` says what a missing one should have been. */
  | { kind: "text"; needs: string }
  /** A command-line flag that may be given again and again; each value is kept, in order. */
  | { kind: "list"; needs: string }
  /** A list of tasks (scenario files only). */
  | { kind: "workload" }
  /** A size in bytes (the library only). */
  | { kind: "bytes" };

export interface Option {
  /** The library's name: a KernelConfig field, a setting of the booted kernel, or `tramplab run`'s. */
  name: string;
  /** How people spell it: the flag (--KEY), the scenario's machine.KEY, the torture pin KEY=. */
  key: string;
  type: ValueType;
  /**
   * Where the value goes: KernelConfig, the booted kernel (set after boot), or the run command
   * (and for `image`, which is also a machine key, what the scenario boots).
   */
  applies: "config" | "kernel" | "run";
  /** The value when it is not given, as people write it (`toLibrary` turns it into the library's). */
  default?: unknown;
  /** What an integer counts, where a message says it. */
  unit?: string;
  /** The library's form of a value read from text ("new" -> "NEW"). */
  toLibrary?: (v: unknown) => unknown;
  /**
   * A key of a scenario's machine section: `doc` is its line in docs/scenarios.md, `shownDefault`
   * the default column where the value alone would not say enough.
   */
  scenario?: { doc: string; shownDefault?: string };
  /**
   * A flag of `tramplab run` (and with `debug`, of `tramplab debug`): `help` is its usage text;
   * `synopsis` stands for the metavar in debug's usage line.
   */
  cli?: { metavar?: string; help: string; debug?: boolean; synopsis?: string };
  /** A torture --config pin, within torture's own bounds where they are narrower; `usage` for its --help. */
  torture?: { min?: number; max?: number; usage?: string };
}

// Usage and doc texts may say {range}, {choices} and {default}; each face fills them in its
// own spelling (src/cli/usage.ts, docs/scenarios.md through machineOptionsMarkdown()).
/** The local timer period of a default machine, in ns: HZ=50000 (a jiffy is 20 us). */
const DEFAULT_TICK_PERIOD = 50_000;

export const OPTIONS: readonly Option[] = [
  {
    name: "cpus", key: "cpus", type: { kind: "int", min: 1, max: 64 }, applies: "config", default: 4,
    scenario: { doc: "{range}" },
    cli: { metavar: "N", help: "vCPUs, {range} (default {default})", debug: true },
    torture: { max: 8 },
  },
  {
    name: "preempt", key: "preempt", type: { kind: "enum", choices: PREEMPT_MODELS }, applies: "config", default: "full",
    scenario: { doc: "{choices}" },
    cli: { metavar: "MODEL", help: "{choices} (default {default})", debug: true },
    torture: {},
  },
  {
    name: "kernel", key: "kernel", type: { kind: "kernel" }, applies: "config", default: NEWEST_KERNEL,
    toLibrary: (v) => parseKernelVersion(v as string) ?? v,
    scenario: {
      doc: "the release modelled where releases differ (docs/versions.md): `5.15`, `6.1`, `6.6`, `6.10`, `6.12`, `6.13` " +
        "(also `6.13+` or a newer 6.x), or `preempt-auto-rfc` (seed 000's patch set, not a release); " +
        "quote it, as YAML reads 6.10 as the number 6.1",
    },
    cli: {
      metavar: "VERSION", debug: true,
      help: "the kernel release modelled where releases differ: 5.15, 6.1, 6.6, 6.10, 6.12, {default} (default; also 6.13+ " +
        "or a newer 6.x), or preempt-auto-rfc (seed 000's PREEMPT_AUTO patch set, not a release)",
    },
  },
  {
    name: "kconfig", key: "kconfig", type: { kind: "enum", choices: KCONFIG_RULES, phrase: "old or new" }, applies: "config",
    scenario: {
      doc: "`old` (TASKS_RCU if PREEMPTION) or `new` (TASKS_RCU if NEED_TASKS_RCU and PREEMPTION or PREEMPT_AUTO); " +
        "a release has one, the RFC both",
      shownDefault: "the version's",
    },
    cli: { metavar: "RULE", help: "{choices}: the TASKS_RCU Kconfig rule (default: the version's)", debug: true, synopsis: "old|new" },
    torture: {},
  },
  {
    name: "release", key: "release", type: { kind: "release" }, applies: "config", default: "kernel",
    scenario: {
      doc: "what unregistering a dynamic ops waits for: `kernel`, `tasks`, `rcu`, `immediate`, `ip-check`, `stack-scan`, " +
        "`preempt-check`, or mechanisms joined by `+` (`rcu_tasks_rude+rcu_tasks`)",
    },
    cli: {
      metavar: "POLICY", debug: true,
      help: "what unregistering waits for before freeing a trampoline: {default} (default), tasks, stack-scan, ip-check, " +
        "preempt-check, rcu, immediate, or mechanisms joined by +",
    },
    torture: { usage: "POLICY (kernel, tasks, stack-scan, rcu, immediate, ip-check, preempt-check, or mechanisms joined by +)" },
  },
  {
    name: "seed", key: "seed", type: { kind: "seed" }, applies: "config",
    scenario: { doc: "interleaving seed (quanta drawn at random), 0 to 2^64 - 1, decimal or `0x` hex; without it plain round-robin" },
    cli: { metavar: "S", help: "explore another interleaving (seeded quanta): 0 to 2^64-1, decimal or 0x hex", debug: true },
  },
  {
    name: "quantum", key: "quantum", type: { kind: "int", min: 1, max: 1_000_000 }, applies: "config", default: 1000, unit: "ns",
    scenario: { doc: "virtual time each vCPU runs per turn, in ns" },
  },
  {
    name: "tickPeriod", key: "tick-period", type: { kind: "int", min: 1000, max: 100_000_000 }, applies: "config",
    default: DEFAULT_TICK_PERIOD, unit: "ns",
    scenario: {
      doc: "local timer period in ns of virtual time (an instruction takes 1 ns): one jiffy, so 20000 is HZ=50000",
      shownDefault: `${DEFAULT_TICK_PERIOD} (${formatHz(DEFAULT_TICK_PERIOD)})`,
    },
  },
  {
    name: "timeslice", key: "timeslice", type: { kind: "int", min: 1, max: 1_000_000 }, applies: "config", default: 3, unit: "jiffies",
    scenario: { doc: "jiffies (timer ticks) a task runs before it is asked to yield" },
    torture: { usage: "JIFFIES (timer ticks, {range}; torture runs at {hz})" },
  },
  {
    name: "idle", key: "idle", type: { kind: "enum", choices: IDLE_MODES }, applies: "config", default: "halt",
    scenario: {
      doc: "how an idle vCPU waits (docs/versions.md): `halt` (sti;hlt), `poll` (the kernel's idle=poll) or `broadcast` " +
        "(its timer stops in idle, so it polls for the broadcast IPI calling tick_check_broadcast_expired)",
    },
    cli: {
      metavar: "MODE", debug: true,
      help: "how an idle vCPU waits: {default} (default: sti;hlt), poll (the kernel's idle=poll) or broadcast " +
        "(polls for the tick broadcast, calling tick_check_broadcast_expired)",
    },
  },
  {
    name: "recursion", key: "recursion", type: { kind: "enum", choices: RECURSION_SCHEMES }, applies: "config", default: "per-stack",
    scenario: {
      doc: "ftrace's recursion guard: `per-stack` (an in_tracing flag per kernel stack, in the trampoline), `per-task` " +
        "(current->trace_recursion's context bits, in the trampoline), `none`, `mainline` (no guard in the trampoline: " +
        "the list function, ftrace_ops_assist_func and each callback take the bits, as mainline does)",
    },
    cli: {
      metavar: "SCHEME", debug: true,
      help: "ftrace's recursion guard: {default} (default: an in_tracing flag per kernel stack), " +
        "per-task (current->trace_recursion's context bits with TRANSITION, in the trampoline), none, " +
        "or mainline (the guard where mainline has it: list function, assist function, callbacks)",
    },
    torture: {},
  },
  {
    name: "istLink", key: "ist-link", type: { kind: "bool" }, applies: "config", default: true,
    scenario: { doc: "per-stack only: a trap on an IST stack (#UD, WARN) shares the interrupted stack's flag" },
  },
  {
    name: "transitionBit", key: "transition-bit", type: { kind: "bool" }, applies: "config", default: true,
    scenario: { doc: "per-task only: one nested entry in the same context gets through on TRANSITION" },
  },
  {
    name: "recursionEvents", key: "recursion-events", type: { kind: "bool" }, applies: "config", default: false,
    scenario: { doc: "report every guard decision as a RECURSION event (slow)" },
  },
  {
    name: "tracepointReadSide", key: "tracepoint-read-side", type: { kind: "enum", choices: READ_SIDES }, applies: "config",
    default: "trace",
    scenario: { doc: "how sys_enter protects its probes: `trace` (rcu_read_lock_trace) or `preempt` (preempt_disable)" },
  },
  {
    // DemandPager.sleepJiffies of the booted kernel.
    name: "faultSleep", key: "fault-sleep", type: { kind: "duration", wholeJiffies: true }, applies: "kernel", default: 0,
    scenario: { doc: "how long a served user page fault sleeps, in whole jiffies (`40 jiffies`); 0: never" },
  },
  {
    name: "xmcPolicy", key: "xmc-policy", type: { kind: "enum", choices: XMC_POLICIES }, applies: "config", default: "new",
    toLibrary: (v) => (v as string).toUpperCase(),
    scenario: { doc: "what a cross-modifying-code hazard executes: {choices}" },
  },
  {
    name: "cpuVendor", key: "cpu-vendor", type: { kind: "enum", choices: CPU_VENDORS }, applies: "config", default: "intel",
    scenario: { doc: "whose CPUs the core imitates where Intel and AMD parts differ: {choices} (docs/cpu.md)" },
    cli: {
      metavar: "V", debug: true,
      help: "{default} (default) | amd: whose CPUs the core imitates where they differ " +
        "(CPUID's vendor, 66-prefixed near branches, ...; docs/cpu.md)",
    },
  },
  {
    name: "softLockupTicks", key: "soft-lockup", type: { kind: "duration" }, applies: "config", default: 20_000_000n,
    toLibrary: (v) => Number(v),
    scenario: { doc: "duration with interrupts off that counts as a lockup" },
  },
  {
    // Ftrace.useTrampolines of the booted kernel.
    name: "trampolines", key: "trampolines", type: { kind: "bool" }, applies: "kernel", default: true,
    scenario: { doc: "`false` routes every site through ftrace_caller and the list function" },
  },
  {
    // No default here: kernelConfig() gives the default workload for the number of vCPUs.
    name: "workload", key: "workload", type: { kind: "workload" }, applies: "config",
    scenario: {
      doc: "list of `{ name, entry, arg, cpu, kind }`; `kind` is `kthread` (default) or `user`; `entry` is a firmware symbol",
      shownDefault: "the default workload",
    },
  },
  { name: "ramBytes", key: "ram", type: { kind: "bytes" }, applies: "config", default: 128 << 20 },
  {
    // Not a KernelConfig field: the firmware the kernel boots from (src/cli/debug.ts: bootImage; a
    // scenario's path is resolved against its folder, src/scenario/golden.ts: locateInput).
    name: "image", key: "image", type: { kind: "text", needs: "an ELF file" }, applies: "run",
    scenario: {
      doc: "a firmware ELF built like `firmware/` to boot instead of the built-in one; a relative path is from the scenario's " +
        "folder, and the file must be in or under that folder (as golden files are)",
      shownDefault: "the built-in firmware",
    },
    cli: { metavar: "FILE", help: "boot this firmware ELF (built like firmware/) instead of the built-in build/firmware.elf" },
  },
  {
    // Not KernelConfig fields: what `tramplab run` does once the kernel is up, and at the end.
    name: "insmod", key: "insmod", type: { kind: "list", needs: "a module and its parameters" }, applies: "run",
    cli: { metavar: "'FILE.ko [P=V]...'", help: "load a module (built with build-module) once every vCPU is up; an insmod command " +
      "line, quoted; may be given again" },
  },
  {
    name: "rmmod", key: "rmmod", type: { kind: "list", needs: "a module name" }, applies: "run",
    cli: { metavar: "NAME", help: "unload the module after --time, then run 10ms more to catch anything still calling into it; " +
      "may be given again" },
  },
  {
    // Not KernelConfig fields: `run --gdb` serves gdb's remote protocol (src/debug/gdbstub) once
    // the kernel is up and the --insmod modules are loaded, instead of running for --time.
    name: "gdb", key: "gdb", type: { kind: "text", needs: "[HOST:]PORT" }, applies: "run",
    cli: { metavar: "[HOST:]PORT", help: "once the modules are loaded, serve gdb's remote protocol there (as debug --gdb; " +
      "loopback unless a host is given) instead of running for --time" },
  },
  {
    name: "gdbWait", key: "gdb-wait", type: { kind: "flag" }, applies: "run",
    cli: { help: "with --gdb: stay stopped until gdb attaches (as qemu -S); alone, --gdb 127.0.0.1:1234" },
  },
  {
    name: "maxInsns", key: "max-insns", type: { kind: "count", min: 1n, max: U64_MAX }, applies: "run",
    cli: { metavar: "N", help: "stop a runaway program after N instructions, 1 to 2^64-1 (exit code 152)" },
  },
  {
    name: "stats", key: "stats", type: { kind: "flag" }, applies: "run",
    cli: { help: "print instructions retired and guest MIPS to stderr" },
  },
  {
    name: "time", key: "time", type: { kind: "duration" }, applies: "run", default: 50_000_000n,
    cli: { metavar: "T", help: "virtual time to run: 50ms, 200us, 1s, or a plain number of ns, at most 1000000s (default {default})" },
  },
  {
    name: "tracer", key: "tracer", type: { kind: "enum", choices: ["function"] }, applies: "run",
    cli: { metavar: "function", help: "switch the function tracer on a third of the way in and off at two thirds" },
  },
  {
    name: "filter", key: "filter", type: { kind: "text", needs: "a glob list" }, applies: "run",
    cli: { metavar: "GLOBS", help: "set_ftrace_filter for the tracer (default: every function)" },
  },
  {
    name: "traceLines", key: "trace-lines", type: { kind: "int", min: 0, max: 1_000_000 }, applies: "run", default: 20,
    cli: { metavar: "N", help: "trace lines to print, {range} (default {default})" },
  },
];

/** The option of a library name; throws for a name the table does not have (a slip in the code). */
export function option(name: string): Option {
  const o = OPTIONS.find((x) => x.name === name);
  if (!o) throw new Error(`no option named ${name}`);
  return o;
}

/** An option's default in the library's terms (undefined: none). */
export function libraryDefault(o: Option): unknown {
  return o.default === undefined || !o.toLibrary ? o.default : o.toLibrary(o.default);
}

/** The keys a scenario's machine section takes, in the table's order. */
export const MACHINE_OPTIONS = OPTIONS.filter((o) => o.scenario);

/** The dimensions torture --config can pin, in the table's order. */
export const TORTURE_OPTIONS = OPTIONS.filter((o) => o.torture);

/** The bounds of an integer option, narrowed by torture's where it has its own. */
export function tortureRange(o: Option): { min: number; max: number } {
  if (o.type.kind !== "int") throw new Error(`${o.name} is not an integer option`);
  return { min: o.torture?.min ?? o.type.min, max: o.torture?.max ?? o.type.max };
}

/** How the command line names an enum's choices in an error: "one of a, b, c", "old or new", "function". */
export function choicePhrase(t: { choices: readonly string[]; phrase?: string }): string {
  return t.phrase ?? (t.choices.length === 1 ? t.choices[0] : `one of ${t.choices.join(", ")}`);
}

/** Fills a usage or doc text's {range}, {choices}, {default} and any extra names given. */
export function fillText(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (all, name: string) => values[name] ?? all);
}
