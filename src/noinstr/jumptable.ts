// Jump tables: the one kind of indirect jump whose targets can be read from the image.
//
// Non-PIC x86-64 code (the firmware, -fno-pie programs) dispatches a dense switch with
// `jmp *table(,%reg,8)`: no base register, the case index scaled by 8, and the table's
// absolute address as the displacement; each 8-byte entry is the address of a case label in
// the same function. When the table lies in read-only data it cannot change at run time, so
// if its entries point into the jumping function, the jump stays where that function is.
//
// The table's length is set by the bounds check before the jump (cmp $N; ja default), which is
// not re-derived here: entries are read up to the first one outside the function. Compilers
// only emit tables of their own function's labels, so that first outsider is whatever data
// follows the table. A hand-written table that really leaves the function would end early
// and be missed; the PIC form (32-bit offsets added to the table's address) is not
// recognised at all and stays reported as an indirect jump.
import iced from "iced-x86";
import { PF_W, type ElfImage } from "../machine/elf.js";
import type { CodePiece } from "./region.js";

const { OpKind, Register } = iced;

type Instruction = InstanceType<typeof iced.Instruction>;

/** The case targets of a jump-table jmp inside `fn`, or undefined if `insn` is not one. */
export function jumpTableTargets(elf: ElfImage, insn: Instruction, fn: CodePiece): bigint[] | undefined {
  const tableShape = insn.op0Kind === OpKind.Memory && insn.memoryBase === Register.None &&
    insn.memoryIndex !== Register.None && insn.memoryIndexScale === 8;
  if (!tableShape) return undefined;
  const table = insn.memoryDisplacementU64;
  const seg = elf.segments.find((s) => table >= s.vaddr && table < s.vaddr + BigInt(s.data.length));
  if (!seg || (seg.flags & PF_W) !== 0) return undefined; // writable: could point anywhere later
  const view = new DataView(seg.data.buffer, seg.data.byteOffset, seg.data.byteLength);
  const targets: bigint[] = [];
  for (let at = Number(table - seg.vaddr); at + 8 <= seg.data.length; at += 8) {
    const target = view.getBigUint64(at, true);
    if (target < fn.start || target >= fn.end) break;
    targets.push(target);
  }
  return targets.length ? targets : undefined;
}
