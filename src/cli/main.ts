// tramplab command line.
import { join } from "node:path";
import { ElfError } from "../machine/elf.js";
import { formatTime } from "../machine/units.js";
import { runProgramSlices } from "../linux/process.js";
import { LoadError } from "../linux/loader.js";
import { Kernel } from "../kernel/kernel.js";
import { configFields, kernelConfig } from "../kernel/config.js";
import { InputError, parseOptions, UsageError } from "./args.js";
import { runSummary } from "./summary.js";
import { FunctionTracer } from "../kernel/ftrace/tracers.js";
import { FtraceError, GlobError } from "../kernel/ftrace/ftrace.js";
import { enabledFunctions, traceFile } from "../kernel/ftrace/tracefs.js";
import { EventKind } from "../gen/layout.js";
import { flagValues, optionSpec, RUN_FLAGS, type KernelOptions } from "./kernelopts.js";
import { RUN_USAGE } from "./usage.js";
import { option } from "../kernel/options.js";
import type { StopReason } from "../machine/interleave.js";
import { projectRoot } from "../paths.js";
import { readInput, readInputText } from "../io.js";
import type { Slices } from "../machine/slices.js";
import { INTERRUPTED, interruptedNote, withInterrupts } from "./interrupt.js";
import { torture } from "./torture.js";
import { scenario } from "./scenario.js";
import { checkNoinstrCommand } from "./noinstr.js";
import { bootImage, debug, serveGdb } from "./debug.js";
import { parseListen } from "../debug/gdbstub/server.js";
import { loadModules, readInsmodLines, unloadModules } from "./modules.js";
import { dmesg } from "../kernel/log.js";
import { buildModule } from "./build-module.js";
import { compareReleaseCommand } from "./compare-release.js";

const USAGE = `usage: tramplab COMMAND [OPTIONS]

Commands:
  run [PROGRAM [ARGS]]  boot the built-in guest kernel, or run a static x86-64 Linux program
  torture               random ftrace register/unregister campaigns, checked after every step
  scenario FILE...      run declarative scenario files and check their expectations
  debug [IMAGE]         a gdb-like debugger over the stopped machine
  check-noinstr IMAGE   report calls and jumps that leave .noinstr.text (exit 1 if any)
  build-module SRC...   compile and link module sources into a relocatable object (.ko)
  compare-release       seed 000's ways of releasing a trampoline, side by side on one victim

'tramplab COMMAND --help' shows a command's options; 'tramplab --version' prints the version.`;

interface RunOptions extends KernelOptions {
  program?: string;
  programArgs: string[];
  maxInsns?: bigint;
  stats: boolean;
  time?: bigint;
  tracer?: "function";
  filter?: string;
  traceLines?: number;
  image?: string;
  insmod?: string[];
  rmmod?: string[];
  gdb?: string;
  gdbWait?: boolean;
  help?: boolean;
}

const RUN_OPTIONS = optionSpec(RUN_FLAGS);

function parseRun(args: string[]): RunOptions {
  const p = parseOptions(args, RUN_OPTIONS, { rest: true });
  if (p.help) return { programArgs: [], stats: false, help: true };
  const o: RunOptions = { stats: false, ...(flagValues(p, RUN_FLAGS) as Partial<RunOptions>), programArgs: [] };
  if (p.rest.length > 0) { o.program = p.rest[0]; o.programArgs = p.rest.slice(1); }
  return o;
}

