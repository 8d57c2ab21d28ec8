// Deterministic random test cases: scenarios decide what kind of units a snippet is made of;
// each case gets its own seed derived from (scenario seed, index), so any single case can be
// regenerated from the numbers printed with a mismatch.
import type { CpuVendorName } from "../../src/machine/machine.js";
import { Rng } from "./prng.js";
import { GeneratorBug, Snippet, type Insn } from "./snippet.js";
import { CODE_BASE, CODE_MAX, CODE_SIZE, STACK_HOME, type CaseInput } from "./layout.js";
import { randomRegValue } from "./encode.js";
import { disassemble, F } from "./iced.js";
import { bodyRows, eligibleRows, genGeneric, genRow, invalidLock, loop, rowKind, tooLong } from "./templates.js";
import type { RowInfo } from "./rows.js";

export interface GeneratedCase extends CaseInput {
  scenario: string;
  index: number;
  caseSeed: bigint;
  /** The vendor whose decoding the snippet was laid out for (66-prefixed rel16 branches on AMD). */
  vendor: CpuVendorName;
  insns: Insn[];
  /** Flags that may be undefined at a code offset (instruction start or end). */
  undefAt(offset: number): number;
}

export interface Scenario {
  /** What the scenario exercises, used as the test name. */
  title: string;
  units: [number, number];
  unit(s: Snippet, caseIndex: number, unitIndex: number): boolean;
}

const byKind = (...kinds: string[]) => eligibleRows.filter((r) => kinds.includes(rowKind(r)));
const byMnemonic = (re: RegExp) => eligibleRows.filter((r) => re.test(r.row.mn) && rowKind(r) === "generic");
const CONTROL = byKind("branch", "call", "callE", "jmpE", "ret");
const STRINGS = byKind("string");
const STACK = byKind("stack", "popf");
const FAULTING = byKind("privileged", "trap");
const PRODUCERS = byMnemonic(new RegExp("^(add|or|adc|sbb|and|sub|xor|cmp|test|inc|dec|neg|rol|ror|rcl|rcr|shl|shr|sal|sar|" +
  "shld|shrd|bt|bts|btr|btc|bsf|bsr|tzcnt|lzcnt|popcnt|mul|imul|cmpxchg|xadd|sahf|stc|clc|cmc)$"));
const CONSUMERS = [
  ...byMnemonic(/^(set|cmov|adc|sbb|rcl|rcr|lahf|cmc)$/),
  ...eligibleRows.filter((r) => r.row.mn === "j" || r.row.mn === "pushf"),
];
const INCDEC = byMnemonic(/^(inc|dec)$/);
const DIVS = byMnemonic(/^(div|idiv)$/);

const pick = <T>(s: Snippet, a: readonly T[]) => s.rng.pick(a);

/** producer, maybe inc/dec (which keeps CF), consumer. */
function chain(s: Snippet): boolean {
  if (!genRow(s, pick(s, PRODUCERS))) return false;
  if (s.rng.chance(0.4)) genRow(s, pick(s, INCDEC));
  for (let i = 0; i < 4 && !s.ended; i++) if (genRow(s, pick(s, CONSUMERS))) return true;
  return true;
}

function mixUnit(s: Snippet): boolean {
  return s.rng.weighted<() => boolean>([
    [60, () => genRow(s, pick(s, eligibleRows))],
    [10, () => chain(s)],
    [10, () => genRow(s, pick(s, CONTROL))],
    [4, () => loop(s)],
    [6, () => genRow(s, pick(s, STRINGS))],
    [6, () => genRow(s, pick(s, STACK))],
    [2, () => invalidLock(s)],
  ])();
}

