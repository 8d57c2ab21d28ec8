// Differential test of the emulated CPU against this machine's own x86-64 CPU.
//
// The emulator runs with the host's vendor profile (Intel or AMD, read from CPUID), so the
// test passes on either. The same cases also run under the other profile: every case without
// a vendor-divergent instruction (test/diff/vendor.ts) must match the host there too, and the
// divergent ones are checked against the manuals' statements in test/cpu-vendors.test.ts.
//
// Random snippets over the whole supported instruction table run twice: natively, in a small
// C harness (test/diff/native) at the same virtual addresses, and in the emulator in flat mode
// at CPL 3. Final registers, RFLAGS (minus architecturally undefined flags), the exception and
// where it was raised, and a hash of the data region must all agree. Every case is
// deterministic (fixed seeds); a failure lists each mismatch with its disassembly, inputs, both
// outcomes and a command that reproduces it (`npm run fuzz -- --scenario S --seed X --only N`).
import { describe, it, expect, beforeAll } from "vitest";
import { ensureHarness, runNative } from "./diff/native.js";
import { report, runScenario } from "./diff/run.js";
import { coverage, expectedForms, SCENARIOS, SUPPORTED_ROWS, type GeneratedCase, type ScenarioName } from "./diff/generator.js";
import { CODE_BASE, DATA_BASE, DATA_SIZE, FS_BASE, GS_BASE, STACK_HOME, type CaseInput } from "./diff/layout.js";
import { fillData, fnv1a64 } from "./diff/prng.js";
import { le } from "./diff/encode.js";

const SEED = 0x5eedn;
/** 21,000 cases in all. */
const COUNTS: Record<ScenarioName, number> = { single: 6000, mix: 6000, chains: 3000, control: 2500, strings: 2000, faults: 1500 };

/** Features every run must exercise somewhere (names as the generator tags them). */
const REQUIRED_FEATURES = [
  "osz8", "osz16", "osz32", "osz64", "rex", "rex.w", "rex.r", "rex.x", "rex.b", "reg", "mem", "highbyte",
  "sib index", "sib noindex", "sib nobase", "base rsp", "base rbp/r13", "disp0", "disp8", "disp32", "riprel",
  "seg 64", "seg 65", "seg 2e", "asz32", "imm8", "imm16", "imm32", "imm64", "lock", "rep", "repe", "repne",
  "df=0", "df=1", "rel8", "rel32", "loop", "push label", "noncanonical", "too long", "invalid cr", "unaccessed",
  "code crosses page",
];

const generated: GeneratedCase[] = [];

function nativeCase(code: number[], regs: Partial<Record<number, bigint>> = {}, extra: Partial<CaseInput> = {}): CaseInput {
  const r = Array.from({ length: 16 }, (_, i) => regs[i] ?? BigInt(i) * 0x0101010101010101n);
  r[4] = regs[4] ?? BigInt(STACK_HOME);
  return { regs: r, rflags: 0x202n, seed: 42n, codeOff: 0x10, code: Uint8Array.from(code), ...extra };
}

describe("differential test: emulated CPU vs. this host's x86-64 CPU", () => {
  beforeAll(() => {
    ensureHarness();
  });

  it("native harness self-check: registers, flags, faults, segment bases and memory as the host leaves them", () => {
    const data = new Uint8Array(DATA_SIZE);
    fillData(42n, data);
    const qword = (off: number) => new DataView(data.buffer).getBigUint64(off, true);
    const fsDisp = le(BigInt(DATA_BASE + 0x100) - FS_BASE, 4);
    const cases = [
      nativeCase([0x48, 0x01, 0xc8], { 0: 5n, 1: 7n }),                           // add rax, rcx
      nativeCase([0x50], { 0: 0x1122334455667788n }),                              // push rax
      nativeCase([0x48, 0xf7, 0xf1], { 1: 0n }),                                   // div rcx (#DE)
      nativeCase([0xcc]),                                                          // int3 (trap)
      nativeCase([0xfa]),                                                          // cli (#GP at CPL 3)
      nativeCase([0x0f, 0x0b]),                                                    // ud2
      nativeCase([0x64, 0x48, 0x8b, 0x04, 0x25, ...fsDisp]),                       // mov rax, fs:[abs]
      nativeCase([0x65, 0x48, 0x8b, 0x03], { 3: BigInt.asUintN(64, BigInt(DATA_BASE + 0x200) - GS_BASE) }), // mov rax, gs:[rbx]
      // rip-relative across a page
      nativeCase([0x48, 0x8b, 0x05, ...le(BigInt(DATA_BASE + 0x300 - (CODE_BASE + 0xffe + 7)), 4)], {}, { codeOff: 0xffe }),
      nativeCase([0x90], {}, { rflags: 0xed7n }),                                  // flags pass through
    ];
    const r = runNative(cases);
    const start = (c: CaseInput) => BigInt(CODE_BASE + c.codeOff);
    const end = (c: CaseInput) => start(c) + BigInt(c.code.length);
    const untouched = fnv1a64(data);

    expect([r[0].vector, r[0].regs[0], r[0].rflags, r[0].rip, r[0].hash]).toEqual([null, 12n, 0x206n, end(cases[0]), untouched]);
    const pushed = data.slice();
    pushed.set(le(0x1122334455667788n, 8), STACK_HOME - 8 - DATA_BASE);
    expect([r[1].regs[4], r[1].hash]).toEqual([BigInt(STACK_HOME - 8), fnv1a64(pushed)]);
    expect([r[2].vector, r[2].rip, r[2].regs[0]]).toEqual([0, start(cases[2]), cases[2].regs[0]]);
    expect([r[3].vector, r[3].rip]).toEqual([3, end(cases[3])]);
    expect([r[4].vector, r[4].err, r[4].rip]).toEqual([13, 0n, start(cases[4])]);
    expect([r[5].vector, r[5].rip]).toEqual([6, start(cases[5])]);
    expect(r[6].regs[0]).toBe(qword(0x100));
    expect(r[7].regs[0]).toBe(qword(0x200));
    expect([r[8].vector, r[8].regs[0]]).toEqual([null, qword(0x300)]);
    expect(r[9].rflags).toBe(0xed7n);
  });

  for (const [name, count] of Object.entries(COUNTS) as [ScenarioName, number][]) {
    it(`${count} cases: ${SCENARIOS[name].title}`, () => {
      const run = runScenario(name, SEED, count, { otherVendor: true });
      generated.push(...run.cases);
      expect(run.mismatches.length, report(run)).toBe(0);
      const other = run.other!;
      expect(other.mismatches.length, report({ ...run, vendor: other.vendor, mismatches: other.mismatches })).toBe(0);
    });
  }

  it("the cases exercised every supported row and every encoding feature", () => {
    const { rows, features, rowFeatures } = coverage(generated);
    expect(SUPPORTED_ROWS.filter((r) => !rows.has(r.key)).map((r) => r.key), "rows never generated").toEqual([]);
    expect(REQUIRED_FEATURES.filter((f) => !features.has(f)), "features never generated").toEqual([]);
    const missingForms = SUPPORTED_ROWS.map((r) => [r.key, expectedForms(r).filter((f) => !rowFeatures.get(r.key)?.has(f))] as const)
      .filter(([, m]) => m.length)
      .map(([k, m]) => `${k}: ${m.join(" ")}`);
    expect(missingForms, "rows never generated in these forms").toEqual([]);
  });
});
