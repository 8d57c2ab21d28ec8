// Where Intel and AMD parts differ: each case states both vendors' outcome, from the manuals
// (Intel SDM, AMD APM) or, where both call the result undefined, from what the silicon does.
// Every case runs in the emulator under both profiles, whatever the host; the host's own
// column is also run natively, so the table itself is checked against a real CPU.
import { describe, it, expect, beforeAll } from "vitest";
import { ensureHarness, hostVendor, runNative } from "./diff/native.js";
import { EmulatorRunner } from "./diff/emulator.js";
import { CODE_BASE, DATA_BASE, STACK_HOME, type CaseInput, type CpuResult } from "./diff/layout.js";
import { le } from "./diff/encode.js";
import { CPU_VENDORS, type CpuVendorName } from "../src/machine/machine.js";
import { disassemble } from "../src/machine/disasm.js";

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RSI = 6, RDI = 7;
const AT = BigInt(CODE_BASE + 0x10);
const HOME = BigInt(STACK_HOME);
const ZF = 0x40n;

/** What a case ends with: completed at `rip`, or exception `vector` with RIP there. */
interface Outcome {
  vector: number | null;
  rip: bigint;
  err?: bigint;
  /** Registers that must hold these values (masked by `masks` where given). */
  regs?: Partial<Record<number, bigint>>;
  masks?: Partial<Record<number, bigint>>;
}

interface VendorCase {
  name: string;
  /** Where the behaviour is stated. */
  source: string;
  code: number[];
  regs?: Partial<Record<number, bigint>>;
  rflags?: bigint;
  /** Runs at CPL 0 (system instructions): the emulator only, a user process cannot. */
  kernel?: boolean;
  intel: Outcome;
  amd: Outcome;
}

const done = (len: number, regs?: Outcome["regs"]): Outcome => ({ vector: null, rip: AT + BigInt(len), regs });
/** A user-mode instruction fetch from an unmapped page: #PF with error code U | I/D. */
const fetchFault = (rip: bigint, regs?: Outcome["regs"]): Outcome => ({ vector: 14, rip, err: 0x14n, regs });
const low16 = (v: bigint) => v & 0xffffn;
const same = (o: Outcome) => ({ intel: o, amd: o });

const NEAR = "SDM Vol. 2 (JMP, CALL, RET, Jcc, LOOP: 64-bit mode forces a 64-bit operand size); " +
  "APM Vol. 3 (near branches: a 66 prefix selects 16 bits)";
const STRINGS = "undefined count-zero writes: observed on Intel parts (ECX and, for movs/stos, the index registers written) " +
  "and AMD parts (nothing written)";

