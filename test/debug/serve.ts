// A tramplab command that serves gdb (debug --gdb :0, run --gdb :0...) as a child process: the
// port it printed, its standard output (a program's writes), its log and its exit.
import { spawn, type ChildProcess } from "node:child_process";

export interface Served {
  child: ChildProcess;
  port: number;
  /** What it wrote on standard output so far. */
  output(): string;
  /** What it wrote on standard error so far (the stub's log). */
  log(): string;
  /** Its exit status once it ends. */
  exited: Promise<number | null>;
}

/** Runs `node ARGS` and resolves once it says `listening on 127.0.0.1:PORT`; rejects if it ends first. */
export async function serveChild(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "", out = "";
  child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", () => reject(new Error(`exited before listening: ${log}`)));
  });
  return { child, port, output: () => out, log: () => log, exited };
}
