// `monitor CMD` (qRcmd): the REPL's kernel views, by the REPL's own functions.
import { DebugError, type Engine } from "../engine.js";
import { LIMITS, numberArg } from "../arguments.js";
import { ftraceCommand, pokeLog, trampolines, rcuView, type FtraceSettings } from "../kernelviews.js";
import { infoStacks } from "../views.js";
import type { Slices } from "../../machine/slices.js";

/** The longest monitor command accepted (gdb sends it hex-encoded inside one packet). */
export const MAX_MONITOR_LINE = 1024;

export const MONITOR_HELP = [
  "monitor commands:",
  "  ftrace filter GLOBS | on | off | enabled_functions | trace [N]   the function tracer",
  "  tramp            dynamic trampolines",
  "  rcu              RCU flavours and pending releases",
  "  poke log [N]     the text-poke log",
  "  info stacks      the kernel's stacks and which vCPUs are on them",
].join("\n");

/**
 * A monitor command the stub's user adds (`scenario` under `tramplab scenario --gdb`): its
 * lines for `monitor help`, and what it does with the words after its name.
 */
export interface MonitorExtension {
  name: string;
  help: string[];
  run(e: Engine, args: string[]): string | MonitorJob;
}

/**
 * A monitor command that runs the machine for long (a scenario's step): the server carries it
 * out in slices, so gdb's Ctrl-C, a vanished client and the stub's own end are seen between them.
 */
export interface MonitorJob {
  /** The work; returns the command's text, or throws DebugError with the reason it failed. */
  slices: Slices<string>;
  /** A line saying how far it got (sent to gdb now and then while it runs). */
  progress(): string;
  /** Stops it part way (between slices); the command's text. */
  interrupt(): string;
}

/** Runs one monitor command; its text (or the job that makes it), or a DebugError with the reason it was refused. */
export function monitor(e: Engine, ftrace: FtraceSettings, line: string, extra?: MonitorExtension): string | MonitorJob {
  if (line.length > MAX_MONITOR_LINE) throw new DebugError(`a monitor command is at most ${MAX_MONITOR_LINE} characters`);
  const words = line.trim().split(/\s+/).filter((w) => w !== "");
  const [cmd, ...rest] = words;
  if (extra && cmd === extra.name) return extra.run(e, rest);
  switch (cmd) {
    case undefined: case "help":
      return extra ? [MONITOR_HELP, ...extra.help].join("\n") : MONITOR_HELP;
    case "ftrace":
      return ftraceCommand(e, ftrace, rest);
    case "tramp": case "trampolines":
      if (rest.length) throw new DebugError("tramp takes no arguments");
      return trampolines(e);
    case "rcu":
      if (rest.length) throw new DebugError("rcu takes no arguments");
      return rcuView(e);
    case "poke":
      if (rest[0] !== "log" || rest.length > 2) throw new DebugError("usage: poke log [N]");
      return pokeLog(e, numberArg(rest[1] ?? "", "poke log takes", 1, LIMITS.lines, 20));
    case "info":
      if (rest.length !== 1 || rest[0] !== "stacks") throw new DebugError("usage: info stacks");
      return infoStacks(e);
    default:
      throw new DebugError(`unknown monitor command "${cmd}" ("monitor help" lists them)`);
  }
}
