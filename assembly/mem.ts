// Guest virtual memory: software TLB, page walk, and the load/store helpers handlers use.
//
// Each vCPU has a TLB set per privilege level (CPL 0 and CPL 3), each with a read, a write and
// a fetch array. An entry maps a virtual page to a host address by an addend, so a hit costs a
// tag compare and one add. Write entries are never installed for pages that hold decoded code:
// stores there take the slow path, which keeps the decoded-instruction cache coherent
// (see codecache.ts). A miss walks the page tables and raises #PF or #GP when it must.
//
// Alignment checking (CPL 3, CR0.AM and RFLAGS.AC all set) costs the fast path nothing: while
// it is on, the read and write arrays point at NEVER_HIT, so every load and store takes the
// slow path, which checks the alignment and fills no TLB entry.
import { ACTIVE, C_CR0, C_CR3, C_EFER, TLBS, RAM } from "./gen/layout";
import { CPL, cpuIndex } from "./state";
import { RF, AC } from "./flags";
import { FAULTED, raiseNonCanonical, raisePF, raiseAC } from "./fault";
import { RAM_SIZE, PAGE_MAP, NCPUS } from "./machine";
import { storePhys } from "./codewrite";
import {
  CR0_PG, CR0_WP, CR0_AM, EFER_NXE, PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS, PTE_NX, PTE_ADDR,
  PF_PRESENT, PF_WRITE, PF_USER, PF_RSVD, PF_FETCH,
} from "./gen/constants";

export const TLB_SET_SIZE: usize = 0x8000;
const TLB_CPL3: usize = 0x4000;
const TLB_READ: usize = 0x0000;
const TLB_WRITE: usize = 0x1000;
const TLB_FETCH: usize = 0x2000;
const TLB_WAYS: u64 = 255;       // read and write arrays: 256 entries
const TLB_FETCH_WAYS: u64 = 63;  // fetch array: 64 entries
const NO_TAG: u64 = 0xFFFF_FFFF_FFFF_FFFF;
/** translate() result after it raised a fault. */
export const NO_PA: u64 = 0xFFFF_FFFF_FFFF_FFFF;

export const ACC_READ: u32 = 0;
export const ACC_WRITE: u32 = 1;
export const ACC_FETCH: u32 = 2;

/**
 * The page instruction fetch is in, as a virtual page number and the physical-minus-virtual
 * addend; checked once per instruction, so it must be reset whenever translations change.
 */
export let CODE_VPN: u64 = NO_TAG;
export let CODE_ADD: u64 = 0;

@inline export function invalidateFetch(): void { CODE_VPN = NO_TAG; }

/** TLB arrays of the running vCPU at its current CPL. */
export let TLB_R: usize = TLBS;
export let TLB_W: usize = TLBS + TLB_WRITE;
export let TLB_X: usize = TLBS + TLB_FETCH;
let TLB_CPU: usize = TLBS;

/** A read/write array whose tags never match (filled by initTlbs, never written after). */
const NEVER_HIT: usize = memory.data(0x1000, 16);

/** Misaligned data accesses raise #AC: CPL 3 with CR0.AM and RFLAGS.AC set. */
export let ALIGN_CHECK: bool = false;

export function initTlbs(): void {
  memory.fill(NEVER_HIT, 0xFF, 0x1000);
}

export function selectTlb(cpu: u32): void {
  CODE_VPN = NO_TAG;
  TLB_CPU = TLBS + <usize>cpu * TLB_SET_SIZE;
  TLB_X = TLB_CPU + (CPL == 3 ? TLB_CPL3 : 0) + TLB_FETCH;
  updateAlignCheck();
}

/** Switches privilege level: the TLB set and the fetch page depend on it. */
export function changeCpl(cpl: u32): void {
  if (CPL == cpl) return;
  CPL = cpl;
  selectTlb(cpuIndex());
}

