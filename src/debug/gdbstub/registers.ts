// The registers gdb sees: a target description (i386:x86-64) and the `g`/`p` encoding, in
// the description's order. gdb's x86-64 support requires the x87 and SSE registers of its
// core and sse features by name; the machine has no FPU state, so they read as their reset
// values and writes to them are refused unless they leave them unchanged.
import type { CpuState } from "../../machine/machine.js";
import { REG_NAMES } from "../../machine/registers.js";
import { toHex } from "./packets.js";

interface RegDef {
  name: string;
  bits: number;
  type: string;
  feature: "core" | "sse" | "segments" | "sys";
  read(c: CpuState): bigint;
  /** Absent: read-only (a write must leave the value as it is). */
  write?(c: CpuState, v: bigint): void;
}

const GDB_GPRS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

function gpr(name: string): RegDef {
  const i = REG_NAMES.indexOf(name as (typeof REG_NAMES)[number]);
  const type = name === "rsp" || name === "rbp" ? "data_ptr" : "int64";
  return { name, bits: 64, type, feature: "core", read: (c) => c.reg(i), write: (c, v) => c.setReg(i, v) };
}

function fixed(name: string, bits: number, type: string, feature: RegDef["feature"], value = 0n): RegDef {
  return { name, bits, type, feature, read: () => value };
}

type Field = "cs" | "ss" | "ds" | "es" | "fs" | "gs" | "fsBase" | "gsBase" | "kernelGsBase" | "cr0" | "cr2" | "cr3" | "cr4" | "efer";

function field(name: string, f: Field, bits: number, feature: RegDef["feature"]): RegDef {
  return { name, bits, type: bits === 32 ? "int32" : "int64", feature, read: (c) => BigInt(c.get(f)) };
}

export const REGISTERS: readonly RegDef[] = [
  ...GDB_GPRS.map(gpr),
  { name: "rip", bits: 64, type: "code_ptr", feature: "core", read: (c) => c.rip, write: (c, v) => { c.rip = v; } },
  // Reserved bits stay as the CPU keeps them (bit 1 set), as the REPL's `set $eflags` does.
  {
    name: "eflags", bits: 32, type: "int32", feature: "core",
    read: (c) => c.rflags, write: (c, v) => { c.rflags = (v & 0x3f7fd7n) | 2n; },
  },
  ...(["cs", "ss", "ds", "es", "fs", "gs"] as const).map((s) => field(s, s, 32, "core")),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => fixed(`st${i}`, 80, "i387_ext", "core")),
  fixed("fctrl", 32, "int", "core", 0x37fn), fixed("fstat", 32, "int", "core"), fixed("ftag", 32, "int", "core", 0xffffn),
  fixed("fiseg", 32, "int", "core"), fixed("fioff", 32, "int", "core"), fixed("foseg", 32, "int", "core"),
  fixed("fooff", 32, "int", "core"), fixed("fop", 32, "int", "core"),
  ...Array.from({ length: 16 }, (_, i) => fixed(`xmm${i}`, 128, "uint128", "sse")),
  fixed("mxcsr", 32, "int", "sse", 0x1f80n),
  field("fs_base", "fsBase", 64, "segments"), field("gs_base", "gsBase", 64, "segments"),
  field("k_gs_base", "kernelGsBase", 64, "sys"),
  field("cr0", "cr0", 64, "sys"), field("cr2", "cr2", 64, "sys"), field("cr3", "cr3", 64, "sys"), field("cr4", "cr4", 64, "sys"),
  field("efer", "efer", 64, "sys"),
];

const FEATURES: Record<RegDef["feature"], string> = {
  core: "org.gnu.gdb.i386.core",
  sse: "org.gnu.gdb.i386.sse",
  segments: "org.gnu.gdb.i386.segments",
  sys: "org.tramplab.x86.sys",
};

/** target.xml: one feature element per group, registers numbered in REGISTERS order. */
export function targetXml(): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', "<target>",
    "  <architecture>i386:x86-64</architecture>"];
  let open = "";
  REGISTERS.forEach((r, i) => {
    if (r.feature !== open) {
      if (open) lines.push("  </feature>");
      lines.push(`  <feature name="${FEATURES[r.feature]}">`);
      open = r.feature;
    }
    const group = r.feature === "sys" ? ' group="system"' : "";
    lines.push(`    <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${i}"${group}/>`);
  });
  lines.push("  </feature>", "</target>");
  return lines.join("\n") + "\n";
}

/** Register `n` of vCPU `c` as little-endian hex, or null if there is no such register. */
export function readRegister(c: CpuState, n: number): string | null {
  const r = REGISTERS[n];
  if (!r) return null;
  return toHex(littleEndian(r.read(c), r.bits / 8));
}

/** All registers (`g`). */
export function readAll(c: CpuState): string {
  return REGISTERS.map((_, i) => readRegister(c, i)).join("");
}

/**
 * Checks that `hex` (the `G` layout, or one register for `P` when `only` is given) can be
 * written: every read-only register it covers keeps its value. Returns the writes to make, or
 * an error text; nothing is written here.
 */
export function planWrites(c: CpuState, hex: string, only?: number): { apply: () => void } | string {
  const writes: (() => void)[] = [];
  let pos = 0;
  const regs = only === undefined ? REGISTERS.map((r, i) => [r, i] as const) : [[REGISTERS[only], only] as const];
  if (regs.some(([r]) => r === undefined)) return "no such register";
  for (const [r] of regs) {
    const width = r.bits / 4;
    if (pos + width > hex.length) {
      if (only === undefined && pos === hex.length) break; // a short G leaves the rest as they are
      return "register data ends early";
    }
    const text = hex.slice(pos, pos + width);
    pos += width;
    if (!/^[0-9a-fA-F]+$/.test(text)) return "registers are hex digits";
    const v = fromLittleEndian(text);
    if (r.write) { const w = r.write; writes.push(() => w(c, v)); } else if (v !== r.read(c)) return `${r.name} cannot be written`;
  }
  if (pos !== hex.length) return "register data is longer than the registers";
  return { apply: () => writes.forEach((w) => w()) };
}

function littleEndian(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

function fromLittleEndian(hex: string): bigint {
  let v = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(hex.slice(i, i + 2), 16));
  return v;
}
