// tramplab check-noinstr: the checker finds every call or jump out of .noinstr.text in a
// fixture built to contain each kind (test/fixtures/noinstr/violations.c), at the exact
// instruction, and nothing in the functions that stay inside; the built firmware is clean;
// images that cannot be checked are refused with one clear line; the command line reports
// the same lines with exit codes 0, 1 and 2.
//
// The expected offsets are not copied from the checker's output: they come from objdump, a
// second disassembler, so gcc may lay the fixture out differently and the test still holds.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { buildDir, projectRoot } from "../src/paths.js";
import { ElfError, parseElf } from "../src/machine/elf.js";
import { checkNoinstr, NoinstrError, type FindingKind, type NoinstrReport } from "../src/noinstr/check.js";
import { compile } from "./programs/build.js";

const FIXTURE = join(projectRoot, "test", "fixtures", "noinstr", "violations.c");
const FIRMWARE = join(buildDir, "firmware.elf");
const CLI = join(projectRoot, "bin", "tramplab.js");
// -pg -mfentry -mnop-mcount give every instrumentable function a 5-byte nop fentry site, as a
// kernel build would (a nop, because the program has no __fentry__); it needs a non-PIE link.
const FIXTURE_FLAGS = ["-O2", "-fno-pie", "-no-pie", "-pg", "-mfentry", "-mnop-mcount"];

interface Expected {
  func: string;
  /** objdump's text of the offending instruction. */
  insn: RegExp;
  kind: FindingKind;
  callee: string;
  proves: string;
}

const VIOLATIONS: Expected[] = [
  { func: "calls_out", insn: /^call\s+[0-9a-f]+ <instrumented>$/, kind: "call", callee: "instrumented", proves: "an ordinary call" },
  { func: "tail_out", insn: /^jmp\s+[0-9a-f]+ <instrumented_tail>$/, kind: "jump", callee: "instrumented_tail",
    proves: "a sibling call (tail jmp)" },
  { func: "maybe_tail", insn: /^jmp\s+[0-9a-f]+ <instrumented_tail>$/, kind: "jump", callee: "instrumented_tail",
    proves: "a sibling call on one branch" },
  { func: "asm_cond_tail", insn: /^jne\s+[0-9a-f]+ <instrumented_tail>$/, kind: "conditional jump", callee: "instrumented_tail",
    proves: "a conditional sibling call (jne)" },
  { func: "indirect_out", insn: /^call\s+\*/, kind: "indirect call", callee: "{dynamic}", proves: "an indirect call" },
  { func: "indirect_tail", insn: /^jmp\s+\*/, kind: "indirect jump", callee: "{dynamic}", proves: "an indirect tail jump" },
];
const NOINSTR_FUNCS = [
  "asm_cond_tail", "helper", "stays_inside", "tail_inside", "table_switch", "idle", "instr_region", "asm_instr_ret",
  "calls_out", "tail_out", "maybe_tail", "indirect_out", "indirect_tail",
];

