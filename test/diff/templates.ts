// Rows that cannot stand alone get a small program around them: branches skip forward over
// later units, calls go to a subroutine that returns, indirect jumps and calls get their
// target address in a pinned register or in memory, popf pops a pushed constant, string
// instructions get pointers and counts, loops count down a register nothing else writes.
import { assemble, le, modrmByte, shuffled } from "./encode.js";
import { buildRow, SKIPPED } from "./instr.js";
import { memOperand } from "./memory.js";
import { DATA_BASE, MEM_HI, MEM_LO } from "./layout.js";
import { Label, type Fixup, type Snippet } from "./snippet.js";
import { rowInfos, type RowInfo } from "./rows.js";

export type RowKind =
  "skip" | "generic" | "stack" | "branch" | "call" | "callE" | "jmpE" | "ret" | "string" | "popf" | "trap" | "privileged" | "xlat";

const PRIVILEGED = new Set(["hlt", "cli", "sti", "swapgs", "rdmsr", "wrmsr", "sysret", "lgdt", "lidt", "invlpg", "ltr",
  "in", "out", "invd", "wbinvd", "rdpmc"]);

export function rowKind(r: RowInfo): RowKind {
  const { mn, ops } = r.row;
  if (mn in SKIPPED) return "skip";
  if (mn === "j" || mn === "jrcxz" || /^loopn?e?$/.test(mn) || (mn === "jmp" && ops.startsWith("J"))) return "branch";
  if (mn === "xlat") return "xlat";
  if (mn === "call") return ops === "Jz" ? "call" : "callE";
  if (mn === "jmp") return "jmpE";
  if (mn === "ret") return "ret";
  if (/^(movs|cmps|stos|lods|scas)$/.test(mn)) return "string";
  if (mn === "popf") return "popf";
  if (/^(push|pop|enter|leave|pushf)$/.test(mn)) return "stack";
  if (/^(int3|int1|int|ud2)$/.test(mn)) return "trap";
  if (PRIVILEGED.has(mn) || (mn === "mov" && ops.includes("Cq"))) return "privileged";
  return "generic";
}

export const eligibleRows = rowInfos.filter((r) => rowKind(r) !== "skip");
/** Rows safe inside a subroutine or loop body: no control transfer, no stack change. */
export const bodyRows = rowInfos.filter((r) => rowKind(r) === "generic");

/** Emits one instance of a plain row (retrying with new random choices). */
export function genGeneric(s: Snippet, r: RowInfo): boolean {
  for (let attempt = 0; attempt < 8; attempt++) {
    const undo = s.save();
    const b = buildRow(s, r);
    if (b) {
      const fixups: Fixup[] = b.rm?.ripTarget !== undefined ? [{ kind: "riprel", at: b.dispAt, target: b.rm.ripTarget }] : [];
      if (s.emit({ bytes: b.bytes, fixups, row: r, features: b.features, invalid: b.invalid }, { shift: b.shift })) return true;
    }
    undo();
  }
  return false;
}

/** One unit for row `r`, in whatever template it needs. */
export function genRow(s: Snippet, r: RowInfo): boolean {
  switch (rowKind(r)) {
    case "skip": return false;
    case "branch": return forwardBranch(s, r);
    case "call": case "ret": return subroutine(s, r);
    case "callE": return indirect(s, r, true);
    case "jmpE": return indirect(s, r, false);
    case "string": return stringOp(s, r);
    case "popf": return popf(s, r);
    case "xlat": return xlat(s, r);
    default: return genGeneric(s, r);
  }
}

const find = (enc: string) => rowInfos.find((r) => r.row.enc === enc)!;
const bytesOf = (...b: number[]) => ({ bytes: b, fixups: [] as Fixup[], features: [] as string[] });

