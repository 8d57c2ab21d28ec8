// A snippet under construction: its instructions, the initial register values it relies on,
// and what the generator knows at the current point of execution.
//
// The invariants that make native and emulated runs comparable:
//   - every register used to form an address (and every count in CL/RCX) has a known value:
//     it is read before any instruction wrote it (not "dirty"), and its initial value is
//     "pinned" to what the address needs; RSP is tracked as a known offset instead;
//   - no instruction reads a flag an earlier one left undefined;
//   - branches only go forward (loops excepted), so every snippet ends.
// Instructions are checked with iced-x86 as they are added; an encoding it rejects is a
// generator bug and throws, unless the instruction is a deliberate invalid one.
import type { CpuVendorName } from "../../src/machine/machine.js";
import { CODE_BASE, DATA_SIZE, FS_BASE, GS_BASE } from "./layout.js";
import { fillData } from "./prng.js";
import { analyze, type InsnInfo } from "./iced.js";
import { applyEffect, flagEffect, type FlagEffect } from "./flags.js";
import type { Rng } from "./prng.js";
import { scanPrefixes, type RowInfo } from "./rows.js";
import { le } from "./encode.js";

/** A branch or address target, bound to an instruction index once generation reaches it. */
export class Label {
  index = -1;
}

export type Fixup =
  | { kind: "rel8" | "rel32"; at: number; label: Label }
  | { kind: "riprel"; at: number; target: bigint }
  | { kind: "riprelLabel" | "abs32"; at: number; label: Label };

export interface Insn {
  bytes: number[];
  fixups: Fixup[];
  row?: RowInfo;
  features: string[];
  /** Flags that may be undefined when this instruction starts. */
  undefBefore: number;
  /** Deliberately invalid (iced rejects it; the CPU must raise #UD). */
  invalid?: boolean;
  info?: InsnInfo;
  /** Offset in the snippet, set by layout(). */
  offset: number;
}

export class GeneratorBug extends Error {}

/** Instructions after which nothing runs: they always raise an exception or trap. */
const TRAPS = new Set(["int3", "int", "int1", "ud2", "hlt"]);

export class Snippet {
  readonly regs: bigint[];
  private pins = 0;
  /** Registers whose known value something relied on since the last resetTouched(). */
  touched = 0;
  /** Bit i: register i was (maybe) written by an instruction already generated. */
  dirty = 0;
  /** Bit i: register i must not be written (a loop counter). */
  protect = 0;
  /** RSP minus its initial value, or null once an instruction set it to something unknown. */
  rspDelta: number | null = 0;
  /** Some instruction may have written memory: initial data contents no longer hold. */
  memDirty = false;
  /** Flags that may be undefined at this point. */
  undef = 0;
  df: boolean;
  readonly insns: Insn[] = [];
  /** Terminal instruction emitted (a fault or trap): nothing after it would run. */
  ended = false;
  pending: { label: Label; units: number; undef: number }[] = [];
  /** Registers whose initial value is a label's address, filled in by layout(). */
  private labelRegs: { reg: number; label: Label }[] = [];
  undefEnd = 0;
  /** FS (bit 0) and GS (bit 1) loaded by a mov Sreg so far: their base is 0 from there on. */
  private loadedSegs = 0;
  /** Chance that an accessed memory operand is made non-canonical on purpose. */
  nonCanonicalRate = 0.01;

  private dataCache: Uint8Array | null = null;

  constructor(readonly rng: Rng, regs: bigint[], readonly rflags: bigint, readonly codeOff: number, readonly dataSeed: bigint,
    readonly vendor: CpuVendorName = "intel") {
    this.regs = regs;
    this.df = (rflags & 0x400n) !== 0n;
  }

  /** The data region's initial contents (made on first use: most snippets never look). */
  get data(): Uint8Array {
    if (!this.dataCache) fillData(this.dataSeed, (this.dataCache = new Uint8Array(DATA_SIZE)));
    return this.dataCache;
  }

  isDirty(r: number): boolean {
    return ((this.dirty >> r) & 1) !== 0;
  }

