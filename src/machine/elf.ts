// ELF64 x86-64 images: headers, loadable segments and the symbol table.
//
// Parsing never trusts the file: every offset and size is checked against the buffer, and a
// problem is reported as an ElfError naming what is wrong, so the CLI can print one line.

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ElfError";
  }
}

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export interface Segment {
  vaddr: bigint;
  memsz: bigint;
  /** File bytes (filesz of them); the rest up to memsz is zero (bss). */
  data: Uint8Array;
  flags: number;
  align: bigint;
  /** Its index in the program header table (for messages). */
  index: number;
}

export interface Section {
  name: string;
  addr: bigint;
  size: bigint;
  offset: number;
  type: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  type: "func" | "object" | "other";
  section: string;
}

export interface ElfImage {
  entry: bigint;
  type: "exec" | "dyn";
  segments: Segment[];
  sections: Section[];
  symbols: ElfSymbol[];
  /** Program header table location in memory (AT_PHDR), if a segment covers it. */
  phdrAddr: bigint;
  phnum: number;
  phentsize: number;
  bytes: Uint8Array;
}

const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_INTERP = 3;
const SHT_SYMTAB = 2;

/** Highest user-space address a segment may reach (canonical lower half). */
export const USER_TOP = 0x0000_8000_0000_0000n;
/** Linux's TASK_SIZE_MAX: user space ends one page below the canonical boundary. */
export const TASK_SIZE_MAX = 0x0000_7fff_ffff_f000n;
/** The largest program header table Linux's execve reads (load_elf_phdrs): 64 KiB. */
export const MAX_PHDR_TABLE = 65536;
const PAGE_SIZE = 4096n;

/** Where an image must live: user programs below USER_TOP, kernels in the upper half. */
export type AddressSpaceKind = "user" | "kernel" | "any";
const KERNEL_BOTTOM = 0xffff_8000_0000_0000n;

/**
 * Which half of memory an executable is linked for: "user" (a program, every segment below
 * USER_TOP) or "kernel" (a firmware image, every segment in the upper half). ElfError for a file
 * that is not an x86-64 executable or has segments in both.
 */
export function imageSpace(bytes: Uint8Array): "user" | "kernel" {
  const segs = parseElf(bytes, "any").segments;
  const user = segs.filter((s) => s.vaddr + s.memsz <= USER_TOP).length;
  if (user === segs.length) return "user";
  if (segs.every((s) => s.vaddr >= KERNEL_BOTTOM)) return "kernel";
  throw new ElfError("segments in both halves of memory: neither a user program nor a kernel image");
}

export function parseElf(bytes: Uint8Array, space: AddressSpaceKind = "user"): ElfImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, len: number, what: string) => {
    if (off < 0 || len < 0 || off + len > bytes.length) {
      throw new ElfError(`truncated ELF file: ${what} lies outside the file (${bytes.length} bytes)`);
    }
  };
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError("not an ELF file (bad magic number)");
  }
  need(0, 16, "the identification bytes");
  if (bytes[4] === 1) throw new ElfError("32-bit ELF file: only ELF64 x86-64 programs are supported");
  if (bytes[4] !== 2) throw new ElfError(`unknown ELF class ${bytes[4]}`);
  if (bytes[5] !== 1) throw new ElfError("big-endian ELF file: only little-endian x86-64 is supported");
  need(0, 64, "the ELF header");
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_X86_64) throw new ElfError(`wrong machine: e_machine is ${machine}, x86-64 is ${EM_X86_64}`);
  if (type !== 2 && type !== 3) throw new ElfError(`not an executable: e_type is ${type}`);
  const entry = view.getBigUint64(24, true);
  const phoff = Number(view.getBigUint64(32, true));
  const shoff = Number(view.getBigUint64(40, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (phnum === 0) throw new ElfError("no program headers: nothing to load");
  if (phentsize < 56 || (space === "user" && phentsize !== 56)) {
    throw new ElfError(`program header entries are ${phentsize} bytes, expected 56`);
  }
  if (space === "user" && phnum * phentsize > MAX_PHDR_TABLE) {
    throw new ElfError(`the program header table has ${phnum} entries (${phnum * phentsize} bytes); ` +
      `Linux's execve reads at most ${MAX_PHDR_TABLE} bytes (${Math.floor(MAX_PHDR_TABLE / 56)} entries)`);
  }
  need(phoff, phnum * phentsize, "the program header table");

  const segments: Segment[] = [];
  let phdrAddr = 0n;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const ptype = view.getUint32(p, true);
    if (ptype === PT_INTERP) throw new ElfError("dynamically linked program (PT_INTERP): only static programs are supported");
    if (ptype !== PT_LOAD) continue;
    const flags = view.getUint32(p + 4, true);
    const offset = view.getBigUint64(p + 8, true);
    const vaddr = view.getBigUint64(p + 16, true);
    const filesz = view.getBigUint64(p + 32, true);
    const memsz = view.getBigUint64(p + 40, true);
    const align = view.getBigUint64(p + 48, true);
    if (filesz > memsz) throw new ElfError(`segment ${i}: file size ${filesz} exceeds memory size ${memsz}`);
    const end = vaddr + memsz;
    const outside = end > 1n << 64n || (space === "user" && end > TASK_SIZE_MAX) || (space === "kernel" && vaddr < KERNEL_BOTTOM);
    if (outside) {
      const half = space === "kernel" ? "the kernel half of" : "user";
      throw new ElfError(`segment ${i} at 0x${vaddr.toString(16)} (+0x${memsz.toString(16)}) lies outside ${half} memory`);
    }
    if (filesz > 0n || space !== "user") need(Number(offset), Number(filesz), `segment ${i}`);
    // Linux maps file pages with mmap: a segment's file offset and address must agree within a page.
    if (space === "user" && filesz > 0n && offset % PAGE_SIZE !== vaddr % PAGE_SIZE) {
      throw new ElfError(`segment ${i}: file offset 0x${offset.toString(16)} and address 0x${vaddr.toString(16)} ` +
        "differ within a page (Linux maps segments page by page)");
    }
    const data = filesz > 0n ? bytes.subarray(Number(offset), Number(offset + filesz)) : new Uint8Array(0);
    segments.push({ vaddr, memsz, data, flags, align, index: i });
    if (BigInt(phoff) >= offset && BigInt(phoff) < offset + filesz) phdrAddr = vaddr + BigInt(phoff) - offset;
  }
  if (segments.length === 0) throw new ElfError("no loadable (PT_LOAD) segments");
  if (space === "user") checkOverlaps(segments);
  const inExec = segments.some((s) => (s.flags & PF_X) !== 0 && entry >= s.vaddr && entry < s.vaddr + s.memsz);
  if (entry === 0n || !inExec) throw new ElfError(`entry point 0x${entry.toString(16)} is not inside an executable segment`);

  const sections = shoff && shnum ? readSections(view, bytes, shoff, shentsize, shnum, shstrndx) : [];
  const symbols = readSymbols(view, bytes, sections);
  return { entry, type: type === 2 ? "exec" : "dyn", segments, sections, symbols, phdrAddr, phnum, phentsize, bytes };
}