/** jcc / jmp / jrcxz over the next 0-2 units. */
function forwardBranch(s: Snippet, r: RowInfo): boolean {
  const rng = s.rng;
  const legacy: number[] = [];
  if (rng.chance(0.08)) legacy.push(0x66); // ignored by Intel parts; AMD parts branch to a 16-bit target
  if (rng.chance(0.1)) legacy.push(rng.pick([0x2e, 0x3e])); // branch hints
  if ((r.row.mn === "jrcxz" || r.row.mn.startsWith("loop")) && rng.chance(0.3)) legacy.push(0x67); // ECX forms
  const opcode = [...r.opcode];
  if (r.plus === "cc") opcode[opcode.length - 1] += rng.int(16);
  const rex = rng.chance(0.1) ? [0x40 | rng.int(16)] : [];
  if (rel16Branch(s, legacy, rex) && r.imms[0] === "jz") {
    // An AMD part reads rel16 and truncates the target: taken, it faults at a low address.
    const insn = { bytes: [...shuffled(rng, legacy), ...rex, ...opcode, 0, 0], fixups: [], row: r, features: ["rel16"] };
    return s.emit(insn);
  }
  const rel = r.imms[0] === "jb" ? 1 : 4;
  const bytes = [...shuffled(rng, legacy), ...rex, ...opcode, ...le(0n, rel)];
  const label = new Label();
  const insn = { bytes, fixups: [{ kind: rel === 1 ? "rel8" : "rel32", at: bytes.length - rel, label } as Fixup], row: r,
    features: [`rel${rel * 8}`] };
  if (!s.emit(insn)) return false;
  s.skipUnits(label, rng.weighted([[2, 0], [5, 1], [3, 2]]));
  return true;
}

/** Whether a near branch with these prefixes has a 16-bit operand size: 66 without REX.W, on AMD. */
function rel16Branch(s: Snippet, legacy: number[], rex: number[]): boolean {
  return s.vendor === "amd" && legacy.includes(0x66) && !(rex.length && rex[0] & 8);
}

/** Straight-line body of 0-2 plain instructions; RSP may not change inside. */
function body(s: Snippet, max: number): void {
  const n = s.rng.int(max + 1);
  const protect = s.protect;
  s.protect |= 1 << 4;
  for (let i = 0; i < n && !s.ended; i++) genGeneric(s, s.rng.pick(bodyRows));
  s.protect = protect;
}

/** call F; jmp after; F: body; ret [imm16]  — or push L; ret for a lone ret row. */
function subroutine(s: Snippet, r: RowInfo): boolean {
  const rng = s.rng;
  const undo = s.mark();
  const ret = r.row.mn === "ret" ? r : rng.chance(0.7) ? find("C3") : find("C2");
  if (r.row.mn === "ret" && rng.chance(0.3)) {
    // push $L; ret: a return used as an indirect jump.
    const label = new Label();
    const push = { bytes: [0x68, 0, 0, 0, 0], fixups: [{ kind: "abs32", at: 1, label } as Fixup], features: ["push label"] };
    if (s.emit(push) && emitRet(s, ret, false)) { s.skipUnits(label, rng.int(2)); return true; }
    undo();
    return false;
  }
  const callee = new Label(), after = new Label();
  const o16 = rng.chance(0.05) ? [0x66] : [];
  if (rel16Branch(s, o16, [])) {
    // AMD: call rel16 pushes a 2-byte return address and goes to a 16-bit target (a fault).
    return s.emit({ bytes: [0x66, 0xe8, 0, 0], fixups: [], row: find("E8"), features: ["call", "rel16"] });
  }
  const call = { bytes: [...o16, 0xe8, 0, 0, 0, 0], fixups: [] as Fixup[], row: find("E8"), features: ["call"] };
  call.fixups.push({ kind: "rel32", at: call.bytes.length - 4, label: callee });
  const jmp = { ...bytesOf(0xeb, 0), fixups: [{ kind: "rel8", at: 1, label: after } as Fixup] };
  if (!s.emit(call) || !s.emit(jmp)) { undo(); return false; }
  callee.index = s.insns.length;
  body(s, 2);
  if (!s.ended && !emitRet(s, ret, true)) { undo(); return false; }
  after.index = s.insns.length;
  return true;
}

