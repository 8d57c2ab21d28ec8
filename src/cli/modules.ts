// Modules on `tramplab run`: --insmod lines are checked and their files read before the kernel
// boots, loaded once every vCPU is up; --rmmod names are unloaded after the run's time.
import { readInput } from "../io.js";
import type { Kernel } from "../kernel/kernel.js";
import { ModuleLoadError, parseInsmodLine, ParamError } from "../kernel/module/loader.js";
import { insmodError, rmmodError } from "../kernel/module/messages.js";
import { UsageError } from "./args.js";

export interface InsmodRequest {
  line: string;
  file: string;
  bytes: Uint8Array;
  args: { name: string; value?: string }[];
}

/** Parses each insmod line and reads its module file (bad lines and files are usage errors). */
export function readInsmodLines(lines: string[]): InsmodRequest[] {
  return lines.map((line) => {
    let parsed;
    try {
      parsed = parseInsmodLine(line);
    } catch (e) {
      if (e instanceof ParamError) throw new UsageError(`--insmod ${JSON.stringify(line)}: ${e.message}`);
      throw e;
    }
    return { line, file: parsed.file, args: parsed.args, bytes: readInput(parsed.file, "module") };
  });
}

/** How long to wait for every vCPU to finish booting before the first insmod (virtual time). */
const BOOT_WAIT = 100_000_000n;

/** Loads the modules in order; each failure is printed (insmod's words). False if one failed. */
export function loadModules(kernel: Kernel, requests: InsmodRequest[], err: (line: string) => void): boolean {
  if (requests.length === 0) return true;
  const ncpus = kernel.machine.ncpus;
  if (!kernel.runUntil(() => kernel.online.size === ncpus, BOOT_WAIT)) {
    err("insmod: ERROR: the kernel did not finish booting; no module was loaded");
    return false;
  }
  let ok = true;
  for (const r of requests) {
    try {
      kernel.insmod(r.bytes, r.file, r.args);
    } catch (e) {
      if (!(e instanceof ModuleLoadError)) throw e;
      err(insmodError(r.file, e));
      ok = false;
    }
  }
  return ok;
}

/** Unloads the named modules in order; each failure is printed (rmmod's words). */
export function unloadModules(kernel: Kernel, names: string[], err: (line: string) => void): boolean {
  let ok = true;
  for (const name of names) {
    try {
      kernel.rmmod(name);
    } catch (e) {
      if (!(e instanceof ModuleLoadError)) throw e;
      err(rmmodError(name, e));
      ok = false;
    }
  }
  return ok;
}
