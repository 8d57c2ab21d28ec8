// Stores to physical memory that may hold decoded code: the path that keeps the decoded-block
// cache (codecache.ts) coherent with memory.
//
// Two maps after RAM say where decoded code is: a byte per 4 KiB page and a byte per 128-byte
// chunk (codecache.ts sets them when it decodes a block). A store that changes bytes of a
// chunk holding code is logged for the cross-modifying-code checks (xmc.ts), bumps the page's
// code generation, which retires every block decoded from that page, and, for a guest store,
// sets PEND_CODE so the running block stops after the storing instruction. Guest stores come
// here from mem.ts (pages with code never get a write TLB entry); host writes from index.ts.
import { RAM, M_INVALIDATIONS, M_HOST_AGENT } from "./gen/layout";
import { PAGE_MAP, PAGE_GEN, CHUNK_MAP, FETCH_BUF } from "./machine";
import { setPending, PEND_CODE } from "./fault";
import { noteCodeWrite } from "./xmc";
import { cpuIndex } from "./state";

/** log2 of the bytes one chunk-map entry covers. */
export const CHUNK_SHIFT: u32 = 7;

/** The code generation counter of the page holding pa. */
@inline export function pageGen(pa: u32): usize {
  return PAGE_GEN + (<usize>(pa >> 12) << 2);
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
    noteCodeWrite(pa, STORE_BUF, n, cpuIndex());
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
