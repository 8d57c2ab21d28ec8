// Hostile input, class 2: ELF files and command lines past the loader's limits. Every refusal
// is one line, `tramplab: PROG: ...`, and exit code 2, and names the limit it ran into: the
// guest memory a program gets (63 MiB: 64 MiB of RAM less the first MiB, for segments, the
// stack grown to 8 MiB and page tables), the program header table Linux reads (64 KiB), user
// space and the stack's 8 MiB, Linux's vm.mmap_min_addr, mmap's page congruence, and execve's
// argument limits (E2BIG, checked against the native execve too).
// The ELF files are built here, byte by byte; the accepted ones also run natively.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, runNative } from "../programs/build.js";
import { runProgram } from "../../src/linux/process.js";
import { LoadError, MAX_ARG_STRLEN } from "../../src/linux/loader.js";
import { runCli } from "../cli-child.js";

const tramplab = (...args: string[]) => runCli(args);

const R = 4, W = 2, X = 1;
const CODE_VA = 0x40_0000n;
/** mov $60, %eax; xor %edi, %edi; syscall: exit(0). */
const EXIT0 = [0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05];
/** sub $0x7f0000, %rsp; movb $1, (%rsp): grow the stack to 8 MiB less 64 KiB; then exit(0). */
const DEEP_STACK = [0x48, 0x81, 0xec, 0x00, 0x00, 0x7f, 0x00, 0xc6, 0x04, 0x24, 0x01, ...EXIT0];

interface Seg { vaddr: bigint; memsz: bigint; filesz?: bigint; offset?: bigint; flags: number; align?: bigint }

/**
 * A static ELF64 x86-64 file: the header, the program headers at 64, and `code` at file offset
 * 0x1000, loaded (unless `noCode`) as the first segment at CODE_VA, read-only and executable.
 */
