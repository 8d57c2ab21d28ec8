// check-noinstr for a module object: the module is linked as the loader would link it (at the
// start of the module area, its undefined symbols resolved against the built-in kernel's
// symbols), and the result is checked like a linked image, so a call from the module's
// .noinstr.text to a kernel function is named as that function.
import { join } from "node:path";
import { readInput } from "../io.js";
import { buildDir } from "../paths.js";
import { parseElf, ElfError, type ElfImage, type ElfSymbol } from "../machine/elf.js";
import { parseModuleObject, ModuleError } from "../kernel/module/object.js";
import { layoutModule, GROUPS, type Group } from "../kernel/module/layout.js";
import { linkModule } from "../kernel/module/link.js";
import { MODULES_START } from "../kernel/memory.js";

/** ELF magic and e_type ET_REL: a module object rather than a linked image. */
export function isModuleObject(bytes: Uint8Array): boolean {
  return bytes.length >= 18 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46 &&
    bytes[16] === 1 && bytes[17] === 0;
}

/** The module, linked, as an image check-noinstr reads (its symbols and the kernel's). */
export function linkedModuleImage(bytes: Uint8Array, file: string): ElfImage {
  let obj;
  try {
    obj = parseModuleObject(bytes, file);
  } catch (e) {
    if (e instanceof ModuleError) throw new ElfError(e.message);
    throw e;
  }
  const kernel = parseElf(readInput(join(buildDir, "firmware.elf"), "elf"), "kernel");
  const byName = new Map(kernel.symbols.map((s) => [s.name, s.value]));
  const layout = layoutModule(obj);
  const bases = {} as Record<Group, bigint>;
  let at = MODULES_START;
  for (const g of GROUPS) { bases[g] = at; at += BigInt(layout.size[g]); }
  const linked = linkModule(obj, layout, bases, (n) => byName.get(n));
  if ("unknown" in linked) throw new ElfError(`unknown symbol${linked.unknown.length === 1 ? "" : "s"} ${linked.unknown.join(", ")}`);
  const noinstr = linked.section(".noinstr.text");
  const symbols: ElfSymbol[] = [
    ...linked.symbols.map((s) => ({ name: s.name, value: s.addr, size: s.size, type: s.kind, section: "" })),
    ...kernel.symbols,
  ];
  const segment = (g: "text" | "rodata" | "data", flags: number, index: number) =>
    ({ vaddr: bases[g], memsz: BigInt(layout.size[g]), data: linked.images[g], flags, align: 4096n, index });
  return {
    entry: 0n, type: "exec", bytes, phdrAddr: 0n, phnum: 0, phentsize: 0, symbols,
    segments: [segment("text", 5, 0), segment("rodata", 4, 1), segment("data", 6, 2)],
    sections: noinstr ? [{ name: ".noinstr.text", addr: noinstr.addr, size: BigInt(noinstr.bytes.length), offset: 0, type: 1 }] : [],
  };
}
