// Puts a static ELF program into a fresh machine the way Linux execve would: page tables for
// its segments (user, read-only or writable, executable or not), a stack holding argc, argv,
// envp and the auxiliary vector, and a vCPU in 64-bit user mode at the entry point.
//
// What it accepts, and the limits it states (anything else is a LoadError naming the problem):
// - the guest has PROGRAM_RAM (64 MiB) of RAM; page frames come from above its first MiB, so
//   the segments, the stack grown to its STACK_LIMIT (8 MiB, RLIMIT_STACK's default) and the
//   page tables for both must fit in 63 MiB;
// - segments lie in user space (below TASK_SIZE_MAX), not below MMAP_MIN_ADDR, and not in the
//   stack's 8 MiB below STACK_TOP;
// - a position-independent (ET_DYN) program is placed at ET_DYN_BASE, where Linux puts a PIE
//   that has an interpreter (Linux 6.x maps a static PIE in its mmap area below the stack;
//   either way page 0 stays unmapped);
// - the argument and environment strings, with their pointers, take at most ARG_LIMIT bytes
//   (a quarter of the stack limit) and each string at most MAX_ARG_STRLEN, as for execve,
//   which fails with E2BIG beyond them.
import { Machine, type CpuVendorName } from "../machine/machine.js";
import { type ElfImage, PF_W, PF_X, TASK_SIZE_MAX } from "../machine/elf.js";
import { AddressSpace, FrameAllocator, PAGE, SUPERVISOR_ACCESS, USER_ACCESS, writeGuest, describeAccessFault } from "../machine/paging.js";
import { startInLongMode } from "../machine/longmode.js";
import {
  GATE_DPL_SHIFT, GATE_INTERRUPT, GATE_PRESENT, GATE_TYPE_SHIFT, LINUX_KERNEL_CS, LINUX_USER_CS, LINUX_USER_DS,
  X86_EFLAGS_FIXED, X86_EFLAGS_IF,
} from "../gen/constants.js";

export const STACK_TOP = 0x7fff_ffff_f000n;
/** The stack may grow down to this many bytes below STACK_TOP, one page per fault. */
export const STACK_LIMIT = 8 << 20;
const STACK_INITIAL = 128 << 10;
/** Guest RAM of a program's machine. */
export const PROGRAM_RAM = 64 << 20;
/** Page frames are handed out from here to the top of RAM. */
const FRAMES_BASE = 1 << 20;
/** Where an ET_DYN program is loaded: Linux's ELF_ET_DYN_BASE (2/3 of the user half, page-aligned) without randomization. */
export const ET_DYN_BASE = 0x5555_5555_4000n;
/** Linux's default vm.mmap_min_addr: nothing is mapped below it. */
export const MMAP_MIN_ADDR = 0x10000n;
/** Linux's MAX_ARG_STRLEN: the longest argument or environment string, its NUL included. */
export const MAX_ARG_STRLEN = 32 * 4096;
/** Linux's limit on argument and environment strings plus their pointers: RLIMIT_STACK / 4. */
export const ARG_LIMIT = STACK_LIMIT / 4;

const AT_NULL = 0n, AT_PHDR = 3n, AT_PHENT = 4n, AT_PHNUM = 5n, AT_PAGESZ = 6n, AT_ENTRY = 9n, AT_RANDOM = 25n, AT_EXECFN = 31n;

/** A program the loader refuses: the message says what and against which limit. */
export class LoadError extends Error {
  /** The error execve would return, where Linux would refuse the program too. */
  readonly errno?: "E2BIG" | "ENOMEM";
  constructor(message: string, errno?: "E2BIG" | "ENOMEM") {
    super(message);
    this.name = "LoadError";
    this.errno = errno;
  }
}

/**
 * Linux's x86-64 GDT, so selectors mean what they mean there: 0x10 kernel code, 0x18 kernel
 * data, 0x23 32-bit user code, 0x2b user data, 0x33 64-bit user code.
 */
const GDT = [0n, 0x00cf9b000000ffffn, 0x00af9b000000ffffn, 0x00cf93000000ffffn, 0x00cffb000000ffffn,
  0x00cff3000000ffffn, 0x00affb000000ffffn];