const CASES: VendorCase[] = [
  { name: "jmp rel8 with 66", source: NEAR, code: [0x66, 0xeb, 0x00],
    intel: done(3), amd: fetchFault(low16(AT + 3n)) },
  { name: "jmp rel32/rel16 with 66 (the immediate is 2 bytes on AMD)", source: NEAR, code: [0x66, 0xe9, 0, 0, 0, 0],
    intel: done(6), amd: fetchFault(low16(AT + 4n)) },
  { name: "call rel with 66: 8-byte or 2-byte return address", source: NEAR, code: [0x66, 0xe8, 0, 0, 0, 0],
    intel: done(6, { [RSP]: HOME - 8n }), amd: fetchFault(low16(AT + 4n), { [RSP]: HOME - 2n }) },
  { name: "call rel with 66 and REX.W: 64-bit on both", source: NEAR, code: [0x66, 0x48, 0xe8, 0, 0, 0, 0],
    ...same(done(7, { [RSP]: HOME - 8n })) },
  { name: "jcc rel32/rel16 with 66, taken", source: NEAR, code: [0x66, 0x0f, 0x84, 0, 0, 0, 0], rflags: 0x202n | ZF,
    intel: done(7), amd: fetchFault(low16(AT + 5n)) },
  { name: "ret with 66: pops 8 or 2 bytes", source: NEAR, code: [0x68, ...le(AT + 7n, 4), 0x66, 0xc3],
    intel: done(7, { [RSP]: HOME }), amd: fetchFault(low16(AT + 7n), { [RSP]: HOME - 6n }) },
  { name: "ret imm16 with 66", source: NEAR, code: [0x68, ...le(AT + 9n, 4), 0x66, 0xc2, 0x10, 0x00],
    intel: done(9, { [RSP]: HOME + 0x10n }), amd: fetchFault(low16(AT + 9n), { [RSP]: HOME - 6n + 0x10n }) },
  { name: "jmp through a register with 66: 16-bit target", source: NEAR, code: [0x66, 0xff, 0xe0], regs: { [RAX]: AT + 3n },
    intel: done(3), amd: fetchFault(low16(AT + 3n)) },
  { name: "call through a register with 66", source: NEAR, code: [0x66, 0xff, 0xd0], regs: { [RAX]: AT + 3n },
    intel: done(3, { [RSP]: HOME - 8n }), amd: fetchFault(low16(AT + 3n), { [RSP]: HOME - 2n }) },
  { name: "loop with 66, taken", source: NEAR, code: [0x66, 0xe2, 0x00], regs: { [RCX]: 5n },
    intel: done(3, { [RCX]: 4n }), amd: fetchFault(low16(AT + 3n), { [RCX]: 4n }) },
  { name: "jrcxz with 66, taken", source: NEAR, code: [0x66, 0xe3, 0x00], regs: { [RCX]: 0n },
    intel: done(3), amd: fetchFault(low16(AT + 3n)) },
  { name: "rep lodsb with 67 and ECX = 0", source: STRINGS, code: [0xf3, 0x67, 0xac],
    regs: { [RCX]: 0xaaaa_bbbb_0000_0000n, [RSI]: 0x0000_0001_0201_0040n },
    intel: done(3, { [RCX]: 0n, [RSI]: 0x0000_0001_0201_0040n }),
    amd: done(3, { [RCX]: 0xaaaa_bbbb_0000_0000n, [RSI]: 0x0000_0001_0201_0040n }) },
  { name: "rep movsb with 67 and ECX = 0", source: STRINGS, code: [0x67, 0xf3, 0xa4],
    regs: { [RCX]: 0xaaaa_bbbb_0000_0000n, [RSI]: 0x0000_0001_0201_0040n, [RDI]: 0x0000_0002_0201_0080n },
    intel: done(3, { [RCX]: 0n, [RSI]: 0x0201_0040n, [RDI]: 0x0201_0080n }),
    amd: done(3, { [RCX]: 0xaaaa_bbbb_0000_0000n, [RSI]: 0x0000_0001_0201_0040n, [RDI]: 0x0000_0002_0201_0080n }) },
  { name: "rep stosb with 67 and ECX = 0", source: STRINGS, code: [0xf3, 0x67, 0xaa],
    regs: { [RCX]: 0xaaaa_bbbb_0000_0000n, [RDI]: 0x0000_0002_0201_0080n },
    intel: done(3, { [RCX]: 0n, [RDI]: 0x0201_0080n }),
    amd: done(3, { [RCX]: 0xaaaa_bbbb_0000_0000n, [RDI]: 0x0000_0002_0201_0080n }) },
  { name: "repe cmpsb with 67 and ECX = 0", source: STRINGS, code: [0xf3, 0x67, 0xa6],
    regs: { [RCX]: 0xaaaa_bbbb_0000_0000n },
    intel: done(3, { [RCX]: 0n }), amd: done(3, { [RCX]: 0xaaaa_bbbb_0000_0000n }) },
  { name: "rep stosb with 67 and ECX = 1: both write the 32-bit registers", source: "SDM and APM (a 32-bit register write zero-extends)",
    code: [0xf3, 0x67, 0xaa], regs: { [RCX]: 0xaaaa_bbbb_0000_0001n, [RDI]: 0x0000_0002_0201_0080n },
    ...same(done(3, { [RCX]: 0n, [RDI]: 0x0201_0081n })) },
  { name: "bsf r32 with a zero source",
    source: "APM Vol. 3 BSF (destination unchanged); Intel: the old value is written back, clearing bits 63:32",
    code: [0x0f, 0xbc, 0xc1], regs: { [RAX]: 0xffff_ffff_1234_5678n, [RCX]: 0n },
    intel: done(3, { [RAX]: 0x1234_5678n }), amd: done(3, { [RAX]: 0xffff_ffff_1234_5678n }) },
  { name: "bsr r32 with a zero source", source: "APM Vol. 3 BSR; Intel as for BSF",
    code: [0x0f, 0xbd, 0xc1], regs: { [RAX]: 0xffff_ffff_1234_5678n, [RCX]: 0n },
    intel: done(3, { [RAX]: 0x1234_5678n }), amd: done(3, { [RAX]: 0xffff_ffff_1234_5678n }) },
  { name: "bsf r64 with a zero source: unchanged on both", source: "APM Vol. 3 BSF; observed on Intel parts",
    code: [0x48, 0x0f, 0xbc, 0xc1], regs: { [RAX]: 0xffff_ffff_1234_5678n, [RCX]: 0n },
    ...same(done(4, { [RAX]: 0xffff_ffff_1234_5678n })) },
  { name: "shld r16 by 20 (result undefined for counts above 16)",
    source: "observed: Intel shifts through src:dst:src, AMD rotates the source",
    code: [0x66, 0x0f, 0xa4, 0xc8, 20], regs: { [RAX]: 0x1122_3344_5566_a5c3n, [RCX]: 0x1e69n },
    intel: done(5, { [RAX]: 0x1122_3344_5566_5c31n }), amd: done(5, { [RAX]: 0x1122_3344_5566_e691n }) },
  { name: "shrd r16 by 20", source: "observed, as for shld",
    code: [0x66, 0x0f, 0xac, 0xc8, 20], regs: { [RAX]: 0x1122_3344_5566_a5c3n, [RCX]: 0x1e69n },
    intel: done(5, { [RAX]: 0x1122_3344_5566_9a5cn }), amd: done(5, { [RAX]: 0x1122_3344_5566_91e6n }) },
  { name: "cpuid 0: the vendor string", source: "SDM Vol. 2 CPUID; APM Vol. 3 CPUID Fn0000_0000",
    code: [0x0f, 0xa2], regs: { [RAX]: 0n },
    intel: done(2, { [RBX]: 0x756e6547n, [RDX]: 0x49656e69n, [RCX]: 0x6c65746en }),
    amd: done(2, { [RBX]: 0x68747541n, [RDX]: 0x69746e65n, [RCX]: 0x444d4163n }) },
  { name: "cpuid 1: the family (Intel 6, AMD 0x19 = 0xF + extended 0xA)", source: "SDM Vol. 2 CPUID leaf 1 EAX; APM Vol. 3 Fn0000_0001_EAX",
    code: [0x0f, 0xa2], regs: { [RAX]: 1n },
    intel: { ...done(2, { [RAX]: 0x600n }), masks: { [RAX]: 0x0ff0_0f00n } },
    amd: { ...done(2, { [RAX]: 0x00a0_0f00n }), masks: { [RAX]: 0x0ff0_0f00n } } },
  { name: "sysret to a non-canonical address", kernel: true,
    source: "SDM Vol. 2 SYSRET (#GP(0) before the return); APM Vol. 3 SYSRET (returns; the fetch faults at CPL 3)",
    code: [0x48, 0x0f, 0x07], regs: { [RCX]: 0x0000_8000_0000_0000n, [11]: 0x202n },
    intel: { vector: 13, rip: AT, err: 0n }, amd: { vector: 13, rip: 0x0000_8000_0000_0000n, err: 0n } },
  // Not vendor-specific, but the rules of mov Sreg checked on both profiles and the host.
  { name: "mov cs, ax is #UD", source: "SDM Vol. 2 MOV (segment registers)", code: [0x8e, 0xc8], regs: { [RAX]: 0x33n },
    ...same({ vector: 6, rip: AT }) },
  { name: "mov ss, ax with a null selector at CPL 3 is #GP(0)", source: "SDM Vol. 2 MOV; APM Vol. 3 MOV (segment register)",
    code: [0x8e, 0xd0], regs: { [RAX]: 3n }, ...same({ vector: 13, rip: AT, err: 0n }) },
  { name: "mov ds, ax with a DPL 0 data segment at CPL 3 is #GP(selector)", source: "SDM Vol. 2 MOV",
    code: [0x8e, 0xd8], regs: { [RAX]: 0x18n }, ...same({ vector: 13, rip: AT, err: 0x18n }) },
  { name: "mov ss with RPL != CPL is #GP(selector without RPL)", source: "SDM Vol. 2 MOV", code: [0x8e, 0xd0], regs: { [RAX]: 0x28n },
    ...same({ vector: 13, rip: AT, err: 0x28n }) },
  { name: "mov fs, user data: the base comes from the descriptor (0); mov eax, fs reads it back",
    source: "SDM Vol. 3 3.4.4; APM Vol. 2 4.5.3",
    code: [0x8e, 0xe0, 0x8c, 0xe3, 0x64, 0x8b, 0x0c, 0x25, ...le(BigInt(DATA_BASE + 0x100), 4)], regs: { [RAX]: 0x2bn },
    ...same(done(12, { [RBX]: 0x2bn })) },
];

