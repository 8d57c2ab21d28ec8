// One instance of a table row with random operands, prefixes and encoding choices.
//
// Everything a row can vary is varied here: operand size (66, REX.W, and both together where
// REX.W wins), REX.R/X/B, register and memory forms, high-byte registers (AH..BH exist only
// without REX), immediates of each size, LOCK (and XACQUIRE/XRELEASE) on memory forms, and
// prefixes the CPU ignores (segment overrides on register forms, 66 on byte operations).
// Values that decide whether the result is defined are shaped: shift counts, division
// operands, the bit offsets of bt on memory.
import { assemble, immValue, modrmByte, shuffled, type RmOperand } from "./encode.js";
import { freeMemOperand, memOperand, regOperand, type MemRequest } from "./memory.js";
import { DATA_BASE } from "./layout.js";
import type { Snippet } from "./snippet.js";
import type { RowInfo } from "./rows.js";
import type { Rng } from "./prng.js";

/** Rows whose result legitimately differs from the host, with the reason. */
export const SKIPPED: Record<string, string> = {
  cpuid: "reports the emulator's own identity",
  rdtsc: "time differs", rdtscp: "time differs",
  syscall: "ends every emulated snippet; natively a real system call",
  vmcall: "natively handled by the hypervisor (KVM returns an error in RAX at CPL 3)",
  iret: "the emulator leaves it to system emulation (#UD in faultExits mode)",
  sgdt: "the host has UMIP (#GP at CPL 3); the emulator does not emulate UMIP",
  sidt: "the host has UMIP (#GP at CPL 3); the emulator does not emulate UMIP",
};

/** Mnemonics that do not access their memory operand. */
const UNACCESSED = new Set(["lea", "nop", "prefetch"]);

export interface Built {
  bytes: number[];
  rm?: RmOperand;
  /** Offset of the RIP-relative displacement, if any. */
  dispAt: number;
  features: string[];
  shift?: { width: number; count: number };
  /** iced-x86 rejects it on purpose (mov with CR1, CR5...): the CPU decides what happens. */
  invalid: boolean;
}

function countValue(rng: Rng, width: number): number {
  return rng.weighted<() => number>([
    [2, () => 0], [3, () => 1], [2, () => width - 1], [2, () => width], [1, () => width + 1],
    [1, () => rng.pick([31, 32, 33, 63, 64, 65, 127, 128, 255])], [6, () => rng.int(width)], [2, () => rng.int(256)],
  ])();
}

function memSize(token: string, osz: number): number {
  if (token === "Mq") return osz === 64 ? 16 : 8;
  if (token === "M") return 10; // lgdt/lidt read 10 bytes; invlpg none
  const t = token.slice(1);
  return t === "b" ? 1 : t === "w" ? 2 : t === "d" ? 4 : t === "q" ? 8 : osz / 8;
}

