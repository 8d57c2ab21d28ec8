// Machine-wide values the core reads often, cached in globals by init().
import { M_RAM_SIZE, M_PAGE_MAP, M_PAGE_GEN, M_CHUNK_MAP, M_NCPUS, M_OPTIONS, M_VENDOR, RAM, IOBUF, IOBUF_SIZE } from "./gen/layout";

export let RAM_SIZE: u64 = 0;
export let PAGE_MAP: usize = 0;
export let PAGE_GEN: usize = 0;
export let CHUNK_MAP: usize = 0;
export let NCPUS: u32 = 1;
export let OPTIONS: u32 = 0;
/** The vendor profile (CpuVendor): decides the few behaviours where Intel and AMD parts differ. */
export let VENDOR: u32 = 0;

/** Bytes of the instruction being decoded (up to 15, plus slack). */
export const FETCH_BUF: usize = IOBUF + IOBUF_SIZE - 64;
/** A one-instruction block for an instruction that straddles two pages; never cached. */
export const SCRATCH_BLOCK: usize = IOBUF + IOBUF_SIZE - 128;
/** Bytes of an instruction as they were before a cross-modifying-code hazard (16 + slack). */
export const HAZARD_BUF: usize = IOBUF + IOBUF_SIZE - 192;
/** A record for decoding on behalf of the host. */
export const HOST_ENTRY: usize = IOBUF + IOBUF_SIZE - 160;

export function loadMachineGlobals(): void {
  RAM_SIZE = <u64>load<u32>(M_RAM_SIZE);
  PAGE_MAP = <usize>load<u32>(M_PAGE_MAP);
  PAGE_GEN = <usize>load<u32>(M_PAGE_GEN);
  CHUNK_MAP = <usize>load<u32>(M_CHUNK_MAP);
  NCPUS = load<u32>(M_NCPUS);
  OPTIONS = load<u32>(M_OPTIONS);
  VENDOR = load<u32>(M_VENDOR);
}

@inline export function hostAddr(pa: u64): usize {
  return RAM + <usize>pa;
}
