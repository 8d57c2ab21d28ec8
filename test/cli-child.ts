// The tramplab command line, run as a person runs it: as a child process (runCli), for its exit
// status, the signal that ended it, standard output and standard error; or its main() in this
// process (runMain), for what fails before anything runs. A child that runs longer than `timeout`
// ms is killed (status null, signal SIGTERM), so no test can hang on it.
// runCli needs the TypeScript built to dist/ (`npm test` builds first).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import { main } from "../src/cli/main.js";

export const CLI = join(projectRoot, "bin", "tramplab.js");

export interface CliResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface CliOptions {
  stdin?: string;
  timeout?: number;
  /** The child's working directory, and variables added to its environment. */
  cwd?: string;
  env?: Record<string, string>;
}

/** Runs `tramplab ARGS...`, asynchronously so tests (mostly node start-up time) can overlap. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd, env: opts.env && { ...process.env, ...opts.env }, timeout: opts.timeout ?? 60_000,
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}

/**
 * Runs the command line's main() in this process, capturing what it prints: for what fails
 * before anything runs, where starting a child would only cost time.
 */
export async function runMain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const [w1, w2] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((s: string) => { out.push(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err.push(s); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}
