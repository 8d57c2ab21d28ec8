// The decoded-instruction cache and what keeps it coherent with memory.
//
// Decoded instructions live in a direct-mapped table indexed by physical address. Two maps
// after RAM say where decoded code is: one byte per 4 KiB page and one per 128-byte chunk.
// A page that holds code never gets a write TLB entry, so every store to it comes here; only
// a store into a chunk that holds code and changes its bytes drops the entries that could
// overlap it. Data sharing a page with hot code therefore costs a slow-path store, not a
// flush, and a host write (text_poke from TypeScript, a debugger poke) takes the same path as
// a guest store.
import { DCACHE, DCACHE_SIZE, ENTRY_SIZE, E_TAG, RAM, M_DECODES, M_INVALIDATIONS } from "./gen/layout";
import { PAGE_MAP, CHUNK_MAP } from "./machine";
import { flushAllWriteTlbs } from "./mem";

export const DC_MASK: u32 = <u32>(DCACHE_SIZE / ENTRY_SIZE) - 1;
const CHUNK_SHIFT: u64 = 7;
const MAX_INSN: u32 = 15;

@inline export function entryFor(pa: u32): usize {
  return DCACHE + (<usize>(pa & DC_MASK) << 5);
}

/** Records that an instruction of len bytes at pa was decoded into the cache. */
export function markCode(pa: u32, len: u32): void {
  const page = PAGE_MAP + <usize>(pa >> 12);
  if (load<u8>(page) == 0) {
    store<u8>(page, 1);
    flushAllWriteTlbs();
  }
  store<u8>(CHUNK_MAP + <usize>(pa >> <u32>CHUNK_SHIFT), 1);
  store<u8>(CHUNK_MAP + <usize>((pa + len - 1) >> <u32>CHUNK_SHIFT), 1);
  store<u64>(M_DECODES, load<u64>(M_DECODES) + 1);
}

/** Drops every cached instruction that could overlap chunk c. */
function invalidateChunk(c: u64): void {
  const start = c << CHUNK_SHIFT;
  const from = start >= MAX_INSN ? start - MAX_INSN : 0;
  let dropped: u64 = 0;
  for (let a = from; a < start + 128; a++) {
    const e = entryFor(<u32>a);
    if (load<u32>(e + E_TAG) == <u32>a + 1) { store<u32>(e + E_TAG, 0); dropped++; }
  }
  store<u8>(CHUNK_MAP + <usize>c, 0);
  store<u64>(M_INVALIDATIONS, load<u64>(M_INVALIDATIONS) + dropped);
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

/** A guest store of n <= 8 bytes to physical memory, keeping decoded code coherent. */
export function storePhys(pa: u64, v: u64, n: u32): void {
  if (load<u8>(PAGE_MAP + <usize>(pa >> 12)) != 0) {
    const c0 = pa >> CHUNK_SHIFT, c1 = (pa + n - 1) >> CHUNK_SHIFT;
    const code = load<u8>(CHUNK_MAP + <usize>c0) != 0 || load<u8>(CHUNK_MAP + <usize>c1) != 0;
    if (code && !sameBytes(pa, v, n)) {
      invalidateChunk(c0);
      if (c1 != c0) invalidateChunk(c1);
    }
  }
  storeBytes(RAM + <usize>pa, v, n);
}

/**
 * A host write of len bytes from src to physical memory (loader, text_poke, debugger). Goes
 * through the same invalidation as guest stores.
 */
export function hostWritePhys(pa: u64, src: usize, len: u32): void {
  if (len == 0) return;
  const last = pa + len - 1;
  for (let c = pa >> CHUNK_SHIFT; c <= last >> CHUNK_SHIFT; c++) {
    if (load<u8>(CHUNK_MAP + <usize>c) == 0) continue;
    const lo = max(c << CHUNK_SHIFT, pa), hi = min((c << CHUNK_SHIFT) + 127, last);
    if (memory.compare(RAM + <usize>lo, src + <usize>(lo - pa), <usize>(hi - lo + 1)) != 0) invalidateChunk(c);
  }
  memory.copy(RAM + <usize>pa, src, len);
}
