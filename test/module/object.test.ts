// Module objects: a module built by `tramplab build-module` is read, laid out and linked at
// chosen addresses against a table of kernel symbols, and its relocated bytes hold what
// binutils says they must (readelf's relocations, applied by hand here): calls land on the
// kernel's functions, pointers in .data hold their symbols' addresses, __mcount_loc lists every
// `call __fentry__`. Objects the loader must refuse are refused with one specific line, and no
// damaged object (cut short anywhere, bytes flipped) gets any other kind of error.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDir } from "../../src/paths.js";
import { isAllocated, moduleInfo, ModuleError, parseModuleObject, type ModuleObject } from "../../src/kernel/module/object.js";
import { groupOf, layoutModule, MODULE_PAGE } from "../../src/kernel/module/layout.js";
import { linkModule, type GroupBases, type LinkedModule } from "../../src/kernel/module/link.js";
import { relocationValue } from "../../src/kernel/module/relocs.js";
import { runCli } from "../cli-child.js";
import { gccObject, readelfRelocs, scratch } from "./tools.js";

const MODULE_C = `
extern int helper(int);
extern int counter;
extern void maybe_there(void) __attribute__((weak));
int *counter_ptr = &counter;
int (*helper_ptr)(int) = helper;
static int local_state;
static const char license[] __attribute__((section(".modinfo"), used)) = "license=GPL";
const char greeting[] = "hello";
int init_module(void) { local_state = 1; if (maybe_there) maybe_there(); return helper(3) + counter + greeting[local_state]; }
void cleanup_module(void) { local_state = 0; }
/* The sections the kernel's headers fill, each with a relocation in it. */
__attribute__((section(".init.text"))) int setup(void) { return helper(1); }
__attribute__((section(".exit.text"))) void teardown(void) { counter = 0; }
struct param { const char *name; int *arg; };
static const struct param param_counter __attribute__((section("__param"), used)) = { "counter", &local_state };
struct ksym { unsigned long value; const char *name; };
static const struct ksym ksym_setup __attribute__((section("__ksymtab"), used)) = { (unsigned long)setup, "setup" };
asm(".pushsection __bug_table, \\"aw\\"\\n\\t.long init_module - .\\n\\t.popsection");
`;

const BASES: GroupBases = {
  text: 0xffff_ffff_c000_0000n, rodata: 0xffff_ffff_c001_0000n, data: 0xffff_ffff_c002_0000n, bss: 0xffff_ffff_c003_0000n,
};
const KERNEL = new Map<string, bigint>([
  ["__fentry__", 0xffff_ffff_8100_0040n], ["helper", 0xffff_ffff_8100_1230n], ["counter", 0xffff_ffff_8140_0008n],
]);
const kernel = (name: string) => KERNEL.get(name);
const FLAGS = ["-O2", "-mcmodel=kernel", "-mno-red-zone", "-fno-pie", "-fno-common"];

let dir: string;
let koPath: string;
let ko: Uint8Array;
let obj: ModuleObject;
let linked: LinkedModule;

/** The object refused: its ModuleError's message (or a failed expectation if it was accepted or failed otherwise). */
function refusal(bytes: Uint8Array, link = false): string {
  try {
    const o = parseModuleObject(bytes, "bad.ko");
    if (link) linkModule(o, layoutModule(o), BASES, kernel);
  } catch (e) {
    expect(e).toBeInstanceOf(ModuleError);
    return (e as Error).message;
  }
  throw new Error("the object was accepted");
}

/** A copy of the module with `edit` applied to it; `shdr(name)` is the offset of a section's header. */
function patched(edit: (b: Uint8Array, v: DataView, shdr: (name: string) => number) => void): Uint8Array {
  const b = ko.slice();
  const v = new DataView(b.buffer);
  const shoff = Number(v.getBigUint64(40, true));
  edit(b, v, (name) => shoff + 64 * obj.sections.find((s) => s.name === name)!.index);
  return b;
}

const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const u64 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const symbol = (name: string) => linked.symbols.find((s) => s.name === name)!;