/**
 * Turns alignment checking on or off after CPL, CR0 or RFLAGS.AC may have changed (popf, iret,
 * sysret, syscall, interrupt delivery, a CR0 write, entering the run loop).
 */
export function updateAlignCheck(): void {
  ALIGN_CHECK = CPL == 3 && (RF & AC) != 0 && (load<u64>(ACTIVE + C_CR0) & CR0_AM) != 0;
  const set = TLB_CPU + (CPL == 3 ? TLB_CPL3 : 0);
  TLB_R = ALIGN_CHECK ? NEVER_HIT : set + TLB_READ;
  TLB_W = ALIGN_CHECK ? NEVER_HIT : set + TLB_WRITE;
}

/**
 * With alignment checking on, raises #AC(0) unless va is a multiple of n (a power of two). A
 * non-canonical address is #GP first; a page fault comes after #AC (as an AMD host shows:
 * a misaligned read of an unmapped page raises #AC).
 */
@inline export function aligned(va: u64, n: u32): bool {
  if (!ALIGN_CHECK || (<u32>va & (n - 1)) == 0) return true;
  return misaligned(va, n);
}

/** Raises the fault a misaligned access meets with alignment checks on; always false. */
function misaligned(va: u64, n: u32): bool {
  if (!canonical(va) || !canonical(va + n - 1)) raiseNonCanonical();
  else raiseAC();
  return false;
}

/** Forgets every translation of one vCPU (CR3 write, paging mode change). */
export function flushTlb(cpu: u32): void {
  const base = TLBS + <usize>cpu * TLB_SET_SIZE;
  for (let s: usize = 0; s < TLB_SET_SIZE; s += 16) store<u64>(base + s, NO_TAG);
}

/** Forgets one page in one vCPU's TLBs (invlpg, shootdown). */
export function flushTlbPage(cpu: u32, va: u64): void {
  const base = TLBS + <usize>cpu * TLB_SET_SIZE;
  const vpn = va >> 12;
  for (let s: usize = 0; s < 2; s++) {
    const set = base + s * TLB_CPL3;
    const i = (<usize>(vpn & TLB_WAYS)) << 4;
    const x = (<usize>(vpn & TLB_FETCH_WAYS)) << 4;
    if (load<u64>(set + TLB_READ + i) == vpn) store<u64>(set + TLB_READ + i, NO_TAG);
    if (load<u64>(set + TLB_WRITE + i) == vpn) store<u64>(set + TLB_WRITE + i, NO_TAG);
    if (load<u64>(set + TLB_FETCH + x) == vpn) store<u64>(set + TLB_FETCH + x, NO_TAG);
  }
}

/** Drops the write entries of every vCPU: a page just became a code page. */
export function flushAllWriteTlbs(): void {
  for (let c: u32 = 0; c < NCPUS; c++) {
    const base = TLBS + <usize>c * TLB_SET_SIZE;
    for (let s: usize = 0; s < 2; s++) {
      const w = base + s * TLB_CPL3 + TLB_WRITE;
      for (let i: usize = 0; i < 0x1000; i += 16) store<u64>(w + i, NO_TAG);
    }
  }
}

/** Whether va is a canonical 48-bit address: bits 63 to 47 all equal. */
@inline export function canonical(va: u64): bool {
  return <u64>((<i64>(va << 16)) >> 16) == va;
}

/**
 * Virtual to physical for the running vCPU. On failure raises #PF or #GP and returns NO_PA.
 * With CR0.PG clear the machine is flat: virtual equals physical, bounded by RAM.
 */
