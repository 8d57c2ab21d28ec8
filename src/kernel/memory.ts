// Where things are in the guest kernel's address space, as in Linux x86-64.

/** vmlinux is linked here (__START_KERNEL_map + 16 MiB)... */
export const KERNEL_VMA = 0xffff_ffff_8100_0000n;
/** ...and loaded at this physical address. */
export const KERNEL_LMA = 0x100_0000;
/** The direct map of all physical memory (PAGE_OFFSET without KASLR). */
export const PAGE_OFFSET = 0xffff_8880_0000_0000n;
/** Executable memory for dynamic trampolines (the module / execmem area). */
export const EXECMEM_START = 0xffff_ffff_a000_0000n;
export const EXECMEM_END = 0xffff_ffff_a800_0000n;
/**
 * Loaded modules (the module area proper): each module's text, rodata, data and bss, page by
 * page, never reused once freed. Within 2 GiB of the kernel image, so a module's
 * `-mcmodel=kernel` code reaches the kernel's functions with rel32 calls.
 */
export const MODULES_START = 0xffff_ffff_c000_0000n;
export const MODULES_END = 0xffff_ffff_e000_0000n;
/**
 * Guarded kernel objects (the vmalloc area): each on a page of its own with an unmapped page
 * after it, unmapped when freed and never reused, so a stale pointer faults (as with KFENCE).
 */
export const GUARDED_START = 0xffff_c900_0000_0000n;
export const GUARDED_END = 0xffff_c910_0000_0000n;
/** Kernel stacks (vmap'ed, each with an unmapped guard gap below it). */
export const VMAP_STACKS_START = 0xffff_c980_0000_0000n;
export const VMAP_STACKS_END = 0xffff_c990_0000_0000n;
/**
 * Kernel memory the #PF handler maps a page at a time on first touch (MAP_PAGE hypercall), as
 * if swapped or file-backed: where callbacks and probes take faults that may sleep.
 */
export const DEMAND_START = 0xffff_c9a0_0000_0000n;
export const DEMAND_END = 0xffff_c9a0_0100_0000n;
/** User memory mapped on demand the same way (what sys_enter probes read). */
export const USER_DEMAND_START = 0x7000_0000_0000n;
export const USER_DEMAND_END = 0x7000_0100_0000n;
/** The user-mode programs of the .user section are mapped here again for user tasks. */
export const USER_CODE_VA = 0x40_0000n;
/** User task n's stack ends at USER_STACK_TOP - n * USER_STACK_STRIDE. */
export const USER_STACK_TOP = 0x7fff_0000_0000n;
export const USER_STACK_STRIDE = 0x10_0000n;
export const USER_STACK_SIZE = 64 << 10;

export function directMap(pa: number): bigint {
  return PAGE_OFFSET + BigInt(pa);
}

export function physOfDirect(va: bigint): number {
  return Number(va - PAGE_OFFSET);
}

export function kernelImagePhys(va: bigint): number {
  return Number(va - KERNEL_VMA) + KERNEL_LMA;
}