function elf(o: {
  segs?: Seg[]; entry?: bigint; type?: number; code?: number[]; noCode?: boolean; phnum?: number; phentsize?: number;
}): Buffer {
  const code = o.code ?? EXIT0;
  const segs: Seg[] = [
    ...(o.noCode ? [] : [{ vaddr: CODE_VA, memsz: BigInt(code.length), filesz: BigInt(code.length), offset: 0x1000n, flags: R | X }]),
    ...(o.segs ?? []),
  ];
  const phentsize = o.phentsize ?? 56;
  const phnum = o.phnum ?? segs.length;
  const phEnd = 64 + phnum * phentsize;
  const codeOff = Math.max(0x1000, (phEnd + 0xfff) & ~0xfff);
  const b = Buffer.alloc(codeOff + 0x1000);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  b.writeUInt16LE(o.type ?? 2, 16);
  b.writeUInt16LE(62, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(o.entry ?? CODE_VA, 24);
  b.writeBigUInt64LE(64n, 32);
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(phentsize, 54);
  b.writeUInt16LE(phnum, 56);
  for (let i = 0; i < phnum; i++) {
    const s = segs[i % segs.length];
    const p = 64 + i * phentsize;
    const offset = s.offset === 0x1000n && !o.noCode && i === 0 ? BigInt(codeOff) : s.offset ?? 0n;
    b.writeUInt32LE(1, p);
    b.writeUInt32LE(s.flags, p + 4);
    b.writeBigUInt64LE(offset, p + 8);
    b.writeBigUInt64LE(s.vaddr, p + 16);
    b.writeBigUInt64LE(s.vaddr, p + 24);
    b.writeBigUInt64LE(s.filesz ?? 0n, p + 32);
    b.writeBigUInt64LE(s.memsz, p + 40);
    b.writeBigUInt64LE(s.align ?? 0x1000n, p + 48);
  }
  b.set(code, codeOff);
  return b;
}

/** `n` segments of `pages` pages each, `stride` bytes apart from 0x1000000 on. */
function spread(n: number, pages: number, stride: bigint): Seg[] {
  return Array.from({ length: n }, (_, i) => ({ vaddr: 0x100_0000n + BigInt(i) * stride, memsz: BigInt(pages * 4096), flags: R | W }));
}

let dir = "";
let args = "";
const file = (name: string, bytes: Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  chmodSync(p, 0o755);
  return p;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-hostile-elf-"));
  args = await compile(["args.c"], join(dir, "args"), ["-O2"]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent("ELF files past the loader's limits: one line naming the file and the limit, exit 2", () => {
  const MIB = 1n << 20n;
  const cases: { name: string; bytes: () => Buffer; message: RegExp }[] = [
    {
      name: "a 100 MB segment (bss): more than the guest memory a program gets",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 100_000_000n, flags: R | W }] }),
      message: new RegExp("needs 103\\.\\d MiB of guest memory \\(segments 95\\.4 MiB, stack up to 8 MiB, page tables [\\d.]+ KiB\\); " +
        "a program gets 63 MiB \\(64 MiB of guest RAM, less the first MiB\\)$"),
    },
    {
      name: "a segment of 2^40 bytes",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 1n << 40n, flags: R | W }] }),
      message: /needs 1\.0 TiB of guest memory \(segments 1\.0 TiB,/,
    },
    {
      name: "a segment of 2^46 bytes",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 1n << 46n, flags: R | W }] }),
      message: /needs 64\.1 TiB of guest memory \(segments 64\.0 TiB, stack up to 8 MiB, page tables 128\.\d GiB\)/,
    },
    {
      name: "56 MiB of bss: with the stack's 8 MiB reserved it does not fit (it used to load, then die growing the stack)",
      bytes: () => elf({ code: DEEP_STACK, segs: [{ vaddr: 0x60_0000n, memsz: 56n * MIB, flags: R | W }] }),
      message: /needs 64\.\d MiB of guest memory \(segments 56\.0 MiB, stack up to 8 MiB/,
    },
    {
      name: "800 segments of 64 KiB, 1 GiB apart: 50 MiB, but their page tables take the rest",
      bytes: () => elf({ segs: spread(800, 16, 1n << 30n) }),
      message: /\(segments 50\.0 MiB, stack up to 8 MiB, page tables 6\.\d MiB\); a program gets 63 MiB/,
    },
    {
      name: "20,000 one-page segments",
      bytes: () => elf({ segs: spread(20_000, 1, 0x1000n) }),
      message: /the program header table has 20001 entries \(1120056 bytes\); Linux's execve reads at most 65536 bytes \(1170 entries\)$/,
    },
    { name: "e_phnum 65535 (PN_XNUM)", bytes: () => elf({ phnum: 65535 }), message: /the program header table has 65535 entries/ },
    {
      name: "program header entries of 64 bytes",
      bytes: () => elf({ phentsize: 64 }),
      message: /program header entries are 64 bytes, expected 56$/,
    },
    {
      name: "overlapping segments",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 0x3000n, flags: R | W }, { vaddr: 0x60_2000n, memsz: 0x1000n, flags: R }] }),
      message: /segments 1 and 2 overlap at 0x602000$/,
    },
    {
      name: "a segment overlapping the code segment",
      bytes: () => elf({ segs: [{ vaddr: CODE_VA + 4n, memsz: 0x10n, flags: R | W }] }),
      message: /segments 0 and 1 overlap at 0x400004$/,
    },
    {
      name: "a segment in the stack's 8 MiB",
      bytes: () => elf({ segs: [{ vaddr: 0x7fff_ff80_0000n, memsz: 0x1000n, flags: R | W }] }),
      message: /segment 1 \(0x7fffff800000-0x7fffff801000\) overlaps the stack \(0x7fffff7ff000-0x7ffffffff000, 8 MiB\)$/,
    },
    {
      name: "a segment reaching into the stack from below",
      bytes: () => elf({ segs: [{ vaddr: 0x7fff_ff7f_e000n, memsz: 0x2000n, flags: R | W }] }),
      message: /segment 1 \(0x7fffff7fe000-0x7fffff800000\) overlaps the stack/,
    },
    {
      name: "the entry point in a data segment",
      bytes: () => elf({ entry: 0x60_0000n, segs: [{ vaddr: 0x60_0000n, memsz: 0x1000n, flags: R | W }] }),
      message: /entry point 0x600000 is not inside an executable segment$/,
    },
    {
      name: "the entry point outside every segment",
      bytes: () => elf({ entry: 0x1234_5678n }),
      message: /entry point 0x12345678 is not inside an executable segment$/,
    },
    {
      name: "p_offset beyond the file",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 0x1000n, filesz: 0x100n, offset: 0x10_0000n, flags: R }] }),
      message: /truncated ELF file: segment 1 lies outside the file/,
    },
    {
      name: "p_offset near 2^64",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 0x1000n, filesz: 0x100n, offset: 0xffff_ffff_ffff_f000n, flags: R }] }),
      message: /truncated ELF file: segment 1 lies outside the file/,
    },
    {
      name: "p_filesz beyond the file",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 1n << 30n, filesz: 1n << 30n, offset: 0n, flags: R }] }),
      message: /truncated ELF file: segment 1 lies outside the file/,
    },
    {
      name: "p_vaddr non-canonical",
      bytes: () => elf({ segs: [{ vaddr: 0x8000_0000_0000n, memsz: 0x1000n, flags: R }] }),
      message: /segment 1 at 0x800000000000 \(\+0x1000\) lies outside user memory$/,
    },
    {
      name: "p_vaddr in the kernel half",
      bytes: () => elf({ segs: [{ vaddr: 0xffff_8000_0000_0000n, memsz: 0x1000n, flags: R }] }),
      message: /segment 1 at 0xffff800000000000 \(\+0x1000\) lies outside user memory$/,
    },
    {
      name: "p_vaddr + p_memsz wrapping past 2^64",
      bytes: () => elf({ segs: [{ vaddr: 0xffff_ffff_ffff_f000n, memsz: 0x2000n, flags: R }] }),
      message: /lies outside user memory$/,
    },
    {
      name: "a segment in the last page below 2^47 (past TASK_SIZE_MAX)",
      bytes: () => elf({ segs: [{ vaddr: 0x7fff_ffff_f000n, memsz: 0x1000n, flags: R }] }),
      message: /segment 1 at 0x7ffffffff000 \(\+0x1000\) lies outside user memory$/,
    },
    {
      name: "p_offset and p_vaddr differing within a page",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0010n, memsz: 0x100n, filesz: 0x100n, offset: 0n, flags: R }] }),
      message: /segment 1: file offset 0x0 and address 0x600010 differ within a page \(Linux maps segments page by page\)$/,
    },
    {
      name: "a segment mapping page 0",
      bytes: () => elf({ segs: [{ vaddr: 0n, memsz: 0x1000n, flags: R | W }] }),
      message: /segment 1 at 0x0 lies below 0x10000, where Linux maps nothing \(vm\.mmap_min_addr\)$/,
    },
  ];
  for (const c of cases) {
    it(c.name, async ({ expect }) => {
      const path = file(c.name.replace(/[^\w]+/g, "-"), c.bytes());
      const r = await tramplab("run", path);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")).toEqual([`tramplab: ${path}: ${r.stderr.slice(`tramplab: ${path}: `.length, -1)}`, ""]);
      expect(r.stderr.trimEnd()).toMatch(c.message);
      expect(r.status).toBe(2);
    }, 60_000);
  }
});

