// Comparing one case's native and emulated outcomes, and describing a mismatch so that it can
// be understood (and reproduced) without rerunning anything.
import { REG_NAMES } from "../../src/machine/registers.js";
import { Exit, VectorName } from "../../src/gen/layout.js";
import { CODE_BASE, DATA_BASE, type CpuResult } from "./layout.js";
import type { EmulatorResult } from "./emulator.js";
import type { GeneratedCase } from "./generator.js";
import { flagNames } from "./flags.js";
import { formatOne } from "./iced.js";

export interface Difference {
  what: string;
  native: string;
  emulator: string;
  note?: string;
}

const RF = 1n << 16n;
/** Vectors that push an error code. */
const WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17]);
/** Vectors raised as traps here (int3, int n): RIP points after the instruction. */
const TRAPS = new Set([1, 3, 4]);

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
export const vectorName = (v: number) => `#${VectorName[v] ?? `vector ${v}`}`;

function outcome(r: CpuResult | EmulatorResult): string {
  if (r.vector !== null) return vectorName(r.vector);
  if ("exit" in r && r.exit !== Exit.SYSCALL) return `stopped with ${r.exitName}`;
  return "completed";
}

/** Address of the generated instruction that ends at `rip`, or null. */
function insnEndingAt(c: GeneratedCase, rip: bigint): bigint | null {
  const base = BigInt(CODE_BASE + c.codeOff);
  const i = c.insns.find((x) => base + BigInt(x.offset + x.bytes.length) === rip);
  return i ? base + BigInt(i.offset) : null;
}

export function compareCase(c: GeneratedCase, n: CpuResult, e: EmulatorResult): Difference[] {
  const d: Difference[] = [];
  const nOut = outcome(n), eOut = outcome(e);
  if (nOut !== eOut) d.push({ what: "outcome", native: nOut, emulator: eOut });
  if (n.rip !== e.rip) d.push({ what: "rip", native: hex(n.rip), emulator: hex(e.rip) });
  if (n.vector !== null && n.vector === e.vector) {
    if (WITH_ERROR.has(n.vector) && n.err !== e.err) d.push({ what: "error code", native: hex(n.err), emulator: hex(e.err) });
    const at = TRAPS.has(n.vector) ? insnEndingAt(c, n.rip) : n.rip;
    if (at !== null && at !== e.exitRip) {
      d.push({ what: "exitRip", native: hex(at), emulator: hex(e.exitRip), note: "address of the instruction that raised it" });
    }
  }
  for (let i = 0; i < 16; i++) {
    if (n.regs[i] !== e.regs[i]) d.push({ what: REG_NAMES[i], native: hex(n.regs[i]), emulator: hex(e.regs[i]) });
  }
  const undef = BigInt(c.undefAt(Number(n.rip) - (CODE_BASE + c.codeOff)));
  const ignore = undef | (n.vector !== null ? RF : 0n); // the CPU sets RF in fault frames
  const flags = (n.rflags ^ e.rflags) & ~ignore;
  if (flags) {
    d.push({ what: "rflags", native: `${hex(n.rflags)} [${flagNames(n.rflags)}]`, emulator: `${hex(e.rflags)} [${flagNames(e.rflags)}]`,
      note: `differ in ${flagNames(flags)}${undef ? `; undefined here, ignored: ${flagNames(undef)}` : ""}` });
  }
  if (n.hash !== e.hash) d.push({ what: "data region", native: `fnv ${hex(n.hash)}`, emulator: `fnv ${hex(e.hash)}` });
  return d;
}

/** The snippet as address, bytes and GAS text per generated instruction. */
export function listing(c: GeneratedCase): string[] {
  const base = CODE_BASE + c.codeOff;
  return c.insns.map((i) => {
    const addr = BigInt(base + i.offset);
    const bytes = Uint8Array.from(i.bytes);
    let text = formatOne(bytes, addr, c.vendor);
    if (text === null) {
      // Deliberately invalid: say what it would be without the offending part.
      const k = i.features.includes("too long") ? i.bytes.length - 15 : i.bytes[0] === 0xf0 ? 1 : 0;
      const rest = k ? formatOne(bytes.subarray(k), addr + BigInt(k), c.vendor) : null;
      text = `(bad)${rest ? `  ${i.features.includes("too long") ? `${i.bytes.length} bytes:` : "lock"} ${rest}` : ""}`;
    }
    const hexBytes = i.bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ");
    return `${hex(addr)}  ${hexBytes.padEnd(47)} ${text}`;
  });
}

function memoryDiff(initial: Uint8Array, native: Uint8Array, emu: Uint8Array, limit = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < native.length && out.length < limit;) {
    if (native[i] === emu[i]) { i++; continue; }
    let j = i;
    while (j < native.length && j - i < 16 && (native[j] !== emu[j] || native[j + 1] !== emu[j + 1])) j++;
    const b = (a: Uint8Array) => [...a.subarray(i, Math.max(j, i + 1))].map((x) => x.toString(16).padStart(2, "0")).join(" ");
    out.push(`+${hex(i)} (${hex(DATA_BASE + i)}): initial ${b(initial)} | native ${b(native)} | emulator ${b(emu)}`);
    i = Math.max(j, i + 1);
  }
  return out;
}

export interface MismatchReport {
  c: GeneratedCase;
  native: CpuResult;
  emu: EmulatorResult;
  diffs: Difference[];
  /** Final data regions and the initial one, when the hashes differ. */
  memory?: { initial: Uint8Array; native: Uint8Array; emu: Uint8Array };
}

export function formatMismatch(m: MismatchReport, seed: bigint): string {
  const { c, native: n, emu: e } = m;
  const lines = [`${c.scenario}#${c.index}: ${m.diffs.map((d) => d.what).join(", ")} differ` +
    `   (reproduce: npm run fuzz -- --scenario ${c.scenario} --seed ${hex(seed)} --only ${c.index})`];
  lines.push(...listing(c).map((l) => `    ${l}`));
  const regs = c.regs.map((v, i) => `${REG_NAMES[i]}=${hex(v)}`);
  for (let i = 0; i < 16; i += 4) lines.push(`  ${i ? "       " : "inputs:"} ${regs.slice(i, i + 4).join(" ")}`);
  lines.push(`         rflags=${hex(c.rflags)} [${flagNames(c.rflags)}]  data seed=${hex(c.seed)}`);
  lines.push(`  native:   ${outcome(n)} at ${hex(n.rip)}${n.vector !== null ? ` error ${hex(n.err)}` : ""}, ` +
    `rflags ${hex(n.rflags)} [${flagNames(n.rflags)}]`);
  lines.push(`  emulator: ${outcome(e)} at ${hex(e.rip)}${e.vector !== null ? ` error ${hex(e.err)} exitRip ${hex(e.exitRip)}` : ""}, ` +
    `rflags ${hex(e.rflags)} [${flagNames(e.rflags)}]`);
  for (const d of m.diffs) {
    lines.push(`    ${d.what.padEnd(11)} native ${d.native.padEnd(30)} emulator ${d.emulator}${d.note ? `   (${d.note})` : ""}`);
  }
  if (m.memory) lines.push(...memoryDiff(m.memory.initial, m.memory.native, m.memory.emu).map((l) => `      ${l}`));
  return lines.join("\n");
}