/** objdump -d of one section: function name -> its instructions (offset and text). */
function objdumpSection(path: string, section: string): Map<string, { off: bigint; text: string }[]> {
  const out = execFileSync("objdump", ["-d", "--no-show-raw-insn", "-j", section, path], { encoding: "utf8" });
  const funcs = new Map<string, { off: bigint; text: string }[]>();
  let name = "", base = 0n;
  for (const line of out.split("\n")) {
    const head = /^([0-9a-f]+) <(.+)>:$/.exec(line);
    const insn = /^\s+([0-9a-f]+):\t(.*)$/.exec(line);
    if (head) { name = head[2]; base = BigInt(`0x${head[1]}`); funcs.set(name, []); }
    else if (insn && name) funcs.get(name)!.push({ off: BigInt(`0x${insn[1]}`) - base, text: insn[2].trim().replace(/\s+#.*$/, "") });
  }
  return funcs;
}

/** A copy of a file with `change` applied to its bytes. */
function variant(dir: string, from: string, name: string, change: (b: Buffer) => void): string {
  const b = Buffer.from(readFileSync(from));
  change(b);
  const out = join(dir, name);
  writeFileSync(out, b);
  return out;
}

/** Renames a symbol or section by changing one character of its name in the string tables. */
function renameOnce(b: Buffer, name: string, last: string): void {
  const at = b.indexOf(Buffer.from(name + "\0", "latin1"));
  expect(at, `${name} in the string table`).toBeGreaterThan(0);
  b.write(last, at + name.length - 1, "latin1");
}

let dir = "";
let fixture = "";
let report: NoinstrReport;
let listing: Map<string, { off: bigint; text: string }[]>;

describe("check-noinstr", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tramplab-noinstr-"));
    fixture = await compile([FIXTURE], join(dir, "violations"), FIXTURE_FLAGS);
    report = checkNoinstr(readFileSync(fixture));
    listing = objdumpSection(fixture, ".noinstr.text");
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** table_switch's dispatch through its jump table, as objdump shows it. */
  const tableJump = () => {
    const jumps = listing.get("table_switch")!.filter((i) => /^jmp\s+\*/.test(i.text));
    expect(jumps, "table_switch has one indirect jmp").toHaveLength(1);
    return jumps[0];
  };

  const expectedLine = (v: Expected) => {
    const hits = (listing.get(v.func) ?? []).filter((i) => v.insn.test(i.text));
    expect(hits, `${v.func}: objdump shows exactly one ${v.insn}`).toHaveLength(1);
    return `${v.func}+0x${hits[0].off.toString(16)}: call to ${v.callee}() leaves .noinstr.text section`;
  };

  const returnLine = () => {
    const rets = listing.get("asm_instr_ret")!.filter((i) => /^ret/.test(i.text));
    expect(rets, "asm_instr_ret: objdump shows one ret").toHaveLength(1);
    return `asm_instr_ret+0x${rets[0].off.toString(16)}: return with instrumentation enabled`;
  };

  it("fixture: every violation is reported once at the offset objdump gives, and nothing else", () => {
    const expected = [...VIOLATIONS.map(expectedLine), returnLine()].sort();
    expect(report.findings.map((f) => f.message).sort()).toEqual(expected);
  });

  it.each(VIOLATIONS)("fixture: $func, $proves, is reported as $kind to $callee", (v) => {
    const f = report.findings.find((x) => x.where.startsWith(`${v.func}+`));
    expect(f?.kind).toBe(v.kind);
    expect(f?.callee).toBe(v.callee);
    const elf = parseElf(readFileSync(fixture), "any");
    const callee = elf.symbols.find((s) => s.name === v.callee);
    expect(f?.target).toBe(callee?.value); // both undefined for an indirect one
  });

  it("fixture: the asm conditional sibling call is at asm_cond_tail+0x2, right after its 2-byte test", () => {
    expect(report.findings.map((f) => f.message)).toContain("asm_cond_tail+0x2: call to instrumented_tail() leaves .noinstr.text section");
  });

  it("fixture: functions that call and jump only within .noinstr.text (a jump table included) are not reported", () => {
    // The negative result means something only if these really branch: pin that down.
    expect(listing.get("stays_inside")!.map((i) => i.text)).toContainEqual(expect.stringMatching(/^call\s+[0-9a-f]+ <helper>$/));
    expect(listing.get("tail_inside")!.map((i) => i.text)).toContainEqual(expect.stringMatching(/^jmp\s+[0-9a-f]+ <helper>$/));
    expect(tableJump().text).toMatch(/^jmp\s+\*0x[0-9a-f]+\(,%r\w+,8\)$/);
    const reported = new Set(report.findings.map((f) => f.where.split("+")[0]));
    for (const clean of ["stays_inside", "tail_inside", "table_switch", "helper", "idle"]) expect(reported.has(clean), clean).toBe(false);
  });

  it("fixture: a call between instrumentation_begin() and instrumentation_end() is allowed; a ret before the end is objtool's " +
    "\"return with instrumentation enabled\"", () => {
    const calls = (f: string) => listing.get(f)!.map((i) => i.text).filter((t) => /^call\s+[0-9a-f]+ <instrumented>$/.test(t));
    expect(calls("instr_region"), "instr_region really calls out").toHaveLength(1);
    expect(calls("asm_instr_ret"), "so does asm_instr_ret").toHaveLength(1);
    expect(report.instrumentationRegions).toBe(2);
    const mine = report.findings.filter((f) => /^(instr_region|asm_instr_ret)\+/.test(f.where));
    expect(mine.map((f) => [f.kind, f.message])).toEqual([["return", returnLine()]]);
  });

  it("fixture: a jump table whose first entry is redirected out of the function is an indirect jump again", () => {
    const elf = parseElf(readFileSync(fixture), "any");
    const jmp = tableJump();
    const table = BigInt(/\*(0x[0-9a-f]+)\(/.exec(jmp.text)![1]);
    const seg = elf.segments.find((g) => table >= g.vaddr && table < g.vaddr + g.memsz)!;
    const fileOff = seg.data.byteOffset - elf.bytes.byteOffset + Number(table - seg.vaddr);
    const instrumented = elf.symbols.find((x) => x.name === "instrumented")!.value;
    const redirected = variant(dir, fixture, "redirected-table", (b) => b.writeBigUInt64LE(instrumented, fileOff));
    const lines = checkNoinstr(readFileSync(redirected)).findings.map((f) => f.message);
    expect(lines).toContain(`table_switch+0x${jmp.off.toString(16)}: call to {dynamic}() leaves .noinstr.text section`);
  });

  it("fixture: all 13 noinstr functions and every instruction objdump lists in .noinstr.text are checked", () => {
    expect(report.region.from).toBe("section");
    expect([...listing.keys()].sort()).toEqual([...NOINSTR_FUNCS].sort());
    expect(report.functions).toBe(NOINSTR_FUNCS.length);
    expect(report.instructions).toBe([...listing.values()].reduce((n, l) => n + l.length, 0));
  });

  it("fixture: the callees are instrumentable (an fentry nop first) and the noinstr functions are not", () => {
    const text = objdumpSection(fixture, ".text");
    for (const f of ["instrumented", "instrumented_tail"]) expect(text.get(f)![0].text, f).toMatch(/^nopl\s+0x0\(%rax,%rax,1\)$/);
    for (const f of ["calls_out", "tail_out", "helper"]) expect(listing.get(f)![0].text, f).not.toMatch(/^nopl/);
  });

  it("bytes that do not decode are reported: control flow through them cannot be checked", () => {
    const elf = parseElf(readFileSync(fixture), "any");
    const sec = elf.sections.find((s) => s.name === ".noinstr.text")!;
    const idle = elf.symbols.find((s) => s.name === "idle")!;
    // 06 (push es) does not exist in 64-bit mode; it replaces the f3 of idle's pause (f3 90).
    // iced-x86 gives the invalid instruction a length of 2, so the 90 goes with it.
    const bad = variant(dir, fixture, "undecodable", (b) => { b[sec.offset + Number(idle.value - sec.addr)] = 0x06; });
    const lines = checkNoinstr(readFileSync(bad)).findings.filter((f) => f.kind === "undecodable").map((f) => f.message);
    expect(lines).toEqual(["idle+0x0: undecodable bytes (06 90): cannot tell whether control leaves .noinstr.text section"]);
  });

  it("the built firmware is clean: nothing in its .noinstr.text calls or jumps out", () => {
    const fw = checkNoinstr(readFileSync(FIRMWARE));
    expect(fw.findings.map((f) => f.message)).toEqual([]);
    // kernel.lds folds .noinstr.text into .text; the marker symbols give the range.
    const elf = parseElf(readFileSync(FIRMWARE), "any");
    const sym = (n: string) => elf.symbols.find((s) => s.name === n)!.value;
    expect(fw.region).toEqual({ start: sym("__noinstr_text_start"), end: sym("__noinstr_text_end"), from: "symbols" });
    const inside = elf.symbols.filter((s) => s.type === "func" && s.value >= fw.region.start && s.value < fw.region.end);
    expect(inside.map((s) => s.name)).toContain("poke_int3_handler");
    expect(fw.functions).toBe(new Set(inside.map((s) => s.value)).size);
  });

  describe("images that cannot be checked are refused with one line", () => {
    const refusal = (bytes: Buffer) => {
      try { checkNoinstr(bytes); } catch (e) { return e as Error; }
      throw new Error("accepted");
    };

    it("not an ELF file", () => {
      const e = refusal(Buffer.from("hello, world\n"));
      expect(e).toBeInstanceOf(ElfError);
      expect(e.message).toBe("not an ELF file (bad magic number)");
    });

    it("an ELF file cut short", () => {
      expect(refusal(readFileSync(fixture).subarray(0, 100)).message)
        .toMatch(/^truncated ELF file: the program header table lies outside the file/);
    });

    it("no .noinstr.text section and no marker symbols", () => {
      const none = variant(dir, fixture, "no-section", (b) => renameOnce(b, ".noinstr.text", "x"));
      const e = refusal(readFileSync(none));
      expect(e).toBeInstanceOf(NoinstrError);
      expect(e.message)
        .toBe("no .noinstr.text section (and no __noinstr_text_start/__noinstr_text_end symbols marking where a linker script put it)");
    });

    it("only one of the two marker symbols", () => {
      const half = variant(dir, FIRMWARE, "no-end-marker", (b) => renameOnce(b, "__noinstr_text_end", "x"));
      expect(refusal(readFileSync(half)).message).toBe("__noinstr_text_end is missing, so the end of .noinstr.text is unknown");
    });

    it("a stripped image: no symbols to tell the functions apart", () => {
      const stripped = join(dir, "stripped");
      execFileSync("objcopy", ["--strip-all", fixture, stripped]);
      expect(refusal(readFileSync(stripped)).message).toBe("no symbol table: cannot tell the functions in .noinstr.text apart");
    });
  });

  it("command line: findings on stdout with exit 1, clean firmware exit 0, bad input exit 2", () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, "check-noinstr", ...args], { encoding: "utf8", timeout: 60_000 });
    const bad = run(fixture);
    expect(bad.stderr).toBe("");
    // objtool's prefix names the object: a program by its file name (the kernel is vmlinux.o).
    expect(bad.stdout).toBe([...report.findings.map((f) => `${basename(fixture)}: warning: objtool: ${f.message}`),
      `${fixture}: 13 functions, ${report.instructions} instructions checked: 7 instructions can leave .noinstr.text`, ""].join("\n"));
    expect(bad.status).toBe(1);

    const clean = run(FIRMWARE);
    expect(clean.stdout).toMatch(/^\S+firmware\.elf: \d+ functions, \d+ instructions checked: nothing leaves \.noinstr\.text\n$/);
    expect(clean.status).toBe(0);

    for (const [args, err] of [
      [[join(dir, "missing")], `tramplab: ${join(dir, "missing")}: cannot read (ENOENT)\n`],
      [[FIXTURE], `tramplab: ${FIXTURE}: not an ELF file (bad magic number)\n`],
    ] as const) {
      const r = run(...args);
      expect(r.stderr).toBe(err);
      expect(r.stdout).toBe("");
      expect(r.status).toBe(2);
    }
    const none = run();
    expect(none.stderr).toBe("tramplab check-noinstr: needs an IMAGE (see 'tramplab check-noinstr --help')\n");
    expect(none.status).toBe(2);
  });
});
