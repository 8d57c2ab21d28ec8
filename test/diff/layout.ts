// Where a differential-test case lives in memory, and the binary files that carry cases to
// the native harness and results back.
//
// Both sides use the same virtual addresses: the harness maps the regions with MAP_FIXED, the
// emulator runs in flat mode (paging off, virtual == physical) with 64 MiB of RAM, so every
// address here must stay below 64 MiB.
//
//   CODE   [CODE_BASE, +CODE_SIZE)  the snippet, at CODE_BASE + codeOff; the native harness
//                                   appends `jmp *disp32(%rip)` to snippet_exit's address,
//                                   stored 8-byte aligned behind it, the emulator `syscall`
//                                   (machine option syscallExits stops there)
//   DATA   [DATA_BASE, +DATA_SIZE)  filled from the case's seed; explicit memory operands
//                                   land in its lower half, the stack (RSP) lives in its upper
//   FS/GS  fixed segment bases, the same on both sides
//
// Case file:   u32 magic "TLDI", u32 count, u32 record size, u32 0, then records:
//              u64 regs[16], u64 rflags, u64 seed, u32 codeOff, u32 codeLen, u8 code[CODE_MAX]
// Result file: u32 magic "TLDO", u32 count, u32 record size, u32 0, then records:
//              u64 regs[16], u64 rflags, u64 rip, u64 err, u64 hash, u32 vector, u32 signo

export const CODE_BASE = 0x2000000;
export const CODE_SIZE = 0x10000;
export const DATA_BASE = 0x2010000;
export const DATA_SIZE = 0x4000;
/** Explicit memory operands target [DATA_BASE + MEM_LO, DATA_BASE + MEM_HI). */
export const MEM_LO = 0x40;
export const MEM_HI = 0x2000;
/** Initial RSP is near here; pushes and frames stay well inside the upper half. */
export const STACK_HOME = DATA_BASE + 0x3000;
/** A small FS base every addressing form can reach, and a large GS base only registers can. */
export const FS_BASE = 0x30000n;
export const GS_BASE = 0x7ffe12345000n;
export const CODE_MAX = 240;

export const IN_MAGIC = 0x49444c54;
export const OUT_MAGIC = 0x4f444c54;
export const IN_RECORD = 16 * 8 + 8 + 8 + 4 + 4 + CODE_MAX;
export const OUT_RECORD = 16 * 8 + 8 * 4 + 4 + 4;
export const NO_FAULT = 0xffffffff;

/** The part of a case both machines see. */
export interface CaseInput {
  regs: bigint[];
  rflags: bigint;
  seed: bigint;
  codeOff: number;
  code: Uint8Array;
}

/** What one machine ended with. `vector` is null when the snippet ran to its end. */
export interface CpuResult {
  regs: bigint[];
  rflags: bigint;
  rip: bigint;
  err: bigint;
  hash: bigint;
  vector: number | null;
}

/** -D flags for compiling the harness: the constants above are the only definition. */
export function harnessDefines(): string[] {
  const d = { CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, FS_BASE, GS_BASE, CODE_MAX };
  return Object.entries(d).map(([k, v]) => `-D${k}=0x${v.toString(16)}${k === "CODE_MAX" ? "" : "ull"}`);
}

export function encodeCases(cases: readonly CaseInput[]): Uint8Array {
  const buf = new Uint8Array(16 + cases.length * IN_RECORD);
  const v = new DataView(buf.buffer);
  v.setUint32(0, IN_MAGIC, true);
  v.setUint32(4, cases.length, true);
  v.setUint32(8, IN_RECORD, true);
  cases.forEach((c, i) => {
    if (c.code.length > CODE_MAX) throw new Error(`case ${i}: snippet of ${c.code.length} bytes`);
    let at = 16 + i * IN_RECORD;
    for (let r = 0; r < 16; r++, at += 8) v.setBigUint64(at, BigInt.asUintN(64, c.regs[r]), true);
    v.setBigUint64(at, c.rflags, true);
    v.setBigUint64(at + 8, BigInt.asUintN(64, c.seed), true);
    v.setUint32(at + 16, c.codeOff, true);
    v.setUint32(at + 20, c.code.length, true);
    buf.set(c.code, at + 24);
  });
  return buf;
}

export function decodeResults(buf: Uint8Array, expected: number): CpuResult[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 16 || v.getUint32(0, true) !== OUT_MAGIC || v.getUint32(8, true) !== OUT_RECORD ||
      v.getUint32(4, true) !== expected || buf.length !== 16 + expected * OUT_RECORD) {
    throw new Error(`native harness wrote a malformed result file (${buf.length} bytes, ${expected} cases expected)`);
  }
  const out: CpuResult[] = [];
  for (let i = 0; i < expected; i++) {
    let at = 16 + i * OUT_RECORD;
    const regs: bigint[] = [];
    for (let r = 0; r < 16; r++, at += 8) regs.push(v.getBigUint64(at, true));
    const vector = v.getUint32(at + 32, true);
    out.push({
      regs,
      rflags: v.getBigUint64(at, true),
      rip: v.getBigUint64(at + 8, true),
      err: v.getBigUint64(at + 16, true),
      hash: v.getBigUint64(at + 24, true),
      vector: vector === NO_FAULT ? null : vector,
    });
  }
  return out;
}
