// Modules in the debugger: insmod, rmmod and lsmod at the current point of the run. Loading and
// unloading run the machine (init_module and cleanup_module run in a task of their own, free
// waits for a grace period), so each starts a new timeline, as `ftrace on` does.
import { InputError, readInput } from "../io.js";
import { ModuleLoadError } from "../kernel/module/loader.js";
import { parseInsmodLine, ParamError } from "../kernel/module/params.js";
import { insmodError, lsmod, rmmodError } from "../kernel/module/messages.js";
import { formatTime } from "../machine/units.js";
import { DebugError, type Engine } from "./engine.js";
import { hex } from "./format.js";

/** How long insmod waits for every vCPU to come up (as `run --insmod` does). */
const BOOT_WAIT = 100_000_000n;

/** insmod FILE [PARAM=VALUE]...: what the kernel printed meanwhile, then where the module went. */
export function insmodCommand(e: Engine, arg: string): string {
  let line;
  try {
    line = parseInsmodLine(arg);
  } catch (err) {
    if (err instanceof ParamError) throw new DebugError(`insmod: ${err.message} (usage: insmod FILE [PARAM=VALUE]...)`);
    throw err;
  }
  let bytes: Uint8Array;
  try { bytes = readInput(line.file, "module"); } catch (err) {
    if (err instanceof InputError) throw new DebugError(`insmod: ${err.message}`);
    throw err;
  }
  const k = e.kernel;
  return whileRunning(e, () => {
    // Stopped before the kernel brought every vCPU up (at the first instruction): it boots first.
    if (!k.runUntil(() => k.online.size === k.machine.ncpus, BOOT_WAIT)) {
      throw new DebugError(`insmod: the kernel did not bring every vCPU up within ${formatTime(BOOT_WAIT)}`);
    }
    const m = k.insmod(bytes, line.file, line.args);
    return `module ${m.name} loaded: text at ${hex(m.bases.text)}, virtual time ${formatTime(e.machine.time)}`;
  }, (err) => insmodError(line.file, err));
}

/** rmmod NAME: what the kernel printed meanwhile, then when the module's memory was freed. */
export function rmmodCommand(e: Engine, arg: string): string {
  if (!/^[\w-]+$/.test(arg)) throw new DebugError("usage: rmmod NAME");
  return whileRunning(e, () => {
    const m = e.kernel.rmmod(arg);
    return `module ${m.name} freed at virtual time ${formatTime(m.freedAt!)} (${m.freedBy})`;
  }, (err) => rmmodError(arg, err));
}

export function lsmodCommand(e: Engine): string {
  return lsmod(e.kernel.modules.loaded);
}

/**
 * Runs a load or unload; the console lines it caused come first. A refusal is an error line in
 * insmod's or rmmod's words; the machine may have run either way, so the timeline restarts here.
 */
function whileRunning(e: Engine, f: () => string, refused: (err: ModuleLoadError) => string): string {
  const k = e.kernel;
  const before = k.console.length;
  let result: string | ModuleLoadError;
  try {
    result = f();
  } catch (err) {
    if (!(err instanceof ModuleLoadError)) throw err;
    result = err;
  } finally {
    e.changed(true);
  }
  const printed = k.console.slice(before).join("").trimEnd();
  if (result instanceof ModuleLoadError) {
    // The kernel's lines still show: they say why (an unknown symbol, a bad value).
    throw new DebugError(printed ? `${refused(result)}\n${printed}` : refused(result));
  }
  return printed ? `${printed}\n${result}` : result;
}