/** Where the GDT is mapped: kernel-only, like the kernel's per-CPU GDT. The IDT is the next page. */
const GDT_VA = 0xffff_8000_0000_0000n;
const IDT_VA = GDT_VA + BigInt(PAGE);
/** Vectors whose gates Linux gives DPL 3 (int3, into, the i386 system call); `int n` to any other is #GP. */
const USER_GATES = new Set([3, 4, 0x80]);
/** Page frames outside the program's own: PML4, the kernel half's three tables, the GDT and IDT pages. */
const FIXED_FRAMES = 6;

export interface LoadedProgram {
  machine: Machine;
  space: AddressSpace;
  /** Lowest stack address mapped so far. */
  stackBottom: bigint;
  /** What was added to the file's addresses (ET_DYN_BASE for a PIE, else 0). */
  bias: bigint;
}

interface Placed {
  vaddr: bigint;
  memsz: bigint;
  data: Uint8Array;
  flags: number;
  index: number;
}

function pageDown(v: bigint): bigint { return v & ~0xfffn; }
function pageUp(v: bigint): bigint { return (v + 0xfffn) & ~0xfffn; }
const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Bytes as "100 MiB", "1.5 GiB", "64 TiB". */
function size(bytes: bigint | number): string {
  let v = Number(bytes), unit = "bytes";
  for (const u of ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
}

/** Linux's load bias for a PIE: ELF_ET_DYN_BASE aligned to the largest power-of-two p_align. */
function loadBias(image: ElfImage): bigint {
  if (image.type !== "dyn") return 0n;
  let align = BigInt(PAGE);
  for (const s of image.segments) if (s.align > align && (s.align & (s.align - 1n)) === 0n) align = s.align;
  const first = image.segments.reduce((lo, s) => (s.vaddr < lo ? s.vaddr : lo), image.segments[0].vaddr);
  return BigInt.asUintN(64, pageDown((ET_DYN_BASE & ~(align - 1n)) - first));
}

/** Merged page-rounded ranges, in address order. */
function merge(ranges: [bigint, bigint][]): [bigint, bigint][] {
  const sorted = ranges.map(([s, e]) => [pageDown(s), pageUp(e)] as [bigint, bigint])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) { if (e > last[1]) last[1] = e; } else out.push([s, e]);
  }
  return out;
}

/** How many 2^bits-byte blocks the merged ranges touch. */
function blocks(ranges: [bigint, bigint][], bits: bigint): bigint {
  let n = 0n, prev = -1n;
  for (const [s, e] of ranges) {
    const first = s >> bits, last = (e - 1n) >> bits;
    n += last - (first > prev ? first : prev + 1n) + 1n;
    prev = last;
  }
  return n;
}

/** Places the segments (adding the load bias) and checks them against the address-space and memory limits. */
function place(image: ElfImage, bias: bigint): Placed[] {
  const stackLow = STACK_TOP - BigInt(STACK_LIMIT);
  const placed: Placed[] = [];
  for (const s of image.segments) {
    if (s.memsz === 0n) continue;
    const vaddr = BigInt.asUintN(64, s.vaddr + bias);
    const end = vaddr + s.memsz;
    if (end > TASK_SIZE_MAX) throw new LoadError(`segment ${s.index} at ${hex(vaddr)} (+${hex(s.memsz)}) lies outside user memory`);
    if (vaddr < MMAP_MIN_ADDR) {
      throw new LoadError(`segment ${s.index} at ${hex(vaddr)} lies below ${hex(MMAP_MIN_ADDR)}, ` +
        "where Linux maps nothing (vm.mmap_min_addr)");
    }
    if (vaddr < STACK_TOP && end > stackLow) {
      throw new LoadError(`segment ${s.index} (${hex(vaddr)}-${hex(end)}) overlaps the stack ` +
        `(${hex(stackLow)}-${hex(STACK_TOP)}, ${size(STACK_LIMIT)})`);
    }
    placed.push({ vaddr, memsz: s.memsz, data: s.data, flags: s.flags, index: s.index });
  }
  // Every frame is allocated when the program is loaded or its stack grows: check them all now.
  const segRanges = merge(placed.map((p) => [p.vaddr, p.vaddr + p.memsz]));
  const segPages = segRanges.reduce((n, [s, e]) => n + (e - s) / BigInt(PAGE), 0n);
  const all = merge([...segRanges, [stackLow, STACK_TOP]]);
  const tables = blocks(all, 21n) + blocks(all, 30n) + blocks(all, 39n);
  const stackPages = BigInt(STACK_LIMIT / PAGE);
  const need = segPages + stackPages + tables + BigInt(FIXED_FRAMES);
  const have = BigInt((PROGRAM_RAM - FRAMES_BASE) / PAGE);
  if (need > have) {
    throw new LoadError(`needs ${size(need * BigInt(PAGE))} of guest memory (segments ${size(segPages * BigInt(PAGE))}, ` +
      `stack up to ${size(STACK_LIMIT)}, page tables ${size((tables + BigInt(FIXED_FRAMES)) * BigInt(PAGE))}); ` +
      `a program gets ${size(have * BigInt(PAGE))} (${size(PROGRAM_RAM)} of guest RAM, less the first MiB)`, "ENOMEM");
  }
  return placed;
}