/** Differences between an outcome and a run, as lines (empty when it matches). */
function check(o: Outcome, r: CpuResult): string[] {
  const bad: string[] = [];
  const hex = (v: bigint | null) => (v === null ? "none" : `0x${v.toString(16)}`);
  if (r.vector !== o.vector) bad.push(`vector ${r.vector ?? "none"}, expected ${o.vector ?? "none"}`);
  if (r.rip !== o.rip) bad.push(`rip ${hex(r.rip)}, expected ${hex(o.rip)}`);
  if (o.err !== undefined && r.err !== o.err) bad.push(`error code ${hex(r.err)}, expected ${hex(o.err)}`);
  for (const [i, v] of Object.entries(o.regs ?? {})) {
    const m = o.masks?.[Number(i)] ?? (1n << 64n) - 1n;
    if ((r.regs[Number(i)] & m) !== v) bad.push(`reg ${i} ${hex(r.regs[Number(i)] & m)}, expected ${hex(v!)}`);
  }
  return bad;
}

function input(c: VendorCase): CaseInput {
  const regs = Array.from({ length: 16 }, (_, i) => c.regs?.[i] ?? BigInt(i + 1) * 0x0101_0101_0000_0000n);
  regs[RSP] = c.regs?.[RSP] ?? HOME;
  return { regs, rflags: c.rflags ?? 0x202n, seed: 7n, codeOff: 0x10, code: Uint8Array.from(c.code) };
}

