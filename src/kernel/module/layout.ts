// Where a module's sections go (the kernel's layout_sections, kernel/module/main.c): every
// allocated section joins one of four groups by its flags, in section order, each at its own
// alignment; each group is mapped with its own page rights, so its size is rounded to a page.
// The kernel keeps bss inside its data pages; here it is a group of its own, so the loader
// can map it without copying zeros out of the object. The kernel also puts .init* sections in
// a second layout it frees after init_module; here they stay with the rest.
import {
  isAllocated, MAX_MODULE_BYTES, ModuleError, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, type ModuleObject, type ModuleSection,
} from "./object.js";

export const MODULE_PAGE = 4096;

export type Group = "text" | "rodata" | "data" | "bss";
export const GROUPS: Group[] = ["text", "rodata", "data", "bss"];

export interface PlacedSection {
  index: number;
  name: string;
  group: Group;
  /** Its offset from the start of its group. */
  offset: number;
  size: number;
}

export interface ModuleLayout {
  /** Each group's size, a multiple of MODULE_PAGE (0 when the group is empty). */
  size: Record<Group, number>;
  /** The allocated sections, in section order; .modinfo and non-allocated ones are not here. */
  sections: PlacedSection[];
}

/** text: code (SHF_EXECINSTR); rodata: read-only; data: writable with bytes; bss: SHT_NOBITS. */
export function groupOf(s: ModuleSection): Group {
  if (s.flags & SHF_EXECINSTR) return "text";
  if (s.type === SHT_NOBITS) return "bss";
  return s.flags & SHF_WRITE ? "data" : "rodata";
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Places the allocated sections; a group larger than a module may be is a ModuleError. */
export function layoutModule(obj: ModuleObject): ModuleLayout {
  const size: Record<Group, number> = { text: 0, rodata: 0, data: 0, bss: 0 };
  const sections: PlacedSection[] = [];
  for (const group of GROUPS) {
    for (const s of obj.sections) {
      if (!isAllocated(s) || groupOf(s) !== group) continue;
      const offset = roundUp(size[group], s.align);
      sections.push({ index: s.index, name: s.name, group, offset, size: s.size });
      size[group] = offset + s.size;
      // Padding for alignment can outgrow the file (many small sections each aligned to 4 KiB).
      if (size[group] > MAX_MODULE_BYTES) {
        throw new ModuleError(`the module's ${group} takes more than ${MAX_MODULE_BYTES >> 20} MiB (at section ${s.name})`);
      }
    }
    size[group] = roundUp(size[group], MODULE_PAGE);
  }
  sections.sort((a, b) => a.index - b.index);
  return { size, sections };
}
