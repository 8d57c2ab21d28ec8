// A scenario as read from its file: machine configuration, ftrace ops, steps and expectations.
// Every part keeps the position it came from, so a failure can point at its line.
import type { KernelConfig, TaskSpec } from "../kernel/config.js";

/** 1-based line and column in the scenario file. */
export interface Pos {
  line: number;
  col: number;
}

/** An inclusive range; a bound left out is open. */
export interface Range {
  min?: bigint;
  max?: bigint;
  /** Bounds that are counts of the run itself, resolved when the expectation is checked. */
  refs?: { min?: CountRef; max?: CountRef };
}

/** A count read from the run: "calls of OPS" or "global SYMBOL[i]", divided by `per`. */
export interface CountRef {
  text: string;
  of: { kind: "calls"; ops: string } | { kind: "global"; symbol: string; index: number };
  per: bigint;
  at: Pos;
}

/**
 * A scenario's machine: every key of the options table's machine section (src/kernel/options.ts),
 * as given or by its default, under the library's names.
 */
export type MachineSpec = Omit<KernelConfig, "seed" | "workload" | "ramBytes"> & {
  /** Seed of the interleaving; undefined: plain round-robin quanta. */
  seed?: bigint;
  /** Timer ticks a demand fault sleeps (DemandPager.sleepJiffies); 0: faults never sleep. */
  faultSleep: number;
  /** Per-ops dynamic trampolines (default) or every site through ftrace_caller. */
  trampolines: boolean;
  /** undefined: the kernel's default workload for `cpus`. */
  workload?: (TaskSpec & { at: Pos })[];
  /** The real path of the firmware ELF to boot; undefined: the built-in one. */
  image?: string;
  /** Where machine.image was given and how it was written, for a message about the file. */
  imageAt?: { at: Pos; name: string };
};

export type OpsKind = "function" | "counter" | "slow" | "host" | "recursing" | "faulting" | "warning";

export interface OpsSpec {
  name: string;
  kind: OpsKind;
  filter: string;
  notrace: string;
  saveRegs: boolean;
  recursion: boolean;
  dynamic?: boolean;
  /** Seed 000's permanent trampolines (a proposal): firmware/ftrace_permanent.S. */
  permanent?: boolean;
  /** function: ring entries per vCPU (a power of two). */
  ring: number;
  /** slow: the busy loop's length (op->private of function_slow_call). */
  spin: number;
  /** warning: the function whose calls hit WARN_ON() (op->private is its site). */
  warnAt?: string;
  warnAtAt: Pos;
  at: Pos;
  filterAt: Pos;
}

/** An ftrace errno a step is expected to fail with. */
export type Errno = "EBUSY" | "ENODEV" | "EINVAL";

export type InterruptVector = "timer" | "reschedule" | "call-function";

export type Until =
  | { kind: "inside"; task: string; ops: string; as: "preempted" | "running" | "any" }
  | { kind: "freed"; ops: string }
  | { kind: "all-idle" }
  | { kind: "outside-callbacks" }
  | { kind: "probe-running"; probe: string }
  | { kind: "probe-blocked"; probe: string }
  | { kind: "probe-freed"; probe: string };

export type Step = { at: Pos } & (
  | { kind: "boot" }
  | { kind: "run"; ticks: bigint }
  | { kind: "register"; ops: string; fails?: Errno }
  | { kind: "unregister"; ops: string; policy?: string; fails?: Errno }
  | { kind: "filter"; ops: string; filter?: string; notrace?: string; fails?: Errno; filterAt: Pos }
  | { kind: "synchronize"; flavour: string; within: bigint }
  | { kind: "interrupt"; cpu: number; vector: InterruptVector; atInsn?: bigint; afterInsns?: bigint; within: bigint }
  | { kind: "until"; until: Until; within: bigint }
  | { kind: "corrupt-site"; function: string; bytes: Uint8Array }
  | { kind: "register-probe"; probe: string; pages?: number; mayFault?: boolean; fails?: "EINVAL" }
  | { kind: "unregister-probe"; probe: string; flavour: string }
  | { kind: "mark"; text: string }
  | { kind: "expect"; expectations: Expectation[] }
  | InsmodStep
  | { kind: "rmmod"; module: string; fails?: string }
);

/**
 * insmod FILE [PARAM=VALUE]...: the file (in or under the scenario's folder) is read when the
 * scenario is, so a missing or unreadable one is an error of the file, not of the run.
 */
export interface InsmodStep {
  kind: "insmod";
  /** The line as written, and the file as written in it (messages use these). */
  line: string;
  file: string;
  bytes: Uint8Array;
  args: { name: string; value?: string }[];
  /** The module's name from its .modinfo; undefined when the object cannot be read (an insmod meant to fail). */
  module?: string;
  /** An errno name (Errno in src/gen/constants.ts) the load must fail with. */
  fails?: string;
}

export type Expectation = { at: Pos; kind: string } & (
  | { kind: "no-hazard" }
  | { kind: "no-use-after-free" }
  | { kind: "no-oops" }
  | { kind: "no-lockup" }
  | { kind: "no-ftrace-bug" }
  | { kind: "no-warning" }
  | { kind: "use-after-free"; ops?: string; probe?: string; module?: string; task?: string; returned?: boolean; count: Range }
  | { kind: "ftrace-bug"; function?: string; actual?: string; expected?: string }
  | {
    kind: "trace"; ops: string; functions?: string[]; includes: string[]; excludes: string[]; lines: RegExp[];
    records?: Range; lost?: Range; golden?: string;
  }
  | { kind: "patch-log"; golden: string }
  | { kind: "release"; ops: string; freed: boolean; steps?: string[]; delay?: Range; afterVoluntarySwitch?: string; heldAtFree?: Range }
  | { kind: "grace-period"; flavour: string; completed?: Range; latency?: Range; holdouts?: Range }
  | { kind: "counter"; ops: string; function: string; value: Range }
  | { kind: "global"; symbol: string; index: number; value: Range }
  | { kind: "task"; name: string; state?: string; irqPreemptions?: Range }
  | { kind: "console"; includes: string[]; excludes: string[] }
  | { kind: "site"; function: string; bytes?: Uint8Array; calls?: string }
  | { kind: "poke"; int3Hits?: Range; batches?: Range; sitesChanged?: Range }
  | { kind: "calls"; ops: string; value: Range }
  | { kind: "recursion"; total?: Range; site?: string; count?: Range }
  | { kind: "stack"; name: string; entered?: Range; skipped?: Range; inTracing?: boolean; corrupt?: boolean }
  | { kind: "warning"; function?: string; task?: string; count: Range }
  | { kind: "oops"; task?: string; overflow?: string; includes: string[]; count: Range }
  | { kind: "module"; name: string; state: ModuleState }
);

/** What the `module` expectation compares: loaded now, loaded once and freed, or never laid out. */
export type ModuleState = "live" | "freed" | "absent";

export interface Scenario {
  file: string;
  /** One-line description (the file's `name:`). */
  name: string;
  machine: MachineSpec;
  ops: OpsSpec[];
  steps: Step[];
  expectations: Expectation[];
}