export function translate(va: u64, acc: u32): u64 {
  if (!canonical(va)) { raiseNonCanonical(); return NO_PA; }
  const user = CPL == 3 && !SYSTEM_ACCESS;
  const errBase: u64 = (acc == ACC_WRITE ? PF_WRITE : 0) | (user ? PF_USER : 0) | (acc == ACC_FETCH ? PF_FETCH : 0);
  const cr0 = load<u64>(ACTIVE + C_CR0);
  if ((cr0 & CR0_PG) == 0) {
    if (va >= RAM_SIZE) { raisePF(va, errBase | PF_RSVD); return NO_PA; }
    return va;
  }
  const nxe = (load<u64>(ACTIVE + C_EFER) & EFER_NXE) != 0;
  let table = load<u64>(ACTIVE + C_CR3) & PTE_ADDR;
  let allow: u64 = PTE_RW | PTE_US;
  let noExec = false;
  let pte: u64 = 0;
  let pteAddr: u64 = 0;
  let shift: u64 = 39;
  while (true) {
    pteAddr = table + ((va >> shift) & 511) * 8;
    if (pteAddr + 8 > RAM_SIZE) { raisePF(va, errBase | PF_RSVD); return NO_PA; }
    pte = load<u64>(RAM + <usize>pteAddr);
    if ((pte & PTE_P) == 0) { raisePF(va, errBase); return NO_PA; }
    // Reserved bits: PS in a PML4 entry, NX while EFER.NXE is clear.
    if ((shift == 39 && (pte & PTE_PS) != 0) || (!nxe && (pte & PTE_NX) != 0)) {
      raisePF(va, errBase | PF_PRESENT | PF_RSVD);
      return NO_PA;
    }
    allow &= pte;
    if (nxe && (pte & PTE_NX) != 0) noExec = true;
    if ((pte & PTE_A) == 0) store<u64>(RAM + <usize>pteAddr, pte | PTE_A);
    if (shift == 12 || ((pte & PTE_PS) != 0 && shift <= 30)) break;
    table = pte & PTE_ADDR;
    shift -= 9;
  }
  if (user && (allow & PTE_US) == 0) { raisePF(va, errBase | PF_PRESENT); return NO_PA; }
  if (acc == ACC_WRITE && (allow & PTE_RW) == 0 && (user || (cr0 & CR0_WP) != 0)) { raisePF(va, errBase | PF_PRESENT); return NO_PA; }
  if (acc == ACC_FETCH && noExec) { raisePF(va, errBase | PF_PRESENT); return NO_PA; }
  if (acc == ACC_WRITE && (pte & PTE_D) == 0) store<u64>(RAM + <usize>pteAddr, pte | PTE_A | PTE_D);
  const pageMask: u64 = (<u64>1 << shift) - 1;
  const pa = ((pte & PTE_ADDR) & ~pageMask) | (va & pageMask);
  if (pa >= RAM_SIZE) { raisePF(va, errBase | PF_PRESENT | PF_RSVD); return NO_PA; }
  return pa;
}

/** Set while the CPU itself reads a descriptor table: a supervisor access whatever the CPL. */
let SYSTEM_ACCESS = false;

/** A supervisor-privilege read the CPU makes on its own (descriptor tables); never cached. */
export function readSystem(va: u64, osz: u32): u64 {
  SYSTEM_ACCESS = true;
  const pa = translate(va, ACC_READ);
  SYSTEM_ACCESS = false;
  if (pa == NO_PA) return 0;
  return osz == 3 ? load<u64>(RAM + <usize>pa) : <u64>load<u32>(RAM + <usize>pa);
}

@inline function fill(arr: usize, ways: u64, va: u64, pa: u64): void {
  const t = arr + ((<usize>((va >> 12) & ways)) << 4);
  store<u64>(t, va >> 12);
  store<u64>(t, (<u64>RAM + (pa & ~<u64>0xFFF)) - (va & ~<u64>0xFFF), 8);
}

/** Translates for a data access and caches the result (not while alignment checks are on). */
export function translateData(va: u64, acc: u32): u64 {
  const pa = translate(va, acc);
  if (pa == NO_PA || ALIGN_CHECK) return pa;
  fill(TLB_R, TLB_WAYS, va, pa);
  if (acc == ACC_WRITE && load<u8>(PAGE_MAP + <usize>(pa >> 12)) == 0) fill(TLB_W, TLB_WAYS, va, pa);
  return pa;
}

