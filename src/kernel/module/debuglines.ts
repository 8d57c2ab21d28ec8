// A module's source lines: its .debug_line, read at insmod for the debugger's stop lines and
// backtraces ("at examples/modules/hello.c:45"). A module is a relocatable object, so its line
// program is not final: every DW_LNE_set_address is 0 plus a .rela.debug_line entry against the
// section symbol of the code it describes (.text, .init.text...), and DWARF 5's file names are
// offsets into .debug_line_str, relocated the same way. Applying those relocations to a copy of
// .debug_line, with each placed section at its final address and each unplaced (debug) section
// at 0 (where `ld` puts the only object's debug sections), gives a table in final addresses.
//
// The kernel never reads debug information, so nothing here may refuse a module: a damaged or
// hostile table is an error string, and the module loads without lines (the loader says so once).
import { DwarfError, LineTable, readLineRows, type LineRow } from "../../machine/dwarf-line.js";
import type { Group, ModuleLayout } from "./layout.js";
import { MAX_RELOCATIONS, SHN_ABS, SHN_UNDEF, SHT_NOBITS, SHT_RELA, type ModuleObject } from "./object.js";
import { R_X86_64_32, R_X86_64_64, R_X86_64_NONE, relocationName, relocationValue, writeRelocation } from "./relocs.js";

/** A module's line table as plain data (it lives in the kernel's state, which is cloned whole). */
export interface ModuleLines {
  /** Rows sorted by address, in final (placed) addresses. */
  rows: LineRow[];
  /** Where each sequence ends, sorted. */
  ends: bigint[];
}

/** The most rows kept for one module: a few KiB of code has hundreds; more is someone's trick. */
export const MAX_MODULE_LINE_ROWS = 1 << 16;

const RELA_SIZE = 24;
const byAddr = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The module's line table at `bases`, nothing when it has no .debug_line, or why it cannot be
 * read. Never throws for anything in the object.
 */
type Found = { lines?: ModuleLines; error?: string };

export function moduleLines(obj: ModuleObject, layout: ModuleLayout, bases: Record<Group, bigint>): Found {
  try {
    const section = (name: string) => obj.sections.filter((s) => s.name === name && s.type !== SHT_NOBITS);
    const found = section(".debug_line");
    if (found.length === 0) return {};
    if (found.length > 1) throw new DwarfError(`${found.length} .debug_line sections`);
    const line = found[0];
    const bytes = Uint8Array.from(line.bytes); // relocated in a copy: the object stays as read
    const placed = new Map(layout.sections.map((p) => [p.index, bases[p.group] + BigInt(p.offset)]));
    for (const rela of obj.sections.filter((s) => s.type === SHT_RELA && s.info === line.index)) {
      relocate(bytes, rela.bytes, obj, placed);
    }
    const one = (name: string) => { const s = section(name); return s.length === 1 ? s[0].bytes : undefined; };
    const { rows, ends } = readLineRows({ line: bytes, lineStr: one(".debug_line_str"), str: one(".debug_str") }, MAX_MODULE_LINE_ROWS);
    return { lines: { rows: [...rows].sort((a, b) => byAddr(a.addr, b.addr)), ends: [...ends].sort(byAddr) } };
  } catch (e) {
    if (e instanceof DwarfError) return { error: e.message };
    throw e;
  }
}

/** Lookups over a module's rows, made once per rows object (a restored state's copy gets its own). */
const tables = new WeakMap<ModuleLines, LineTable>();

export function moduleLineTable(lines: ModuleLines): LineTable {
  let t = tables.get(lines);
  if (!t) { t = new LineTable(lines.rows, lines.ends); tables.set(lines, t); }
  return t;
}

/** Applies one .rela.debug_line to `bytes`: S + A, S a placed section's address or an unplaced one's offset. */
function relocate(bytes: Uint8Array, rela: Uint8Array, obj: ModuleObject, placed: Map<number, bigint>): void {
  if (rela.length % RELA_SIZE !== 0) throw new DwarfError(`.rela.debug_line: ${rela.length} bytes is not a whole number of relocations`);
  if (rela.length / RELA_SIZE > MAX_RELOCATIONS) throw new DwarfError(`.rela.debug_line: more than ${MAX_RELOCATIONS} relocations`);
  const v = new DataView(rela.buffer, rela.byteOffset, rela.byteLength);
  for (let p = 0; p < rela.length; p += RELA_SIZE) {
    const offset = v.getBigUint64(p, true), type = v.getUint32(p + 8, true), symIndex = v.getUint32(p + 12, true);
    const addend = v.getBigInt64(p + 16, true);
    const at = `.rela.debug_line at 0x${offset.toString(16)}`;
    if (type === R_X86_64_NONE) continue;
    if (type !== R_X86_64_64 && type !== R_X86_64_32) throw new DwarfError(`${at}: ${relocationName(type)} (type ${type})`);
    const size = type === R_X86_64_64 ? 8 : 4;
    if (offset + BigInt(size) > BigInt(bytes.length)) throw new DwarfError(`${at}: outside .debug_line (${bytes.length} bytes)`);
    const sym = obj.symbols[symIndex];
    if (!sym) throw new DwarfError(`${at}: symbol ${symIndex} is not a symbol`);
    let s: bigint;
    if (sym.shndx === SHN_UNDEF) throw new DwarfError(`${at}: refers to undefined ${sym.name || `symbol ${symIndex}`}`);
    else if (sym.shndx === SHN_ABS) s = sym.value;
    else s = (placed.get(sym.shndx) ?? 0n) + sym.value;
    const field = relocationValue(type, s + addend, 0n);
    if (typeof field === "string") throw new DwarfError(`${at}: ${field}`);
    const bad = writeRelocation(bytes, Number(offset), type, field);
    if (bad) throw new DwarfError(`${at}: ${bad}`);
  }
}
