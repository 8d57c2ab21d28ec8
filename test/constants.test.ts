// Architectural and ABI constants are described once, in tools/constants.mjs, and generated for
// the core, the control plane and the guest. These tests fail when a hand copy reappears: a
// definition of a generated name anywhere else, or one of the values that are unmistakable
// (MSR numbers, the IF bit, the system vectors) written as a bare literal.
import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { projectRoot } from "../src/paths.js";
import * as ts from "../src/gen/constants.js";
import { Vector } from "../src/gen/layout.js";

interface Group {
  name: string; doc: string; type: "u8" | "u32" | "u64"; prefix?: string; enum?: string; targets?: string[];
}
interface Constant { group: Group; name: string; short: string; value: number | bigint; doc: string; kernel?: string }
const { groups, constants } = (await import(pathToFileURL(join(projectRoot, "tools/constants.mjs")).href)) as
  { groups: Group[]; constants: Constant[] };

const SCANNED = ["assembly", "src", "firmware", "test", "bench", "tools"];
const EXTENSIONS = /\.(ts|mjs|c|h|S|inc)$/;
/** The description itself, what is generated from it, and this file. */
const EXEMPT = [/^tools\/constants\.mjs$/, /^(assembly|src)\/gen\//, /^firmware\/include\/gen\//, /^test\/constants\.test\.ts$/];

function sources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(projectRoot, dir))) {
      const rel = `${dir}/${name}`;
      if (statSync(join(projectRoot, rel)).isDirectory()) walk(rel);
      else if (EXTENSIONS.test(name) && !EXEMPT.some((re) => re.test(rel))) {
        out.push({ path: rel, text: readFileSync(join(projectRoot, rel), "utf8") });
      }
    }
  };
  for (const d of SCANNED) walk(d);
  return out;
}

/** "path:line: text" for every line of every source that matches. */
function hits(files: { path: string; text: string }[], re: RegExp): string[] {
  const found: string[] = [];
  for (const f of files) {
    f.text.split("\n").forEach((line, i) => { if (re.test(line)) found.push(`${f.path}:${i + 1}: ${line.trim()}`); });
  }
  return found;
}

const files = sources();

describe("constants have one description (tools/constants.mjs)", () => {
  it("no generated name is defined anywhere else", () => {
    const names = constants.map((c) => c.name).join("|");
    const definition = new RegExp(
      `#define\\s+(${names})\\b` +                                  // C
      `|^\\s*\\.(set|equ)\\s+(${names})\\s*,` +                      // GNU as
      `|\\b(const|let|var)\\s+(${names})\\s*[:=]` +                  // TypeScript, AssemblyScript
      `|,\\s*(${names})\\s*(:\\s*\\w+\\s*)?=[^=]`,                   // ... later in a declaration list
    );
    expect(hits(files, definition)).toEqual([]);
  });

  it("no enum of the description is restated", () => {
    const enums = groups.filter((g) => g.enum).map((g) => g.enum).join("|");
    expect(hits(files, new RegExp(`\\b(const|let)\\s+(${enums})\\s*=`))).toEqual([]);
  });

  it("no MSR number is written as a literal", () => {
    // Small numbers (MSR_TSC is 0x10) would match anything; the x2APIC and 0xc0000000 ones do not.
    const msrs = new Set(constants.filter((c) => c.group.prefix === "MSR_" && Number(c.value) >= 0x800).map((c) => Number(c.value)));
    const literal = /\b0x[0-9a-fA-F_]+\b/g;
    const found = files.flatMap((f) => f.text.split("\n").flatMap((line, i) =>
      [...line.matchAll(literal)].filter((m) => msrs.has(Number(m[0].replace(/_/g, "")))).map(() => `${f.path}:${i + 1}: ${line.trim()}`)));
    expect(found).toEqual([]);
  });

  it("no interrupt vector, RFLAGS.IF or preempt_count unit is written as a literal where they are meant", () => {
    const control = files.filter((f) => /^(src|firmware)\//.test(f.path));
    expect(hits(control, /\b0x(ef|f0|f1)\b/i)).toEqual([]);                  // VEC_TIMER, VEC_CALL_FUNCTION, VEC_RESCHED
    expect(hits(files, /&\s*0x200n\b|\bIF\s*=\s*0x200n?\b/)).toEqual([]);      // X86_EFLAGS_IF
    expect(hits(files, /\b(HARDIRQ|SOFTIRQ|NMI|PREEMPT)_\w*\s*=\s*0x/)).toEqual([]);
    expect(hits(files, /text_poke_vec\s*\[\s*\d/)).toEqual([]);                // TEXT_POKE_MAX
  });

  it("no page-fault error bit, present bit, selector, gate bit or start-up RFLAGS is written as a literal where they are meant", () => {
    const control = files.filter((f) => /^src\//.test(f.path));
    const guest = files.filter((f) => /^firmware\//.test(f.path));
    expect(hits(control, /\berror\s*&\s*(1|2|4|8|16)n\b/)).toEqual([]);               // PF_* (the #PF error code)
    expect(hits(control, /\((f|e|entry|pte)\s*&\s*1n\)/)).toEqual([]);                // PTE_P
    expect(hits(control, /\brflags:\s*(0x)?[0-9a-f]+n\b|\b0x202n?\b/i)).toEqual([]);  // X86_EFLAGS_FIXED, X86_EFLAGS_IF
    expect(hits(control, /\b(cs|ss):\s*(0x)?[0-9a-f]+\b/i)).toEqual([]);             // GDT_*, LINUX_* selectors
    expect(hits(guest, /#define\s+\w*_(CS|DS|SEL)\s+0x/)).toEqual([]);                 // GDT_*
    expect(hits([...control, ...guest], /\b0x[8e]e\b|\b0x80n?\s*\||\b0xen\b/i)).toEqual([]); // GATE_*
  });

  it("the decode-table generator takes its record bits from the description", () => {
    const gen = files.filter((f) => f.path.startsWith("tools/"));
    expect(hits(gen, /\b(INFO|IMM|SIZE|PFX|MEM)\s*=\s*\{/)).toEqual([]);
  });
});

describe("the generated constants", () => {
  it("carry the description's values to TypeScript, bigints for 64-bit groups", () => {
    const exported = ts as Record<string, unknown>;
    for (const c of constants) {
      if (c.group.targets && !c.group.targets.includes("ts")) continue;
      if (c.group.enum) expect((exported[c.group.enum] as Record<string, number>)[c.short]).toBe(c.value);
      else expect(exported[c.name]).toBe(c.group.type === "u64" ? BigInt(c.value) : c.value);
      expect(c.doc.length).toBeGreaterThan(0);
    }
  });

  it("keep the names the control plane and the machine use", () => {
    expect(ts.VEC_TIMER).toBe(0xef);
    expect(ts.X86_EFLAGS_IF).toBe(1n << 9n);
    expect(ts.TEXT_POKE_MAX).toBe(256);
    expect(Vector.PF).toBe(14); // re-exported by the layout, where the exception vectors used to live
  });

  it("reach the guest's C header and the core's AssemblyScript", () => {
    const header = readFileSync(join(projectRoot, "firmware/include/gen/constants.h"), "utf8");
    const core = readFileSync(join(projectRoot, "assembly/gen/constants.ts"), "utf8");
    expect(header).toMatch(/^#define VEC_CALL_FUNCTION 0xF0\t/m);
    expect(header).toMatch(/^#define PTE_NX _AC\(0x8000000000000000, ULL\)\t/m);
    expect(core).toMatch(/^@inline export const INFO_MODRM: u64 = 0x400;$/m);
  });
});
