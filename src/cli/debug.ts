// tramplab debug [IMAGE | PROGRAM [ARGS...]] [options]: the debugger REPL (or gdb's remote
// protocol) over a stopped machine: the guest kernel, or a static user program run alone.
import { Kernel } from "../kernel/kernel.js";
import { kernelConfig, type KernelConfig } from "../kernel/config.js";
import { ElfError, imageSpace } from "../machine/elf.js";
import { LoadError } from "../linux/loader.js";
import { OPTIONS } from "../kernel/options.js";
import { ProgramTarget } from "../debug/program.js";
import type { DebugTarget } from "../debug/target.js";
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
  /** A firmware image, or a user program (told apart by where its segments lie). */
  image?: string;
  /** The program's arguments (after its path; `--` before any that start with -). */
  args: string[];
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
  if (p.help) return { batch: false, config: {}, help: true, args: [] };
  const o: DebugOptions = { batch: p.flags.has("batch"), config: kernelOptions(p), args: [] };
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
  o.image = p.positionals[0];
  o.args = p.positionals.slice(1);
  return o;
}

/**
 * Boots a kernel from the firmware ELF `image` (the built-in one without it), as debug IMAGE and
 * run --image do; a file that cannot be read or booted is an InputError naming it.
 */
export function bootImage(config: KernelConfig, image: string | undefined, bytes?: Uint8Array): Kernel {
  if (!image) return new Kernel(config);
  const elf = bytes ?? readInput(image, "elf");
  return naming(image, () => new Kernel(config, elf));
}

/** `f()`, with an ElfError or LoadError turned into an InputError that names the file. */
function naming<T>(file: string, f: () => T): T {
  try { return f(); } catch (e) {
    if (e instanceof ElfError || e instanceof LoadError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The most arguments a program is given (execve's own limits are checked by the loader). */
const MAX_ARGS = 4096;

/** The kernel (the built-in one or IMAGE), or the user program the file is. */
function boot(o: DebugOptions): DebugTarget | Kernel {
  const file = o.image;
  if (!file) return bootImage(kernelConfig(o.config), undefined);
  const bytes = readInput(file, "elf");
  if (naming(file, () => imageSpace(bytes)) === "kernel") {
    if (o.args.length > 0) {
      throw new UsageError(`${file} is a kernel image: it takes no arguments (got ${JSON.stringify(o.args[0].slice(0, 80))})`);
    }
    return bootImage(kernelConfig(o.config), file, bytes);
  }
  const kernelOnly = Object.keys(o.config).filter((k) => k !== "cpuVendor").map((k) => `--${OPTIONS.find((x) => x.name === k)?.key ?? k}`);
  if (kernelOnly.length > 0) throw new UsageError(`${kernelOnly.join(", ")}: for the kernel, not for a program (${file})`);
  if (o.args.length > MAX_ARGS) throw new UsageError(`at most ${MAX_ARGS} program arguments (got ${o.args.length})`);
  const run = { argv: [file, ...o.args], env: [], cpuVendor: o.config.cpuVendor };
  return naming(file, () => new ProgramTarget(bytes, file, run, {
    // Copied: the bytes may be a view of guest memory, and the stream writes later.
    stdout: (b) => process.stdout.write(Buffer.from(b)),
    stderr: (b) => process.stderr.write(Buffer.from(b)),
    diagnostics: (l) => process.stderr.write(l + "\n"),
  }));
}

/** The first line a session prints. */
function banner(t: Kernel | DebugTarget): string {
  if (!(t instanceof Kernel)) return `tramplab debugger: ${t.title}, stopped at its first instruction. "help" lists the commands.`;
  return `tramplab debugger: ${t.machine.ncpus} vCPUs, preempt=${t.config.preempt}, ` +
    `stopped at virtual time ${formatTime(t.machine.time)}. "help" lists the commands.`;
}

async function session(o: DebugOptions, target: Kernel | DebugTarget, script: string | undefined): Promise<number> {
  const s = new Session(new Engine(target));
  const out = process.stdout;
  out.write(banner(target) + "\n");
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
  const target = boot(o);
  // gdbserver's rule for a program: it waits at the first instruction (else it could end
  // before gdb attaches); a kernel runs until gdb attaches unless --gdb-wait says otherwise.
  if (o.gdb) return serveGdb(target, target instanceof Kernel ? o.gdb : { ...o.gdb, wait: true });
  return session(o, target, script);
}

/**
 * --gdb: the remote protocol stub until gdb kills the session or Ctrl-C ends the process;
 * `extra` adds a monitor command of the caller's.
 */
export async function serveGdb(target: Kernel | DebugTarget, g: NonNullable<DebugOptions["gdb"]>,
  extra?: MonitorExtension): Promise<number> {
  const server = new GdbServer(new Engine(target), { ...g, log: (l) => process.stderr.write(l + "\n"), monitor: extra });
  try { await server.listen(); } catch (e) {
    throw new InputError(`cannot listen on ${g.host}:${g.port}: ${(e as Error).message}`);
  }
  const stop = () => server.close();
  process.once("SIGINT", stop);
  await server.done();
  process.off("SIGINT", stop);
  return 0;
}