function emitRet(s: Snippet, r: RowInfo, small: boolean): boolean {
  const rng = s.rng;
  const pre = rng.chance(0.05) ? [0x66] : rng.chance(0.05) ? [0x48] : [];
  const imm = r.imms.length ? le(BigInt(small ? 8 * rng.int(8) : rng.int(64)), 2) : [];
  return s.emit({ bytes: [...pre, r.opcode[0], ...imm], fixups: [], row: r, features: imm.length ? ["imm16"] : [] });
}

/** jmp/call through a register or a memory slot holding a label's address. */
function indirect(s: Snippet, r: RowInfo, isCall: boolean): boolean {
  const rng = s.rng;
  const undo = s.mark();
  const target = new Label();
  const after = new Label();
  const digit = isCall ? 2 : 4;
  let insn;
  if (rng.chance(0.5)) {
    const reg = rng.int(16);
    if (reg === 4 || !s.pinLabel(reg, target)) { undo(); return false; }
    const extra = rng.chance(0.1) ? 0x48 | (rng.int(4) << 1) : 0; // REX.W/R/X mean nothing here
    const rex = extra | (reg >= 8 ? 0x41 : 0);
    insn = { ...bytesOf(...(rex ? [rex] : []), 0xff, modrmByte(3, digit, reg)), row: r, features: ["reg"] };
  } else {
    // mov qword [M], $label; jmp/call qword [M] — the same operand, so the same address.
    const m = memOperand(s, { size: 8 });
    if (!m) { undo(); return false; }
    const enc = (op: number[], d: number, imms: { size: number; value: bigint }[], w: boolean) =>
      assemble({ legacy: m.prefixes, rex: (w ? 0x48 : m.rexX || m.rexB ? 0x40 : 0) | (m.rexX << 1) | m.rexB, opcode: op,
        modrm: modrmByte(m.mod, d, m.rm), rmOperand: m, imms });
    const mov = enc([0xc7], 0, [{ size: 4, value: 0n }], true);
    const fix = (a: { dispAt: number }) =>
      (m.ripTarget !== undefined ? [{ kind: "riprel", at: a.dispAt, target: m.ripTarget } as Fixup] : []);
    if (!s.emit({ bytes: mov.bytes, fixups: [...fix(mov), { kind: "abs32", at: mov.immAt[0], label: target }], features: [] })) {
      undo();
      return false;
    }
    const j = enc([0xff], digit, [], false);
    insn = { bytes: j.bytes, fixups: fix(j), row: r, features: m.features };
  }
  if (!s.emit(insn)) { undo(); return false; }
  if (!isCall) { s.skipUnits(target, rng.int(3)); return true; }
  const jmp = { ...bytesOf(0xeb, 0), fixups: [{ kind: "rel8", at: 1, label: after } as Fixup] };
  if (!s.emit(jmp)) { undo(); return false; }
  target.index = s.insns.length;
  body(s, 2);
  if (!s.ended && !emitRet(s, find("C3"), true)) { undo(); return false; }
  after.index = s.insns.length;
  return true;
}

/**
 * push $flags; popf — never TF (the single-step trap would land in the native harness's exit
 * path; test/hostile covers it), sometimes AC: with Linux's CR0.AM every later misaligned
 * access at CPL 3 raises #AC on both sides.
 */
function popf(s: Snippet, r: RowInfo): boolean {
  const rng = s.rng;
  const undo = s.mark();
  const w16 = rng.chance(0.2);
  let v = rng.u32() & 0x8d5;                                                  // CF PF AF ZF SF DF OF
  if (rng.chance(0.5)) v |= rng.u32() & ((1 << 9) | (3 << 12) | (1 << 14) | (1 << 21)); // IF IOPL NT ID
  if (rng.chance(0.15)) v |= 1 << 18;                                          // AC
  if (rng.chance(0.2)) v |= rng.u32() & ((1 << 16) | (1 << 17) | (3 << 19) | 0x802a | 0xffc00000); // RF VM VIF VIP reserved
  if (w16) v &= 0xffff;
  const push = w16 ? [0x66, 0x68, ...le(BigInt(v), 2)] : [0x68, ...le(BigInt(v), 4)];
  const pop = w16 ? [0x66, 0x9d] : rng.chance(0.1) ? [0x48, 0x9d] : [0x9d];
  if (!s.emit({ ...bytesOf(...push), features: ["imm32"] }) ||
    !s.emit({ ...bytesOf(...pop), row: r, features: w16 ? ["osz16"] : ["osz64"] })) {
    undo();
    return false;
  }
  s.df = (v & 0x400) !== 0;
  return true;
}

