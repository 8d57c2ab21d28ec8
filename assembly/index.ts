// The core's exports: what the TypeScript Machine calls.
import { CPUS, CPU_BLOCK_SIZE, C_IRR, LAYOUT_HASH, IOBUF, M_LAYOUT_HASH, MAX_CPUS, DCACHE, DCACHE_SIZE, HOST_AGENT } from "./gen/layout";
import { logCodeWrites } from "./xmc";
import { loadMachineGlobals, HOST_ENTRY, NCPUS } from "./machine";
import { flushTlb, initTlbs } from "./mem";
import { hostWritePhys } from "./codewrite";
import { decodeInsn } from "./decode";

export { run } from "./cpu";
export { setBreakpoint, setBreakpointCount, skipBreakpoint } from "./debug";

/** Hash of the layout the core was built with; the driver refuses a mismatch. */
export function layoutHash(): u32 {
  return LAYOUT_HASH;
}

/** Reads the machine fields TypeScript wrote and resets caches. Call after configuring. */
export function init(): void {
  store<u32>(M_LAYOUT_HASH, LAYOUT_HASH);
  loadMachineGlobals();
  initTlbs();
  for (let c: u32 = 0; c < NCPUS; c++) flushTlb(c);
  memory.fill(DCACHE, 0, DCACHE_SIZE);
}

/** Decodes up to n bytes placed at IOBUF; returns the length or a negative DEC_* code. */
export function hostDecode(n: u32): i32 {
  return decodeInsn(HOST_ENTRY, IOBUF, n);
}

/**
 * Writes len bytes from IOBUF to physical address pa, keeping decoded code coherent; changes
 * to code are logged as written by M_HOST_AGENT at virtual time `clock`.
 */
export function hostWrite(pa: u64, len: u32, clock: u64): void {
  hostWritePhys(pa, IOBUF, len);
  logCodeWrites(HOST_AGENT, clock);
}

/** Raises interrupt `vector` on vCPU `cpu` from outside (the host as an interrupt source). */
export function hostInterrupt(cpu: u32, vector: u32): void {
  const a = CPUS + <usize>cpu * CPU_BLOCK_SIZE + C_IRR + ((<usize>vector >> 6) << 3);
  store<u64>(a, load<u64>(a) | (<u64>1 << <u64>(vector & 63)));
}

/** Forgets the TLB of one vCPU (the host changed its CR3 or page tables). */
export function hostFlushTlb(cpu: u32): void {
  if (cpu < MAX_CPUS) flushTlb(cpu);
}
