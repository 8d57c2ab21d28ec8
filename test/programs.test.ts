// Real programs as tests: each freestanding C program in test/programs is compiled with gcc
// at -O0 and -O2 (the two produce very different instruction mixes: memory-heavy and naive
// versus register-allocated, cmov, jump tables, strength-reduced division), run natively and
// in the emulator, and must produce byte-identical stdout and stderr and the same exit code.
// Most programs also check their results against known answers (published check values,
// digit sums, sortedness), so the expected output is not just whatever the native run prints.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, disassembleFunction, runEmulated, runNative } from "./programs/build.js";

interface Variant {
  /** Shown in test names. */
  label: string;
  flags: string[];
}

const O0: Variant = { label: "-O0", flags: ["-O0"] };
const O2: Variant = { label: "-O2", flags: ["-O2"] };
// The emulated CPU has POPCNT and LZCNT but not BMI1 (its andn/bextr/blsi... are VEX-encoded,
// outside the subset); gcc uses tzcnt's encoding (rep bsf) for __builtin_ctz even so.
const BIT_INSNS = ["-mpopcnt", "-mlzcnt"];
const O0_BITS: Variant = { label: "-O0 -mpopcnt -mlzcnt", flags: ["-O0", ...BIT_INSNS] };
const O2_BITS: Variant = { label: "-O2 -mpopcnt -mlzcnt", flags: ["-O2", ...BIT_INSNS] };

interface Program {
  name: string;
  /** What agreement with the native run demonstrates. */
  proves: string;
  variants: Variant[];
  /** Flags every variant adds (e.g. for linking). */
  extraFlags?: string[];
  /** Command lines to run it with (each a separate test); default: no arguments. */
  argSets?: string[][];
}

const PROGRAMS: Program[] = [
  { name: "sort", proves: "quicksort, merge sort and insertion sort agree on 16/32/64-bit signed and unsigned data", variants: [O0, O2] },
  { name: "hash", proves: "FNV-1a, CRC-32, Adler-32 and SipHash-2-4 match their published check values", variants: [O0, O2] },
  {
    name: "bits",
    proves: "8/16/32/64-bit arithmetic, division, shifts, rotates, overflow flags, 128-bit multiply, bit tricks and atomics",
    variants: [O0, O2, O0_BITS, O2_BITS],
  },
  { name: "bignum", proves: "multi-word add/sub/mul/div give 2^1000, 200!, F(1500) and 3^400 exactly", variants: [O0, O2] },
  { name: "strings", proves: "reverse, search, tokenize and integer/text round trips in bases 2..36", variants: [O0, O2] },
  {
    name: "recursion",
    proves: "Ackermann, fib, 8 queens, Hanoi, stack arguments, a 2.5 MiB deep recursion and a 600 KB frame (stack growth)",
    variants: [O0, O2],
  },
  { name: "interp", proves: "a bytecode interpreter dispatching through a dense switch jump table", variants: [O0, O2] },
  {
    name: "insns",
    proves: "rare instruction forms (shift/rotate by 1, rcl/rcr, shld/shrd, bt on memory, high-byte registers, 8/16-bit div, " +
      "all 16 conditions, string ops both ways) with their defined flags",
    variants: [O0, O2],
  },
  {
    name: "smc",
    proves: "self-modifying code: patched immediates and opcodes, jmp/nop toggles, retargeted calls, same-block and page-straddling stores",
    variants: [O0, O2],
    extraFlags: ["-Wl,--no-warn-rwx-segments"], // the program needs one RWX section
  },
  {
    name: "funcptr",
    proves: "comparator callbacks, operation tables, vtables and structs passed and returned by value",
    variants: [O0, O2],
  },
  {
    name: "args",
    proves: "argc/argv/envp on the initial stack and an exit status computed from the arguments",
    variants: [O0, O2],
    argSets: [[], ["hello", "42", "-17", "w\u00f6rld", "", "a b", "1000"]],
  },
];

const binName = (p: Program, v: Variant) => `${p.name}${v.flags.join("")}`;

let dir = "";

// gcc is required (the firmware needs it too; .ci/run installs it): without it these fail.
describe("freestanding C programs: native and emulated runs agree", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tramplab-programs-"));
    const builds = PROGRAMS.flatMap((p) =>
      p.variants.map((v) => compile([`${p.name}.c`], join(dir, binName(p, v)), [...v.flags, ...(p.extraFlags ?? [])])));
    await Promise.all(builds);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const p of PROGRAMS) {
    for (const v of p.variants) {
      for (const args of p.argSets ?? [[]]) {
        const argText = args.length ? ` with args ${JSON.stringify(args)}` : "";
        it(`${p.name} ${v.label}${argText}: ${p.proves}`, () => {
          const path = join(dir, binName(p, v));
          const native = runNative(path, args);
          const emu = runEmulated(readFileSync(path), path, args);
          // Emulator-side problems first: they explain any output difference.
          expect(emu.diagnostics, "emulator diagnostics").toEqual([]);
          expect(emu.result.unsupportedSyscalls).toEqual([]);
          expect(emu.result.limitReached).toBe(false);
          expect(emu.stdout.toString("latin1")).toBe(native.stdout.toString("latin1"));
          expect(emu.stderr.toString("latin1")).toBe(native.stderr.toString("latin1"));
          expect(emu.exitCode).toBe(native.exitCode);
          expect(emu.result.insns).toBeGreaterThan(0n);
        });
      }
    }
  }

  // The tests above only prove something about jump tables and bit instructions if the
  // compiler really emitted them; these pin that down (objdump comes with gcc's binutils).
  it("interp -O2 really dispatches through a jump table (an indirect jmp in run)", () => {
    const text = disassembleFunction(join(dir, "interp-O2"), "run");
    expect(text, "objdump output").not.toBe("");
    expect(text).toMatch(/\bjmp\s+\*/);
  });

  it("bits with -mpopcnt -mlzcnt really contains popcnt, tzcnt (rep bsf) and lzcnt", () => {
    const text = disassembleFunction(join(dir, "bits-O2-mpopcnt-mlzcnt"), "bit_tricks");
    expect(text, "objdump output").not.toBe("");
    for (const insn of ["popcnt", "(tzcnt|rep bsf)", "lzcnt"]) expect(text).toMatch(new RegExp(`\\b${insn}\\b`));
  });

  it("args: the exit status depends on the arguments (not a constant)", () => {
    const path = join(dir, "args-O2");
    const bytes = readFileSync(path);
    const codes = new Set([[], ["1"], ["2"], ["x", "y"]].map((a) => runEmulated(bytes, path, a).exitCode));
    expect(codes.size).toBe(4);
  });
});