/** A string instruction with pointers into the data region and, with a rep prefix, a small count. */
function stringOp(s: Snippet, r: RowInfo): boolean {
  const rng = s.rng;
  const undo = s.mark();
  const mn = r.row.mn;
  const usesSi = mn === "movs" || mn === "cmps" || mn === "lods";
  const usesDi = mn !== "lods";
  const osz = r.row.size === "b" ? 8 : rng.pick([16, 32, 64]);
  const n = osz / 8;
  const legacy: number[] = [];
  const features: string[] = [`osz${osz}`];
  if (osz === 16) legacy.push(0x66);
  const rep = mn === "cmps" || mn === "scas" ? rng.weighted([[3, 0], [4, 0xf3], [3, 0xf2]]) : rng.weighted([[4, 0], [6, 0xf3]]);
  const a32 = rng.chance(0.15);
  const seg = rng.weighted([[8, 0], [1, 0x64], [1, 0x65], [1, 0x3e]]);
  if (rep) { legacy.push(rep); features.push(rep === 0xf3 ? (mn === "cmps" || mn === "scas" ? "repe" : "rep") : "repne"); }
  if (a32) { legacy.push(0x67); features.push("asz32"); }
  if (seg) legacy.push(seg);
  if (rng.chance(0.2)) {
    // Flip the direction first; both directions must be covered.
    if (!s.emit({ ...bytesOf(s.df ? 0xfc : 0xfd), row: find(s.df ? "FC" : "FD") })) { undo(); return false; }
  }
  features.push(s.df ? "df=1" : "df=0");
  const count = rep ? rng.weighted([[1, 0], [2, 1], [5, rng.range(2, 6)]]) : 0;
  const room = (count + 2) * n + 16;
  const garbage = () => (a32 && rng.chance(0.6) ? rng.u64() << 32n : 0n);
  const ptr = (segBase: bigint) => {
    const t = BigInt(DATA_BASE + rng.range(MEM_LO + room, MEM_HI - room));
    const v = BigInt.asUintN(64, t - segBase);
    return a32 && v >> 32n ? null : { t, v: v | garbage() };
  };
  let si = usesSi ? ptr(s.segmentBase(seg)) : null;
  const di = usesDi ? ptr(0n) : null; // ES:RDI takes no segment override
  if ((usesSi && !si) || (usesDi && !di)) { undo(); return false; }
  if (si && di && mn === "cmps" && rng.chance(0.3) && seg !== 0x64 && seg !== 0x65) si = di; // equal strings
  if ((si && !s.pin(6, si.v)) || (di && !s.pin(7, di.v))) { undo(); return false; }
  if (rep && !s.pin(1, BigInt(count) | garbage())) { undo(); return false; }
  if (mn === "scas" && di && !s.memDirty && rng.chance(0.4)) {
    const off = Number(di.t) - DATA_BASE;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(s.data[off + i]);
    s.pin(0, v | (rng.u64() << BigInt(osz)));
  }
  const rex = osz === 64 ? 0x48 : rng.chance(0.1) ? 0x40 : 0;
  const bytes = [...shuffled(rng, legacy), ...(rex ? [rex] : []), r.opcode[0]];
  // With a zero count nothing runs, so no flag changes.
  const effect = rep && count === 0 ? { read: 0, defined: 0, undefined: 0 } : undefined;
  if (!s.emit({ ...bytesOf(...bytes), row: r, features }, { effect })) { undo(); return false; }
  return true;
}