async function runUserProgram(o: RunOptions): Promise<number> {
  const kernelOptionGiven = o.cpus !== undefined || o.preempt || o.kconfig || o.seed !== undefined || o.time !== undefined ||
    o.tracer || o.filter !== undefined || o.release || o.recursion;
  if (o.image !== undefined) throw new UsageError("--image boots a kernel image; a program runs without one");
  if (o.insmod?.length || o.rmmod?.length || o.gdb !== undefined || o.gdbWait) {
    throw new UsageError("--insmod, --rmmod, --gdb and --gdb-wait apply to the built-in kernel, not to a program");
  }
  if (kernelOptionGiven) {
    throw new UsageError("--cpus, --preempt, --kconfig, --seed, --time, --tracer, --filter, --release and --recursion " +
      "apply to the built-in kernel, not to a program");
  }
  let slices;
  try {
    slices = runProgramSlices(readInput(o.program!, "elf"), {
      argv: [o.program!, ...o.programArgs], maxInsns: o.maxInsns, env: [], cpuVendor: o.cpuVendor,
    });
  } catch (e) {
    if (e instanceof ElfError || e instanceof LoadError) { process.stderr.write(`tramplab: ${o.program}: ${e.message}\n`); return 2; }
    throw e;
  }
  const result = await withInterrupts((i) => i.run(slices));
  if (!result) { process.stderr.write(interruptedNote("run", `while ${o.program} was running`)); return INTERRUPTED; }
  if (o.stats) {
    const mips = Number(result.insns) / (result.wallMs * 1000);
    process.stderr.write(
      `tramplab: ${result.insns} instructions retired in ${result.wallMs.toFixed(1)} ms (${mips.toFixed(1)} guest MIPS)\n`);
  }
  return result.exitCode;
}

async function runKernel(o: RunOptions): Promise<number> {
  if (o.maxInsns !== undefined) throw new UsageError("--max-insns applies to a program; the kernel runs for --time");
  if (o.filter !== undefined && !o.tracer) throw new UsageError("--filter needs --tracer function");
  if (o.image === "") throw new UsageError("--image needs an ELF file");
  const modules = readInsmodLines(o.insmod ?? []);
  const gdb = gdbListen(o);
  const config = kernelConfig(configFields(o));
  const kernel = bootImage(config, o.image);
  const time = o.time ?? (option("time").default as bigint);
  const t0 = performance.now();
  const err = (line: string) => process.stderr.write(line + "\n");
  let modulesOk = loadModules(kernel, modules, err);
  if (gdb) {
    if (!modulesOk) return 1;
    return serveGdb(kernel, gdb);
  }
  let stop = await withInterrupts((i) => i.run(o.tracer ? traceLive(kernel, time, o) : kernel.runSlices(time)));
  if (stop && stop.kind === "time" && o.rmmod?.length) {
    modulesOk = unloadModules(kernel, o.rmmod, err) && modulesOk;
    stop = await withInterrupts((i) => i.run(kernel.runSlices(AFTER_RMMOD)));
  }
  if (!stop) {
    process.stderr.write(interruptedNote("run", `at ${formatTime(kernel.machine.time)} of virtual time (of ${formatTime(time)})`));
    return INTERRUPTED;
  }
  const wall = performance.now() - t0;
  // The kernel log, as dmesg prints it: module lines are seen with their time.
  process.stdout.write(dmesg(kernel.state.reports));
  process.stdout.write(runSummary(kernel) + "\n");
  process.stdout.write(`stopped: ${kernel.describe(stop)}\n`);
  if (o.stats) {
    const insns = kernel.machine.cpus.reduce((n, c) => n + c.get("insns"), 0n);
    const mips = Number(insns) / (wall * 1000);
    process.stderr.write(`tramplab: ${insns} instructions retired in ${wall.toFixed(1)} ms (${mips.toFixed(1)} guest MIPS)\n`);
  }
  return stop.kind === "time" && modulesOk ? 0 : 1;
}

/** --gdb / --gdb-wait as debug takes them; undefined when neither is given. */
function gdbListen(o: RunOptions): { host: string; port: number; wait: boolean } | undefined {
  if (o.gdb === undefined && !o.gdbWait) return undefined;
  const v = o.gdb ?? "1234";
  const l = parseListen(v);
  if (!l) throw new UsageError(`--gdb needs [HOST:]PORT (a port 0 to 65535), got ${v ? JSON.stringify(v.slice(0, 80)) : "nothing"}`);
  if (o.tracer || o.rmmod?.length || o.time !== undefined) {
    throw new UsageError("--gdb hands the machine to gdb: --time, --tracer and --rmmod do not apply");
  }
  return { ...l, wait: o.gdbWait ?? false };
}

/** How long `run` goes on after --rmmod: long enough for a forgotten callback to run into freed text. */
const AFTER_RMMOD = 10_000_000n;

