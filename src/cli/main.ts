// tramplab command line.
import { readFileSync } from "node:fs";
import { ElfError } from "../machine/elf.js";
import { runProgram } from "../linux/process.js";

const USAGE = `usage: tramplab run [--max-insns N] [--stats] PROGRAM [ARGS...]

Commands:
  run PROGRAM [ARGS]   run a static x86-64 Linux program in the emulator
Options for run (before PROGRAM):
  --max-insns N        stop a runaway program after N instructions (exit code 152)
  --stats              print instructions retired and guest MIPS to stderr`;

class UsageError extends Error {}

function parseRun(args: string[]): { program: string; programArgs: string[]; maxInsns?: bigint; stats: boolean } {
  let maxInsns: bigint | undefined;
  let stats = false;
  let i = 0;
  for (; i < args.length && args[i].startsWith("--"); i++) {
    const a = args[i];
    if (a === "--stats") stats = true;
    else if (a === "--max-insns") {
      const v = args[++i];
      if (!v || !/^\d+$/.test(v)) throw new UsageError(`--max-insns needs a positive integer, got ${v ?? "nothing"}`);
      maxInsns = BigInt(v);
    } else if (a === "--") { i++; break; }
    else throw new UsageError(`unknown option ${a}`);
  }
  if (i >= args.length) throw new UsageError("run: missing PROGRAM");
  return { program: args[i], programArgs: args.slice(i + 1), maxInsns, stats };
}

function cmdRun(args: string[]): number {
  const opt = parseRun(args);
  let result;
  try {
    const bytes = readFileSync(opt.program);
    result = runProgram(bytes, { argv: [opt.program, ...opt.programArgs], maxInsns: opt.maxInsns, env: [] });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) { process.stderr.write(`tramplab: ${opt.program}: cannot read (${code})\n`); return 2; }
    if (e instanceof ElfError) { process.stderr.write(`tramplab: ${opt.program}: ${e.message}\n`); return 2; }
    throw e;
  }
  if (opt.stats) {
    const mips = Number(result.insns) / (result.wallMs * 1000);
    process.stderr.write(`tramplab: ${result.insns} instructions retired in ${result.wallMs.toFixed(1)} ms (${mips.toFixed(1)} guest MIPS)\n`);
  }
  return result.exitCode;
}

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "run": return cmdRun(rest);
      case "help":
      case "--help":
      case "-h":
      case undefined:
        process.stdout.write(USAGE + "\n");
        return cmd === undefined ? 2 : 0;
      default: throw new UsageError(`unknown command ${cmd}`);
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`tramplab: ${e.message}\n${USAGE}\n`); return 2; }
    throw e;
  }
}
