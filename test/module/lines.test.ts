// A loaded module's source lines: its .debug_line is relocated to where insmod placed it, so the
// debugger's stop lines and backtraces say `at examples/modules/hello.c:N` in module code, as
// addr2line says for the same place in the .ko; rmmod drops them; damaged ones never stop a load.
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { parseModuleObject } from "../../src/kernel/module/object.js";
import { layoutModule } from "../../src/kernel/module/layout.js";
import { buildModules, EXAMPLES } from "./build.js";

let hello: Uint8Array, koFile: string;
beforeAll(async () => {
  hello = (await buildModules([join(EXAMPLES, "hello.c")])).get("hello")!;
  koFile = join(mkdtempSync(join(tmpdir(), "tramplab-lines-")), "hello.ko");
  writeFileSync(koFile, hello);
}, 60_000);

function boot(): Kernel {
  const k = Kernel.boot({ cpus: 2 });
  expect(k.runUntil(() => k.online.size === 2, 100_000_000n)).toBe(true);
  return k;
}

/** addr2line's answer for an offset into one section of the .ko: "examples/modules/hello.c:31". */
function addr2line(section: string, offset: bigint): string {
  const out = execFileSync("addr2line", ["-e", koFile, "-j", section, `0x${offset.toString(16)}`], { encoding: "utf8" });
  return out.trim().replace(/ \(discriminator \d+\)$/, "").replace(`${process.cwd()}/`, "");
}

/** Where each allocated code section of the .ko went: its name and offset in the text group. */
function textSections(): { name: string; offset: number; size: number }[] {
  return layoutModule(parseModuleObject(hello)).sections.filter((p) => p.group === "text" && p.size > 0);
}

describe("module source lines", () => {
  it("every address of the module's code answers the line addr2line gives for the same place in the .ko", () => {
    const k = boot();
    const m = k.insmod(hello, "hello.ko", []);
    const sections = textSections();
    expect(sections.map((s) => s.name)).toEqual(expect.arrayContaining([".text", ".init.text", ".exit.text"]));
    let compared = 0;
    for (const s of sections) {
      for (let off = 0; off < s.size; off++) {
        const addr = m.bases.text + BigInt(s.offset + off);
        const ours = k.sourceLine(addr);
        const theirs = addr2line(s.name, BigInt(off));
        if (theirs.startsWith("??")) { expect(ours).toBeUndefined(); continue; }
        expect(ours, `${s.name}+0x${off.toString(16)}`).toBe(theirs);
        compared++;
        off += 7; // every eighth byte: addr2line is a process per address
      }
    }
    expect(compared).toBeGreaterThan(20);
  }, 120_000);

  it("a backtrace from the kernel through the module's function gives the module frame's line, as addr2line does", () => {
    const s = new Session(new Engine(Kernel.boot({ cpus: 2 })));
    expect(s.execute(`insmod ${koFile} count=5 delay_ms=1`).text).toContain("module hello loaded");
    const textBase = s.engine.kernel.modules.find("hello")!.bases.text;
    s.execute("b kthread_should_stop");
    expect(s.execute("c").text).toMatch(/^Breakpoint 1, kthread_should_stop at firmware\/[a-z_]+\.c:\d+$/m);
    const bt = s.execute("bt").text.split("\n");
    const frame = /^#1  0x([0-9a-f]+) <greet\+0x[0-9a-f]+ \[hello\]> at (examples\/modules\/hello\.c:(\d+))$/.exec(bt[1]);
    expect(frame, bt.join("\n")).not.toBeNull();
    // A caller's line is its call's (return address - 1), as gdb and addr2line give it.
    expect(frame![2]).toBe(addr2line(".text", BigInt("0x" + frame![1]) - 1n - textBase));
    const source = readFileSync(join(EXAMPLES, "hello.c"), "utf8").split("\n");
    expect(source[Number(frame![3]) - 1]).toContain("kthread_should_stop()");
    expect(s.errors).toBe(0);
  });

  it("a break on the module's function reports `at examples/modules/hello.c:N`, N being the function's first line", () => {
    const s = new Session(new Engine(Kernel.boot({ cpus: 2 })));
    s.execute("run 100us");
    s.execute(`insmod ${koFile} count=50`);
    s.execute("b greet");
    const stop = s.execute("c").text;
    const source = readFileSync(join(EXAMPLES, "hello.c"), "utf8").split("\n");
    const match = /^Breakpoint 1, greet \[hello\] at examples\/modules\/hello\.c:(\d+)$/m.exec(stop);
    expect(match, stop).not.toBeNull();
    const n = Number(match![1]);
    expect(source[n - 1]).toMatch(/^(static int greet\(void \*data\)|\{)$/);
  });

  it("rmmod drops the table: the freed module's addresses have no line", () => {
    const k = boot();
    const m = k.insmod(hello, "hello.ko", [{ name: "count", value: "0" }]);
    const greet = m.symbols.find((x) => x.name === "greet")!.addr;
    expect(k.sourceLine(greet)).toMatch(/^examples\/modules\/hello\.c:\d+$/);
    k.rmmod("hello");
    expect(m.lines).toBeUndefined();
    expect(k.sourceLine(greet)).toBeUndefined();
  });

  it("restoring a snapshot keeps the lines of a module loaded before it", () => {
    const k = boot();
    const m = k.insmod(hello, "hello.ko", [{ name: "count", value: "0" }]);
    const greet = m.symbols.find((x) => x.name === "greet")!.addr;
    const line = k.sourceLine(greet);
    const saved = k.saveState();
    k.rmmod("hello");
    k.restoreState(saved);
    expect(k.sourceLine(greet)).toBe(line);
  });

  it("a module whose .debug_line is damaged loads without lines and says so once", () => {
    const obj = parseModuleObject(hello);
    const line = obj.sections.find((s) => s.name === ".debug_line")!;
    const bad = Uint8Array.from(hello);
    const at = line.bytes.byteOffset - hello.byteOffset;
    bad.set([0xff, 0xff, 0xff, 0x7f], at); // a unit length past the section's end
    const k = boot();
    const m = k.insmod(bad, "hello.ko", [{ name: "count", value: "0" }]);
    expect(m.state).toBe("live");
    expect(m.lines).toBeUndefined();
    const said = k.console.join("").split("\n").filter((l) => l.includes("no source lines"));
    expect(said).toEqual([expect.stringMatching(/hello: no source lines: a line table unit at offset 0 runs past \.debug_line$/)]);
    expect(k.sourceLine(m.symbols.find((x) => x.name === "greet")!.addr)).toBeUndefined();
  });

  it("hostile line programs and relocations never stop insmod", () => {
    const obj = parseModuleObject(hello);
    const line = obj.sections.find((s) => s.name === ".debug_line")!;
    const rela = obj.sections.find((s) => s.name === ".rela.debug_line")!;
    let seed = 16;
    const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    for (let round = 0; round < 12; round++) {
      const bad = Uint8Array.from(hello);
      const target = round % 2 === 0 ? line : rela;
      const base = target.bytes.byteOffset - hello.byteOffset;
      for (let i = 0; i < 6; i++) bad[base + (rand() % target.size)] = rand() & 0xff;
      const k = boot();
      const m = k.insmod(bad, "hello.ko", [{ name: "count", value: "0" }]);
      expect(m.state).toBe("live");
      for (const sym of m.symbols) k.sourceLine(sym.addr);
    }
  }, 120_000);
});