/** Builds one instance of `r` against the snippet's state; null when constraints cannot be met. */
export function buildRow(s: Snippet, r: RowInfo): Built | null {
  const rng = s.rng;
  const mn = r.row.mn;
  const ops = r.operands;
  const legacy: number[] = [];
  const features: string[] = [];
  let rexW = 0, rexR = 0, rexX = 0, rexB = 0;
  let osz = 32;
  switch (r.row.size) {
    case "b": osz = 8; if (rng.chance(0.05)) legacy.push(0x66); rexW = rng.chance(0.1) ? 1 : 0; break;
    case "w": osz = 16; if (rng.chance(0.2)) legacy.push(0x66); break;
    case "v": osz = rng.pick([16, 32, 32, 64, 64]); break;
    case "d64": osz = rng.pick([16, 64, 64]); break;
    case "f64": osz = 64; if (rng.chance(0.1)) legacy.push(0x66); rexW = rng.chance(0.1) ? 1 : 0; break;
    default: osz = 0; rexW = rng.chance(0.1) ? 1 : 0;
  }
  if (r.nosz16 && osz === 16) osz = 32;
  if (mn === "cmpxchg8b" && osz === 16 && rng.chance(0.8)) osz = 32;
  if (r.row.size === "v" || r.row.size === "d64") {
    if (osz === 16) legacy.push(0x66);
    if (osz === 64 && (r.row.size === "v" || rng.chance(0.3))) rexW = 1;
    if (osz === 64 && rexW && rng.chance(0.05)) legacy.push(0x66); // REX.W beats 66
  }
  if (osz) features.push(`osz${osz}`);
  if (r.mandatory) legacy.push(r.mandatory);

  // Byte registers: without any REX, numbers 4-7 are AH CH DH BH; with one, SPL BPL SIL DIL.
  const byteRegs = ops.some((o) => /^[EGZ]b$/.test(o));
  const rexAllowed = !byteRegs || rng.chance(0.5);
  if (!rexAllowed) rexW = 0;
  const randReg = () => (rexAllowed ? rng.int(16) : rng.int(8));
  let rexAny = rexAllowed && rng.chance(0.15);

  const opcode = [...r.opcode];
  let reg = 0;
  let modrm: number | undefined;
  let rm: RmOperand | undefined;
  const imms: { size: number; value: bigint }[] = [];
  let shift: Built["shift"];
  const byteNums: number[] = []; // byte registers named, to spot AH..BH once REX is settled
  let invalid = false;
  let lock = false;

  // Values that must be in registers before the instruction runs.
  const isShift = /^(rol|ror|rcl|rcr|shl|shr|sal|sar|shld|shrd)$/.test(mn);
  let count = -1;
  if (isShift) {
    const width = osz;
    const ok16 = (c: number) => !(mn.startsWith("sh") && mn.endsWith("d") && width === 16 && (c & 31) > 16);
    if (ops.includes("CL")) {
      const cur = s.isPinned(1) ? s.known(1) : null;
      if (cur !== null) count = Number(cur & 0xffn);
      else {
        do count = countValue(rng, width); while (!ok16(count));
        if (!s.pin(1, (rng.u64() & ~0xffn) | BigInt(count & 0xff))) return null;
      }
      if (!ok16(count)) return null;
    } else if (ops.includes("1")) count = 1;
    else do count = countValue(rng, width) & 0xff; while (!ok16(count));
    shift = { width, count };
  }

  if (r.plus === "r") {
    let z = randReg();
    if (mn === "xchg" && (z & 7) === 0 && rng.chance(0.5)) z = 8; // 41 90: xchg r8, rax (not a nop)
    if (mn === "xchg" && z === 0) z = rng.range(1, 7);
    opcode[opcode.length - 1] += z & 7;
    rexB = z >> 3;
    if (ops[0] === "Zb") byteNums.push(z);
  }
  if (r.plus === "cc") opcode[opcode.length - 1] += rng.int(16);

  if (r.modrm) {
    if (r.exact !== null) modrm = r.exact;
    else {
      // reg field
      if (r.digit !== null) { reg = r.digit; rexR = rng.chance(0.1) ? 1 : 0; }
      else if (ops[0] === "Cq" || ops[1] === "Cq") {
        const cr = rng.weighted([[30, 0], [10, 2], [25, 3], [20, 4], [10, 8], [5, rng.pick([1, 5, 6, 7, 9, 15])]]);
        reg = cr & 7; rexR = cr >> 3;
        if (![0, 2, 3, 4, 8].includes(cr)) { invalid = true; features.push("invalid cr"); }
      } else if (ops.includes("Sw")) {
        // ES CS SS DS FS GS; 6 and 7 do not exist, and CS cannot be loaded (#UD).
        const load = ops[0] === "Sw";
        reg = rng.weighted(load ? [[3, 0], [3, 2], [4, 3], [2, 4], [2, 5], [1, 1], [1, rng.pick([6, 7])]]
          : [[2, 0], [2, 1], [2, 2], [2, 3], [2, 4], [2, 5], [1, rng.pick([6, 7])]]);
        if (reg > 5 || (load && reg === 1)) { invalid = true; features.push("bad sreg"); }
      } else {
        const g = randReg();
        reg = g & 7; rexR = g >> 3;
        if (ops.includes("Gb")) byteNums.push(g);
      }
      // r/m field
      const eTok = ops.find((o) => /^[EMR]/.test(o)) ?? "Ev";
      const memForm = !r.modreg && (r.memOnly || (!r.regOnly && rng.chance(0.5)));
      lock = memForm && r.lockable && rng.chance(0.35);
      if (memForm) {
        const size = memSize(eTok, osz);
        if (UNACCESSED.has(mn)) rm = freeMemOperand(rng);
        else {
          // Locked (xchg always is) and crossing a cache line: a bus lock. Rare, they are slow here.
          const oneLine = (lock || mn === "xchg") && !rng.chance(0.02);
          const req: MemRequest = { size, nonCanonical: rng.chance(s.nonCanonicalRate), oneLine };
          if (size === 16) { req.align = 16; req.misalign = true; }
          if (/^bt/.test(mn) && ops[1] === "Gv") {
            // The bit offset in the register reaches up to 512 bytes either side.
            const g = rexR * 8 + reg;
            if (!s.pin(g, BigInt.asUintN(64, BigInt(rng.range(-4096, 4095))))) return null;
            req.margin = 520;
          }
          const m = memOperand(s, req);
          if (!m) return null;
          rm = m;
        }
        if (!rexAllowed && (rm.rexX || rm.rexB)) return null;
      } else {
        const e = randReg();
        rm = regOperand(e);
        if (r.modreg) rm.mod = rng.chance(0.8) ? 3 : rng.int(3); // mod is ignored
        if (eTok === "Eb") byteNums.push(e);
      }
      modrm = modrmByte(rm.mod, reg, rm.rm);
      rexX = rm.rexX; rexB = rm.rexB;
      legacy.push(...rm.prefixes);
      features.push(...rm.features);
    }
  }

  for (const k of r.imms) {
    let size = k === "b" || k === "u" ? 1 : k === "w" ? 2 : k === "z" ? (osz === 16 ? 2 : 4) : k === "v" ? osz / 8 : 8;
    let value = immValue(rng, size);
    if (isShift && (k === "u" || k === "b")) value = BigInt(count & 0xff);
    // Any vector but 0x80 (natively an i386 system call with whatever eax holds): Linux's gates
    // are DPL 0 except for 3 and 4, so most raise #GP(vector * 8 + 2).
    if (mn === "int") value = BigInt(rng.chance(0.4) ? rng.pick([3, 4]) : rng.pick([...Array(256).keys()].filter((v) => v !== 0x80)));
    if (mn === "enter" && k === "w") value = BigInt(rng.weighted([[3, 0], [3, 8 * rng.int(8)], [2, rng.int(0x100)]]));
    if (mn === "enter" && k === "u") value = BigInt(rng.weighted([[3, 0], [3, 1], [3, rng.range(2, 8)], [1, rng.range(9, 40)]]));
    if (k === "o") {
      const o = moffs(s, rng, osz === 8 ? 1 : osz / 8, legacy);
      if (o === null) return null;
      size = o.size; value = o.value;
    }
    imms.push({ size, value });
    features.push(`imm${size * 8}`);
  }

  if (!shapeOperands(s, r, osz, rm)) return null;

  if (lock) {
    legacy.push(0xf0);
    features.push("lock");
    if (rng.chance(0.15)) legacy.push(rng.pick([0xf2, 0xf3])); // xacquire / xrelease hints
  }
  if ((!rm || rm.mod === 3) && !r.imms.includes("o")) { // ignored without a memory operand
    if (rng.chance(0.03)) legacy.push(rng.pick([0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65]));
    if (rng.chance(0.03)) legacy.push(0x67);
  }
  if (opcode.length === 1 && !r.mandatory && rng.chance(0.03) && !/^(nop|xchg)$/.test(mn)) legacy.push(rng.pick([0xf2, 0xf3]));

  rexAny = rexAny || !!(rexW | rexR | rexX | rexB);
  if (rexAny && !rexAllowed) return null;
  const rex = rexAny ? 0x40 | (rexW << 3) | (rexR << 2) | (rexX << 1) | rexB : 0;
  for (const [bit, name] of [[8, "rex.w"], [4, "rex.r"], [2, "rex.x"], [1, "rex.b"]] as const) if (rex & bit) features.push(name);
  if (rex) features.push("rex");
  if (!rex && byteNums.some((n) => n >= 4 && n < 8)) features.push("highbyte");
  const a = assemble({ legacy: shuffled(rng, legacy), rex, opcode, modrm, rmOperand: rm, imms });
  if (a.bytes.length > 15) return null;
  return { bytes: a.bytes, rm, dispAt: a.dispAt, features, shift, invalid };
}

