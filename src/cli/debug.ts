// tramplab debug [IMAGE] [options]: the debugger REPL over a stopped machine.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Kernel } from "../kernel/kernel.js";
import { kernelConfig, PREEMPT_MODELS, type PreemptModel, type KernelConfig } from "../kernel/config.js";
import { checkReleasePolicy } from "../kernel/ftrace/release.js";
import { ElfError } from "../machine/elf.js";
import { UsageError } from "./args.js";
import { Engine } from "../debug/engine.js";
import { Session } from "../debug/commands.js";
import { batch, interactive } from "../debug/repl.js";

export const DEBUG_USAGE = `usage: tramplab debug [IMAGE] [--cpus N] [--preempt MODEL] [--kconfig old|new] [--seed S]
                      [--release POLICY] [-x FILE] [--batch]
  IMAGE       a firmware ELF built like firmware/ (default: the built-in kernel)
  -x FILE     run the commands in FILE first
  --batch     quit after -x FILE (also the case when standard input is not a terminal
              and has no more commands)
Commands come from the terminal (help lists them), or one per line on standard input.`;

interface DebugOptions {
  image?: string;
  script?: string;
  batch: boolean;
  config: Partial<KernelConfig>;
}

function intArg(name: string, v: string | undefined, min: number, max: number): number {
  if (!v || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} needs an integer from ${min} to ${max}, got ${v ?? "nothing"}`);
  return Number(v);
}

export function parseDebug(args: string[]): DebugOptions {
  const o: DebugOptions = { batch: false, config: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => args[++i];
    switch (a) {
      case "--cpus": o.config.cpus = intArg(a, value(), 1, 64); break;
      case "--seed": o.config.seed = intArg(a, value(), 0, 2 ** 31); break;
      case "--preempt": {
        const v = value();
        if (!PREEMPT_MODELS.includes(v as PreemptModel)) throw new UsageError(`--preempt must be one of ${PREEMPT_MODELS.join(", ")}, got ${v ?? "nothing"}`);
        o.config.preempt = v as PreemptModel;
        break;
      }
      case "--kconfig": {
        const v = value();
        if (v !== "old" && v !== "new") throw new UsageError(`--kconfig must be old or new, got ${v ?? "nothing"}`);
        o.config.kconfig = v;
        break;
      }
      case "--release": {
        const v = value() ?? "";
        try { checkReleasePolicy(v); } catch (e) { throw new UsageError(`--release: ${(e as Error).message}`); }
        o.config.release = v;
        break;
      }
      case "-x": {
        const v = value();
        if (!v) throw new UsageError("-x needs a file of commands");
        o.script = v;
        break;
      }
      case "--batch": o.batch = true; break;
      default:
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
  out.write(`tramplab debugger: ${m.ncpus} vCPUs, preempt=${kernel.config.preempt}, stopped at virtual time ${m.time}. "help" lists the commands.\n`);
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
