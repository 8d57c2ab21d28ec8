// The front end: readline with history, tab completion and Ctrl-C on a terminal; plain lines
// (echoed after the prompt, for transcripts) from a file or a pipe.
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { COMMANDS, type Session } from "./commands.js";
import { DebugError } from "./engine.js";

export const PROMPT = "(tramplab) ";

/** The prompt for the next line: gdb's ">" inside a define or document block. */
export function promptOf(s: Session): string {
  return s.collecting ? ">" : PROMPT;
}

/**
 * In batch mode nothing can interrupt a run, so one that finds no stop (`ni` over a call that
 * never returns, `finish` in a function that never does) ends after this much virtual time.
 */
export const BATCH_RUN_LIMIT = 100_000_000n; // 100 ms at 1 GHz

/** Runs a command; runs of the machine go in slices so that Ctrl-C is seen between them. */
async function perform(s: Session, line: string, write: (t: string) => void): Promise<boolean> {
  const r = s.dispatch(line);
  if (typeof r === "string") { if (r) write(r); return true; }
  if ("quit" in r) return false;
  if ("stop" in r) { write(s.stopText(r.stop)); return true; }
  if ("reverse" in r) {
    // Slice by slice, so that Ctrl-C on a terminal stops a long reverse run (reverse.ts says where it lands).
    for (;;) {
      let stop;
      try { stop = r.reverse.work(); } catch (e) {
        if (e instanceof DebugError) { write(s.fail(e.message)); return true; }
        throw e;
      }
      if (stop) { write(s.stopText(stop)); return true; }
      await new Promise((res) => setImmediate(res));
    }
  }
  if (r.note) write(r.note);
  const e = s.engine;
  const limit = s.interruptible ? undefined : e.machine.time + BATCH_RUN_LIMIT;
  e.start(r.run);
  for (;;) {
    if (limit !== undefined && e.machine.time >= limit && !e.interruptRequested) {
      write(`(batch mode: nothing stopped the run within ${BATCH_RUN_LIMIT / 1_000_000n} ms of virtual time)`);
      e.interruptRequested = true;
    }
    const stop = e.work(200);
    if (stop) { write(s.stopText(stop)); return true; }
    await new Promise((res) => setImmediate(res));
  }
}

/** Tab completion: command names first, then symbols (and $registers). */
export function completer(s: Session): (line: string) => [string[], string] {
  const names = COMMANDS.flatMap((c) => c.names).sort();
  const regs = [
    "$rax", "$rbx", "$rcx", "$rdx", "$rsi", "$rdi", "$rbp", "$rsp", "$r8", "$r9", "$r10", "$r11", "$r12", "$r13", "$r14", "$r15",
    "$rip", "$pc", "$sp", "$fp", "$eflags", "$cr3",
  ];
  return (line) => {
    const m = /(\S*)$/.exec(line)!;
    const word = m[1];
    if (!/\s/.test(line.trimStart())) {
      // Names of one command (disas, disassemble) complete to its full name, as gdb's do.
      const hits = COMMANDS.filter((c) => c.names.some((n) => n.startsWith(word)));
      if (hits.length === 1 && hits[0].names[0].startsWith(word)) return [[hits[0].names[0] + " "], word];
      return [names.filter((n) => n.startsWith(word)).map((n) => n + " "), word];
    }
    const bare = word.replace(/^\*/, "");
    const pool = bare.startsWith("$") ? regs : s.engine.symbols.entries.map((x) => x.name);
    const hits = [...new Set(pool.filter((n) => n.startsWith(bare)))].sort().slice(0, 200);
    return [hits.map((h) => word.slice(0, word.length - bare.length) + h), word];
  };
}

/** Interactive session on a terminal; resolves when the user quits or input ends. */
export async function interactive(s: Session, input: Readable, output: Writable): Promise<void> {
  const rl: Interface = createInterface({ input, output, prompt: PROMPT, completer: completer(s), historySize: 1000, terminal: true });
  s.interruptible = true;
  const write = (t: string) => output.write(t + "\n");
  let running = false;
  rl.on("SIGINT", () => {
    if (running) s.engine.interruptRequested = true;
    else { output.write("^C\n"); rl.prompt(); }
  });
  rl.prompt();
  for await (const line of rl) {
    running = true;
    const go = await perform(s, line, write);
    running = false;
    if (!go) break;
    rl.setPrompt(promptOf(s));
    rl.prompt();
  }
  rl.close();
  s.interruptible = false;
}

/** Batch mode: each line echoed after the prompt, then its output. Returns false after quit. */
export async function batch(s: Session, lines: Iterable<string> | AsyncIterable<string>, output: Writable): Promise<boolean> {
  const write = (t: string) => output.write(t + "\n");
  for await (const line of lines) {
    if (line.trim() === "" && !s.lastLine) continue;
    output.write(promptOf(s) + line + "\n");
    if (!(await perform(s, line, write))) return false;
  }
  return true;
}
