// Decoded basic blocks, and what keeps them coherent with memory.
//
// A block is up to 31 decoded instructions from one page, ending at an instruction that may
// change RIP or the mode (flag `end` in tools/opcodes.mjs), at the page end, or when full. It
// lives in a direct-mapped slot found by hashing the physical address of its first
// instruction, and records the page's code generation when it was decoded.
//
// Two maps after RAM say where decoded code is: a byte per 4 KiB page (such a page never gets
// a write TLB entry, so every store to it comes here) and a byte per 128-byte chunk. A store
// that changes the bytes of a chunk holding code bumps the page's generation, which retires
// every block decoded from that page, and sets PEND_CODE so the block running now stops after
// the storing instruction (x86 runs the new bytes of self-modifying code at once). Data that
// shares a page with hot code costs a slow-path store, not a re-decode; host writes (the
// loader, text_poke from TypeScript, debugger pokes) take the same path as guest stores.
import {
  DCACHE, DCACHE_SIZE, BLOCK_SLOT_SIZE, ENTRY_SIZE, B_TAG, B_GEN, B_COUNT, B_END, E_NEXT, RAM,
  M_DECODES, M_INVALIDATIONS, M_HOST_AGENT, ACTIVE, C_CPU_INDEX,
} from "./gen/layout";
import { PAGE_MAP, PAGE_GEN, CHUNK_MAP, FETCH_BUF, SCRATCH_BLOCK } from "./machine";
import { flushAllWriteTlbs, translateFetch, NO_PA } from "./mem";
import { decodeInsn, DECODED_END, DEC_NEED_MORE, DEC_UD } from "./decode";
import { raiseUD, raiseGP, setPending, PEND_CODE } from "./fault";
import { noteCodeWrite, hazardBytes } from "./xmc";

const SLOT_BITS: u32 = <u32>(31 - clz<u32>(<u32>(DCACHE_SIZE / BLOCK_SLOT_SIZE)));
const MAX_BLOCK: u32 = <u32>(BLOCK_SLOT_SIZE / ENTRY_SIZE) - 1;
const CHUNK_SHIFT: u32 = 7;
const CHUNKS_PER_PAGE: u32 = 4096 >> CHUNK_SHIFT;

@inline function slotFor(pa: u32): usize {
  return DCACHE + (<usize>((pa * 0x9E3779B1) >>> (32 - SLOT_BITS)) * BLOCK_SLOT_SIZE);
}

@inline function pageGen(pa: u32): usize {
  return PAGE_GEN + (<usize>(pa >> 12) << 2);
}

/** The cached, current block starting at pa, or 0. */
@inline export function lookupBlock(pa: u32): usize {
  const b = slotFor(pa);
  if (load<u32>(b + B_TAG) == pa + 1 && load<u32>(b + B_GEN) == load<u32>(pageGen(pa))) return b;
  return 0;
}

function decodeFault(r: i32): void {
  if (r == DEC_UD) raiseUD();
  else raiseGP(0);
}

/**
 * Decodes the block starting at pa (virtual address rip). Returns it, or 0 after raising the
 * fault its first instruction causes; later undecodable bytes just end the block, so the
 * fault happens when execution gets there.
 */
export function buildBlock(pa: u32, rip: u64): usize {
  const b = slotFor(pa);
  store<u32>(b + B_TAG, 0);
  const page = RAM + <usize>(pa & ~0xFFF);
  let off = pa & 0xFFF;
  let count: u32 = 0;
  while (count < MAX_BLOCK) {
    const room = 0x1000 - off;
    const n: u32 = room < 15 ? room : 15;
    memory.copy(FETCH_BUF, page + off, n);
    const e = b + <usize>(count + 1) * ENTRY_SIZE;
    const r = decodeInsn(e, FETCH_BUF, n);
    if (r == DEC_NEED_MORE) {
      if (count > 0) break;
      return crossPageBlock(rip, n);
    }
    if (r < 0) {
      if (count > 0) break;
      decodeFault(r);
      return 0;
    }
    off += <u32>r;
    store<u16>(e + E_NEXT, <u16>off);
    count++;
    if (DECODED_END || off >= 0x1000) break;
  }
  store<u32>(b + B_GEN, load<u32>(pageGen(pa)));
  store<u32>(b + B_COUNT, count);
  store<u32>(b + B_END, off);
  store<u32>(b + B_TAG, pa + 1);
  markCode(pa, (pa & ~0xFFF) + off - pa);
  return b;
}

/** One instruction that straddles two pages, decoded into a scratch block that is never cached. */
function crossPageBlock(rip: u64, n: u32): usize {
  const pa2 = translateFetch(rip + n);
  if (pa2 == NO_PA) return 0;
  memory.copy(FETCH_BUF + n, RAM + <usize>pa2, 15 - n);
  const e = SCRATCH_BLOCK + ENTRY_SIZE;
  const r = decodeInsn(e, FETCH_BUF, 15);
  if (r < 0) { decodeFault(r); return 0; }
  const next = <u32>(rip & 0xFFF) + <u32>r;
  store<u16>(e + E_NEXT, <u16>next);
  store<u32>(SCRATCH_BLOCK + B_COUNT, 1);
  store<u32>(SCRATCH_BLOCK + B_END, next);
  return SCRATCH_BLOCK;
}