  /** Requires register r to hold v initially; false if it cannot (written, or pinned otherwise). */
  pin(r: number, v: bigint): boolean {
    v = BigInt.asUintN(64, v);
    if (r === 4 || this.isDirty(r) || this.labelRegs.some((l) => l.reg === r)) return false;
    this.touched |= 1 << r;
    if ((this.pins >> r) & 1) return this.regs[r] === v;
    this.regs[r] = v;
    this.pins |= 1 << r;
    return true;
  }

  /** The known value of register r (pinning it as it is), or null once it was written. */
  known(r: number): bigint | null {
    if (r === 4) {
      this.touched |= 1 << 4;
      return this.rspDelta === null ? null : BigInt.asUintN(64, this.regs[4] + BigInt(this.rspDelta));
    }
    if (this.isDirty(r) || this.labelRegs.some((l) => l.reg === r)) return null; // label addresses come at layout
    this.pins |= 1 << r;
    this.touched |= 1 << r;
    return this.regs[r];
  }

  isPinned(r: number): boolean {
    return ((this.pins >> r) & 1) !== 0;
  }

  /** Pins register r to the address of `label` (known after layout). */
  pinLabel(r: number, label: Label): boolean {
    if (r === 4 || this.isDirty(r) || this.isPinned(r)) return false;
    this.pins |= 1 << r;
    this.labelRegs.push({ reg: r, label });
    return true;
  }

  /** Snapshot of everything, for abandoning a multi-instruction template halfway. */
  mark(): () => void {
    const undoRegs = this.save();
    const st = { dirty: this.dirty, protect: this.protect, rspDelta: this.rspDelta, memDirty: this.memDirty, undef: this.undef,
      df: this.df, ended: this.ended, n: this.insns.length, pending: this.pending.map((p) => ({ ...p })), loadedSegs: this.loadedSegs };
    return () => {
      undoRegs();
      Object.assign(this, { dirty: st.dirty, protect: st.protect, rspDelta: st.rspDelta, memDirty: st.memDirty,
        undef: st.undef, df: st.df, ended: st.ended, pending: st.pending, loadedSegs: st.loadedSegs });
      this.insns.length = st.n;
    };
  }

  /** Snapshot for undoing pins made by an attempt that is then abandoned. */
  save(): () => void {
    const regs = [...this.regs], pins = this.pins, labels = this.labelRegs.length;
    return () => {
      regs.forEach((v, i) => (this.regs[i] = v));
      this.pins = pins;
      this.labelRegs.length = labels;
    };
  }

  /**
   * The base an FS (64) or GS (65) override adds at this point: the harness's fixed base, or 0
   * once the snippet has loaded that segment register (every descriptor a user process can
   * load has base 0; a load that faults ends the snippet). If a taken branch skipped the load,
   * the access lands in unmapped user memory on both sides, never in the host's kernel half.
   */
  segmentBase(prefix: number): bigint {
    if (prefix === 0x64) return this.loadedSegs & 1 ? 0n : FS_BASE;
    if (prefix === 0x65) return this.loadedSegs & 2 ? 0n : GS_BASE;
    return 0n;
  }

  /** Current RSP estimate (exact unless a branch skipped a stack instruction). */
  rsp(): bigint | null {
    return this.known(4);
  }

