// instrumentation_begin() / instrumentation_end() markers: the addresses noinstr code lists in
// the .discard.instr_begin and .discard.instr_end sections (firmware/include/kernel.h writes one
// 8-byte address per marker; the kernel's objtool reads 4-byte relative ones from an object file,
// tramplab reads a linked image, where the sections survive as non-allocated ones).
import type { ElfImage } from "../machine/elf.js";
import { NoinstrError } from "./region.js";

export interface InstrMarkers {
  begin: Set<bigint>;
  end: Set<bigint>;
}

/** At most this many markers per section: a bound for hostile files. */
const MAX_MARKERS = 1 << 16;

export function instrumentationMarkers(elf: ElfImage): InstrMarkers {
  return { begin: markers(elf, ".discard.instr_begin"), end: markers(elf, ".discard.instr_end") };
}

function markers(elf: ElfImage, name: string): Set<bigint> {
  const out = new Set<bigint>();
  for (const sec of elf.sections.filter((s) => s.name === name)) {
    const SHT_NOBITS = 8;
    if (sec.type === SHT_NOBITS || sec.size === 0n) continue;
    if (sec.size % 8n !== 0n) throw new NoinstrError(`${name} is ${sec.size} bytes, not a whole number of 8-byte addresses`);
    if (sec.size / 8n > BigInt(MAX_MARKERS)) throw new NoinstrError(`${name} lists more than ${MAX_MARKERS} markers`);
    const end = sec.offset + Number(sec.size);
    if (sec.offset < 0 || end > elf.bytes.length) throw new NoinstrError(`${name} lies outside the file`);
    const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset + sec.offset, Number(sec.size));
    for (let i = 0; i < view.byteLength; i += 8) out.add(view.getBigUint64(i, true));
  }
  return out;
}