describe.concurrent("ELF files at the limits that load and run (natively too)", () => {
  const cases: { name: string; bytes: () => Buffer }[] = [
    { name: "exit(0) alone: the builder's files are sound", bytes: () => elf({}) },
    {
      name: "54 MiB of bss and a stack touched 8 MiB down: within the guest memory",
      bytes: () => elf({ code: DEEP_STACK, segs: [{ vaddr: 0x60_0000n, memsz: 54n << 20n, flags: R | W }] }),
    },
    { name: "800 segments of 64 KiB side by side (few page tables)", bytes: () => elf({ segs: spread(800, 16, 0x10000n) }) },
    { name: "1169 one-page segments: the most Linux's 64 KiB header table holds", bytes: () => elf({ segs: spread(1169, 1, 0x2000n) }) },
    {
      name: "segments sharing a page without overlapping",
      bytes: () => elf({ segs: [{ vaddr: 0x60_0000n, memsz: 0x800n, flags: R }, { vaddr: 0x60_0800n, memsz: 0x800n, flags: R | W }] }),
    },
  ];
  for (const c of cases) {
    it(c.name, async ({ expect }) => {
      const path = file(c.name.replace(/[^\w]+/g, "-"), c.bytes());
      expect(runNative(path).exitCode).toBe(0);
      expect(await tramplab("run", path)).toEqual({ status: 0, signal: null, stdout: "", stderr: "" });
    }, 60_000);
  }
});

