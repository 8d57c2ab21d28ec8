// Puts a static ELF program into a fresh machine the way Linux execve would: page tables for
// its segments (user, read-only or writable, executable or not), a stack holding argc, argv,
// envp and the auxiliary vector, and a vCPU in 64-bit user mode at the entry point.
import { Machine, type CpuVendorName } from "../machine/machine.js";
import { ElfError, type ElfImage, PF_W, PF_X } from "../machine/elf.js";
import { AddressSpace, FrameAllocator, PAGE } from "../machine/paging.js";
import { startInLongMode } from "../machine/longmode.js";

export const STACK_TOP = 0x7fff_ffff_f000n;
/** The stack may grow down to this many bytes below STACK_TOP, one page per fault. */
export const STACK_LIMIT = 8 << 20;
const STACK_INITIAL = 128 << 10;

const AT_NULL = 0n, AT_PHDR = 3n, AT_PHENT = 4n, AT_PHNUM = 5n, AT_PAGESZ = 6n, AT_ENTRY = 9n, AT_RANDOM = 25n, AT_EXECFN = 31n;

// Bits of the control registers a long-mode user process runs with.

/**
 * Linux's x86-64 GDT, so selectors mean what they mean there: 0x10 kernel code, 0x18 kernel
 * data, 0x23 32-bit user code, 0x2b user data, 0x33 64-bit user code.
 */
const GDT = [0n, 0x00cf9b000000ffffn, 0x00af9b000000ffffn, 0x00cf93000000ffffn, 0x00cffb000000ffffn,
  0x00cff3000000ffffn, 0x00affb000000ffffn];
/** Where the GDT is mapped: kernel-only, like the kernel's per-CPU GDT. */
const GDT_VA = 0xffff_8000_0000_0000n;

export interface LoadedProgram {
  machine: Machine;
  space: AddressSpace;
  /** Lowest stack address mapped so far. */
  stackBottom: bigint;
}

function pageDown(v: bigint): bigint { return v & ~0xfffn; }

/** Maps every PT_LOAD segment; pages shared by two segments get the union of their rights. */
function mapSegments(space: AddressSpace, image: ElfImage): void {
  const pages = new Map<bigint, { pa: number; write: boolean; exec: boolean }>();
  for (const seg of image.segments) {
    for (let va = pageDown(seg.vaddr); va < seg.vaddr + seg.memsz; va += BigInt(PAGE)) {
      const p = pages.get(va) ?? { pa: space.frames.alloc(), write: false, exec: false };
      p.write ||= (seg.flags & PF_W) !== 0;
      p.exec ||= (seg.flags & PF_X) !== 0;
      pages.set(va, p);
    }
  }
  for (const [va, p] of pages) space.mapPage(va, p.pa, { user: true, write: p.write, exec: p.exec });
  for (const seg of image.segments) {
    for (let done = 0; done < seg.data.length;) {
      const va = seg.vaddr + BigInt(done);
      const p = pages.get(pageDown(va))!;
      const off = Number(va & 0xfffn);
      const n = Math.min(seg.data.length - done, PAGE - off);
      space.machine.writePhys(p.pa + off, seg.data.subarray(done, done + n));
      done += n;
    }
  }
}

/** Builds the initial stack; returns the stack pointer (pointing at argc, 16-byte aligned). */
function buildStack(space: AddressSpace, image: ElfImage, argv: string[], env: string[], seed: number): bigint {
  const m = space.machine;
  const top = STACK_TOP;
  const bytes: number[] = [];
  const strAddr: bigint[] = [];
  // Strings and AT_RANDOM's 16 bytes sit at the very top; pointers are computed afterwards.
  const strings = [...argv, ...env].map((s) => Buffer.from(s + "\0", "utf8"));
  let size = strings.reduce((n, b) => n + b.length, 0) + 16;
  const stringsBase = top - BigInt(size);
  let at = stringsBase;
  for (const s of strings) { strAddr.push(at); bytes.push(...s); at += BigInt(s.length); }
  let x = BigInt(seed) | 1n;
  for (let i = 0; i < 16; i++) { x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffff_ffff_ffff_ffffn; bytes.push(Number(x >> 56n)); }
  const randomAddr = top - 16n;
  const words: bigint[] = [BigInt(argv.length), ...strAddr.slice(0, argv.length), 0n, ...strAddr.slice(argv.length), 0n,
    AT_PHDR, image.phdrAddr, AT_PHENT, BigInt(image.phentsize), AT_PHNUM, BigInt(image.phnum), AT_PAGESZ, 4096n,
    AT_ENTRY, image.entry, AT_RANDOM, randomAddr, AT_EXECFN, strAddr[0] ?? 0n, AT_NULL, 0n];
  const sp = (stringsBase - BigInt(words.length * 8)) & ~0xfn;
  const block = new Uint8Array(Number(top - sp));
  const view = new DataView(block.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
  block.set(bytes, Number(stringsBase - sp));
  size = block.length;
  if (size > STACK_INITIAL) throw new RangeError(`arguments and environment need ${size} bytes of stack, more than ${STACK_INITIAL}`);
  // Write through the page tables: the stack pages are mapped already.
  for (let done = 0; done < block.length;) {
    const va = sp + BigInt(done);
    const t = space.translate(va)!;
    const n = Math.min(block.length - done, PAGE - (t.pa % PAGE));
    m.writePhys(t.pa, block.subarray(done, done + n));
    done += n;
  }
  return sp;
}

export function loadProgram(image: ElfImage, argv: string[], env: string[],
  opts: { ramBytes?: number; seed?: number; cpuVendor?: CpuVendorName } = {}): LoadedProgram {
  const machine = new Machine({ ramBytes: opts.ramBytes ?? 64 << 20, syscallExits: true, faultExits: true, cpuVendor: opts.cpuVendor });
  const frames = new FrameAllocator(1 << 20, machine.ramBytes);
  const space = new AddressSpace(machine, frames);
  const stackBottom = STACK_TOP - BigInt(STACK_INITIAL);
  let gdt: number;
  try {
    mapSegments(space, image);
    for (let va = stackBottom; va < STACK_TOP; va += BigInt(PAGE)) space.mapPage(va, frames.alloc(), { user: true, write: true });
    gdt = frames.alloc();
  } catch (e) {
    // Segments whose memory size is larger than the machine's memory (a file can claim any size).
    if (!(e instanceof RangeError)) throw e;
    const bytes = image.segments.reduce((n, s) => n + s.memsz, 0n);
    throw new ElfError(`the segments need ${bytes} bytes of memory: with the stack, more than the program's machine has (${machine.ramBytes >> 20} MiB)`);
  }
  const sp = buildStack(space, image, argv, env, opts.seed ?? 0);

  const gdtBytes = new Uint8Array(GDT.length * 8);
  GDT.forEach((d, i) => new DataView(gdtBytes.buffer).setBigUint64(i * 8, d, true));
  machine.writePhys(gdt, gdtBytes);
  space.mapPage(GDT_VA, gdt, { write: false });

  const cpu = machine.cpus[0];
  cpu.set("gdtBase", GDT_VA);
  cpu.set("gdtLimit", gdtBytes.length - 1);
  startInLongMode(cpu, { cr3: space.root, cpl: 3, cs: 0x33, ss: 0x2b, rip: image.entry, rsp: sp, rflags: 0x202n });
  return { machine, space, stackBottom };
}
