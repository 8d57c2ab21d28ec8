// Linking a placed module (the kernel's simplify_symbols and apply_relocations): every symbol
// gets its final address (undefined ones from the kernel's exports), then every relocation of
// an allocated section is written into that section's group image. Pure: the images are new
// arrays the loader copies into the module area afterwards.
import { GROUPS, MODULE_PAGE, type Group, type ModuleLayout, type PlacedSection } from "./layout.js";
import { ModuleError, SHN_ABS, SHN_UNDEF, type ModuleObject, type ModuleSymbol } from "./object.js";
import { relocationSize, relocationValue, writeRelocation } from "./relocs.js";

export type GroupBases = Record<Group, bigint>;

export interface LinkedSymbol {
  name: string;
  addr: bigint;
  size: bigint;
  kind: "func" | "object" | "other";
  global: boolean;
}

export interface LinkedModule {
  /** Each group's relocated bytes, its layout size long (bss is zeros, so it has no image). */
  images: { text: Uint8Array; rodata: Uint8Array; data: Uint8Array };
  /** The named symbols defined in placed sections or absolute, with final addresses; no section or file symbols. */
  symbols: LinkedSymbol[];
  /** A placed section's final address and relocated bytes (a view into its group's image; zeros for bss). */
  section(name: string): { addr: bigint; bytes: Uint8Array } | undefined;
}

const U64 = (1n << 64n) - 1n;
const hex = (n: bigint) => `0x${n.toString(16)}`;

/**
 * Resolves and relocates a module placed at `bases`. Undefined symbols that `resolve` does not
 * know (and are not weak) are returned, all of them, as the kernel reports each one
 * (`NAME: Unknown symbol X (err -2)`) before it fails; anything else wrong is a ModuleError.
 */
export function linkModule(obj: ModuleObject, layout: ModuleLayout, bases: GroupBases,
  resolve: (name: string) => bigint | undefined): LinkedModule | { unknown: string[] } {
  for (const g of GROUPS) {
    if (bases[g] % BigInt(MODULE_PAGE) !== 0n || bases[g] < 0n || bases[g] + BigInt(layout.size[g]) > U64 + 1n) {
      throw new ModuleError(`the ${g} base ${hex(bases[g])} is not a page-aligned address the group fits at`);
    }
  }
  const placed = new Map<number, PlacedSection>(layout.sections.map((p) => [p.index, p]));
  const sectionAddr = (p: PlacedSection) => bases[p.group] + BigInt(p.offset);
  const { addrs, unknown } = symbolAddresses(obj, placed, sectionAddr, resolve);
  if (unknown.length > 0) return { unknown };

  const images = {
    text: new Uint8Array(layout.size.text), rodata: new Uint8Array(layout.size.rodata), data: new Uint8Array(layout.size.data),
  };
  for (const p of layout.sections) {
    if (p.group !== "bss") images[p.group].set(obj.sections[p.index].bytes, p.offset);
  }
  for (const [target, relocs] of obj.relocations) {
    const p = placed.get(target)!;
    if (p.group === "bss") continue; // only empty relocation sections reach here (object.ts)
    const image = images[p.group];
    for (const r of relocs) {
      if (relocationSize(r.type) === 0) continue; // R_X86_64_NONE
      const sym = obj.symbols[r.sym];
      const s = addrs[r.sym];
      if (s === undefined) {
        throw new ModuleError(`relocation in ${p.name} at ${hex(BigInt(r.offset))} refers to ${symbolText(obj, sym)}, ` +
          "which is not loaded");
      }
      const placeAddr = sectionAddr(p) + BigInt(r.offset);
      const field = relocationValue(r.type, s + r.addend, placeAddr);
      if (typeof field === "string") throw new ModuleError(`${field} in ${p.name} at ${hex(BigInt(r.offset))} (${symbolText(obj, sym)})`);
      const bad = writeRelocation(image, p.offset + r.offset, r.type, field);
      if (bad) throw new ModuleError(`${bad} in ${p.name} at ${hex(BigInt(r.offset))}`);
    }
  }
  return {
    images,
    symbols: definedSymbols(obj, addrs),
    section(name) {
      const p = layout.sections.find((x) => x.name === name);
      if (!p) return undefined;
      const bytes = p.group === "bss" ? new Uint8Array(p.size) : images[p.group].subarray(p.offset, p.offset + p.size);
      return { addr: sectionAddr(p), bytes };
    },
  };
}

/** "helper", or ".text" for a section symbol. */
function symbolText(obj: ModuleObject, sym: ModuleSymbol): string {
  if (sym.kind === "section" && sym.shndx < obj.sections.length) return `section ${obj.sections[sym.shndx].name}`;
  return sym.name === "" ? `symbol ${sym.index}` : sym.name;
}

/**
 * Every symbol's address (simplify_symbols): undefined ones resolved, weak undefined ones 0,
 * absolute ones their value, the others their section's address plus value. A symbol of a
 * section that is not placed (.modinfo, debug information) has none.
 */
function symbolAddresses(obj: ModuleObject, placed: Map<number, PlacedSection>, sectionAddr: (p: PlacedSection) => bigint,
  resolve: (name: string) => bigint | undefined): { addrs: (bigint | undefined)[]; unknown: string[] } {
  const addrs: (bigint | undefined)[] = [];
  const unknown = new Set<string>();
  for (const sym of obj.symbols) {
    if (sym.index === 0) { addrs.push(0n); continue; }
    if (sym.shndx === SHN_UNDEF) {
      const a = resolve(sym.name);
      if (a === undefined && sym.bind !== "weak") unknown.add(sym.name);
      addrs.push(a === undefined ? 0n : a & U64);
    } else if (sym.shndx === SHN_ABS) {
      addrs.push(sym.value);
    } else {
      const p = placed.get(sym.shndx);
      addrs.push(p ? (sectionAddr(p) + sym.value) & U64 : undefined);
    }
  }
  return { addrs, unknown: [...unknown] };
}

function definedSymbols(obj: ModuleObject, addrs: (bigint | undefined)[]): LinkedSymbol[] {
  const out: LinkedSymbol[] = [];
  for (const sym of obj.symbols) {
    const addr = addrs[sym.index];
    if (sym.shndx === SHN_UNDEF || addr === undefined || sym.name === "" || sym.kind === "section" || sym.kind === "file") continue;
    const kind = sym.kind === "func" || sym.kind === "object" ? sym.kind : "other";
    out.push({ name: sym.name, addr, size: sym.size, kind, global: sym.bind !== "local" });
  }
  return out;
}