/** xlat: AL = [RBX + AL], with RBX pinned into the data region (and maybe FS/GS or 67). */
function xlat(s: Snippet, r: RowInfo): boolean {
  const rng = s.rng;
  const undo = s.mark();
  const seg = rng.weighted([[8, 0], [1, 0x64], [1, 0x65]]);
  const a32 = rng.chance(0.15);
  const base = s.segmentBase(seg);
  const t = BigInt(DATA_BASE + rng.range(MEM_LO, MEM_HI - 256));
  const v = BigInt.asUintN(64, t - base);
  if (a32 && v >> 32n) { undo(); return false; }
  if (!s.pin(3, v | (a32 ? rng.u64() << 32n : 0n))) { undo(); return false; }
  const bytes = [...(seg ? [seg] : []), ...(a32 ? [0x67] : []), 0xd7];
  if (!s.emit({ ...bytesOf(...bytes), row: r, features: a32 ? ["asz32"] : [] })) { undo(); return false; }
  return true;
}

/** mov ecx, n; L: body; dec ecx; jnz L — the body may not write RCX or anything it relies on. */
export function loop(s: Snippet): boolean {
  const rng = s.rng;
  const undo = s.mark();
  const n = rng.range(1, 5);
  if (s.protect & 2 || !s.emit({ ...bytesOf(0xb9, ...le(BigInt(n), 4)), row: find("B8+r") })) { undo(); return false; }
  const head = new Label();
  head.index = s.insns.length;
  const undefHead = s.undef;
  s.protect |= 2;
  s.touched = 0;
  const first = s.insns.length;
  body(s, 2);
  const dec = rng.pick([[0xff, 0xc9], [0x48, 0xff, 0xc9], [0x83, 0xe9, 0x01]]);
  const jnz = rng.chance(0.7) ? [0x75, 0] : [0x0f, 0x85, 0, 0, 0, 0];
  s.protect &= ~2;
  const ok = !s.ended && s.emit(bytesOf(...dec)) &&
    s.emit({ bytes: jnz, fixups: [{ kind: jnz.length === 2 ? "rel8" : "rel32", at: jnz.length === 2 ? 1 : 2, label: head }],
      features: ["loop"] });
  const bodyInsns = s.insns.slice(first);
  const written = bodyInsns.reduce((w, i) => w | (i.info?.regsWritten ?? 0), 0);
  // Later iterations see what earlier ones left: registers and flags must still mean the same.
  const again = s.undef | undefHead;
  if (!ok || written & s.touched || bodyInsns.some((i) => (i.info?.flagsRead ?? 0) & again)) { undo(); return false; }
  for (const i of bodyInsns) i.undefBefore |= again;
  return true;
}

/** A LOCK prefix where it is not allowed: the CPU must raise #UD. */
export function invalidLock(s: Snippet): boolean {
  const rng = s.rng;
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = rng.pick(bodyRows);
    const undo = s.save();
    const b = buildRow(s, r);
    if (b && !b.features.includes("lock") && !(r.lockable && b.rm && b.rm.mod !== 3)) {
      const fixups: Fixup[] = b.rm?.ripTarget !== undefined ? [{ kind: "riprel", at: b.dispAt + 1, target: b.rm.ripTarget }] : [];
      return s.emit({ bytes: [0xf0, ...b.bytes], fixups, row: r, features: ["lock", "invalid"], invalid: true });
    }
    undo();
  }
  return false;
}

/** An instruction padded with redundant prefixes past 15 bytes: the CPU must raise #GP(0). */
export function tooLong(s: Snippet): boolean {
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = s.rng.pick(bodyRows);
    const undo = s.save();
    const b = buildRow(s, r);
    if (b && !b.invalid) {
      const pad = Array.from({ length: 16 - b.bytes.length + s.rng.int(2) }, () => s.rng.pick([0x2e, 0x3e, 0x26, 0x36]));
      const fixups: Fixup[] = b.rm?.ripTarget !== undefined ? [{ kind: "riprel", at: b.dispAt + pad.length, target: b.rm.ripTarget }] : [];
      return s.emit({ bytes: [...pad, ...b.bytes], fixups, row: r, features: ["too long", "invalid"], invalid: true });
    }
    undo();
  }
  return false;
}
