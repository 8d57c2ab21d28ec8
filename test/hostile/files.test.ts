// Hostile input files: every command reads its files through one checked reader (src/io.ts),
// which takes regular files only, up to a stated size per kind of input. /dev/zero, a FIFO
// with no writer, a directory, a missing file and a (sparse) file over the limit each give one
// error line naming the file, and exit 2, without reading the file or blocking on it. The CLI
// runs as a child process with a timeout, so a command that blocked on a FIFO or kept reading
// /dev/zero fails the test instead of hanging it. Needs the TypeScript built to dist/.
import { describe, it, beforeAll, afterAll, expect } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUT_LIMITS, InputError, MAX_LINE, inputLines, readInput, type InputKind } from "../../src/io.js";
import { compile } from "../programs/build.js";
import { CLI, runCli as tramplab, type CliResult as Result } from "../cli-child.js";

/** A sparse file one byte over the limit for `kind`: no disk blocks, and nothing to read. */
function overLimit(path: string, kind: InputKind): string {
  const fd = openSync(path, "w");
  ftruncateSync(fd, INPUT_LIMITS[kind].bytes + 1);
  closeSync(fd);
  return path;
}

let dir: string;
const fifo = () => join(dir, "fifo");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-hostile-files-"));
  mkdirSync(join(dir, "a-directory"));
  // mkfifo(1) makes the FIFO; nobody ever opens it for writing.
  const r = spawnSyncChecked("mkfifo", [fifo()]);
  if (r !== 0) throw new Error("mkfifo failed");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spawnSyncChecked(cmd: string, args: string[]): number {
  return spawnSync(cmd, args).status ?? -1;
}

/** The hostile files every command is given in turn, and what the one error line says. */
function hostile(kind: InputKind): { name: string; path: () => string; message: RegExp }[] {
  return [
    { name: "/dev/zero", path: () => "/dev/zero", message: /^tramplab: \/dev\/zero: not a regular file \(a character device\)$/ },
    { name: "a FIFO with no writer", path: fifo, message: /: not a regular file \(a FIFO\)$/ },
    { name: "a directory", path: () => join(dir, "a-directory"), message: /: not a regular file \(a directory\)$/ },
    { name: "a missing file", path: () => join(dir, "missing"), message: /: cannot read \(ENOENT\)$/ },
    {
      name: `a file over the ${kind} limit`, path: () => overLimit(join(dir, `big-${kind}`), kind),
      message: new RegExp(`: larger than ${INPUT_LIMITS[kind].bytes / (1 << 20)} MiB, the limit for ${INPUT_LIMITS[kind].what}$`),
    },
  ];
}

/** Each command that reads a file, and how it is given the file. */
const COMMANDS: { name: string; kind: InputKind; args: (path: string) => string[] }[] = [
  { name: "run PROGRAM", kind: "elf", args: (p) => ["run", p] },
  { name: "debug IMAGE", kind: "elf", args: (p) => ["debug", p, "--batch"] },
  { name: "debug -x FILE", kind: "commands", args: (p) => ["debug", "-x", p, "--batch"] },
  { name: "check-noinstr IMAGE", kind: "elf", args: (p) => ["check-noinstr", p] },
  { name: "scenario FILE", kind: "scenario", args: (p) => ["scenario", p] },
];

describe.concurrent("every command refuses a file that is not a regular file within its limit: one line, exit 2", () => {
  for (const c of COMMANDS) {
    for (const h of hostile(c.kind)) {
      it(`${c.name} with ${h.name}`, async () => {
        const path = h.path();
        const r = await tramplab(c.args(path));
        expect(r.signal).toBe(null); // not killed by the timeout: it neither blocked nor kept reading
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n")).toEqual([expect.stringMatching(h.message), ""]);
        expect(r.stderr).toContain(path);
        expect(r.status).toBe(2);
      });
    }
  }
});

