// The control plane's state as plain data: one object holds every subsystem's mutable state
// (objects, arrays, Maps, Sets, bigints; no functions, no class instances), so a snapshot is
// `structuredClone(state)` and restoring one is putting a copy back. Behaviour lives in the
// subsystems' classes, which read their part through an accessor on every use.
//
// Objects may refer to each other inside the state (a run queue holds the Task objects of
// `sched.tasks`, a release its ops' and trampoline's state, a release step its flavour's):
// cloned in one structuredClone call, the links stay links. Nothing outside the state holds
// on to these objects across a restore; an FtraceOps handle finds its state again by id.
import type { FrameState } from "../machine/paging.js";
import type { InterleaveState } from "../machine/interleave.js";
import { initialSchedState, type SchedState } from "./sched.js";
import { initialRcuStates, type RcuStates } from "./rcu/index.js";
import { initialFtraceState, type FtraceState } from "./ftrace/ftrace.js";
import { initialTrampolinesState, type TrampolinesState } from "./ftrace/trampoline.js";
import type { Release } from "./ftrace/release.js";
import { initialPokeState, type PokeState } from "./ftrace/textpoke.js";
import { initialHeapState, type HeapState } from "./heap.js";
import type { DemandState } from "./traps/demand.js";
import { initialTracepointState, type TracepointState } from "./tracepoint.js";
import type { StacksState } from "./stacks.js";
import type { BootedKernel } from "./boot.js";
import type { Oops } from "./oops.js";
import type { Warning } from "./traps/warn.js";
import type { UseAfterFree } from "./uaf.js";
import type { Job } from "./jobs.js";
import { initialModuleApiState, type ModuleApiState } from "./module/api.js";
import { initialModulesState, type ModulesState } from "./module/loader.js";

export interface Lockup {
  cpu: number;
  task: string;
  pid: number;
  rip: bigint;
  ticks: bigint;
  text: string;
}

/** What the guest kernel reported. */
export interface Reports {
  console: string[];
  /** The virtual time of each console write (the kernel log's timestamps). */
  consoleTimes: bigint[];
  oopses: Oops[];
  lockups: Lockup[];
  /** Executions of freed trampoline memory, caught. */
  useAfterFrees: UseAfterFree[];
  /** WARN_ON() reports. */
  warnings: Warning[];
}

export interface KernelState {
  sched: SchedState;
  rcu: RcuStates;
  ftrace: FtraceState;
  trampolines: TrampolinesState;
  /** Unregistered ops waiting for their grace periods, and freed ones. */
  releases: Release[];
  poke: PokeState;
  heap: HeapState;
  demand: DemandState;
  tracepoint: TracepointState;
  reports: Reports;
  /** vCPUs that finished early boot. */
  online: Set<number>;
  /** Tasks waiting for the host's work (host jobs). */
  jobs: Job[];
  moduleApi: ModuleApiState;
  modules: ModulesState;
  /** The state of objects boot created below the kernel (put back into them on restore). */
  frames: FrameState;
  stacks: StacksState;
  interleave: InterleaveState;
}

/** The state of a kernel just booted: boot's tasks, frames and stacks, and the interleaver's generator. */
export function initialKernelState(booted: BootedKernel, interleave: InterleaveState): KernelState {
  return {
    sched: initialSchedState(booted.tasks, booted.machine.ncpus), rcu: initialRcuStates(), ftrace: initialFtraceState(),
    trampolines: initialTrampolinesState(), releases: [], poke: initialPokeState(), heap: initialHeapState(),
    demand: { mapped: [], sleepJiffies: 0 }, tracepoint: initialTracepointState(),
    reports: { console: [], consoleTimes: [], oopses: [], lockups: [], useAfterFrees: [], warnings: [] }, online: new Set(),
    jobs: [], moduleApi: initialModuleApiState(), modules: initialModulesState(),
    frames: booted.frames.state, stacks: booted.stacks.state, interleave,
  };
}

/** Appends to the kernel log: the console's text and the time it was written. */
export function printk(r: Reports, text: string, time: bigint): void {
  r.console.push(text);
  r.consoleTimes.push(time);
}
