// The core's instruction decoder against iced-x86 on instruction lengths.
//
// Rules, for a window of 15 bytes given to the core (iced gets a few more, so that "longer
// than 15" shows up as invalid rather than as running out of bytes):
//   - when the core returns a length, iced must decode a valid instruction of that length;
//   - when iced calls the bytes invalid, the core must say #UD (-2) or #GP (-3);
//   - when the bytes are in the supported subset (a table row in a form it admits), the core
//     must return iced's length;
//   - 15 bytes are always enough: the core never asks for more (-1), while every proper
//     prefix of a decoded instruction must get -1.
// Streams are random but shaped like instructions (prefixes, REX, table opcodes, ModRM/SIB
// forms), so most samples say something about the supported encodings. Both vendor profiles
// are checked, iced-x86 decoding as that vendor's parts do (AMD: 66-prefixed rel16 branches).
import { describe, it, expect } from "vitest";
import { Machine, CPU_VENDORS, type CpuVendorName } from "../src/machine/machine.js";
import { regions } from "../src/gen/layout.js";
import { Rng } from "./diff/prng.js";
import { icedLength } from "./diff/iced.js";
import { rowInfos, supportedRow, type RowInfo } from "./diff/rows.js";

const DEC_NEED_MORE = -1;
const machines = Object.fromEntries(
  CPU_VENDORS.map((v) => [v, new Machine({ ramBytes: 2 << 20, cpuVendor: v })]),
) as Record<CpuVendorName, Machine>;

function coreDecode(vendor: CpuVendorName, bytes: Uint8Array, n = 15): number {
  const machine = machines[vendor];
  const iobuf = new Uint8Array(machine.memory.buffer, regions.IOBUF.base, 16);
  iobuf.fill(0);
  iobuf.set(bytes.subarray(0, n));
  return machine.core.hostDecode(n);
}

const PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65];

/** A 24-byte stream that starts like an instruction of `row` (or of nothing in particular). */
function stream(rng: Rng, row: RowInfo | null): Uint8Array {
  const out: number[] = [];
  const n = rng.weighted([[40, 0], [30, 1], [25, rng.range(2, 4)], [5, rng.range(5, 14)]]);
  for (let i = 0; i < n; i++) out.push(rng.chance(0.15) ? 0x40 | rng.int(16) : rng.pick(PREFIXES));
  if (row?.mandatory && rng.chance(0.7)) out.splice(rng.int(out.length + 1), 0, row.mandatory);
  if (rng.chance(0.3)) out.push(0x40 | rng.int(16));
  if (row) {
    const op = [...row.opcode];
    if (row.plus) op[op.length - 1] += rng.int(row.plus === "r" ? 8 : 16);
    out.push(...op);
    const mod = rng.chance(0.25) ? 3 : rng.int(3);
    const rm = rng.weighted([[5, rng.int(8)], [2, 4], [1, 5]]);
    if (row.exact !== null && rng.chance(0.8)) out.push(row.exact);
    else out.push((mod << 6) | ((row.digit ?? rng.int(8)) << 3) | rm);
    if (rng.chance(0.3)) out.push((rng.int(256) & ~7) | (rng.chance(0.3) ? 5 : rng.int(8))); // SIB-ish
  } else if (rng.chance(0.5)) out.push(0x0f);
  while (out.length < 24) out.push(rng.int(256));
  return Uint8Array.from(out.slice(0, 24));
}

const hex = (b: Uint8Array, n = 15) => [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, "0")).join(" ");

interface Failure { key: string; text: string }

/** Checks one stream; returns a failure description, or null. `inSubset` counts supported samples. */
function check(vendor: CpuVendorName, bytes: Uint8Array, rng: Rng, inSubset: Map<string, number>): Failure | null {
  const ours = coreDecode(vendor, bytes);
  const theirs = icedLength(bytes, vendor);
  const row = supportedRow(bytes);
  const fail = (why: string) => ({
    key: `${row ? row.key : "not in the table"}: ${why.replace(/\b\d+\b/g, "N")}`,
    text: `${hex(bytes)}  core ${ours}, iced ${theirs || "invalid"}${row ? ` [${row.key}]` : ""}: ${why}`,
  });
  if (row && theirs > 0) inSubset.set(row.key, (inSubset.get(row.key) ?? 0) + 1);
  if (ours === DEC_NEED_MORE) return fail("core asks for more than 15 bytes");
  if (ours >= 0 && theirs === 0) return fail("core decodes what iced-x86 calls invalid");
  if (ours >= 0 && ours !== theirs) return fail("lengths differ");
  if (row && theirs > 0 && ours < 0) return fail(`core rejects a supported form with ${ours === -2 ? "#UD" : "#GP"}`);
  if (ours > 0) {
    for (const k of new Set([ours - 1, rng.int(ours)])) {
      const short = coreDecode(vendor, bytes, k);
      if (short !== DEC_NEED_MORE) return fail(`cut to ${k} bytes the core returns ${short} instead of -1`);
    }
  }
  return null;
}

function summarize(failures: Failure[], samples: number): string {
  const groups = new Map<string, Failure[]>();
  for (const f of failures) groups.set(f.key, [...(groups.get(f.key) ?? []), f]);
  const lines = [`${failures.length} of ${samples} samples disagree, in ${groups.size} groups:`];
  for (const [key, fs] of [...groups.entries()].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${fs.length} × ${key}`, ...fs.slice(0, 3).map((f) => `      ${f.text}`));
  }
  return lines.join("\n");
}

describe.each(CPU_VENDORS)("decoder lengths: the core's decoder against iced-x86 (%s profile)", (vendor) => {
  it("100,000 random byte streams shaped like instructions (prefixes, REX, table opcodes, ModRM/SIB) agree", () => {
    const rng = new Rng(0xdec0de1n);
    const inSubset = new Map<string, number>();
    const failures: Failure[] = [];
    const samples = 100_000;
    for (let i = 0; i < samples; i++) {
      const f = check(vendor, stream(rng, rng.chance(0.8) ? rng.pick(rowInfos) : null), rng, inSubset);
      if (f) failures.push(f);
    }
    const supported = [...inSubset.values()].reduce((a, b) => a + b, 0);
    expect(supported, "too few samples hit the supported subset: the stream shaping is off").toBeGreaterThan(samples / 3);
    expect(failures.length, summarize(failures, samples)).toBe(0);
  });

  it("every row of the opcode table, in 400 random forms each, decodes to iced-x86's length", () => {
    const rng = new Rng(0xdec0de2n);
    const inSubset = new Map<string, number>();
    const failures: Failure[] = [];
    for (const row of rowInfos) {
      for (let i = 0; i < 400; i++) {
        const f = check(vendor, stream(rng, row), rng, inSubset);
        if (f) failures.push(f);
      }
    }
    const unexercised = rowInfos.filter((r) => (inSubset.get(r.key) ?? 0) < 20).map((r) => r.key);
    expect(unexercised, "rows with fewer than 20 supported samples").toEqual([]);
    expect(failures.length, summarize(failures, rowInfos.length * 400)).toBe(0);
  });
});
