// Starting a machine on a bare-metal image: a statically linked ELF whose segments run at
// their physical addresses. Every vCPU starts in 64-bit mode at CPL 0 at the entry point, with
// interrupts off, its own boot stack, RDI = its index and RSI = the number of vCPUs. The first
// 1 GiB of physical memory (or all RAM) is identity-mapped with 2 MiB pages; the guest brings
// its own GDT, IDT and TSS. Used by the system tests and as the simplest way to run a kernel.
import { Machine, type MachineConfig } from "./machine.js";
import { parseElf, type ElfImage, ElfError } from "./elf.js";
import { AddressSpace, FrameAllocator } from "./paging.js";
import { SymbolTable } from "./symbols.js";

const CR0_PE = 1n, CR0_ET = 0x10n, CR0_WP = 1n << 16n, CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const EFER_SCE = 1n, EFER_LME = 1n << 8n, EFER_LMA = 1n << 10n, EFER_NXE = 1n << 11n;
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
    cpu.set("cr0", CR0_PE | CR0_ET | CR0_WP | CR0_PG);
    cpu.set("cr4", CR4_PAE);
    cpu.set("efer", EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
    cpu.set("cr3", BigInt(space.root));
    cpu.set("cs", 0x08);
    cpu.set("ss", 0x10);
    cpu.set("cpl", 0);
    cpu.rip = image.entry;
    cpu.rflags = 2n;
    cpu.setReg(4, BigInt(stacksBase + (cpu.index + 1) * BOOT_STACK));
    cpu.setReg(7, BigInt(cpu.index));
    cpu.setReg(6, BigInt(machine.ncpus));
  }
  return { machine, image, symbols: SymbolTable.fromElf(image.symbols), space };
}