/** Translates the page holding va for instruction fetch; NO_PA after a fault. */
export function translateFetch(va: u64): u64 {
  const t = TLB_X + ((<usize>((va >> 12) & TLB_FETCH_WAYS)) << 4);
  if (load<u64>(t) == va >> 12) return <u64>(<usize>(va + load<u64>(t, 8)) - RAM);
  const pa = translate(va, ACC_FETCH);
  if (pa == NO_PA) return NO_PA;
  fill(TLB_X, TLB_FETCH_WAYS, va, pa);
  return pa;
}

// ---------------------------------------------------------------- loads

@inline export function readMem(va: u64, osz: u32): u64 {
  const t = TLB_R + ((<usize>((va >> 12) & TLB_WAYS)) << 4);
  if (load<u64>(t) == va >> 12 && (<u32>va & 0xFFF) <= 0x1000 - (<u32>1 << osz)) {
    const h = <usize>(va + load<u64>(t, 8));
    if (osz == 3) return load<u64>(h);
    if (osz == 2) return <u64>load<u32>(h);
    if (osz == 1) return <u64>load<u16>(h);
    return <u64>load<u8>(h);
  }
  return readSlow(va, osz);
}

export function readSlow(va: u64, osz: u32): u64 {
  const n = <u32>1 << osz;
  if (!aligned(va, n)) return 0;
  if ((<u32>va & 0xFFF) + n > 0x1000) {
    let v: u64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const pa = translateData(va + i, ACC_READ);
      if (pa == NO_PA) return 0;
      v |= <u64>load<u8>(RAM + <usize>pa) << (<u64>i * 8);
    }
    return v;
  }
  const pa = translateData(va, ACC_READ);
  if (pa == NO_PA) return 0;
  const h = RAM + <usize>pa;
  if (osz == 3) return load<u64>(h);
  if (osz == 2) return <u64>load<u32>(h);
  if (osz == 1) return <u64>load<u16>(h);
  return <u64>load<u8>(h);
}

// ---------------------------------------------------------------- stores

@inline export function writeMem(va: u64, v: u64, osz: u32): void {
  const t = TLB_W + ((<usize>((va >> 12) & TLB_WAYS)) << 4);
  if (load<u64>(t) == va >> 12 && (<u32>va & 0xFFF) <= 0x1000 - (<u32>1 << osz)) {
    const h = <usize>(va + load<u64>(t, 8));
    if (osz == 3) store<u64>(h, v);
    else if (osz == 2) store<u32>(h, <u32>v);
    else if (osz == 1) store<u16>(h, <u16>v);
    else store<u8>(h, <u8>v);
    return;
  }
  writeSlow(va, v, osz);
}

export function writeSlow(va: u64, v: u64, osz: u32): void {
  if (FAULTED) return;
  const n = <u32>1 << osz;
  if (!aligned(va, n)) return;
  const off = <u32>va & 0xFFF;
  if (off + n > 0x1000) {
    // Both pages must be writable before any byte is stored.
    const first = 0x1000 - off;
    const pa0 = translateData(va, ACC_WRITE);
    if (pa0 == NO_PA) return;
    const pa1 = translateData(va + first, ACC_WRITE);
    if (pa1 == NO_PA) return;
    storePhys(pa0, v, first);
    storePhys(pa1, v >> (<u64>first * 8), n - first);
    return;
  }
  const pa = translateData(va, ACC_WRITE);
  if (pa == NO_PA) return;
  storePhys(pa, v, n);
}

/** Checks that va can be written (for instructions that must not half-complete). */
export function probeWrite(va: u64, osz: u32): bool {
  const n = <u64>1 << osz;
  if (!aligned(va, <u32>n)) return false;
  if (translateData(va, ACC_WRITE) == NO_PA) return false;
  if (((va & 0xFFF) + n) > 0x1000 && translateData(va + n - 1, ACC_WRITE) == NO_PA) return false;
  return true;
}
