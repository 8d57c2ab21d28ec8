// Carrying out the module steps (insmod, rmmod) on the library API, and finding the ops a module
// registered from its own code: ftrace names those MODULE:SYMBOL.
import { ErrnoName } from "../gen/constants.js";
import type { Kernel } from "../kernel/kernel.js";
import type { OpsState } from "../kernel/ftrace/ops.js";
import type { Release } from "../kernel/ftrace/release.js";
import { ModuleLoadError } from "../kernel/module/loader.js";
import { insmodError, rmmodError } from "../kernel/module/messages.js";
import { formatTime } from "../machine/units.js";
import type { InsmodStep, Step } from "./types.js";

/** How long an insmod step waits for every vCPU to come up before loading (as `run --insmod` does). */
const BOOT_WAIT = 100_000_000n;

/** Ends the step with this message (the scenario stops there). */
type Fail = (message: string) => never;

/** The ops a module registered under `name` (MODULE:SYMBOL): the latest, if it was loaded more than once. */
export function moduleOps(k: Kernel, name: string): OpsState | undefined {
  let found: OpsState | undefined;
  for (const o of k.ftrace.byId.values()) if (o.name === name && o.external) found = o;
  return found;
}

/** Every release of the module ops named `name`, oldest first. */
export function moduleOpsReleases(k: Kernel, name: string): Release[] {
  return k.releases.all.filter((r) => r.ops.name === name && r.ops.external);
}

function errnoName(e: ModuleLoadError): string {
  return ErrnoName[e.errno] ?? `errno ${e.errno}`;
}

/** insmod; the lines for the run's log, or fail() when the outcome is not the one asked for. */
export function insmodStep(k: Kernel, s: InsmodStep, fail: Fail): string[] {
  const ncpus = k.machine.ncpus;
  if (!k.runUntil(() => k.online.size === ncpus, BOOT_WAIT)) {
    fail(`insmod: the kernel did not bring every vCPU up within ${formatTime(BOOT_WAIT)}`);
  }
  try {
    const m = k.insmod(s.bytes, s.file, s.args);
    if (s.fails) fail(`expected insmod to fail with ${s.fails}, but module ${m.name} loaded`);
    return [`module ${m.name} loaded at 0x${m.bases.text.toString(16)}`];
  } catch (e) {
    if (!(e instanceof ModuleLoadError)) throw e;
    return refused(fail, s.fails, errnoName(e), insmodError(s.file, e));
  }
}

export function rmmodStep(k: Kernel, s: Extract<Step, { kind: "rmmod" }>, fail: Fail): string[] {
  try {
    const m = k.rmmod(s.module);
    if (s.fails) fail(`expected rmmod to fail with ${s.fails}, but module ${m.name} was removed`);
    return [`module ${m.name} freed (${m.freedBy})`];
  } catch (e) {
    if (!(e instanceof ModuleLoadError)) throw e;
    return refused(fail, s.fails, errnoName(e), rmmodError(s.module, e));
  }
}

function refused(fail: Fail, fails: string | undefined, errno: string, text: string): string[] {
  if (fails === errno) return [`refused as expected: ${errno}: ${text}`];
  return fail(fails ? `expected ${fails}, got ${errno}: ${text}` : `${errno}: ${text}`);
}