export const SCENARIOS = {
  single: { title: "each supported row alone, cycling through the table with random forms", units: [1, 1],
    unit: (s, i) => genRow(s, eligibleRows[i % eligibleRows.length]) },
  mix: { title: "random sequences of two to six instructions from the whole table", units: [2, 6], unit: mixUnit },
  chains: { title: "flag producers followed by inc/dec and flag consumers (jcc, setcc, cmov, adc, lahf, pushf)", units: [1, 3],
    unit: (s) => chain(s) },
  control: { title: "branches, calls, returns, indirect jumps and counted loops", units: [2, 5],
    unit: (s) => s.rng.weighted<() => boolean>([[45, () => genRow(s, pick(s, CONTROL))], [20, () => loop(s)],
      [35, () => genGeneric(s, pick(s, bodyRows))]])() },
  strings: { title: "string instructions with rep/repe/repne, segment overrides, 32-bit addressing, both directions", units: [1, 3],
    unit: (s) => (s.rng.chance(0.7) ? genRow(s, pick(s, STRINGS)) : genGeneric(s, pick(s, bodyRows))) },
  faults: { title: "faults: privileged instructions at CPL 3, traps, LOCK misuse, #DE, non-canonical addresses", units: [1, 3],
    unit: (s) => {
      s.nonCanonicalRate = 0.25;
      return s.rng.weighted<() => boolean>([[30, () => genRow(s, pick(s, FAULTING))], [15, () => invalidLock(s)], [5, () => tooLong(s)],
        [20, () => genRow(s, pick(s, DIVS))], [30, () => genRow(s, pick(s, eligibleRows))]])();
    } },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

export function caseSeed(seed: bigint, index: number): bigint {
  return BigInt.asUintN(64, seed * 0x100000001b3n + BigInt(index + 1) * 0x9e3779b97f4a7c15n);
}

function codeOffset(rng: Rng): number {
  return rng.weighted<() => number>([
    [6, () => rng.int(0x40)],
    [2, () => 0x1000 * rng.int(15) + 0x1000 - rng.range(1, 24)], // straddles a page boundary
    [2, () => rng.int(CODE_SIZE - 0x200)],
  ])();
}

/** Generates case `index` of a scenario; throws GeneratorBug if the generator contradicts iced. */
export function generateCase(name: ScenarioName, seed: bigint, index: number, vendor: CpuVendorName = "intel"): GeneratedCase {
  const sc: Scenario = SCENARIOS[name];
  const cs = caseSeed(seed, index);
  const rng = new Rng(cs);
  for (let attempt = 0; attempt < 100; attempt++) {
    const regs = Array.from({ length: 16 }, () => randomRegValue(rng));
    regs[4] = BigInt(STACK_HOME - 8 * rng.int(32) - (rng.chance(0.1) ? rng.range(1, 7) : 0));
    let rflags = 0x202n | BigInt(rng.u32() & (F.CF | F.PF | F.AF | F.ZF | F.SF | F.OF));
    if (rng.chance(0.3)) rflags |= BigInt(F.DF);
    const dataSeed = rng.u64();
    const s = new Snippet(rng, regs, rflags, codeOffset(rng), dataSeed, vendor);
    const units = rng.range(sc.units[0], sc.units[1]);
    for (let u = 0; u < units && !s.ended && s.length() < 150; u++) {
      sc.unit(s, index, u);
      s.unitDone();
    }
    const code = s.insns.length ? s.layout() : null;
    if (!code || code.length > CODE_MAX) continue;
    const ip = BigInt(CODE_BASE + s.codeOff);
    const listing = disassemble(code, ip, false, vendor);
    for (const insn of s.insns) {
      const line = listing.find((l) => l.offset === insn.offset);
      if (!insn.invalid && (!line || line.length !== insn.bytes.length)) {
        throw new GeneratorBug(`case ${name}#${index}: laid-out snippet does not decode as generated at +${insn.offset}`);
      }
    }
    return {
      regs: s.regs, rflags, seed: dataSeed, codeOff: s.codeOff, code,
      scenario: name, index, caseSeed: cs, vendor, insns: s.insns,
      undefAt: (offset) => s.undefAt(offset),
    };
  }
  throw new GeneratorBug(`case ${name}#${index}: no valid snippet in 100 attempts`);
}

export function generateCases(name: ScenarioName, seed: bigint, count: number, first = 0,
  vendor: CpuVendorName = "intel"): GeneratedCase[] {
  return Array.from({ length: count }, (_, i) => generateCase(name, seed, first + i, vendor));
}

export interface Coverage {
  rows: Map<string, number>;
  features: Map<string, number>;
  /** Features seen per row (operand sizes, register/memory forms, ...). */
  rowFeatures: Map<string, Set<string>>;
}

/** Which rows and encoding features a set of cases exercised. */
export function coverage(cases: readonly GeneratedCase[]): Coverage {
  const rows = new Map<string, number>();
  const features = new Map<string, number>();
  const rowFeatures = new Map<string, Set<string>>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const c of cases) {
    for (const i of c.insns) {
      if (i.row && !i.invalid) {
        bump(rows, i.row.key);
        const set = rowFeatures.get(i.row.key) ?? new Set<string>();
        i.features.forEach((f) => set.add(f));
        rowFeatures.set(i.row.key, set);
      }
      for (const f of i.features) bump(features, f);
    }
    if ((c.codeOff & 0xfff) + c.code.length > 0x1000) bump(features, "code crosses page");
  }
  return { rows, features, rowFeatures };
}

/** The forms each row should show up in: both ModRM forms where it has both, every operand size. */
export function expectedForms(r: RowInfo): string[] {
  const out: string[] = [];
  if (r.modrm && !r.modreg && r.exact === null && r.operands.some((o) => /^[EMR]/.test(o))) {
    if (!r.regOnly) out.push("mem");
    if (!r.memOnly) out.push("reg");
  }
  if (r.row.size === "v" && r.row.mn !== "cmpxchg8b") out.push(...(r.nosz16 ? [] : ["osz16"]), "osz32", "osz64");
  if (r.row.size === "d64") out.push("osz16", "osz64");
  if (r.lockable) out.push("lock");
  return out;
}

/** The rows the differential test runs (all but those SKIPPED in instr.ts). */
export const SUPPORTED_ROWS: readonly RowInfo[] = eligibleRows;