/** Runs a third of the time, switches the function tracer on, a third, off, a third. */
function* traceLive(kernel: Kernel, time: bigint, o: RunOptions): Slices<StopReason> {
  const w = (s: string) => process.stdout.write(s + "\n");
  const third = time / 3n;
  const tracer = new FunctionTracer(kernel.machine, kernel.heap, 1 << 14, o.filter ?? "");
  let stop = yield* kernel.runSlices(third);
  if (stop.kind !== "time") return stop;
  const before = { ...kernel.poke.stats };
  try {
    kernel.ftrace.register(tracer.ops);
  } catch (e) {
    if (e instanceof FtraceError || e instanceof GlobError) throw new UsageError(e.message);
    throw e;
  }
  const s = kernel.poke.stats;
  w(`tracing on at ${formatTime(kernel.machine.time)}: ` +
    `${s.sitesChanged - before.sitesChanged} sites patched in ${s.batches - before.batches} batches, ` +
    `${s.ipis - before.ipis} IPIs, ${s.int3Hits - before.int3Hits} int3 hits emulated`);
  w("enabled_functions:");
  process.stdout.write(enabledFunctions(kernel.ftrace, kernel.trampolines, kernel.symbols));
  stop = yield* kernel.runSlices(third);
  const records = tracer.consume();
  kernel.ftrace.unregister(tracer.ops);
  const hazards = kernel.machine.events.ofKind(EventKind.HAZARD).length;
  w(`tracing off at ${formatTime(kernel.machine.time)}; ${hazards} cross-modifying-code hazards so far`);
  const n = o.traceLines ?? (option("traceLines").default as number);
  const text = traceFile(tracer, records, kernel.sched.tasks, kernel.symbols, kernel.machine.ncpus).split("\n");
  const header = text.filter((l) => l.startsWith("#"));
  const lines = text.filter((l) => l && !l.startsWith("#"));
  const more = lines.length > n ? [`... ${lines.length - n} more lines`] : [];
  process.stdout.write([...header, ...lines.slice(0, n), ...more].join("\n") + "\n");
  if (stop.kind !== "time") return stop;
  return yield* kernel.runSlices(time - 2n * third);
}

/** An error message on one line whatever was typed: control characters escaped as in JSON. */
function oneLine(message: string): string {
  return message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\x7f" ? "\\u007f" : JSON.stringify(c).slice(1, -1)));
}

const COMMANDS = ["run", "torture", "scenario", "check-noinstr", "debug", "build-module", "compare-release"];

function version(): string {
  return JSON.parse(readInputText(join(projectRoot, "package.json"), "project")).version;
}

/** Runs a command; resolves to its exit status when it is done (a debugger session when it ends). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "run": {
        const o = parseRun(rest);
        if (o.help) { process.stdout.write(RUN_USAGE + "\n"); return 0; }
        return await (o.program ? runUserProgram(o) : runKernel(o));
      }
      case "torture": return await torture(rest);
      case "scenario": return await scenario(rest);
      case "check-noinstr": return checkNoinstrCommand(rest);
      case "debug": return await debug(rest);
      case "build-module": return buildModule(rest);
      case "compare-release": return compareReleaseCommand(rest);
      case "help":
        // `tramplab help COMMAND` is `tramplab COMMAND --help`.
        if (rest.length > 0) return await main([rest[0], "--help"]);
        process.stdout.write(USAGE + "\n");
        return 0;
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return 0;
      case "--version":
      case "-V":
        process.stdout.write(`tramplab ${version()}\n`);
        return 0;
      case undefined:
        process.stdout.write(USAGE + "\n");
        return 2;
      default:
        throw new UsageError(cmd.startsWith("-") ? `unknown option ${cmd}` : `unknown command ${cmd}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      const who = cmd !== undefined && COMMANDS.includes(cmd) ? `tramplab ${cmd}` : "tramplab";
      process.stderr.write(`${who}: ${oneLine(e.message)} (see '${who} --help')\n`);
      return 2;
    }
    if (e instanceof InputError) { process.stderr.write(`tramplab: ${oneLine(e.message)}\n`); return 2; }
    // Anything else stopped the run itself (a guest that never answers, a host-side invariant):
    // one line saying what, the stack only on request.
    process.stderr.write(`tramplab: ${cmd}: ${(e as Error).message ?? e}\n`);
    if (process.env.TRAMPLAB_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
