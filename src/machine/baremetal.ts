// Starting a machine on a bare-metal image: a statically linked ELF whose segments run at
// their physical addresses. Every vCPU starts in 64-bit mode at CPL 0 at the entry point, with
// interrupts off, its own boot stack, RDI = its index and RSI = the number of vCPUs. The first
// 1 GiB of physical memory (or all RAM) is identity-mapped with 2 MiB pages; the guest brings
// its own GDT, IDT and TSS. Used by the system tests and as the simplest way to run a kernel.
import { Machine, type MachineConfig } from "./machine.js";
import { parseElf, type ElfImage, ElfError } from "./elf.js";
import { AddressSpace, FrameAllocator } from "./paging.js";
import { startInLongMode } from "./longmode.js";
import { GDT_KERNEL_CS, GDT_KERNEL_DS, X86_EFLAGS_FIXED } from "../gen/constants.js";
import { SymbolTable } from "./symbols.js";

const BOOT_STACK = 64 << 10;
const MIB2 = 2 << 20;

export interface BareMetal {
  machine: Machine;
  image: ElfImage;
  symbols: SymbolTable;
  space: AddressSpace;
}

export function bootBareMetal(bytes: Uint8Array, config: MachineConfig = {}): BareMetal {
  const image = parseElf(bytes, "any");
  const machine = new Machine(config);
  for (const seg of image.segments) {
    if (seg.vaddr + seg.memsz > BigInt(machine.ramBytes)) {
      throw new ElfError(`segment at 0x${seg.vaddr.toString(16)} lies beyond RAM (${machine.ramBytes} bytes)`);
    }
  }
  // Page tables and boot stacks live at the top of RAM, out of the image's way.
  const stacksBase = machine.ramBytes - machine.ncpus * BOOT_STACK;
  const frames = new FrameAllocator(stacksBase - (1 << 20), stacksBase);
  const space = new AddressSpace(machine, frames);
  const mapped = Math.min(machine.ramBytes, 1 << 30);
  for (let pa = 0; pa < mapped; pa += MIB2) space.mapLarge(BigInt(pa), pa, { write: true, exec: true });
  for (const seg of image.segments) machine.writePhys(Number(seg.vaddr), seg.data);

  for (const cpu of machine.cpus) {
    startInLongMode(cpu, { cr3: space.root, cpl: 0, cs: GDT_KERNEL_CS, ss: GDT_KERNEL_DS, rip: image.entry,
      rsp: BigInt(stacksBase + (cpu.index + 1) * BOOT_STACK), rflags: X86_EFLAGS_FIXED });
    cpu.setReg(7, BigInt(cpu.index));
    cpu.setReg(6, BigInt(machine.ncpus));
  }
  return { machine, image, symbols: SymbolTable.fromElf(image.symbols), space };
}
