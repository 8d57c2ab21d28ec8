// Where .noinstr.text is in a linked image, which functions it holds, and their bytes.
//
// Two shapes of image carry it. A program linked with the default script keeps .noinstr.text
// as a section of its own. A kernel's link map (our firmware/kernel.lds, like vmlinux) folds it
// into .text and marks it with __noinstr_text_start / __noinstr_text_end instead; the section
// header is gone but the symbols say exactly where the code went.
import { ElfError, type ElfImage } from "../machine/elf.js";

/** An image that cannot be checked: no .noinstr.text, no symbols, bytes missing. */
export class NoinstrError extends ElfError {
  constructor(message: string) {
    super(message);
    this.name = "NoinstrError";
  }
}

export interface NoinstrRegion {
  start: bigint;
  /** One past the last byte. */
  end: bigint;
  /** How it was found: its own section header, or the linker script's marker symbols. */
  from: "section" | "symbols";
}

/** A stretch of the region decoded as one unit: a function, or bytes no function covers. */
export interface CodePiece {
  /** The function's symbol; undefined for padding or unlabelled code between functions. */
  name?: string;
  start: bigint;
  end: bigint;
}

const SECTION = ".noinstr.text";
const START = "__noinstr_text_start";
const END = "__noinstr_text_end";

export function findRegion(elf: ElfImage): NoinstrRegion {
  const sec = elf.sections.find((s) => s.name === SECTION);
  if (sec) return { start: sec.addr, end: sec.addr + sec.size, from: "section" };
  const start = elf.symbols.find((s) => s.name === START);
  const end = elf.symbols.find((s) => s.name === END);
  if (!start && !end) {
    const why = elf.symbols.length === 0 ? "no symbol table" : `no ${START}/${END} symbols`;
    throw new NoinstrError(`no ${SECTION} section (and ${why} marking where a linker script put it)`);
  }
  if (!start || !end) throw new NoinstrError(`${start ? END : START} is missing, so the end of ${SECTION} is unknown`);
  if (end.value < start.value) {
    throw new NoinstrError(`${END} (0x${end.value.toString(16)}) lies before ${START} (0x${start.value.toString(16)})`);
  }
  return { start: start.value, end: end.value, from: "symbols" };
}

/**
 * The region cut into pieces, in address order and covering every byte: one per function
 * symbol that starts inside it, plus the gaps between them (alignment padding, or code without
 * a function symbol, which is checked all the same).
 */
export function piecesOf(elf: ElfImage, region: NoinstrRegion): CodePiece[] {
  const starts = new Map<bigint, { name: string; size: bigint }>();
  for (const s of elf.symbols) {
    // Aliases share an address; the first one in the symbol table names the function.
    if (s.type === "func" && s.value >= region.start && s.value < region.end && !starts.has(s.value)) starts.set(s.value, s);
  }
  if (region.end > region.start && elf.symbols.length === 0) {
    throw new NoinstrError(`no symbol table: cannot tell the functions in ${SECTION} apart`);
  }
  const addrs = [...starts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const pieces: CodePiece[] = [];
  let at = region.start;
  addrs.forEach((addr, i) => {
    const next = addrs[i + 1] ?? region.end;
    const { name, size } = starts.get(addr)!;
    // A size of 0 (an assembly label without .size) runs up to the next function.
    const end = size > 0n && addr + size < next ? addr + size : next;
    if (addr > at) pieces.push({ start: at, end: addr });
    pieces.push({ name, start: addr, end });
    at = end;
  });
  if (at < region.end) pieces.push({ start: at, end: region.end });
  return pieces;
}

/** The file bytes of [start, end), which must lie inside one loadable segment's file data. */
export function bytesAt(elf: ElfImage, start: bigint, end: bigint): Uint8Array {
  for (const seg of elf.segments) {
    const segEnd = seg.vaddr + BigInt(seg.data.length);
    if (start >= seg.vaddr && end <= segEnd) return seg.data.subarray(Number(start - seg.vaddr), Number(end - seg.vaddr));
  }
  throw new NoinstrError(`code at 0x${start.toString(16)}..0x${end.toString(16)} is not in any loadable segment of the file`);
}
