// Every grace-period state each RCU flavour's state machine enters: the one table the flavours
// are typed against (Flavour.setState takes only a state of its flavour's table, so a new state
// must be added here to compile) and the debugger reads (`break-on gp FLAVOUR STATE` accepts
// exactly the `waits` states).
//
//   waits   states a flavour stays in until a later advance(): what the machine shows between
//           rounds, so a breakpoint on entering one can fire
//   passes  states entered and left within one advance() (a scan, running callbacks): no round
//           boundary ever sees them, so a breakpoint on them could never fire
//
// Every flavour starts idle and runs its callbacks in invoke_cbs (Flavour.endGp).

export interface GpStateTable {
  readonly waits: readonly string[];
  readonly passes: readonly string[];
}

/** The states of a table, as a type: what its flavour's setState accepts. */
export type GpState<T extends GpStateTable> = T["waits"][number] | T["passes"][number];

/** The consolidated flavour (rcu.ts): waiting for every vCPU's quiescent state. */
export const RCU_STATES = { waits: ["idle", "wait_qs"], passes: ["invoke_cbs"] } as const;

/** Tasks RCU (tasks.ts), as rcu_tasks_wait_gp() runs it. */
export const TASKS_RCU_STATES = {
  waits: ["idle", "wait_pregp", "wait_scan_holdouts", "post_gp"], passes: ["scan_tasklist", "scan_holdouts", "invoke_cbs"],
} as const;

/** Tasks Rude RCU (rude.ts): waiting for every vCPU to pass through the scheduler. */
export const TASKS_RUDE_STATES = { waits: ["idle", "wait_switches"], passes: ["invoke_cbs"] } as const;

/** Tasks Trace RCU (trace.ts), as rcu_tasks_wait_gp() runs it with the trace flavour's functions. */
export const TASKS_TRACE_STATES = {
  waits: ["idle", "post_scan_tasklist", "wait_scan_holdouts"], passes: ["scan_tasklist", "scan_holdouts", "invoke_cbs"],
} as const;

/** The ip-check and stack-scan alternatives (scan.ts): rescanning the holdouts with backoff. */
export const SCAN_STATES = { waits: ["idle", "wait_scan_holdouts"], passes: ["scan_holdouts", "invoke_cbs"] } as const;