describe("arguments and environment: Linux's execve limits (E2BIG), natively compared", () => {
  const sets: { name: string; argv: string[]; env?: string[] }[] = [
    { name: `one argument of ${MAX_ARG_STRLEN - 1} bytes (with its NUL: MAX_ARG_STRLEN)`, argv: ["x".repeat(MAX_ARG_STRLEN - 1)] },
    { name: `one argument of ${MAX_ARG_STRLEN} bytes`, argv: ["x".repeat(MAX_ARG_STRLEN)] },
    { name: "20 arguments of 100,000 bytes (2 MB, under the 2 MiB limit)", argv: Array(20).fill("y".repeat(100_000)) },
    { name: "22 arguments of 100,000 bytes (over 2 MiB)", argv: Array(22).fill("y".repeat(100_000)) },
    { name: "an environment string of 200,000 bytes", argv: [], env: ["V=" + "z".repeat(200_000)] },
  ];
  for (const c of sets) {
    it(c.name, () => {
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
      let nativeError: string | undefined, native: ReturnType<typeof runNative> | undefined;
      try {
        native = c.env ? runNativeEnv(args, c.argv, env) : runNative(args, c.argv);
      } catch (e) {
        nativeError = (e as NodeJS.ErrnoException).code;
      }
      let emuError: LoadError | undefined, out = "";
      try {
        const r = runProgram(readFileSync(args), {
          argv: [args, ...c.argv], env: c.env ?? [], stdout: (b) => { out += Buffer.from(b).toString("latin1"); }, diagnostics: () => {},
        });
        expect(r.exitCode).toBe(native?.exitCode);
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        emuError = e;
      }
      expect(emuError?.errno).toBe(nativeError);
      if (native) expect(out).toBe(native.stdout.toString("latin1"));
      if (emuError) {
        expect(emuError.message).toMatch(new RegExp(
          "^(argument|environment string) \\d+ takes \\d+ bytes, more than the 131072 one may take " +
          "\\(Linux's MAX_ARG_STRLEN; execve fails with E2BIG\\)$" +
          "|^arguments and environment take \\d+ bytes with their pointers, more than the 2 MiB limit"));
      }
    }, 60_000);
  }

  it("the CLI passes 1 MiB of arguments (which the old 128 KiB initial stack refused, exit 1)", async ({ expect }) => {
    const words = Array(10).fill("w".repeat(100_000));
    const r = await tramplab("run", args, ...words);
    const native = runNative(args, words);
    expect(r.stderr).toBe(native.stderr.toString("latin1"));
    expect(r.stdout).toBe(native.stdout.toString("latin1"));
    expect(r.status).toBe(native.exitCode);
    expect(r.stdout).toContain("argc 11\n");
  }, 60_000);
});

/** runNative with an environment (runNative passes an empty one). */
function runNativeEnv(path: string, argv: string[], env: Record<string, string>): ReturnType<typeof runNative> {
  const r = spawnSync(path, argv, { env, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status ?? -1 };
}