/** An absolute moffs address reaching the data region (A0-A3). */
function moffs(s: Snippet, rng: Rng, size: number, legacy: number[]): { size: number; value: bigint } | null {
  const seg = rng.weighted([[6, 0], [2, 0x64], [2, 0x65], [1, 0x3e]]);
  const base = s.segmentBase(seg);
  const t = BigInt(DATA_BASE + rng.range(0x40, 0x1ff0 - size));
  const ea = BigInt.asUintN(64, t - base);
  const a32 = rng.chance(0.2);
  if (a32 && ea >> 32n) return null;
  if (seg) legacy.push(seg);
  if (a32) legacy.push(0x67);
  return { size: a32 ? 4 : 8, value: ea };
}

/** Register values that make results defined (or fault on purpose); false if impossible. */
function shapeOperands(s: Snippet, r: RowInfo, osz: number, rm: RmOperand | undefined): boolean {
  const rng = s.rng;
  const mn = r.row.mn;
  // The register an r/m operand names, unless it may be one of AH..BH.
  const rmReg = rm && rm.mod === 3 && (osz !== 8 || rm.rm < 4 || rm.rexB) ? rm.rm + rm.rexB * 8 : -1;
  if (mn === "mov" && r.operands[0] === "Sw" && rmReg >= 0) {
    // A selector worth loading: null (any RPL), user data and code, CPUNODE, and ones that
    // fault: kernel segments, the TSS, empty LDT and TLS slots, past the GDT's limit.
    const sel = rng.weighted<() => number>([[4, () => rng.pick([0x2b, 0x28, 0x2a, 0x33, 0x23, 0x7b, 0x78])],
      [2, () => rng.int(4)], [3, () => rng.pick([0x10, 0x18, 0x08, 0x40, 0x50, 0x63, 0x6b, 0x38, 0x4, 0x2f, 0x80])],
      [1, () => rng.int(0x10000)]])();
    return s.pin(rmReg, (rng.u64() & ~0xffffn) | BigInt(sel));
  }
  if ((mn === "div" || mn === "idiv") && rm) {
    if (rmReg >= 0 && rng.chance(0.05)) return s.pin(rmReg, rng.u64() << BigInt(osz)); // divide by zero
    if (!rng.chance(0.8) || s.isDirty(0) || s.isDirty(2) || s.isPinned(0) || s.isPinned(2)) return true;
    const ax = rng.u64();
    if (osz === 8) {
      const al = ax & 0xffn;
      const ah = mn === "div" ? 0n : al & 0x80n ? 0xffn : 0n;
      return s.pin(0, (ax & ~0xffffn) | (ah << 8n) | al);
    }
    const sign = (ax >> BigInt(osz - 1)) & 1n;
    const dx = mn === "div" || !sign ? 0n : (1n << BigInt(osz)) - 1n;
    return s.pin(0, ax) && s.pin(2, (rng.u64() << BigInt(osz)) | dx);
  }
  if ((mn === "cmpxchg" || mn === "cmpxchg8b") && rm && rng.chance(0.5)) {
    // Make the comparison succeed: the accumulator equals the destination.
    let v: bigint | null = null;
    const n = mn === "cmpxchg8b" ? (osz === 64 ? 16 : 8) : osz / 8;
    if (rm.mod === 3) v = rmReg >= 0 ? s.known(rmReg) : null;
    else if (rm.target !== undefined && !s.memDirty) {
      const off = Number(rm.target) - DATA_BASE;
      v = 0n;
      for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(s.data[off + i]);
    }
    if (v === null) return true;
    if (mn === "cmpxchg") return s.pin(0, v) || true;
    const half = n * 4;
    const m = (1n << BigInt(half)) - 1n;
    return (s.pin(0, v & m) && s.pin(2, (v >> BigInt(half)) & m)) || true;
  }
  if ((mn === "enter" || mn === "leave") && !s.isPinned(5)) {
    const sp = s.rsp();
    if (sp === null) return false;
    return s.pin(5, sp + BigInt(8 * rng.range(mn === "enter" ? 0 : 1, 24)));
  }
  if (mn === "enter" || mn === "leave") return false; // RBP already stands for something else
  return true;
}
