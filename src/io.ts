// Reading input files: every file tramplab reads goes through readInput, which takes regular
// files only and each kind of input up to a stated size. Character devices (/dev/zero), FIFOs,
// sockets and directories are refused without reading them, a FIFO without blocking on it.
// Every layer may use this module: it imports nothing of the project.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** A file that cannot be used as input: one line naming the file and what is wrong. The CLI prints `tramplab: MESSAGE` and exits 2. */
export class InputError extends Error {}

const MiB = 1 << 20;

/** The kinds of input, each with the largest file accepted (README, "Limits on input"). */
export const INPUT_LIMITS = {
  /** A program to run, or a firmware image for debug and check-noinstr (the built-in firmware is 32 KiB). */
  elf: { what: "an ELF image", bytes: 64 * MiB },
  /** A scenario file (the shipped ones are a few KiB). */
  scenario: { what: "a scenario file", bytes: 1 * MiB },
  /** A golden file a scenario compares with (a 30,000-line trace is 2 MiB). */
  golden: { what: "a golden file", bytes: 64 * MiB },
  /** A file of debugger commands: debug -x FILE, the source command. */
  commands: { what: "a debugger command file", bytes: 1 * MiB },
  /** A module object to insmod (ET_REL; MAX_MODULE_BYTES in src/kernel/module/object.ts). */
  module: { what: "a module object", bytes: 16 * MiB },
  /** A module's C or assembly source, checked before gcc reads it (tramplab build-module). */
  source: { what: "a module source file", bytes: 16 * MiB },
  /** The project's own files: package.json, build/core.wasm. */
  project: { what: "a file of the project", bytes: 64 * MiB },
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

/** "64 MiB", "1 MiB", "512 KiB", "100 bytes". */
export function formatSize(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function typeOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "an unknown kind of file";
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Why a file with these stats cannot be input of this kind, or undefined when it can. */
function problem(st: Stats, kind: InputKind): string | undefined {
  if (!st.isFile()) return `not a regular file (${typeOf(st)})`;
  if (st.size > INPUT_LIMITS[kind].bytes) return tooLarge(kind);
  return undefined;
}

function tooLarge(kind: InputKind): string {
  const limit = INPUT_LIMITS[kind];
  return `larger than ${formatSize(limit.bytes)}, the limit for ${limit.what}`;
}

/**
 * Checks that `path` could be read as input of this kind (a regular file within the limit)
 * without opening it: why not (`not a regular file (a FIFO)`, `cannot read (ENOENT)`), or
 * undefined. Scenario checks use it to refuse a golden file before anything runs.
 */
export function inputProblem(path: string, kind: InputKind): string | undefined {
  let st: Stats;
  try { st = statSync(path); } catch (e) { return `cannot read (${errnoOf(e)})`; }
  return problem(st, kind);
}

/**
 * Reads a whole input file: a regular file of at most the kind's limit, or InputError. The
 * file is checked before it is opened and again through the open descriptor (opened
 * non-blocking, so a FIFO put there in between cannot block), and reading stops one byte past
 * the limit, so a file that grows meanwhile (or one whose size stat does not know) cannot
 * exhaust memory either.
 */
export function readInput(path: string, kind: InputKind): Buffer<ArrayBuffer> {
  const before = inputProblem(path, kind);
  if (before) throw new InputError(`${path}: ${before}`);
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY); } catch (e) {
    throw new InputError(`${path}: cannot read (${errnoOf(e)})`);
  }
  try {
    const st = fstatSync(fd);
    const now = problem(st, kind);
    if (now) throw new InputError(`${path}: ${now}`);
    const limit = INPUT_LIMITS[kind].bytes;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // The first read asks for one byte more than stat said (to see the end), later ones 1 MiB.
      const want = Math.min(total === 0 ? st.size + 1 : MiB, limit + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      let n: number;
      try { n = readSync(fd, buf, 0, want, null); } catch (e) { throw new InputError(`${path}: cannot read (${errnoOf(e)})`); }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limit) throw new InputError(`${path}: ${tooLarge(kind)}`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** readInput as UTF-8 text. */
export function readInputText(path: string, kind: InputKind): string {
  return readInput(path, kind).toString("utf8");
}

/** The longest line read from a stream of commands (the debugger's standard input). */
export const MAX_LINE = 4096;

/**
 * The lines of a stream (standard input), without their line ends (`\n` or `\r\n`). A line
 * longer than MAX_LINE bytes is InputError: it is not a command, and without the limit a
 * stream with no line end (`< /dev/zero`) would be buffered until memory runs out.
 */
export async function* inputLines(stream: AsyncIterable<Buffer | string>, what: string): AsyncGenerator<string> {
  const tooLong = () => new InputError(`${what}: a line longer than ${formatSize(MAX_LINE)}`);
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of stream) {
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
    let start = 0, nl: number;
    while ((nl = pending.indexOf("\n", start)) >= 0) {
      const line = pending.slice(start, nl).replace(/\r$/, "");
      if (Buffer.byteLength(line) > MAX_LINE) throw tooLong();
      yield line;
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (pending.length > MAX_LINE + 1) throw tooLong();
  }
  pending += decoder.end();
  if (Buffer.byteLength(pending) > MAX_LINE) throw tooLong();
  if (pending !== "") yield pending;
}