describe.concurrent("golden files and the debugger's source command go through the same reader", () => {
  /** A scenario in `folder` whose patch log is compared with `golden` (relative to the scenario). */
  const scenario = (folder: string, golden: string) => {
    const file = join(folder, "golden.yaml");
    writeFileSync(file, `machine: { cpus: 1, workload: [] }\nsteps:\n  - boot\n  - run: 1000\nexpect:\n  - patch-log: ${golden}\n`);
    return file;
  };

  for (const h of [
    { name: "a FIFO", make: (f: string) => { spawnSyncChecked("mkfifo", [f]); }, message: /not a regular file \(a FIFO\)/ },
    { name: "a directory", make: (f: string) => mkdirSync(f), message: /not a regular file \(a directory\)/ },
    { name: "a file over the golden limit", make: (f: string) => { overLimit(f, "golden"); },
      message: /larger than 64 MiB, the limit for a golden file/ },
  ]) {
    it(`a patch-log golden file that is ${h.name} is refused at its LINE:COL before the run, exit 2`, async () => {
      const folder = mkdtempSync(join(dir, "golden-"));
      h.make(join(folder, "log"));
      const file = scenario(folder, "log");
      for (const args of [[file], ["--update-golden", file]]) {
        const r = await tramplab(["scenario", ...args]);
        expect(r.signal).toBe(null);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n")).toEqual([expect.stringMatching(new RegExp(`^${file}:6:5: golden file log: `)), ""]);
        expect(r.stderr).toMatch(h.message);
        expect(r.status).toBe(2);
      }
    });
  }

  it("source FIFO and source /dev/zero in the debugger are one error line each, and the session goes on", async () => {
    const r = await tramplab(["debug", "--cpus", "1"], { stdin: `source ${fifo()}\nsource /dev/zero\np 1+1\n` });
    expect(r.signal).toBe(null);
    const errors = r.stdout.split("\n").filter((l) => l.startsWith("error: "));
    expect(errors).toEqual([`error: ${fifo()}: not a regular file (a FIFO)`, "error: /dev/zero: not a regular file (a character device)"]);
    expect(r.stdout).toContain("$1 = 2");
    expect(r.status).toBe(1); // as gdb -batch: a command failed
  });

  it("debug < /dev/zero: standard input with no line end stops at the line limit, one line, exit 2", async () => {
    const child = await new Promise<Result>((resolve, reject) => {
      const zero = openSync("/dev/zero", "r");
      const p = spawn(process.execPath, [CLI, "debug", "--cpus", "1"], { timeout: 60_000, stdio: [zero, "pipe", "pipe"] });
      closeSync(zero);
      let stdout = "", stderr = "";
      p.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      p.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      p.on("error", reject);
      p.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
    expect(child.signal).toBe(null);
    expect(child.stderr).toBe(`tramplab: standard input: a line longer than ${MAX_LINE / 1024} KiB\n`);
    expect(child.status).toBe(2);
  });
});

describe.concurrent("what a file claims cannot make the host allocate it", () => {
  it("a program whose segment claims 1 GiB of memory: one line naming the file, exit 2", async () => {
    const src = join(dir, "small.c");
    writeFileSync(src, '#include "rt.h"\nint main(void) { return 0; }\n');
    const prog = await compile([src], join(dir, "small"), ["-O1"]);
    const bytes = readFileSync(prog);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const phoff = Number(v.getBigUint64(32, true));
    const phnum = v.getUint16(56, true);
    let load = -1;
    for (let i = 0; i < phnum; i++) if (v.getUint32(phoff + i * 56, true) === 1) load = phoff + i * 56; // the last PT_LOAD
    v.setBigUint64(load + 40, 1n << 30n, true); // p_memsz
    const big = join(dir, "claims-1g");
    writeFileSync(big, bytes);
    const r = await tramplab(["run", big]);
    // src/linux/loader.ts's LoadError, before anything is allocated.
    expect(r.stderr).toMatch(new RegExp(`^tramplab: ${big}: needs [^\n]+ of guest memory ` +
      `\\(segments [^\n]+\\(64 MiB of guest RAM, less the first MiB\\)\n$`));
    expect(r.status).toBe(2);
  });

  it("the debugger keeps at most 100 named snapshots (a command file of thousands would hold gigabytes)", async () => {
    const cmds = join(dir, "snapshots.cmds");
    writeFileSync(cmds, Array.from({ length: 102 }, (_, i) => `snapshot s${i}`).join("\n") + "\nsnapshot s0\n");
    const r = await tramplab(["debug", "--cpus", "1", "-x", cmds, "--batch"]);
    const errors = r.stdout.split("\n").filter((l) => l.startsWith("error: "));
    expect(errors).toEqual(Array(2).fill("error: there are already 100 snapshots, the most kept: reuse a name to replace one"));
    expect(r.stdout).toContain("snapshot s99 at virtual time");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^snapshot s0 at virtual time/); // a name kept can be saved again
    expect(r.status).toBe(1);
  });
});

describe("the reader itself", () => {
  it("accepts a file of exactly the limit and refuses one byte more", () => {
    const limit = INPUT_LIMITS.scenario.bytes;
    const file = join(dir, "exact.yaml");
    writeFileSync(file, Buffer.alloc(limit, 0x20));
    expect(readInput(file, "scenario").length).toBe(limit);
    writeFileSync(file, Buffer.alloc(limit + 1, 0x20));
    expect(() => readInput(file, "scenario")).toThrow(new InputError(`${file}: larger than 1 MiB, the limit for a scenario file`));
  });

  it("reads a regular file whole, byte for byte", () => {
    const file = join(dir, "some.bin");
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(file, bytes);
    expect(readInput(file, "elf").equals(bytes)).toBe(true);
    expect(readInput(file, "elf").equals(readFileSync(file))).toBe(true);
  });

  it("splits lines on \\n and \\r\\n, keeps a last line without a line end, and refuses a line over the limit", async () => {
    async function* chunks(...c: string[]) { yield* c.map((s) => Buffer.from(s)); }
    const all = async (it: AsyncIterable<string>) => { const out: string[] = []; for await (const l of it) out.push(l); return out; };
    expect(await all(inputLines(chunks("si\r\nn", "i\n\nbt"), "stdin"))).toEqual(["si", "ni", "", "bt"]);
    expect(await all(inputLines(chunks("x".repeat(MAX_LINE), "\n"), "stdin"))).toEqual(["x".repeat(MAX_LINE)]);
    await expect(all(inputLines(chunks("x".repeat(MAX_LINE + 1), "\n"), "stdin"))).rejects.toThrow("stdin: a line longer than 4 KiB");
    await expect(all(inputLines(chunks(..."y".repeat(3 * MAX_LINE).match(/.{1,1000}/g)!), "stdin")))
      .rejects.toThrow("stdin: a line longer than 4 KiB");
  });
});