beforeAll(async () => {
  dir = scratch();
  const src = join(dir, "demo.c");
  writeFileSync(src, MODULE_C);
  koPath = join(dir, "demo.ko");
  const r = await runCli(["build-module", "-o", koPath, src]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  ko = new Uint8Array(readFileSync(koPath));
  obj = parseModuleObject(ko, koPath);
  const l = linkModule(obj, layoutModule(obj), BASES, kernel);
  if ("unknown" in l) throw new Error(`unknown symbols ${l.unknown}`);
  linked = l;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a module built by build-module, linked", () => {
  it("has the .modinfo strings of its source and build-module's name=", () => {
    const info = moduleInfo(obj);
    expect(info.get("name")).toEqual(["demo"]);
    expect(info.get("license")).toEqual(["GPL"]);
  });

  it("lays code, read-only, writable and bss sections out in page-rounded groups, each at its alignment", () => {
    const layout = layoutModule(obj);
    const groups = Object.fromEntries(layout.sections.map((p) => [p.name, p.group]));
    expect(groups).toMatchObject({ ".text": "text", "__mcount_loc": "rodata", ".rodata": "rodata", ".data": "data", ".bss": "bss" });
    expect(groups[".modinfo"]).toBeUndefined();
    for (const p of layout.sections) {
      const s = obj.sections[p.index];
      expect(isAllocated(s) && groupOf(s) === p.group).toBe(true);
      expect(p.offset % s.align).toBe(0);
      expect(p.offset + p.size).toBeLessThanOrEqual(layout.size[p.group]);
    }
    for (const size of Object.values(layout.size)) expect(size % MODULE_PAGE).toBe(0);
    expect(layout.size.text).toBe(MODULE_PAGE);
  });

  it("a call to a kernel function (PLT32) lands on the address the resolver gave", () => {
    const calls = readelfRelocs(koPath).filter((r) => r.section === ".text" && r.symbol === "helper");
    expect(calls.map((r) => r.type)).toEqual(["R_X86_64_PLT32"]);
    const place = BASES.text + BigInt(calls[0].offset);
    expect(linked.images.text[calls[0].offset - 1]).toBe(0xe8);
    const rel = BigInt(new DataView(linked.images.text.buffer).getInt32(calls[0].offset, true));
    expect(place + 4n + rel).toBe(KERNEL.get("helper"));
  });

  it("an R_X86_64_64 pointer in .data holds its symbol's address", () => {
    const data = linked.images.data;
    expect(u64(data, Number(symbol("counter_ptr").addr - BASES.data))).toBe(KERNEL.get("counter"));
    expect(u64(data, Number(symbol("helper_ptr").addr - BASES.data))).toBe(KERNEL.get("helper"));
  });

  it("__mcount_loc lists each function's entry, and each is a call __fentry__ to the kernel's __fentry__", () => {
    const loc = linked.section("__mcount_loc")!;
    const sites = Array.from({ length: loc.bytes.length / 8 }, (_, i) => u64(loc.bytes, 8 * i));
    const funcs = linked.symbols.filter((s) => s.kind === "func").map((s) => s.addr);
    expect([...sites].sort()).toEqual([...funcs].sort());
    expect(sites.length).toBe(4); // init_module, cleanup_module, setup (.init.text), teardown (.exit.text)
    for (const ip of sites) {
      const off = Number(ip - BASES.text);
      expect(linked.images.text[off]).toBe(0xe8);
      const rel = BigInt(new DataView(linked.images.text.buffer).getInt32(off + 1, true));
      expect(ip + 5n + rel).toBe(KERNEL.get("__fentry__"));
    }
  });

  it("holds every relocation binutils lists for an allocated section as S + A, or S + A - P for the PC-relative ones", () => {
    const relocs = readelfRelocs(koPath).filter((r) => linked.section(r.section));
    expect(relocs.length).toBeGreaterThan(8);
    for (const r of relocs) {
      const sec = linked.section(r.section)!;
      const S = KERNEL.get(r.symbol) ?? linked.section(r.symbol)?.addr ?? symbol(r.symbol)?.addr ?? 0n; // maybe_there: weak, 0
      const P = sec.addr + BigInt(r.offset);
      const value = (S + r.addend) & 0xffff_ffff_ffff_ffffn;
      const field = r.type === "R_X86_64_64" ? u64(sec.bytes, r.offset) : BigInt(u32(sec.bytes, r.offset));
      const want = { R_X86_64_64: value, R_X86_64_32S: value & 0xffff_ffffn, R_X86_64_32: value,
        R_X86_64_PC32: (value - P) & 0xffff_ffffn, R_X86_64_PLT32: (value - P) & 0xffff_ffffn }[r.type];
      expect(field, `${r.type} ${r.symbol} at ${r.section}+${r.offset}`).toBe(want);
    }
    expect(relocs.some((r) => r.symbol === "maybe_there")).toBe(true);
    expect([...new Set(relocs.map((r) => r.section))].sort())
      .toEqual([".data", ".exit.text", ".init.text", ".text", "__bug_table", "__ksymtab", "__mcount_loc", "__param"]);
  });

  it("lists the defined symbols with final addresses, locals too, and no section, file or undefined symbols", () => {
    expect(symbol("init_module")).toMatchObject({ kind: "func", global: true });
    expect(symbol("init_module").addr >= BASES.text && symbol("init_module").addr < BASES.text + 4096n).toBe(true);
    expect(symbol("local_state")).toMatchObject({ kind: "object", global: false, addr: linked.section(".bss")!.addr });
    expect(symbol("greeting").addr).toBe(linked.section(".rodata")!.addr);
    const names = linked.symbols.map((s) => s.name);
    for (const absent of ["", ".text", "demo.c", "helper", "counter", "__fentry__", "maybe_there", "license"]) {
      expect(names).not.toContain(absent);
    }
  });

  it("returns every symbol nothing exports, once each, and not a weak one", () => {
    const r = linkModule(obj, layoutModule(obj), BASES, (n) => (n === "__fentry__" ? KERNEL.get(n) : undefined));
    expect(r).toEqual({ unknown: ["helper", "counter"] });
  });
});

describe("what the loader leaves alone", () => {
  it("debug information (gcc -g) and its relocations: read, never placed or applied", () => {
    const o = parseModuleObject(gccObject(dir, "debug.c", MODULE_C, [...FLAGS, "-g"], { modinfo: "name=debug" }));
    const debug = o.sections.filter((s) => s.name.startsWith(".debug_"));
    expect(debug.length).toBeGreaterThan(3);
    const layout = layoutModule(o);
    expect(layout.sections.filter((p) => p.name.startsWith(".debug_"))).toEqual([]);
    expect(debug.filter((s) => o.relocations.has(s.index))).toEqual([]);
    const l = linkModule(o, layout, BASES, kernel);
    expect("images" in l && l.section(".debug_info")).toBeUndefined();
  });
});

describe("relocations the loader refuses while linking", () => {
  it("a call that cannot reach its target: overflow in relocation type 4, naming the section and symbol", () => {
    const far = new Map(KERNEL).set("helper", 0x7fff_0000_0000n);
    expect(() => linkModule(obj, layoutModule(obj), BASES, (n) => far.get(n)))
      .toThrow(new RegExp("^overflow in relocation type 4 val 0x7fff[0-9a-f]+ " +
        "\\(S \\+ A = 0x7ffefffffffc, P = 0xffffffffc0000[0-9a-f]+\\) in \\.text at 0x[0-9a-f]+ \\(helper\\)$"));
  });

  it("32 and 32S fields hold only what zero- or sign-extends back to the value", () => {
    expect(relocationValue(11, 0xffff_ffff_8000_0000n, 0n)).toBe(0x8000_0000n);
    expect(relocationValue(11, 0xffff_ffff_7fff_ffffn, 0n)).toMatch(/^overflow in relocation type 11 val 0xffffffff7fffffff/);
    expect(relocationValue(10, 0xffff_ffffn, 0n)).toBe(0xffff_ffffn);
    expect(relocationValue(10, 0x1_0000_0000n, 0n)).toMatch(/^overflow in relocation type 10 val 0x100000000/);
  });

  it("a place that is not zero: Invalid relocation target", () => {
    const o = parseModuleObject(ko.slice(), "bad.ko");
    const text = o.sections.find((s) => s.name === ".text")!;
    const first = o.relocations.get(text.index)![0];
    text.bytes[first.offset] = 0x90;
    expect(() => linkModule(o, layoutModule(o), BASES, kernel))
      .toThrow(/^Invalid relocation target, existing value is nonzero for type 4, val 0x[0-9a-f]+ in \.text at 0x1$/);
  });

  it("bases that are not page-aligned", () => {
    expect(() => linkModule(obj, layoutModule(obj), { ...BASES, data: BASES.data + 8n }, kernel))
      .toThrow("the data base 0xffffffffc0020008 is not a page-aligned address the group fits at");
  });
});

describe("objects the loader refuses, each with one line", () => {
  it("not an ELF file", () => {
    expect(refusal(new TextEncoder().encode("obj-m += demo.o\n"))).toBe("not an ELF file (bad magic number)");
  });

  it("an executable (the firmware, ET_EXEC) and a shared object (ET_DYN)", () => {
    expect(refusal(new Uint8Array(readFileSync(join(buildDir, "firmware.elf"))))).toBe("not a relocatable object (ET_EXEC)");
    expect(refusal(patched((_b, v) => v.setUint16(16, 3, true)))).toBe("not a relocatable object (ET_DYN)");
  });

  it("another machine, a 32-bit or a big-endian ELF file", () => {
    expect(refusal(patched((_b, v) => v.setUint16(18, 3, true)))).toBe("wrong machine: e_machine is 3, x86-64 is 62");
    expect(refusal(patched((b) => (b[4] = 1)))).toBe("not a 64-bit ELF file (class 1): modules are ELF64 x86-64");
    expect(refusal(patched((b) => (b[5] = 2)))).toBe("not a little-endian ELF file (data encoding 2)");
  });

  it("every proper prefix of the module (a truncated file) is refused with a ModuleError", () => {
    const messages = new Set<string>();
    for (let n = 0; n < ko.length; n++) messages.add(refusal(ko.subarray(0, n)).replace(/0x[0-9a-f]+|\d+/g, "N")); // offsets are hex
    expect([...messages].sort()).toEqual([
      "not an ELF file (bad magic number)",
      "truncated: the ELF header needs N bytes, the file has N",
      "truncated: the section header table (N, N bytes) lies outside the file (N bytes)",
    ].sort());
  });

  it("relocation types the loader does not apply, by number and name (gcc -fpic: GOTPCRELX, GOTPCREL)", () => {
    const flags = ["-O2", "-fpic", "-fno-common"];
    const pic = "extern int shared_var;\nint init_module(void) { return shared_var; }\n";
    const relaxed = gccObject(dir, "pic.c", pic, flags, { modinfo: "name=pic" });
    expect(refusal(relaxed)).toBe("Unknown rela relocation: 42 (R_X86_64_REX_GOTPCRELX) in .rela.text");
    const plain = gccObject(dir, "pic2.c", pic, [...flags, "-Wa,-mrelax-relocations=no"], { modinfo: "name=pic" });
    expect(refusal(plain)).toBe("Unknown rela relocation: 9 (R_X86_64_GOTPCREL) in .rela.text");
  });

  it("SHT_REL relocations", () => {
    expect(refusal(patched((_b, v, shdr) => v.setUint32(shdr(".rela.text") + 4, 9, true))))
      .toBe(".rela.text: SHT_REL relocations are not supported (x86-64 modules use SHT_RELA)");
  });

  it("no .modinfo, or one without name=", () => {
    const src = "int init_module(void) { return 0; }\n";
    expect(refusal(gccObject(dir, "bare.c", src, FLAGS))).toBe("missing .modinfo section");
    expect(refusal(gccObject(dir, "lic.c", src, FLAGS, { modinfo: "license=GPL" }))).toBe(".modinfo has no name=");
  });

  it("a common symbol (built without -fno-common)", () => {
    const o = gccObject(dir, "common.c", "int shared;\nint init_module(void) { return shared; }\n",
      [...FLAGS.filter((f) => f !== "-fno-common"), "-fcommon"], { modinfo: "name=common" });
    expect(refusal(o)).toBe("Common symbol: shared (build with -fno-common)");
    // Names come from the object: a control character in one is escaped, so the message stays one line.
    const at = Buffer.from(o).indexOf("shared\0");
    const nl = o.slice();
    nl[at + 3] = 0x0a;
    expect(refusal(nl)).toBe("Common symbol: sha\\u000aed (build with -fno-common)");
  });

  it("a module name the loader cannot print on one line, or too long for struct module", () => {
    const src = "int init_module(void) { return 0; }\n";
    expect(refusal(gccObject(dir, "space.c", src, FLAGS, { modinfo: "name=my mod" })))
      .toBe('module name "my mod": only letters, digits, _ and -');
    expect(refusal(gccObject(dir, "long.c", src, FLAGS, { modinfo: `name=${"m".repeat(56)}` })))
      .toBe("module name of 56 bytes: it must have 1 to 55");
  });

  it("a symbol in a section that does not exist, and a relocation outside its section", () => {
    const symtab = obj.sections.find((s) => s.name === ".symtab")!;
    const init = obj.symbols.find((s) => s.name === "init_module")!;
    const at = symtab.bytes.byteOffset + 24 * init.index + 6;
    expect(refusal(patched((_b, v) => v.setUint16(at, 200, true))))
      .toBe(`symbol ${init.index} (init_module): section index 200 is not a section (there are ${obj.sections.length})`);
    const rela = obj.sections.find((s) => s.name === ".rela.text")!;
    expect(refusal(patched((_b, v) => v.setBigUint64(rela.bytes.byteOffset, 0x10000n, true))))
      .toMatch(/^\.rela\.text: relocation at 0x10000 \(4 bytes\) lies outside \.text \(\d+ bytes\)$/);
  });

  it("damaged objects (bytes flipped anywhere) are linked or refused with a one-line ModuleError, nothing else", () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const b = ko.slice();
      for (let k = 0; k <= i % 4; k++) b[next() % b.length] ^= 1 << (next() % 8);
      try {
        const o = parseModuleObject(b, "flipped.ko");
        linkModule(o, layoutModule(o), BASES, kernel);
      } catch (e) {
        if (!(e instanceof ModuleError)) throw e;
        expect(e.message).not.toMatch(/\n/);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});
