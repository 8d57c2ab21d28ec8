// The states each RCU flavour's grace-period machine can be seen in between rounds of the
// machine (where `break-on gp FLAVOUR STATE` looks), so a state it never enters is refused
// instead of making a breakpoint that can never fire. They are the states src/kernel/rcu/*.ts
// waits in; the passing ones (invoke_cbs, scan_tasklist, scan_holdouts) are left out: a flavour
// enters and leaves them within one advance, so no round boundary ever sees them.
import type { Flavour } from "../kernel/rcu/flavour.js";
import { Rcu } from "../kernel/rcu/rcu.js";
import { TasksRcu } from "../kernel/rcu/tasks.js";
import { TasksRudeRcu } from "../kernel/rcu/rude.js";
import { TasksTraceRcu } from "../kernel/rcu/trace.js";
import { TrampolineScan } from "../kernel/rcu/scan.js";

export function gpStates(f: Flavour): string[] {
  if (f instanceof Rcu) return ["idle", "wait_qs"];
  if (f instanceof TasksRcu) return ["idle", "wait_pregp", "wait_scan_holdouts", "post_gp"];
  if (f instanceof TasksRudeRcu) return ["idle", "wait_switches"];
  if (f instanceof TasksTraceRcu) return ["idle", "wait_readers"];
  if (f instanceof TrampolineScan) return ["idle", "wait_scan_holdouts"];
  return ["idle"];
}