/** Maps every PT_LOAD segment; pages shared by two segments get the union of their rights. */
function mapSegments(space: AddressSpace, segments: Placed[]): void {
  const pages = new Map<bigint, { pa: number; write: boolean; exec: boolean }>();
  for (const seg of segments) {
    for (let va = pageDown(seg.vaddr); va < seg.vaddr + seg.memsz; va += BigInt(PAGE)) {
      const p = pages.get(va) ?? { pa: space.frames.alloc(), write: false, exec: false };
      p.write ||= (seg.flags & PF_W) !== 0;
      p.exec ||= (seg.flags & PF_X) !== 0;
      pages.set(va, p);
    }
  }
  for (const [va, p] of pages) space.mapPage(va, p.pa, { user: true, write: p.write, exec: p.exec });
  // The kernel fills them, read-only pages included (a supervisor write, CR0.WP clear).
  for (const seg of segments) {
    const f = writeGuest(space.machine, space.root, seg.vaddr, seg.data, SUPERVISOR_ACCESS);
    if (f) throw new Error(`loader: cannot fill segment ${seg.index} at ${describeAccessFault(f)}`);
  }
}

/** Refuses arguments and environment execve would refuse with E2BIG. */
function checkArguments(argv: string[], env: string[]): void {
  let total = 8 * (Math.max(argv.length, 1) + env.length);
  for (const [list, what] of [[argv, "argument"], [env, "environment string"]] as const) {
    list.forEach((s, i) => {
      const n = Buffer.byteLength(s, "utf8") + 1;
      if (n > MAX_ARG_STRLEN) {
        throw new LoadError(`${what} ${i} takes ${n} bytes, more than the ${MAX_ARG_STRLEN} one may take ` +
          "(Linux's MAX_ARG_STRLEN; execve fails with E2BIG)", "E2BIG");
      }
      total += n;
    });
  }
  if (total > ARG_LIMIT) {
    throw new LoadError(`arguments and environment take ${total} bytes with their pointers, more than the ${size(ARG_LIMIT)} ` +
      `limit (a quarter of the ${size(STACK_LIMIT)} stack, as for Linux's execve, which fails with E2BIG)`, "E2BIG");
  }
}