/**
 * Decodes the instruction at pa as a vCPU that has not serialized may see it (old or torn
 * bytes, per the hazard policy) into the scratch block; returns its entry, or 0 after a fault.
 */
export function decodeHazard(pa: u64, len: u32): usize {
  const room = 0x1000 - <u32>(pa & 0xFFF);
  const n: u32 = room < 15 ? room : 15;
  memory.copy(FETCH_BUF, RAM + <usize>pa, n);
  hazardBytes(FETCH_BUF, pa, len);
  const e = SCRATCH_BLOCK + ENTRY_SIZE;
  const r = decodeInsn(e, FETCH_BUF, n);
  if (r < 0) { decodeFault(r == DEC_NEED_MORE ? DEC_UD : r); return 0; }
  store<u16>(e + E_NEXT, <u16>(<u32>(pa & 0xFFF) + <u32>r));
  return e;
}

/** Records that len bytes at pa hold decoded code. */
function markCode(pa: u32, len: u32): void {
  const page = PAGE_MAP + <usize>(pa >> 12);
  if (load<u8>(page) == 0) {
    store<u8>(page, 1);
    flushAllWriteTlbs();
  }
  for (let c = pa >> CHUNK_SHIFT; c <= (pa + len - 1) >> CHUNK_SHIFT; c++) store<u8>(CHUNK_MAP + <usize>c, 1);
  store<u64>(M_DECODES, load<u64>(M_DECODES) + 1);
}

/**
 * Retires every block decoded from the page holding pa. The chunk marks stay: a chunk that
 * once held code keeps having its stores checked and logged, so a patch made of several
 * stores is logged whole even after the first one retired the blocks.
 */
function retirePage(pa: u64): void {
  const g = pageGen(<u32>pa);
  store<u32>(g, load<u32>(g) + 1);
  store<u64>(M_INVALIDATIONS, load<u64>(M_INVALIDATIONS) + 1);
}

@inline function chunkHasCode(pa: u64): bool {
  return load<u8>(CHUNK_MAP + <usize>(pa >> CHUNK_SHIFT)) != 0;
}

function sameBytes(pa: u64, v: u64, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(RAM + <usize>pa + i) != <u8>(v >> (<u64>i * 8))) return false;
  }
  return true;
}

function storeBytes(h: usize, v: u64, n: u32): void {
  if (n == 8) store<u64>(h, v);
  else if (n == 4) store<u32>(h, <u32>v);
  else if (n == 2) store<u16>(h, <u16>v);
  else if (n == 1) store<u8>(h, <u8>v);
  else for (let i: u32 = 0; i < n; i++) store<u8>(h + i, <u8>(v >> (<u64>i * 8)));
}

/** Staging for the new bytes of a guest store to code (the XMC log wants them in memory). */
const STORE_BUF: usize = FETCH_BUF + 32;

/** A guest store of n <= 8 bytes within one page of physical memory. */
export function storePhys(pa: u64, v: u64, n: u32): void {
  if (load<u8>(PAGE_MAP + <usize>(pa >> 12)) != 0 &&
      (chunkHasCode(pa) || chunkHasCode(pa + n - 1)) && !sameBytes(pa, v, n)) {
    store<u64>(STORE_BUF, v);
    noteCodeWrite(pa, STORE_BUF, n, load<u32>(ACTIVE + C_CPU_INDEX));
    retirePage(pa);
    setPending(PEND_CODE);
  }
  storeBytes(RAM + <usize>pa, v, n);
}

/** A host write of len bytes from src to physical memory, coherent like a guest store. */
export function hostWritePhys(pa: u64, src: usize, len: u32): void {
  if (len == 0) return;
  const last = pa + len - 1;
  for (let p = pa >> 12; p <= last >> 12; p++) {
    if (load<u8>(PAGE_MAP + <usize>p) == 0) continue;
    const lo = max(p << 12, pa), hi = min((p << 12) + 0xFFF, last);
    let code = false;
    for (let c = lo >> CHUNK_SHIFT; c <= hi >> CHUNK_SHIFT; c++) code = code || chunkHasCode(c << CHUNK_SHIFT);
    if (code && memory.compare(RAM + <usize>lo, src + <usize>(lo - pa), <usize>(hi - lo + 1)) != 0) {
      noteCodeWrite(lo, src + <usize>(lo - pa), <u32>(hi - lo + 1), load<u32>(M_HOST_AGENT));
      retirePage(lo);
    }
  }
  memory.copy(RAM + <usize>pa, src, len);
}
