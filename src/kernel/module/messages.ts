// What insmod, rmmod and lsmod print (the kmod tools' words), for every face: the run command,
// scenario steps and the debugger.
import { Errno } from "../../gen/constants.js";
import { ModuleLoadError, type LoadedModule } from "./loader.js";

/** The message text of an errno, as insmod prints it (strerror, and kmod's own for -EINVAL and -ENOENT). */
const REASONS: Record<number, string> = {
  [Errno.EINVAL]: "Invalid parameters", [Errno.ENOENT]: "Unknown symbol in module", [Errno.EEXIST]: "File exists",
  [Errno.ENOEXEC]: "Invalid module format", [Errno.ENOMEM]: "Cannot allocate memory", [Errno.EBUSY]: "Device or resource busy",
  [Errno.ENODEV]: "No such device", [Errno.EPERM]: "Operation not permitted", [Errno.EFAULT]: "Bad address",
  [Errno.ENOSPC]: "No space left on device", [Errno.EAGAIN]: "Resource temporarily unavailable", [Errno.EINTR]: "Interrupted system call",
};

export function errnoText(errno: number): string {
  return REASONS[errno] ?? `Unknown error ${errno}`;
}

/** "insmod: ERROR: could not insert module F: Invalid parameters", and the detail when there is one. */
export function insmodError(file: string, e: ModuleLoadError): string {
  return `insmod: ERROR: could not insert module ${file}: ${errnoText(e.errno)} (${e.message})`;
}

export function rmmodError(name: string, e: ModuleLoadError): string {
  if (e.errno === Errno.ENOENT) return `rmmod: ERROR: Module ${name} is not currently loaded`;
  return `rmmod: ERROR: could not remove module ${name}: ${errnoText(e.errno)} (${e.message})`;
}

/** lsmod: name, size, what uses it (nothing: modules here do not depend on each other). */
export function lsmod(modules: LoadedModule[]): string {
  const lines = ["Module                  Size  Used by"];
  for (const m of [...modules].reverse()) {
    const size = Object.values(m.sizes).reduce((a, b) => a + b, 0);
    lines.push(`${m.name.padEnd(19)} ${String(size).padStart(8)}  0${m.state === "live" ? "" : ` [${m.state}]`}`);
  }
  return lines.join("\n");
}