/** Two segments may share a page (each keeps its rights there) but not an address. */
function checkOverlaps(segments: Segment[]): void {
  const sorted = segments.filter((s) => s.memsz > 0n).sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1], b = sorted[k];
    if (b.vaddr < a.vaddr + a.memsz) {
      throw new ElfError(`segments ${a.index} and ${b.index} overlap at 0x${b.vaddr.toString(16)}`);
    }
  }
}

function cString(bytes: Uint8Array, off: number): string {
  let end = off;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.subarray(off, end)).toString("latin1");
}

function readSections(view: DataView, bytes: Uint8Array, shoff: number, shentsize: number, shnum: number, shstrndx: number): Section[] {
  if (shentsize < 64 || shoff + shnum * shentsize > bytes.length) return []; // sections are optional: ignore a bad table
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const p = shoff + i * shentsize;
    raw.push({
      nameOff: view.getUint32(p, true), type: view.getUint32(p + 4, true), addr: view.getBigUint64(p + 16, true),
      offset: Number(view.getBigUint64(p + 24, true)), size: view.getBigUint64(p + 32, true),
      link: view.getUint32(p + 40, true),
    });
  }
  const strtab = raw[shstrndx];
  return raw.map((r) => ({
    name: strtab && strtab.offset + r.nameOff < bytes.length ? cString(bytes, strtab.offset + r.nameOff) : "",
    addr: r.addr, size: r.size, offset: r.offset, type: r.type, link: r.link,
  })) as (Section & { link: number })[];
}

function readSymbols(view: DataView, bytes: Uint8Array, sections: Section[]): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB) as (Section & { link: number }) | undefined;
  if (!symtab) return [];
  const strtab = sections[symtab.link];
  if (!strtab || symtab.offset + Number(symtab.size) > bytes.length) return [];
  const out: ElfSymbol[] = [];
  for (let p = symtab.offset; p + 24 <= symtab.offset + Number(symtab.size); p += 24) {
    const nameOff = view.getUint32(p, true);
    const info = bytes[p + 4];
    const shndx = view.getUint16(p + 6, true);
    const value = view.getBigUint64(p + 8, true);
    const size = view.getBigUint64(p + 16, true);
    const stype = info & 15;
    // Skip unnamed and undefined symbols, and section/file ones.
    if (nameOff === 0 || shndx === 0 || stype === 3 || stype === 4) continue;
    out.push({
      name: cString(bytes, strtab.offset + nameOff), value, size,
      type: stype === 2 ? "func" : stype === 1 ? "object" : "other",
      section: shndx === 0xfff1 ? "*ABS*" : shndx < sections.length ? sections[shndx].name : "",
    });
  }
  return out;
}
