// The library's public API: what `import ... from "tramplab"` offers (package.json "exports").
// A chosen list, not everything under src/: enough to boot the built-in kernel, trace it with
// ftrace ops, unregister them under a release policy and check what happened, to run scenario
// files, and to drive a bare Machine. docs/api.md describes it with a worked example.

// The guest kernel.
export {
  /**
   * The booted guest kernel (Kernel.boot): its Machine, vCPU interleaver, guest scheduler policy, ftrace,
   * RCU flavours, releases and reports.
   */
  Kernel,
  /** Where the built-in firmware image is (build/firmware.elf inside the package). */
  firmwarePath,
  type Lockup,
  type Holder,
  /** Every subsystem's state as plain data (Kernel.state, saveState, restoreState). */
  type KernelState,
} from "./kernel/kernel.js";
/** What `tramplab run` prints after a run (once Kernel.summary()). */
export { runSummary } from "./cli/summary.js";
export {
  /** A complete KernelConfig from the defaults and the fields given (what Kernel.boot uses). */
  kernelConfig,
  /** The workload `tramplab run` boots on `cpus` vCPUs. */
  defaultWorkload,
  /** The preemption models: none, voluntary, full, lazy. */
  PREEMPT_MODELS,
  type KernelConfig,
  type TaskSpec,
  type PreemptModel,
  type KconfigRule,
  type Kconfig,
  type RecursionSchemeName,
} from "./kernel/config.js";
export {
  /** The kernel versions modelled where releases differ, oldest first, and the PREEMPT_AUTO RFC last. */
  KERNEL_VERSIONS,
  /** The default version. */
  NEWEST_KERNEL,
  /** What each version offers and waits for (preemption models, TASKS_RCU rule, ftrace_shutdown's waits). */
  VERSIONS,
  /** A version as people write it ("6.13+", "6.14" are 6.13); undefined if it is not modelled. */
  parseKernelVersion,
  /** Thrown for a version, preemption model or Kconfig rule that does not go together. */
  KernelVersionError,
  type KernelVersion,
  type VersionFacts,
} from "./kernel/versions.js";
/** A guest task (kernel thread, user task or idle) as the scheduler sees it. */
export type { Task, TaskState } from "./kernel/sched.js";

// ftrace: ops, their trampolines, and tracers.
export {
  /** An ftrace_ops: a callback (a firmware function or a TypeScript one) and the functions it traces. */
  FtraceOps,
  type OpsOptions,
  type OpsCallback,
  type HostCall,
} from "./kernel/ftrace/ops.js";
export {
  /** Thrown by register/unregister/setFilter, with the kernel's errno (EBUSY, ENODEV, EINVAL). */
  FtraceError,
} from "./kernel/ftrace/ftrace.js";
/** A dynamic trampoline (live, releasing, freed) and the tasks that still held it when freed. */
export type { Trampoline, HeldBy } from "./kernel/ftrace/trampoline.js";
export {
  /** The function tracer: per-vCPU rings the guest callback writes, read back as TraceRecords. */
  FunctionTracer,
  /** The hit counter: one guest counter per traced function. */
  FunctionCounter,
  type TraceRecord,
} from "./kernel/ftrace/tracers.js";

// Releasing an unregistered ops: the grace periods waited for before its trampoline is freed.
export {
  /** The named release policies (kernel, tasks, rcu, immediate, ip-check, stack-scan, preempt-check) and what each waits for. */
  RELEASE_PRESETS,
  /** The mechanisms a policy can join with "+" (for example "rcu_tasks_rude+stack-scan"). */
  RELEASE_MECHANISMS,
  /** Throws ReleasePolicyError unless the policy is a preset or mechanisms joined by "+". */
  checkReleasePolicy,
  ReleasePolicyError,
  /** One line saying which grace periods a release waited for, and when. */
  describeWait,
  /** A release step as expectations name it ("rcu_tasks_rude (skipped)" for a no-op). */
  stepName,
  type StepSpec,
  type Release,
  type ReleaseStep,
  type ReleasePolicy,
} from "./kernel/ftrace/release.js";
/** An RCU flavour (or scan) as a state machine: grace periods completed, their history and stalls. */
export type { Flavour, GpRecord } from "./kernel/rcu/flavour.js";

// What went wrong in the guest, as reports.
/** An execution or access of freed trampoline (or guarded) memory, caught and explained. */
export type { UseAfterFree, FreedObject } from "./kernel/uaf.js";
/** A guest oops: vector, task, CPU, registers, call trace. */
export type { Oops } from "./kernel/oops.js";
/** A WARN_ON report. */
export type { Warning } from "./kernel/traps/warn.js";
export {
  /** One line for an event of the machine's log, with names from Kernel.timelineContext. */
  describeEvent,
  type TimelineContext,
} from "./kernel/timeline.js";

// The machine under the kernel.
export {
  /** One emulated x86-64 machine: vCPUs, RAM, the event log; runs guest code in the wasm core. */
  Machine,
  CpuState,
  /** Why Machine.run returned (timer, halt, fault, hypercall...). */
  Exit,
  /** The CPU vendor profiles (intel, amd): whose behaviour the core follows where they differ (docs/cpu.md). */
  CPU_VENDORS,
  type CpuVendorName,
  type MachineConfig,
  type MachineSnapshot,
} from "./machine/machine.js";
/** Why a Kernel.run or Interleaver.runFor stopped (time is up, a fault, a lockup...). */
export type { StopReason } from "./machine/interleave.js";
/** The event log's records (switches, patching, grace periods, frees, faults) and their kinds. */
export { EventKind, SchedReason } from "./gen/layout.js";
export { formatEvent, type MachineEvent } from "./machine/events.js";

// Scenario files (docs/scenarios.md).
export {
  /** Parses and checks a scenario file's text; throws ScenarioErrors listing every problem. */
  loadScenario,
  /** Runs a loaded scenario and checks its expectations. */
  runScenario,
  /** The run carried out every step and every expectation held. */
  passed,
  /** The text `tramplab scenario` prints for a result. */
  report,
  type ScenarioOptions,
  type ScenarioResult,
} from "./scenario/scenario.js";
export { ScenarioErrors } from "./scenario/schema.js";
/** A file that cannot be used as input (not a regular file, over its size limit, unreadable): one line naming it. */
export { InputError } from "./io.js";
export type { Scenario } from "./scenario/types.js";
