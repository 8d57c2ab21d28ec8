// The tramplab command line as a child process, for tests of what a person sees: exit status,
// the signal that ended it, standard output and standard error. A child that runs longer than
// `timeout` ms is killed (status null, signal SIGTERM), so no test can hang on it.
// Needs the TypeScript built to dist/ (`npm test` builds first).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";

export const CLI = join(projectRoot, "bin", "tramplab.js");

export interface CliResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `tramplab ARGS...`, asynchronously so tests (mostly node start-up time) can overlap. */
export function runCli(args: string[], opts: { stdin?: string; timeout?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      timeout: opts.timeout ?? 60_000, stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}