describe("CPU vendor profiles: where Intel and AMD parts differ", () => {
  const runners = Object.fromEntries(CPU_VENDORS.map((v) => [v, new EmulatorRunner(v)])) as Record<CpuVendorName, EmulatorRunner>;
  beforeAll(() => { ensureHarness(); });

  for (const vendor of CPU_VENDORS) {
    it(`the ${vendor} profile does what the table says for every case`, () => {
      const failures = CASES.map((c) => [c.name, check(c[vendor], runners[vendor].run(input(c), false, c.kernel))] as const)
        .filter(([, bad]) => bad.length).map(([name, bad]) => `${name}: ${bad.join("; ")}`);
      expect(failures).toEqual([]);
    });
  }

  it("the disassembler (fault reports, the debugger) decodes as the profile's CPU does: 66 e9 is a 4-byte jmp on AMD", () => {
    const bytes = Uint8Array.from([0x66, 0xe9, 0x10, 0x00, 0x00, 0x00, 0x90]);
    const intel = disassemble(bytes, AT, 1, "gas", "intel")[0];
    const amd = disassemble(bytes, AT, 1, "gas", "amd")[0];
    expect([intel.bytes.length, intel.text]).toEqual([6, `jmp 0x${(AT + 6n + 0x10n).toString(16).padStart(16, "0")}`]);
    expect([amd.bytes.length, amd.text]).toEqual([4, "data16 jmp 0x0024"]);
  });

  it("the host CPU does what the table says for its own vendor (the table is checked against silicon)", () => {
    const vendor = hostVendor();
    const user = CASES.filter((c) => !c.kernel);
    const native = runNative(user.map(input));
    const failures = user.map((c, i) => [c.name, check(c[vendor], native[i])] as const)
      .filter(([, bad]) => bad.length).map(([name, bad]) => `${name}: ${bad.join("; ")}`);
    expect(failures, `host is ${vendor}`).toEqual([]);
  });
});
