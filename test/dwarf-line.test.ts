// The DWARF line table reader against binutils' addr2line on the firmware, built with -g: the
// same file and line for every function's entry and for addresses inside functions.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseElf } from "../src/machine/elf.js";
import { lineTableOf, LineTable, readLineRows } from "../src/machine/dwarf-line.js";
import { buildDir } from "../src/paths.js";

const path = join(buildDir, "firmware.elf");
const elf = parseElf(readFileSync(path), "kernel");

describe("source lines from the firmware's DWARF", () => {
  const { table, error } = lineTableOf(elf);

  it("the firmware carries a line table (built with -g)", () => {
    expect(error).toBeUndefined();
    expect(table!.size).toBeGreaterThan(1000);
  });

  it("agrees with addr2line at every function entry and at an address inside each", () => {
    const funcs = elf.symbols.filter((s) => s.type === "func" && s.size > 8n);
    const addrs = funcs.flatMap((f) => [f.value, f.value + f.size / 2n]);
    const args = ["-e", path, ...addrs.map((a) => "0x" + a.toString(16))];
    const out = execFileSync("addr2line", args, { encoding: "utf8" }).trim().split("\n");
    let compared = 0;
    addrs.forEach((a, i) => {
      const theirs = out[i].replace(/ \(discriminator \d+\)$/, "");
      if (theirs.startsWith("??")) { expect(table!.format(a)).toBeUndefined(); return; }
      const [file, line] = theirs.split(/:(?=\d+$)/);
      const ours = table!.find(a);
      expect(ours, `0x${a.toString(16)}`).toBeDefined();
      expect(file.endsWith(ours!.file), `0x${a.toString(16)}: ${theirs} vs ${ours!.file}:${ours!.line}`).toBe(true);
      expect(ours!.line, `0x${a.toString(16)}: ${theirs}`).toBe(Number(line));
      compared++;
    });
    expect(compared).toBeGreaterThan(100);
  });

  it("names files relative to the build's directory (firmware/work.c)", () => {
    const work = elf.symbols.find((s) => s.name === "work_top")!;
    expect(table!.format(work.value)).toMatch(/^firmware\/work\.c:\d+$/);
  });

  it("refuses a damaged table with one line, never reads past it", () => {
    const sec = elf.sections.find((s) => s.name === ".debug_line")!;
    const bytes = elf.bytes.subarray(sec.offset, sec.offset + Number(sec.size));
    for (const cut of [1, 5, 12, 40, 100, bytes.length - 1]) {
      let err: unknown;
      try { readLineRows({ line: bytes.subarray(0, cut) }); } catch (e) { err = e; }
      expect(err === undefined || (err as Error).name === "Error").toBe(true);
    }
    expect(new LineTable([], []).find(0x1000n)).toBeUndefined();
  });
});