  /**
   * Adds an instruction if its effects keep the invariants; returns false (state unchanged)
   * when it would read an undefined flag or write a protected register.
   */
  emit(insn: Omit<Insn, "undefBefore" | "offset">, opts: { shift?: { width: number; count: number }; effect?: FlagEffect } = {}): boolean {
    const bytes = Uint8Array.from(insn.bytes);
    if (insn.invalid) {
      this.insns.push({ ...insn, undefBefore: this.undef, offset: 0 });
      this.ended = true;
      return true;
    }
    const info = analyze(bytes, 0n, this.vendor);
    if (!info.valid || info.length !== bytes.length) {
      throw new GeneratorBug(`iced-x86 ${info.valid ? `decodes ${info.length} of` : "rejects"} ` +
        `${insn.bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ")} (${insn.row?.key ?? "template"})`);
    }
    const effect = opts.effect ?? flagEffect(info, opts.shift);
    if (effect.read & this.undef) return false;
    if (info.regsWritten & this.protect) return false;
    if (info.isStack && this.rspDelta === null) return false;
    this.insns.push({ ...insn, info, undefBefore: this.undef, offset: 0 });
    this.undef = applyEffect(this.undef, effect);
    const p = scanPrefixes(bytes);
    if (bytes[p.at] === 0x8e && [4, 5].includes((bytes[p.at + 1] >> 3) & 7)) this.loadedSegs |= ((bytes[p.at + 1] >> 3) & 7) === 4 ? 1 : 2;
    if (info.mnemonic === "leave") {
      const bp = this.known(5);
      const p = scanPrefixes(bytes);
      const size = p.osz16 && !(p.rex & 8) ? 2 : 8;
      this.rspDelta = bp === null ? null : Number(BigInt.asIntN(64, bp - this.regs[4])) + size;
    } else if (info.explicitRspWrite) this.rspDelta = null;
    else if (info.isStack && this.rspDelta !== null) this.rspDelta += info.stackIncrement;
    this.dirty |= info.regsWritten & ~(1 << 4);
    if (info.writesMemory) this.memDirty = true;
    if (info.privileged || TRAPS.has(info.mnemonic) || insn.features.includes("noncanonical")) this.ended = true;
    if (info.mnemonic === "std") this.df = true;
    if (info.mnemonic === "cld") this.df = false;
    return true;
  }

  /** A forward branch emitted just now skips the next `units` top-level units. */
  skipUnits(label: Label, units: number): void {
    this.pending.push({ label, units, undef: this.undef });
    if (units === 0) this.unitDone(0);
  }

  /** Called after each top-level unit: binds labels whose skipped units are all generated. */
  unitDone(step = 1): void {
    for (const p of this.pending) {
      p.units -= step;
      if (p.units <= 0 && p.label.index < 0) {
        p.label.index = this.insns.length;
        this.undef |= p.undef; // the branch-taken path joins here
      }
    }
    this.pending = this.pending.filter((p) => p.label.index < 0);
  }

  /** Binds what is left to the end of the snippet and lays it out; null if a branch is out of reach. */
  layout(): Uint8Array | null {
    for (const p of this.pending) {
      p.label.index = this.insns.length;
      this.undef |= p.undef;
    }
    this.pending = [];
    this.undefEnd = this.undef;
    let at = 0;
    for (const i of this.insns) {
      i.offset = at;
      at += i.bytes.length;
    }
    const end = at;
    const base = CODE_BASE + this.codeOff;
    const addr = (l: Label) => base + (l.index < this.insns.length ? this.insns[l.index].offset : end);
    for (const insn of this.insns) {
      const next = base + insn.offset + insn.bytes.length;
      for (const f of insn.fixups) {
        let v: number;
        if (f.kind === "riprel") v = Number(f.target) - next;
        else if (f.kind === "abs32") v = addr(f.label);
        else v = addr(f.label) - next;
        const size = f.kind === "rel8" ? 1 : 4;
        if (size === 1 && (v < -128 || v > 127)) return null;
        insn.bytes.splice(f.at, size, ...le(BigInt(v), size));
      }
    }
    for (const { reg, label } of this.labelRegs) this.regs[reg] = BigInt(addr(label));
    return Uint8Array.from(this.insns.flatMap((i) => i.bytes));
  }

  /** Undefined flags at a code offset (an instruction start or the end). */
  undefAt(offset: number): number {
    const i = this.insns.find((x) => x.offset === offset);
    return i ? i.undefBefore : offset === this.length() ? this.undefEnd : this.insns.reduce((u, x) => u | x.undefBefore, this.undefEnd);
  }

  length(): number {
    return this.insns.reduce((n, i) => n + i.bytes.length, 0);
  }
}
