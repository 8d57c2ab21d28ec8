// The command line, spawned as a child process exactly as a user runs it: the command list,
// --version, options spelled --opt=V or --opt V, one error line with a pointer to --help for
// a bad option. `tramplab run PROGRAM`: output and exit status pass through, --max-insns and
// --stats work, every kind of bad input gives one clear error line and exit code 2, and a
// guest fault is reported (what, where, the instruction bytes, the registers) with the exit
// code a shell shows for the signal. And tools/build.mjs is silent when nothing needs building.
// Needs the TypeScript built to dist/ (`npm test` builds first).
import { describe, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";
import { parseElf, PF_X } from "../src/machine/elf.js";
import { compile, runNative } from "./programs/build.js";
import { runCli } from "./cli-child.js";

const tramplab = (...args: string[]) => runCli(args);

describe.concurrent("tramplab's command line", () => {
  const COMMANDS = ["run", "torture", "scenario", "debug", "check-noinstr", "build-module"];

  it("the built-in kernel runs the same under --cpu-vendor amd as under intel " +
    "(gcc emits no vendor-divergent instruction)", async ({ expect }) => {
    const args = ["run", "--time=10ms", "--tracer=function", "--filter=work_*"];
    const [intel, amd] = await Promise.all([tramplab(...args), tramplab(...args, "--cpu-vendor=amd")]);
    expect(intel.status).toBe(0);
    expect(amd).toEqual(intel);
  });

  it("--cpus=2 gives the same run as --cpus 2", async ({ expect }) => {
    const [joined, separate] = await Promise.all([
      tramplab("run", "--cpus=2", "--time=5ms"),
      tramplab("run", "--cpus", "2", "--time", "5ms"),
    ]);
    expect(joined.status).toBe(0);
    expect(joined.stdout).toMatch(/^tramplab: kernel 6\.13 model, 2 vCPUs, .*virtual time 5 ms, HZ=/m);
    expect(joined.stdout).toBe(separate.stdout);
    expect(separate.status).toBe(0);
  });

  it("--help, help and no arguments list every command, one line each, and point to COMMAND --help", async ({ expect }) => {
    const [help, word, none] = await Promise.all([tramplab("--help"), tramplab("help"), tramplab()]);
    expect(help.status).toBe(0);
    expect(help.stderr).toBe("");
    expect(help.stdout.split("\n")[0]).toBe("usage: tramplab COMMAND [OPTIONS]");
    for (const c of COMMANDS) expect(help.stdout.split("\n").filter((l) => l.startsWith(`  ${c} `))).toHaveLength(1);
    expect(help.stdout).toContain("tramplab COMMAND --help");
    expect(word).toEqual(help);
    expect(none.stdout).toBe(help.stdout);
  });

  it("COMMAND --help shows that command's own usage", async ({ expect }) => {
    const runs = await Promise.all(COMMANDS.map((c) => tramplab(c, "--help")));
    COMMANDS.forEach((c, i) => {
      expect(runs[i].status).toBe(0);
      expect(runs[i].stdout).toMatch(new RegExp(`^usage: tramplab ${c}\\b`));
    });
  });

  it("--version and -V print the version in package.json", async ({ expect }) => {
    const { version } = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
    const [long, short] = await Promise.all([tramplab("--version"), tramplab("-V")]);
    expect(long).toEqual({ status: 0, signal: null, stdout: `tramplab ${version}\n`, stderr: "" });
    expect(short).toEqual(long);
  });

  it("an unknown option gives one error line naming it, a pointer to the command's --help, and exit 2", async ({ expect }) => {
    const runs = await Promise.all(COMMANDS.map((c) => tramplab(c, "--cpuz", "3")));
    COMMANDS.forEach((c, i) => {
      expect(runs[i]).toEqual({
        status: 2, signal: null, stdout: "", stderr: `tramplab ${c}: unknown option --cpuz (see 'tramplab ${c} --help')\n`,
      });
    });
  });

  it("a missing or bad value gives the option's own message on one line with the pointer, and exit 2", async ({ expect }) => {
    const cases: [string[], string][] = [
      [["run", "--cpus"], "tramplab run: --cpus needs an integer from 1 to 64, got nothing (see 'tramplab run --help')"],
      [["run", "--cpus=99"], "tramplab run: --cpus needs an integer from 1 to 64, got 99 (see 'tramplab run --help')"],
      [["run", "--stats=yes"], "tramplab run: --stats takes no value, got yes (see 'tramplab run --help')"],
      [["torture", "--shard", "3/2"],
        "tramplab torture: --shard needs I/N with 1 <= I <= N <= 18446744073709551615, got 3/2 (see 'tramplab torture --help')"],
      [["scenario", "--seed=x", "a.yaml"],
        "tramplab scenario: --seed needs an integer from 0 to 18446744073709551615 (decimal, or hex with 0x), got x " +
        "(see 'tramplab scenario --help')"],
      [["debug", "-x"], "tramplab debug: -x needs a file of commands (see 'tramplab debug --help')"],
      [["run", "--cpu-vendor=arm"], "tramplab run: --cpu-vendor must be one of intel, amd, got arm (see 'tramplab run --help')"],
      [["debug", "--cpu-vendor", "via"], "tramplab debug: --cpu-vendor must be one of intel, amd, got via (see 'tramplab debug --help')"],
    ];
    const runs = await Promise.all(cases.map(([args]) => tramplab(...args)));
    cases.forEach(([, line], i) => expect(runs[i]).toEqual({ status: 2, signal: null, stdout: "", stderr: line + "\n" }));
  });

  it("an unknown command gives one error line with the pointer to tramplab --help, and exit 2", async ({ expect }) => {
    expect(await tramplab("frobnicate")).toEqual({
      status: 2, signal: null, stdout: "", stderr: "tramplab: unknown command frobnicate (see 'tramplab --help')\n",
    });
  });
});

describe("tools/build.mjs", () => {
  it("prints nothing at all when everything is up to date", ({ expect }) => {
    const build = (...args: string[]) => spawnSync(process.execPath, [join(projectRoot, "tools/build.mjs"), ...args], {
      cwd: projectRoot, encoding: "utf8", timeout: 900_000,
    });
    expect(build("--quiet").status).toBe(0); // builds whatever is out of date
    for (const args of [[], ["--quiet"]]) {
      expect(build(...args)).toMatchObject({ status: 0, stdout: "", stderr: "" });
    }
  }, 900_000);
});

let dir = "";
let faults = "", args = "", cpuid = "";

/** A copy of the faults binary with some bytes changed. */
function patched(name: string, patch: (b: Buffer, view: DataView) => void): string {
  const b = Buffer.from(readFileSync(faults));
  patch(b, new DataView(b.buffer, b.byteOffset, b.byteLength));
  const out = join(dir, name);
  writeFileSync(out, b);
  return out;
}

/** File offset of the first program header of type PT_LOAD (ELF64 layout). */
function firstLoadHeader(view: DataView): number {
  const phoff = Number(view.getBigUint64(32, true)), phentsize = view.getUint16(54, true), phnum = view.getUint16(56, true);
  for (let i = 0; i < phnum; i++) if (view.getUint32(phoff + i * phentsize, true) === 1) return phoff + i * phentsize;
  throw new Error("no PT_LOAD");
}

/** A 32-bit ELF: gcc -m32 when the multilib is installed, else the 64-bit file relabelled. */
async function elf32(): Promise<string> {
  const out = join(dir, "hello32");
  const r = spawnSync("gcc", ["-m32", "-static", "-nostdlib", "-ffreestanding", "-x", "c", "-", "-o", out],
    { input: "void _start(void) { for (;;); }\n" });
  if (r.status === 0) return out;
  return patched("hello32-crafted", (b) => { b[4] = 1; }); // EI_CLASS = ELFCLASS32
}

// gcc is required (the firmware needs it too; .ci/run installs it): without it these fail.
describe.concurrent("tramplab run (command line)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tramplab-cli-"));
    [faults, args, cpuid] = await Promise.all([
      compile(["faults.c"], join(dir, "faults"), ["-O2"]),
      compile(["args.c"], join(dir, "args"), ["-O2"]),
      compile(["cpuid.c"], join(dir, "cpuid"), ["-O2"]),
    ]);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes stdout, stderr and the exit status through", async ({ expect }) => {
    const r = await tramplab("run", faults, "hello");
    expect(r.stdout).toBe("about to: hello\nhello, stdout\n");
    expect(r.stderr).toBe("hello, stderr\n");
    expect(r.status).toBe(3);
  });

  it("passes the arguments through, options after PROGRAM included: output and exit status equal the native run's", async ({ expect }) => {
    const words = ["alpha", "7", "-3", "", "two words", "--cpus", "2", "--help"];
    const native = runNative(args, words);
    const r = await tramplab("run", args, ...words);
    expect(r.stdout).toBe(native.stdout.toString("utf8"));
    expect(r.stderr).toBe(native.stderr.toString("utf8"));
    expect(r.status).toBe(native.exitCode);
  });

  it("--cpu-vendor picks what CPUID tells a program: GenuineIntel family 6 by default, " +
    "AuthenticAMD family 25 with amd", async ({ expect }) => {
    const [intel, amd, plain] = await Promise.all([
      tramplab("run", "--cpu-vendor", "intel", cpuid), tramplab("run", "--cpu-vendor=amd", cpuid), tramplab("run", cpuid),
    ]);
    expect([intel.status, intel.stdout]).toEqual([0, "GenuineIntel family 6\n"]);
    expect([amd.status, amd.stdout]).toEqual([0, "AuthenticAMD family 25\n"]);
    expect(plain.stdout).toBe(intel.stdout);
  });

  it("--max-insns stops an infinite loop with a clear message and exit code 152 (128 + SIGXCPU)", async ({ expect }) => {
    const r = await tramplab("run", "--max-insns", "100000", faults, "loop");
    expect(r.stdout).toBe("about to: loop\n");
    expect(r.stderr).toBe("tramplab: stopped after 100000 instructions (--max-insns)\n");
    expect(r.status).toBe(152);
  });

  it("--stats prints the instructions retired and guest MIPS", async ({ expect }) => {
    const r = await tramplab("run", "--stats", faults, "hello");
    expect(r.status).toBe(3);
    const m = /^tramplab: (\d+) instructions retired in [\d.]+ ms \(([\d.]+) guest MIPS\)$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(50);
  });

  describe("bad input: one error line on stderr, exit code 2", () => {
    const cases: { name: string; file: () => string | Promise<string>; message: RegExp }[] = [
      {
        name: "not an ELF file",
        file: () => { const p = join(dir, "script.sh"); writeFileSync(p, "#!/bin/sh\necho hi\n"); return p; },
        message: /not an ELF file/,
      },
      {
        name: "truncated ELF (header cut short)",
        file: () => { const p = join(dir, "cut40"); writeFileSync(p, readFileSync(faults).subarray(0, 40)); return p; },
        message: /truncated ELF file/,
      },
      {
        name: "truncated ELF (segment data missing)",
        file: () => { const p = join(dir, "cut4k"); writeFileSync(p, readFileSync(faults).subarray(0, 4096 + 64)); return p; },
        message: /truncated ELF file: segment \d+ lies outside the file/,
      },
      { name: "32-bit ELF", file: elf32, message: /32-bit ELF file/ },
      {
        name: "wrong e_machine",
        file: () => patched("aarch64", (_, v) => v.setUint16(18, 183, true)),
        message: /wrong machine: e_machine is 183/,
      },
      {
        name: "segment outside user memory",
        file: () => patched("kernel-segment", (_, v) => v.setBigUint64(firstLoadHeader(v) + 16, 0xffff_8000_0000_0000n, true)),
        message: /segment \d+ at 0xffff800000000000 .*lies outside user memory/,
      },
      {
        name: "entry point outside executable segments",
        file: () => {
          const data = parseElf(readFileSync(faults)).segments.find((s) => (s.flags & PF_X) === 0)!;
          return patched("entry-in-data", (_, v) => v.setBigUint64(24, data.vaddr, true));
        },
        message: /entry point 0x[0-9a-f]+ is not inside an executable segment/,
      },
      { name: "missing file", file: () => join(dir, "does-not-exist"), message: /cannot read \(ENOENT\)/ },
    ];
    for (const c of cases) {
      it(c.name, async ({ expect }) => {
        const path = await c.file();
        const r = await tramplab("run", path);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n")).toEqual([expect.stringMatching(/^tramplab: /), ""]);
        expect(r.stderr).toContain(path);
        expect(r.stderr).toMatch(c.message);
        expect(r.status).toBe(2);
      });
    }
  });

  describe("guest faults: report what, where, the bytes and registers; exit 128 + signal", () => {
    const cases = [
      { mode: "ud2", signal: "SIGILL", code: 132, what: "invalid opcode (#UD)", fn: "fault_ud2", insn: /^ud2/ },
      { mode: "div0", signal: "SIGFPE", code: 136, what: "divide error (#DE)", fn: "fault_div0", insn: /^idiv/ },
      { mode: "overflow-div", signal: "SIGFPE", code: 136, what: "divide error (#DE)", fn: "fault_overflow_div", insn: /^idiv/ },
      { mode: "null", signal: "SIGSEGV", code: 139, what: "page fault (#PF) at 0x0 (user writing, not present)",
        fn: "fault_null", insn: /^mov/ },
      { mode: "kernel", signal: "SIGSEGV", code: 139, what: "page fault (#PF) at 0xffffffff81000000 (user reading",
        fn: "fault_kernel", insn: /^mov/ },
      { mode: "nx", signal: "SIGSEGV", code: 139, what: "(user executing, protection violation)", fn: "data_code", insn: /^ret/ },
      { mode: "hlt", signal: "SIGSEGV", code: 139, what: "general protection fault (#GP)", fn: "fault_hlt", insn: /^hlt/ },
      { mode: "cli", signal: "SIGSEGV", code: 139, what: "general protection fault (#GP)", fn: "fault_cli", insn: /^cli/ },
      { mode: "stack", signal: "SIGSEGV", code: 139, what: "(user writing, not present)", fn: "fault_stack", insn: /^(call|mov|push)/ },
    ];
    for (const c of cases) {
      it(`${c.mode}: ${c.what} -> ${c.signal}, exit ${c.code}`, async ({ expect }) => {
        // The same binary dies of the same signal natively.
        expect(runNative(faults, [c.mode]).signal).toBe(c.signal);

        const r = await tramplab("run", faults, c.mode);
        expect(r.status).toBe(c.code);
        expect(r.stdout).toBe(`about to: ${c.mode}\n`);
        expect(r.stderr).toContain(`tramplab: program killed by ${c.signal}: `);
        expect(r.stderr).toContain(c.what);
        // Where: a symbolized address, then the instruction's bytes and disassembly.
        const at = /^ {2}at 0x([0-9a-f]+) <([\w.]+)(?:\+0x[0-9a-f]+)?>: ((?:[0-9a-f]{2} )*[0-9a-f]{2}) {3}(.+)$/m.exec(r.stderr);
        expect(at, r.stderr).not.toBeNull();
        const [, rip, sym, bytes, text] = at!;
        expect(sym).toBe(c.fn);
        expect(text).toMatch(c.insn);
        expect(bytes.replace(/ /g, "")).toBe(bytesAt(BigInt("0x" + rip), bytes.split(" ").length));
        // Registers: all sixteen, rip and rflags.
        for (const reg of ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r15", "rip", "rflags"]) {
          expect(r.stderr).toMatch(new RegExp(`\\b${reg} [0-9a-f]{8,16}\\b`));
        }
        expect(r.stderr).toContain(`rip ${rip.padStart(16, "0")}`);
      });
    }
  });
});

/** The bytes of the faults binary at a virtual address, as hex, read from the ELF file. */
function bytesAt(va: bigint, n: number): string {
  const seg = parseElf(readFileSync(faults)).segments.find((s) => va >= s.vaddr && va < s.vaddr + s.memsz)!;
  const off = Number(va - seg.vaddr);
  return Buffer.from(seg.data.subarray(off, off + n)).toString("hex");
}
