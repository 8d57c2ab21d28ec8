// Hostile input, class 3: the guest's faults as Linux delivers them. test/programs/traps.c
// does one thing per command-line word (int n through gates user code may or may not use,
// the trap flag, alignment checks, stack growth, unknown system calls, page 0), natively and
// under `tramplab run`: output and exit status must agree, and the emulator's report must name
// the right fault at the right instruction. A static-PIE build checks where an ET_DYN program
// is loaded. Below, a bare-metal fixture (test/system/fixtures/stepping.S) checks the same
// single-step and alignment rules delivered through a guest IDT, without fault exits.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, runEmulated, runNative } from "../programs/build.js";
import { ET_DYN_BASE } from "../../src/linux/loader.js";
import { Vector } from "../../src/gen/layout.js";
import { bootFixture, runToDone, trapLog } from "../system/fixture.js";

let dir = "";
let traps = "", trapsPie = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-hostile-faults-"));
  [traps, trapsPie] = await Promise.all([
    compile(["traps.c"], join(dir, "traps"), ["-O2"]),
    compile(["traps.c"], join(dir, "traps-pie"), ["-O2", "-static-pie", "-fPIE"]),
  ]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Case {
  word: string;
  /** Exit status as a shell shows it (Linux's, checked natively too). */
  code: number;
  /** What the emulator's report (or diagnostic) says; none for a clean exit. */
  report?: RegExp;
  /** The function and instruction the report points at. */
  at?: RegExp;
}

const GP_FROM_INT = (n: number) => new RegExp(`killed by SIGSEGV: general protection fault \\(#GP\\) from int \\$0x${n.toString(16)}: ` +
  `its IDT gate is for the kernel only \\(DPL 0, error code 0x${((n << 3) | 2).toString(16)}\\)`);

const CASES: Case[] = [
  { word: "int0", code: 139, report: GP_FROM_INT(0), at: /<main\+0x[0-9a-f]+>: cd 00 +int \$0/ },
  { word: "int1", code: 139, report: GP_FROM_INT(1) },
  { word: "int6", code: 139, report: GP_FROM_INT(6) },
  { word: "inte", code: 139, report: GP_FROM_INT(0xe) },
  { word: "int11", code: 139, report: GP_FROM_INT(0x11) },
  { word: "int20", code: 139, report: GP_FROM_INT(0x20) },
  { word: "int81", code: 139, report: GP_FROM_INT(0x81) },
  { word: "int3", code: 133, report: /killed by SIGTRAP: breakpoint \(#BP\)\n/ },
  { word: "int3-short", code: 133, report: /killed by SIGTRAP: breakpoint \(#BP\)\n/ },
  { word: "int4", code: 139, report: /killed by SIGSEGV: overflow \(#OF\)\n/ },
  { word: "icebp", code: 133, report: /killed by SIGTRAP: debug trap \(#DB\): int1\n/, at: /: f1 +int1/ },
  { word: "int80", code: 0 },
  { word: "tf", code: 133, report: /killed by SIGTRAP: debug trap \(#DB\): single step \(RFLAGS\.TF\)\n/,
    at: /<trap_tf\+0x[0-9a-f]+>: b8 01 00 00 00 +mov \$1,%eax/ },
  { word: "tf-clear", code: 133, report: /single step/, at: /<trap_tf_clear\+0x[0-9a-f]+>: 9d +popf/ },
  { word: "tf-rep", code: 133, report: /single step[^]*rcx 0000000000000004/, at: /<trap_tf_rep\+0x[0-9a-f]+>: f3 aa +rep stos/ },
  { word: "tf-iret", code: 133, report: /single step/, at: /<trap_tf_iret\+0x[0-9a-f]+>: b8 01 00 00 00 +mov \$1,%eax/ },
  { word: "tf-int3", code: 133, report: /killed by SIGTRAP: breakpoint \(#BP\)\n/ },
  { word: "tf-exit", code: 7 },
  { word: "ac", code: 135, report: /killed by SIGBUS: alignment check \(#AC\)\n/, at: /<trap_ac\+0x[0-9a-f]+>: 8b 05/ },
  { word: "ac-push", code: 135, report: /alignment check \(#AC\)/, at: /<trap_ac_push\+0x[0-9a-f]+>: 50 +push %rax/ },
  { word: "ac-string", code: 135, report: /alignment check \(#AC\)/, at: /<trap_ac_string\+0x[0-9a-f]+>: 66 f3 a5 +rep movsw/ },
  { word: "ac-cmpxchg8b", code: 135, report: /alignment check \(#AC\)/, at: /cmpxchg8b/ },
  { word: "ac-aligned", code: 0 },
  { word: "ac-off", code: 0 },
  { word: "stack4m", code: 0 },
  { word: "stack7m", code: 0 },
  { word: "stack9m", code: 139, report: /killed by SIGSEGV: page fault \(#PF\) at 0x7fffff[0-7][0-9a-f]{5} \(user writing, not present\)/ },
  { word: "nr-1", code: 0, report: /^tramplab: unsupported system call -1 returns -ENOSYS$/ },
  { word: "nr-x32", code: 0, report: /^tramplab: unsupported system call 1073741825 returns -ENOSYS$/ },
  { word: "null-read", code: 139, report: /page fault \(#PF\) at 0x0 \(user reading, not present\)/ },
  { word: "where", code: 0 },
];

describe("traps.c natively and emulated: the same output and exit status, and the report names the fault", () => {
  for (const c of CASES) {
    it(`${c.word}: exit ${c.code}`, () => {
      const native = runNative(traps, [c.word]);
      expect(native.exitCode, "native exit status").toBe(c.code);
      const emu = runEmulated(readFileSync(traps), traps, [c.word]);
      expect(emu.stdout.toString("latin1")).toBe(native.stdout.toString("latin1"));
      expect(emu.exitCode).toBe(native.exitCode);
      const text = emu.diagnostics.join("\n");
      if (c.report) expect(text).toMatch(c.report);
      else expect(text).toBe("");
      if (c.at) expect(text).toMatch(new RegExp(`\\n {2}at 0x[0-9a-f]+ [^\\n]*${c.at.source}`));
    });
  }

  it("tf: the write after the popf that set TF completes; the trap follows the next instruction", () => {
    const emu = runEmulated(readFileSync(traps), traps, ["tf"]);
    expect(emu.stdout.toString()).toBe("about to: tf\nA\n");
    expect(emu.result.fault?.vector).toBe(Vector.DB);
  });
});

describe("a static PIE (ET_DYN) is loaded at ET_DYN_BASE, not at 0", () => {
  it("page 0 stays unmapped: reading NULL is SIGSEGV, natively and emulated", () => {
    const native = runNative(trapsPie, ["null-read"]);
    const emu = runEmulated(readFileSync(trapsPie), trapsPie, ["null-read"]);
    expect(native.exitCode).toBe(139);
    expect(emu.exitCode).toBe(139);
    expect(emu.stdout.toString()).toBe(native.stdout.toString());
    // The report is symbolized with the symbols moved to the load address.
    expect(emu.result.fault!.rip >= ET_DYN_BASE && emu.result.fault!.rip < ET_DYN_BASE + 0x10000n).toBe(true);
    expect(emu.diagnostics.join("\n")).toMatch(/at 0x5555555[0-9a-f]+ <fault_null_read>: 8b 04 25 00 00 00 00/);
  });

  it("the program runs at its load address: main lies above the first 64 KiB on both", () => {
    const native = runNative(trapsPie, ["where"]);
    const emu = runEmulated(readFileSync(trapsPie), trapsPie, ["where"]);
    expect(native.stdout.toString()).toBe("about to: where\nmain above 64 KiB 1\nsurvived\n");
    expect(emu.stdout.toString()).toBe(native.stdout.toString());
    expect(emu.exitCode).toBe(0);
  });
});

describe("single-step and alignment checks through a guest IDT (bare metal, CPL 3)", () => {
  const b = bootFixture("stepping");
  const stop = runToDone(b);
  const log = trapLog(b);
  const sym = (name: string) => b.symbols.get(name)!.addr;

  it("runs to its end", () => {
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
  });

  it("a #DB after every instruction that began with TF set, with the RIP after it " +
    "(per rep iteration; not after syscall, int3, or a popf or iretq that set TF)", () => {
    const steps = ["u1", "u2", "u3", "u4", "u6", "u7", "u9", "u10", "u11", "u_rep", "u_rep", "u_rep", "u12"];
    expect(log.slice(0, 13).map((t) => [t.vector, t.rip])).toEqual(steps.map((s) => [Vector.DB, sym(s)]));
    expect(log[13]).toMatchObject({ vector: Vector.BP, rip: sym("u13") });
    expect(log.slice(14, 18).map((t) => [t.vector, t.rip])).toEqual(["u14", "u15", "u16", "u17"].map((s) => [Vector.DB, sym(s)]));
    // The frame holds RFLAGS after the instruction: TF, except after the popf that cleared it
    // (the handler itself runs with TF clear); every trap came from CPL 3.
    const tf = log.slice(0, 18).map((t) => (t.rflags & 0x100n) !== 0n);
    expect(tf).toEqual(log.slice(0, 18).map((_, i) => i !== 3 && i !== 17));
    for (const t of log.slice(0, 18)) expect(t.cs & 3n).toBe(3n);
  });

  it("#AC(0) for misaligned loads, pushes and string elements at CPL 3 with AC set, and nothing else", () => {
    expect(log.slice(18).map((t) => [t.vector, t.error, t.rip])).toEqual(
      ["u_ac_load", "u_ac_push", "u_ac_string"].map((s) => [Vector.AC, 0n, sym(s)]));
    expect(log.slice(18).every((t) => (t.rflags & 0x40000n) !== 0n)).toBe(true);
  });
});
