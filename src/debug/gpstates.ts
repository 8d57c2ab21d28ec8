// The states `break-on gp FLAVOUR STATE` accepts: the states a flavour's grace-period machine
// waits in, from the table its state machine is typed against (src/kernel/rcu/states.ts), so a
// state it never enters is refused instead of making a breakpoint that can never fire. The
// passing states (invoke_cbs, scan_tasklist, scan_holdouts) are left out: a flavour enters and
// leaves them within one advance, so no round boundary ever sees them.
import type { Flavour } from "../kernel/rcu/flavour.js";

export function gpStates(f: Flavour): string[] {
  return [...f.gpStates.waits];
}