/** The initial stack's bytes, from the returned stack pointer (argc, 16-byte aligned) up to STACK_TOP. */
function stackImage(image: ElfImage, bias: bigint, argv: string[], env: string[], seed: number): { sp: bigint; block: Uint8Array } {
  const top = STACK_TOP;
  const strAddr: bigint[] = [];
  // Strings and AT_RANDOM's 16 bytes sit at the very top; pointers are computed afterwards.
  const strings = [...argv, ...env].map((s) => Buffer.from(s + "\0", "utf8"));
  const random = new Uint8Array(16);
  let x = BigInt(seed) | 1n;
  for (let i = 0; i < 16; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffff_ffff_ffff_ffffn;
    random[i] = Number(x >> 56n);
  }
  const bytes = Buffer.concat([...strings, random]);
  const stringsBase = top - BigInt(bytes.length);
  let at = stringsBase;
  for (const s of strings) { strAddr.push(at); at += BigInt(s.length); }
  const randomAddr = top - 16n;
  const words: bigint[] = [BigInt(argv.length), ...strAddr.slice(0, argv.length), 0n, ...strAddr.slice(argv.length), 0n,
    AT_PHDR, image.phdrAddr + bias, AT_PHENT, BigInt(image.phentsize), AT_PHNUM, BigInt(image.phnum), AT_PAGESZ, 4096n,
    AT_ENTRY, image.entry + bias, AT_RANDOM, randomAddr, AT_EXECFN, strAddr[0] ?? 0n, AT_NULL, 0n];
  const sp = (stringsBase - BigInt(words.length * 8)) & ~0xfn;
  const block = new Uint8Array(Number(top - sp));
  const view = new DataView(block.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
  block.set(bytes, Number(stringsBase - sp));
  return { sp, block };
}

/**
 * Linux's IDT as user code meets it: every vector has a present interrupt gate (the targets
 * are never used: faults exit to the host), DPL 3 only for USER_GATES, so `int n` to any
 * other vector raises #GP as it does under Linux. The differential tests use it too.
 */
export function linuxIdtImage(): Uint8Array {
  const idt = new Uint8Array(256 * 16);
  const view = new DataView(idt.buffer);
  for (let v = 0; v < 256; v++) {
    const dpl = USER_GATES.has(v) ? 3 : 0;
    const type = BigInt(GATE_PRESENT | (dpl << GATE_DPL_SHIFT) | GATE_INTERRUPT);
    view.setBigUint64(v * 16, (BigInt(LINUX_KERNEL_CS) << 16n) | (type << BigInt(GATE_TYPE_SHIFT)) | (0xffffn << 48n), true);
    view.setBigUint64(v * 16 + 8, 0xffff_ffffn, true);
  }
  return idt;
}

export function loadProgram(image: ElfImage, argv: string[], env: string[],
  opts: { seed?: number; cpuVendor?: CpuVendorName } = {}): LoadedProgram {
  checkArguments(argv, env);
  const bias = loadBias(image);
  const segments = place(image, bias);
  const machine = new Machine({ ramBytes: PROGRAM_RAM, syscallExits: true, faultExits: true, cpuVendor: opts.cpuVendor });
  const frames = new FrameAllocator(FRAMES_BASE, machine.ramBytes);
  const space = new AddressSpace(machine, frames);
  mapSegments(space, segments);
  const { sp, block } = stackImage(image, bias, argv, env, opts.seed ?? 0);
  const initial = STACK_TOP - BigInt(STACK_INITIAL);
  const stackBottom = pageDown(sp) < initial ? pageDown(sp) : initial;
  for (let va = stackBottom; va < STACK_TOP; va += BigInt(PAGE)) space.mapPage(va, frames.alloc(), { user: true, write: true });
  // Written as the kernel's copy_to_user would: a user access.
  const f = writeGuest(machine, space.root, sp, block, USER_ACCESS);
  if (f) throw new Error(`loader: cannot write the initial stack at ${describeAccessFault(f)}`);

  const gdt = frames.alloc();
  const gdtBytes = new Uint8Array(GDT.length * 8);
  GDT.forEach((d, i) => new DataView(gdtBytes.buffer).setBigUint64(i * 8, d, true));
  machine.writePhys(gdt, gdtBytes);
  space.mapPage(GDT_VA, gdt, { write: false });
  const idt = frames.alloc();
  machine.writePhys(idt, linuxIdtImage());
  space.mapPage(IDT_VA, idt, { write: false });

  const cpu = machine.cpus[0];
  cpu.set("gdtBase", GDT_VA);
  cpu.set("gdtLimit", gdtBytes.length - 1);
  cpu.set("idtBase", IDT_VA);
  cpu.set("idtLimit", 256 * 16 - 1);
  startInLongMode(cpu, { cr3: space.root, cpl: 3, cs: LINUX_USER_CS, ss: LINUX_USER_DS, rip: image.entry + bias, rsp: sp,
    rflags: X86_EFLAGS_IF | X86_EFLAGS_FIXED, alignmentMask: true });
  return { machine, space, stackBottom, bias };
}
