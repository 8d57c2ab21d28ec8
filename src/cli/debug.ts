// tramplab debug [IMAGE] [options]: the debugger REPL over a stopped machine.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Kernel } from "../kernel/kernel.js";
import { kernelConfig } from "../kernel/config.js";
import { ElfError } from "../machine/elf.js";
import { formatTime } from "../machine/units.js";
import { UsageError } from "./args.js";
import { kernelOption, type KernelOptions } from "./kernelopts.js";
import { Engine } from "../debug/engine.js";
import { Session } from "../debug/commands.js";
import { batch, interactive } from "../debug/repl.js";

export const DEBUG_USAGE = `usage: tramplab debug [IMAGE] [--cpus N] [--preempt MODEL] [--kconfig old|new] [--seed S]
                      [--release POLICY] [--recursion SCHEME] [-x FILE] [--batch]
  IMAGE       a firmware ELF built like firmware/ (default: the built-in kernel)
  --cpus, --preempt, --kconfig, --seed, --release, --recursion: as for tramplab run (run --help)
  -x FILE     run the commands in FILE first
  --batch     quit after -x FILE (also the case when standard input is not a terminal
              and has no more commands)
Commands come from the terminal (help lists them), or one per line on standard input.`;

interface DebugOptions {
  image?: string;
  script?: string;
  batch: boolean;
  config: KernelOptions;
}

export function parseDebug(args: string[]): DebugOptions {
  const o: DebugOptions = { batch: false, config: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => args[++i];
    switch (a) {
      case "-x": {
        const v = value();
        if (!v) throw new UsageError("-x needs a file of commands");
        o.script = v;
        break;
      }
      case "--batch": o.batch = true; break;
      default:
        if (kernelOption(a, value, o.config)) break;
        if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        if (o.image) throw new UsageError(`one image only (got ${o.image} and ${a})`);
        o.image = a;
    }
  }
  return o;
}

function boot(o: DebugOptions): Kernel {
  const config = kernelConfig(o.config);
  if (!o.image) return new Kernel(config);
  let bytes: Uint8Array;
  try { bytes = readFileSync(o.image); } catch (e) {
    throw new UsageError(`${o.image}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  try { return new Kernel(config, bytes); } catch (e) {
    if (e instanceof ElfError) throw new UsageError(`${o.image}: ${e.message}`);
    throw e;
  }
}

async function session(o: DebugOptions, kernel: Kernel): Promise<number> {
  const s = new Session(new Engine(kernel));
  const out = process.stdout;
  const m = kernel.machine;
  out.write(`tramplab debugger: ${m.ncpus} vCPUs, preempt=${kernel.config.preempt}, stopped at virtual time ${formatTime(m.time)}. "help" lists the commands.\n`);
  out.write(s.engine.where() + "\n");
  if (o.script) {
    let text: string;
    try { text = readFileSync(o.script, "utf8"); } catch (e) {
      process.stderr.write(`tramplab: ${o.script}: cannot read (${(e as NodeJS.ErrnoException).code})\n`);
      return 2;
    }
    if (!(await batch(s, text.split("\n"), out)) || o.batch) return 0;
  }
  if (process.stdin.isTTY) await interactive(s, process.stdin, out);
  else await batch(s, createInterface({ input: process.stdin, terminal: false }), out);
  return 0;
}

/** Starts the debugger; usage errors return 2 at once, the session sets the exit code when it ends. */
export function debug(args: string[]): number {
  if (args.includes("--help") || args.includes("-h")) { process.stdout.write(DEBUG_USAGE + "\n"); return 0; }
  const o = parseDebug(args);
  const kernel = boot(o);
  session(o, kernel).then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exitCode = 1; });
  return 0;
}
