// Helpers shared by the program tests, the CLI tests and the benchmarks: compile the
// freestanding C programs of this directory with gcc, and run a binary natively or in the
// emulator with everything it prints captured in memory.
import { execFile, spawnSync } from "node:child_process";
import { constants } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../../src/paths.js";
import { runProgram, type ProgramResult } from "../../src/linux/process.js";

const execFileP = promisify(execFile);

export const PROGRAMS_DIR = join(projectRoot, "test", "programs");

/** No libc, no start files, nothing the emulator's two system calls cannot serve; no SSE
 * (the core is integer-only), no stack protector (it reads fs:0x28, and there is no TLS),
 * no CET (endbr64 would be harmless, but keep the code minimal). */
export const FREESTANDING_FLAGS = [
  "-static", "-nostdlib", "-ffreestanding", "-fno-builtin", "-fno-stack-protector",
  "-fcf-protection=none", "-mgeneral-regs-only", "-Wall", "-Wextra",
];

/** True when a gcc that can build static x86-64 programs is on PATH. */
export function haveGcc(): boolean {
  return spawnSync("gcc", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Compiles rt.c plus the given sources (paths relative to test/programs unless absolute)
 * into `out`. Rejects with gcc's diagnostics. */
export async function compile(sources: string[], out: string, flags: string[]): Promise<string> {
  const files = ["rt.c", ...sources].map((s) => (s.startsWith("/") ? s : join(PROGRAMS_DIR, s)));
  try {
    await execFileP("gcc", [...FREESTANDING_FLAGS, ...flags, "-I", PROGRAMS_DIR, ...files, "-o", out]);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`gcc failed for ${out}:\n${err.stderr ?? err.message}`);
  }
  return out;
}

/** What a run produced, natively or emulated, in the same shape. */
export interface Outcome {
  stdout: Buffer;
  stderr: Buffer;
  /** As a shell reports it: the exit status, or 128 + signal number. */
  exitCode: number;
  signal?: string;
}

/** Runs the binary on this machine with an empty environment. */
export function runNative(path: string, args: string[] = [], timeoutMs = 30_000): Outcome {
  const r = spawnSync(path, args, { env: {}, timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const signal = r.signal ?? undefined;
  const exitCode = signal ? 128 + constants.signals[signal as keyof typeof constants.signals] : (r.status ?? -1);
  return { stdout: r.stdout, stderr: r.stderr, exitCode, signal };
}

export interface EmulatedOutcome extends Outcome {
  result: ProgramResult;
  /** Emulator diagnostics (unsupported system calls, fault reports, --max-insns). */
  diagnostics: string[];
}

/** Runs the binary in the emulator, argv[0] being the path as for the native run. */
export function runEmulated(bytes: Uint8Array, path: string, args: string[] = [], maxInsns = 300_000_000n): EmulatedOutcome {
  const out: Buffer[] = [], err: Buffer[] = [], diagnostics: string[] = [];
  const result = runProgram(bytes, {
    argv: [path, ...args], env: [], maxInsns,
    // Copy: the chunk may be a view of guest memory that later writes change.
    stdout: (b) => out.push(Buffer.from(b)),
    stderr: (b) => err.push(Buffer.from(b)),
    diagnostics: (line) => diagnostics.push(line),
  });
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: result.exitCode, signal: result.signal, result, diagnostics };
}

/** objdump's disassembly of one function (empty when objdump is missing). */
export function disassembleFunction(path: string, fn: string): string {
  const r = spawnSync("objdump", ["-d", "--no-show-raw-insn", `--disassemble=${fn}`, path], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : "";
}
