// tramplab debug [IMAGE] [options]: the debugger REPL over a stopped machine.
import { Kernel } from "../kernel/kernel.js";
import { kernelConfig, type KernelConfig } from "../kernel/config.js";
import { ElfError } from "../machine/elf.js";
import { formatTime } from "../machine/units.js";
import { FLAG, InputError, parseOptions, UsageError, type OptionSpec } from "./args.js";
import { inputLines, readInput, readInputText } from "../io.js";
import { KERNEL_OPTIONS, kernelOptions, type KernelOptions } from "./kernelopts.js";
import { DEBUG_USAGE } from "./usage.js";
import { Engine } from "../debug/engine.js";
import { Session } from "../debug/commands.js";
import { batch, interactive } from "../debug/repl.js";
import { GdbServer, parseListen } from "../debug/gdbstub/server.js";
import type { MonitorExtension } from "../debug/gdbstub/monitor.js";

interface DebugOptions {
  image?: string;
  script?: string;
  batch: boolean;
  config: KernelOptions;
  help?: boolean;
  /** --gdb [HOST:]PORT / --gdb-wait: serve gdb's remote protocol instead of the REPL. */
  gdb?: { host: string; port: number; wait: boolean };
}

const DEBUG_OPTIONS = {
  ...KERNEL_OPTIONS, command: { type: "string", short: "x" }, batch: FLAG, gdb: { type: "string" }, "gdb-wait": FLAG,
} satisfies OptionSpec;

export function parseDebug(args: string[]): DebugOptions {
  const p = parseOptions(args, DEBUG_OPTIONS);
  if (p.help) return { batch: false, config: {}, help: true };
  const o: DebugOptions = { batch: p.flags.has("batch"), config: kernelOptions(p) };
  if (p.values.has("command")) {
    const v = p.values.get("command");
    if (!v) throw new UsageError("-x needs a file of commands");
    o.script = v;
  }
  if (p.values.has("gdb") || p.flags.has("gdb-wait")) {
    const v = p.values.has("gdb") ? p.values.get("gdb") ?? "" : "1234";
    const l = parseListen(v);
    if (!l) throw new UsageError(`--gdb needs [HOST:]PORT (a port 0 to 65535), got ${v ? JSON.stringify(v.slice(0, 80)) : "nothing"}`);
    if (o.script !== undefined || p.flags.has("batch")) {
      throw new UsageError("--gdb serves gdb instead of the REPL: -x and --batch do not apply");
    }
    o.gdb = { ...l, wait: p.flags.has("gdb-wait") };
  }
  if (p.positionals.length > 1) throw new UsageError(`one image only (got ${p.positionals[0]} and ${p.positionals[1]})`);
  o.image = p.positionals[0];
  return o;
}

/**
 * Boots a kernel from the firmware ELF `image` (the built-in one without it), as debug IMAGE and
 * run --image do; a file that cannot be read or booted is an InputError naming it.
 */
export function bootImage(config: KernelConfig, image: string | undefined): Kernel {
  if (!image) return new Kernel(config);
  const bytes = readInput(image, "elf");
  try { return new Kernel(config, bytes); } catch (e) {
    if (e instanceof ElfError) throw new InputError(`${image}: ${e.message}`);
    throw e;
  }
}

function boot(o: DebugOptions): Kernel {
  return bootImage(kernelConfig(o.config), o.image);
}

async function session(o: DebugOptions, kernel: Kernel, script: string | undefined): Promise<number> {
  const s = new Session(new Engine(kernel));
  const out = process.stdout;
  const m = kernel.machine;
  out.write(`tramplab debugger: ${m.ncpus} vCPUs, preempt=${kernel.config.preempt}, ` +
    `stopped at virtual time ${formatTime(m.time)}. "help" lists the commands.\n`);
  out.write(s.engine.where() + "\n");
  if (script !== undefined) {
    if (!(await batch(s, script.split("\n"), out)) || o.batch) return batchStatus(s);
  }
  if (process.stdin.isTTY) {
    await interactive(s, process.stdin, out);
    return 0;
  }
  await batch(s, inputLines(process.stdin, "standard input"), out);
  return batchStatus(s);
}

/** As gdb -batch: 1 if any command failed (printed an `error:` line), 0 otherwise. */
function batchStatus(s: Session): number {
  return s.errors > 0 ? 1 : 0;
}

/**
 * Runs the debugger; resolves to the exit status when the session ends. Usage errors, unusable
 * files and a line of standard input too long to be a command (InputError, src/io.ts) are
 * thrown: main() prints them on one line and exits 2.
 */
export async function debug(args: string[]): Promise<number> {
  const o = parseDebug(args);
  if (o.help) { process.stdout.write(DEBUG_USAGE + "\n"); return 0; }
  // The command file is read first: one that cannot be read is refused before anything boots.
  const script = o.script !== undefined ? readInputText(o.script, "commands") : undefined;
  const kernel = boot(o);
  if (o.gdb) return serveGdb(kernel, o.gdb);
  return session(o, kernel, script);
}

/**
 * --gdb: the remote protocol stub until gdb kills the session or Ctrl-C ends the process;
 * `extra` adds a monitor command of the caller's.
 */
export async function serveGdb(kernel: Kernel, g: NonNullable<DebugOptions["gdb"]>, extra?: MonitorExtension): Promise<number> {
  const server = new GdbServer(new Engine(kernel), { ...g, log: (l) => process.stderr.write(l + "\n"), monitor: extra });
  try { await server.listen(); } catch (e) {
    throw new InputError(`cannot listen on ${g.host}:${g.port}: ${(e as Error).message}`);
  }
  const stop = () => server.close();
  process.once("SIGINT", stop);
  await server.done();
  process.off("SIGINT", stop);
  return 0;
}
