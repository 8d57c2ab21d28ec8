// A loadable module's object file (a .ko: ELF64 x86-64, ET_REL), read and checked the way
// the kernel's load_module checks one (kernel/module/main.c, elf_validity_check and
// simplify_symbols) before anything of it is placed: every header, section, string, symbol and
// relocation must lie inside the file, or the object is refused with one ModuleError line.
// Nothing here touches a machine; layout.ts places the sections, link.ts relocates them.
import { relocationName, relocationSize } from "./relocs.js";

/** The longest message: names in a hostile object can be as long as the object. */
const MAX_MESSAGE = 1000;

/**
 * Why an object cannot be loaded: one line, naming what is wrong. Names come from the object,
 * so control characters in them are escaped as in JSON and a very long message is cut.
 */
export class ModuleError extends Error {
  constructor(message: string) {
    const line = message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    super(line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}...` : line);
    this.name = "ModuleError";
  }
}

/** The largest object accepted (the firmware is 32 KiB; a test module a few KiB). */
export const MAX_MODULE_BYTES = 16 << 20;
/** The most symbols, and the most relocations applied to allocated sections, in one object. */
export const MAX_SYMBOLS = 1 << 16;
export const MAX_RELOCATIONS = 1 << 16;
/** The largest section alignment: the module area hands out 4 KiB pages. */
export const MAX_ALIGN = 4096;
/** MODULE_NAME_LEN - 1: the longest module name the kernel keeps (struct module.name). */
export const MAX_NAME_BYTES = 55;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHF_WRITE = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
const SHN_XINDEX = 0xffff;
const ET_NAMES: Record<number, string> = { 0: "ET_NONE", 2: "ET_EXEC", 3: "ET_DYN", 4: "ET_CORE" };
const ET_REL = 1;
const EM_X86_64 = 62;
const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const RELA_SIZE = 24;

export interface ModuleSection {
  index: number;
  name: string;
  type: number;
  /** sh_flags' low 32 bits (SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR...). */
  flags: number;
  /** A power of two, at most MAX_ALIGN (0 in the file reads as 1). */
  align: number;
  size: number;
  /** sh_link and sh_info: for a symbol table its string table; for a relocation section its symbol table and target. */
  link: number;
  info: number;
  /** The file's bytes (none for SHT_NOBITS). */
  bytes: Uint8Array;
}

export interface ModuleSymbol {
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  kind: "func" | "object" | "section" | "file" | "other";
  bind: "local" | "global" | "weak";
  /** st_shndx: a section's index, SHN_UNDEF or SHN_ABS. */
  shndx: number;
}

/** One Elf64_Rela entry of a relocation section that applies to an allocated section. */
export interface Relocation {
  offset: number;
  type: number;
  sym: number;
  addend: bigint;
}

export interface ModuleObject {
  file: string;
  sections: ModuleSection[];
  symbols: ModuleSymbol[];
  /** The relocations, by the index of the allocated section they patch. */
  relocations: Map<number, Relocation[]>;
}

/**
 * Whether a section is placed in the module's memory. load_module drops SHF_ALLOC from
 * .modinfo and __versions: they are read from the file, never mapped.
 */
export function isAllocated(s: ModuleSection): boolean {
  return (s.flags & SHF_ALLOC) !== 0 && s.name !== ".modinfo" && s.name !== "__versions";
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

/** Reads and checks a module object; a ModuleError says what is wrong with it. */
export function parseModuleObject(bytes: Uint8Array, file = "module"): ModuleObject {
  if (bytes.length > MAX_MODULE_BYTES) {
    throw new ModuleError(`${bytes.length} bytes: a module object is at most ${MAX_MODULE_BYTES >> 20} MiB`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkHeader(bytes, view);
  const sections = readSections(bytes, view);
  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length === 0) throw new ModuleError("module has no symbols (stripped?)");
  if (symtabs.length > 1) throw new ModuleError(`more than one symbol table (${symtabs.map((s) => s.name).join(", ")})`);
  const symbols = readSymbols(symtabs[0], sections, view);
  const relocations = readRelocations(sections, symtabs[0], symbols.length, view);
  const obj: ModuleObject = { file, sections, symbols, relocations };
  checkModinfo(obj);
  return obj;
}

function checkHeader(bytes: Uint8Array, view: DataView): void {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ModuleError("not an ELF file (bad magic number)");
  }
  if (bytes.length < EHDR_SIZE) throw new ModuleError(`truncated: the ELF header needs ${EHDR_SIZE} bytes, the file has ${bytes.length}`);
  if (bytes[4] !== 2) throw new ModuleError(`not a 64-bit ELF file (class ${bytes[4]}): modules are ELF64 x86-64`);
  if (bytes[5] !== 1) throw new ModuleError(`not a little-endian ELF file (data encoding ${bytes[5]})`);
  const machine = view.getUint16(18, true);
  if (machine !== EM_X86_64) throw new ModuleError(`wrong machine: e_machine is ${machine}, x86-64 is ${EM_X86_64}`);
  const type = view.getUint16(16, true);
  if (type !== ET_REL) throw new ModuleError(`not a relocatable object (${ET_NAMES[type] ?? `e_type ${type}`})`);
  const shentsize = view.getUint16(58, true);
  if (shentsize !== SHDR_SIZE) throw new ModuleError(`section headers are ${shentsize} bytes, ELF64 has ${SHDR_SIZE}`);
}

/** sh_offset and sh_size as numbers once they are known to lie inside the file. */
function inFile(bytes: Uint8Array, off: bigint, size: bigint, what: string): [number, number] {
  if (off > BigInt(bytes.length) || size > BigInt(bytes.length) - off) {
    throw new ModuleError(`truncated: ${what} (${hex(off)}, ${size} bytes) lies outside the file (${bytes.length} bytes)`);
  }
  return [Number(off), Number(size)];
}

/** A NUL-terminated string at `off` of a string table that ends with NUL. */
function stringAt(table: ModuleSection, off: number, what: string): string {
  if (off >= table.size) throw new ModuleError(`${what}: name offset ${off} is outside ${table.name} (${table.size} bytes)`);
  const end = table.bytes.indexOf(0, off);
  return Buffer.from(table.bytes.subarray(off, end)).toString("latin1");
}

function checkStrtab(s: ModuleSection, what: string): void {
  if (s.type !== SHT_STRTAB) throw new ModuleError(`${what} (section ${s.index}) is not a string table`);
  if (s.size === 0 || s.bytes[s.size - 1] !== 0) throw new ModuleError(`${what} (section ${s.index}) does not end with a NUL`);
}

function readSections(bytes: Uint8Array, view: DataView): ModuleSection[] {
  const shoff = view.getBigUint64(40, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  // e_shnum 0 with a table means the real count is in section 0 (extended numbering): never needed by a module.
  if (shnum === 0) throw new ModuleError("no section headers");
  if (shnum >= SHN_LORESERVE) throw new ModuleError(`${shnum} section headers: extended section numbering is not supported`);
  const [base] = inFile(bytes, shoff, BigInt(shnum * SHDR_SIZE), "the section header table");
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const p = base + i * SHDR_SIZE;
    const type = view.getUint32(p + 4, true);
    const flags = Number(view.getBigUint64(p + 8, true) & 0xffff_ffffn);
    const offset = view.getBigUint64(p + 24, true);
    const size = view.getBigUint64(p + 32, true);
    const align = view.getBigUint64(p + 48, true);
    if (align > BigInt(MAX_ALIGN)) throw new ModuleError(`section ${i}: alignment ${align} is over ${MAX_ALIGN}`);
    if ((align & (align - 1n)) !== 0n) throw new ModuleError(`section ${i}: alignment ${align} is not a power of two`);
    let data: Uint8Array = new Uint8Array(0), n: number;
    if (type === SHT_NOBITS) {
      if (size > BigInt(MAX_MODULE_BYTES)) {
        throw new ModuleError(`section ${i}: ${size} bytes of bss, more than ${MAX_MODULE_BYTES >> 20} MiB`);
      }
      n = Number(size);
    } else {
      const [off, len] = inFile(bytes, offset, size, `section ${i}`);
      data = bytes.subarray(off, off + len);
      n = len;
    }
    const link = view.getUint32(p + 40, true), info = view.getUint32(p + 44, true);
    const nameOff = view.getUint32(p, true);
    raw.push({ index: i, nameOff, type, flags, align: Math.max(1, Number(align)), size: n, link, info, bytes: data });
  }
  if (shstrndx === 0 || shstrndx >= shnum) throw new ModuleError(`e_shstrndx ${shstrndx} is not a section (there are ${shnum})`);
  const names = { ...raw[shstrndx], name: ".shstrtab" };
  checkStrtab(names, "the section name table");
  return raw.map(({ nameOff, ...s }) => ({ ...s, name: stringAt(names, nameOff, `section ${s.index}`) }));
}

const KINDS: ModuleSymbol["kind"][] = ["other", "object", "func", "section", "file"];
const BINDS: Record<number, ModuleSymbol["bind"]> = { 0: "local", 1: "global", 2: "weak" };

function readSymbols(symtab: ModuleSection, sections: ModuleSection[], view: DataView): ModuleSymbol[] {
  if (symtab.size % SYM_SIZE !== 0) throw new ModuleError(`${symtab.name}: ${symtab.size} bytes is not a whole number of symbols`);
  const count = symtab.size / SYM_SIZE;
  if (count > MAX_SYMBOLS) throw new ModuleError(`${count} symbols: a module has at most ${MAX_SYMBOLS}`);
  const link = symtab.link;
  if (link === 0 || link >= sections.length) throw new ModuleError(`${symtab.name}: its string table ${link} is not a section`);
  const strtab = sections[link];
  checkStrtab(strtab, "the symbol string table");
  const base = symtab.bytes.byteOffset - view.byteOffset;
  const symbols: ModuleSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const p = base + i * SYM_SIZE;
    const info = view.getUint8(p + 4);
    const shndx = view.getUint16(p + 6, true);
    const name = stringAt(strtab, view.getUint32(p, true), `symbol ${i}`);
    const bind = BINDS[info >> 4];
    if (!bind) throw new ModuleError(`symbol ${i} (${name}): unknown binding ${info >> 4}`);
    if (shndx === SHN_COMMON) throw new ModuleError(`Common symbol: ${name} (build with -fno-common)`);
    if (shndx === SHN_XINDEX) throw new ModuleError(`symbol ${i} (${name}): extended section indexes are not supported`);
    if (shndx !== SHN_ABS && shndx >= sections.length) {
      throw new ModuleError(`symbol ${i} (${name}): section index ${shndx} is not a section (there are ${sections.length})`);
    }
    symbols.push({
      index: i, name, value: view.getBigUint64(p + 8, true), size: view.getBigUint64(p + 16, true),
      kind: KINDS[info & 15] ?? "other", bind, shndx,
    });
  }
  return symbols;
}

function readRelocations(sections: ModuleSection[], symtab: ModuleSection, nsyms: number, view: DataView): Map<number, Relocation[]> {
  const out = new Map<number, Relocation[]>();
  let total = 0;
  for (const s of sections) {
    if (s.type === SHT_REL) throw new ModuleError(`${s.name}: SHT_REL relocations are not supported (x86-64 modules use SHT_RELA)`);
    if (s.type !== SHT_RELA) continue;
    const target = s.info;
    if (target === 0 || target >= sections.length) throw new ModuleError(`${s.name}: it applies to section ${target}, which is not one`);
    if (s.link !== symtab.index) throw new ModuleError(`${s.name}: its symbol table is section ${s.link}, not ${symtab.name}`);
    // load_module skips relocations of sections that are not loaded (debug information).
    const into = sections[target];
    if (!isAllocated(into)) continue;
    if (s.size % RELA_SIZE !== 0) throw new ModuleError(`${s.name}: ${s.size} bytes is not a whole number of relocations`);
    total += s.size / RELA_SIZE;
    if (total > MAX_RELOCATIONS) throw new ModuleError(`more than ${MAX_RELOCATIONS} relocations: the limit for a module`);
    if (into.type === SHT_NOBITS && s.size > 0) {
      throw new ModuleError(`${s.name}: relocations in ${into.name}, which has no bytes (SHT_NOBITS)`);
    }
    const list = out.get(target) ?? [];
    out.set(target, list);
    const base = s.bytes.byteOffset - view.byteOffset;
    for (let p = base; p < base + s.size; p += RELA_SIZE) {
      const offset = view.getBigUint64(p, true);
      const type = view.getUint32(p + 8, true);
      const sym = view.getUint32(p + 12, true);
      const size = relocationSize(type);
      if (size === undefined) throw new ModuleError(`Unknown rela relocation: ${type} (${relocationName(type)}) in ${s.name}`);
      if (sym >= nsyms) throw new ModuleError(`${s.name}: relocation at ${hex(offset)} names symbol ${sym}, there are ${nsyms}`);
      if (offset + BigInt(size) > BigInt(into.size)) {
        throw new ModuleError(`${s.name}: relocation at ${hex(offset)} (${size} bytes) lies outside ${into.name} (${into.size} bytes)`);
      }
      list.push({ offset: Number(offset), type, sym, addend: view.getBigInt64(p + 16, true) });
    }
  }
  return out;
}

/** The .modinfo strings ("key=value", NUL-separated) by key, each key's values in file order. */
export function moduleInfo(obj: ModuleObject): Map<string, string[]> {
  const info = new Map<string, string[]>();
  const modinfo = obj.sections.find((s) => s.name === ".modinfo");
  if (!modinfo) return info;
  for (const entry of new TextDecoder().decode(modinfo.bytes).split("\0")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    const values = info.get(key) ?? [];
    values.push(entry.slice(eq + 1));
    info.set(key, values);
  }
  return info;
}

/** The module's name: the .modinfo name= string (parseModuleObject checked there is one, of 1 to 55 letters, digits, _ or -). */
export function moduleName(obj: ModuleObject): string {
  return moduleInfo(obj).get("name")![0];
}

function checkModinfo(obj: ModuleObject): void {
  const modinfo = obj.sections.filter((s) => s.name === ".modinfo");
  if (modinfo.length === 0) throw new ModuleError("missing .modinfo section");
  if (modinfo.length > 1) throw new ModuleError(`${modinfo.length} .modinfo sections`);
  if (modinfo[0].type === SHT_NOBITS) throw new ModuleError(".modinfo has no bytes (SHT_NOBITS)");
  const names = moduleInfo(obj).get("name") ?? [];
  if (names.length === 0) throw new ModuleError(".modinfo has no name=");
  if (names.length > 1) throw new ModuleError(`.modinfo has ${names.length} name= strings`);
  const bytes = Buffer.byteLength(names[0]);
  if (bytes === 0 || bytes > MAX_NAME_BYTES) throw new ModuleError(`module name of ${bytes} bytes: it must have 1 to ${MAX_NAME_BYTES}`);
  // The name starts every line the loader prints about the module.
  if (!/^[A-Za-z0-9_-]+$/.test(names[0])) throw new ModuleError(`module name ${JSON.stringify(names[0])}: only letters, digits, _ and -`);
}
