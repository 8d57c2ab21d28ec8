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
// That store path is codewrite.ts; this file builds and finds blocks.
import {
  DCACHE, DCACHE_SIZE, BLOCK_SLOT_SIZE, ENTRY_SIZE, B_TAG, B_GEN, B_COUNT, B_END, E_NEXT, RAM, M_DECODES,
} from "./gen/layout";
import { PAGE_MAP, CHUNK_MAP, FETCH_BUF, SCRATCH_BLOCK } from "./machine";
import { flushAllWriteTlbs, translateFetch, NO_PA } from "./mem";
import { pageGen, CHUNK_SHIFT } from "./codewrite";
import { decodeInsn, DECODED_END, DEC_NEED_MORE, DEC_UD } from "./decode";
import { raiseUD, raiseGP } from "./fault";
import { hazardBytes } from "./xmc";

const SLOT_BITS: u32 = <u32>(31 - clz<u32>(<u32>(DCACHE_SIZE / BLOCK_SLOT_SIZE)));
const MAX_BLOCK: u32 = <u32>(BLOCK_SLOT_SIZE / ENTRY_SIZE) - 1;

@inline function slotFor(pa: u32): usize {
  return DCACHE + (<usize>((pa * 0x9E3779B1) >>> (32 - SLOT_BITS)) * BLOCK_SLOT_SIZE);
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
