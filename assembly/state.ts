// State of the vCPU that is running now.
//
// The CPU block of the running vCPU is copied to the ACTIVE region on entry to run() and back
// on exit, so registers have fixed addresses. RIP, the flags and the TLB pointers live in wasm
// globals while the core runs and are written back to the block whenever run() returns, so
// TypeScript always reads a complete, materialized state between runs.
import { ACTIVE, C_REGS, C_CPU_INDEX, E_NEXT, E_LEN, ENTRY_SIZE, EXIT_NONE } from "./gen/layout";
import { setPending, PEND_EXIT } from "./fault";

/** The running vCPU's number. */
@inline export function cpuIndex(): u32 { return load<u32>(ACTIVE + C_CPU_INDEX); }

/** Register-file byte offsets (C_REGS is 0: an offset is also the address minus ACTIVE). */
export const REG_RAX: u32 = 0;
export const REG_RCX: u32 = 8;
export const REG_RDX: u32 = 16;
export const REG_RBX: u32 = 24;
export const REG_RSP: u32 = 32;
export const REG_RBP: u32 = 40;
export const REG_RSI: u32 = 48;
export const REG_RDI: u32 = 56;
export const REG_R11: u32 = 88;
/** A slot that always reads zero: "no base" and "no index" point here. */
export const REG_ZERO: u32 = 128;

/**
 * Instruction pointer of the running vCPU. While a block runs it already holds the address
 * after the block's last instruction; handlers that branch assign it (they always end a block)
 * and handlers that need their own address use thisRip()/nextRip().
 */
export let RIP: u64 = 0;
/** Virtual address of the page the running block was decoded from. */
export let BLOCK_PAGE: u64 = 0;

/** First entry of the running block: an entry's index in it gives the exact instruction count. */
export let BLOCK_FIRST: usize = 0;
/** Instructions retired by the running vCPU before the running block. */
export let ICOUNT: u64 = 0;
/** The running vCPU's virtual time before the running block (instructions plus time halted). */
export let CLOCK: u64 = 0;
/** Why the current run() will stop (set with requestExit). */
export let EXIT: u32 = EXIT_NONE;

export function requestExit(reason: u32): void {
  EXIT = reason;
  setPending(PEND_EXIT);
}

/** Position of instruction e in the running block. */
@inline function indexInBlock(e: usize): u64 {
  return <u64>((e - BLOCK_FIRST) / ENTRY_SIZE);
}

/** Instructions retired by the running vCPU before instruction e. */
export function retiredBefore(e: usize): u64 {
  return ICOUNT + indexInBlock(e);
}

/** The running vCPU's virtual time when instruction e starts (rdtsc reads it). */
export function clockAt(e: usize): u64 {
  return CLOCK + indexInBlock(e);
}

/** Address of the instruction after e. */
@inline export function nextRip(e: usize): u64 {
  return BLOCK_PAGE + <u64>load<u16>(e, E_NEXT);
}

/** Address of instruction e itself. */
@inline export function thisRip(e: usize): u64 {
  return nextRip(e) - <u64>load<u8>(e, E_LEN);
}
/** Current privilege level, 0 or 3. */
export let CPL: u32 = 0;

@inline export function regAddr(off: u32): usize {
  return ACTIVE + C_REGS + <usize>off;
}

// Register accesses put ACTIVE in the instruction's constant offset, so the engine can fold it
// into the address instead of adding it in 32-bit arithmetic first.

@inline export function reg64(off: u32): u64 {
  return load<u64>(<usize>off, ACTIVE + C_REGS);
}

@inline export function setReg64(off: u32, v: u64): void {
  store<u64>(<usize>off, v, ACTIVE + C_REGS);
}

/** Reads a register at operand size osz (0 = 8 ... 3 = 64 bits), zero-extended. */
@inline export function getReg(off: u32, osz: u32): u64 {
  const a = <usize>off;
  if (osz == 3) return load<u64>(a, ACTIVE + C_REGS);
  if (osz == 2) return <u64>load<u32>(a, ACTIVE + C_REGS);
  if (osz == 1) return <u64>load<u16>(a, ACTIVE + C_REGS);
  return <u64>load<u8>(a, ACTIVE + C_REGS);
}

/** Writes a register at operand size osz; 32-bit writes zero the upper half, 8/16-bit keep it. */
@inline export function setReg(off: u32, osz: u32, v: u64): void {
  const a = <usize>off;
  if (osz == 3) store<u64>(a, v, ACTIVE + C_REGS);
  else if (osz == 2) store<u64>(a, v & 0xFFFF_FFFF, ACTIVE + C_REGS);
  else if (osz == 1) store<u16>(a, <u16>v, ACTIVE + C_REGS);
  else store<u8>(a, <u8>v, ACTIVE + C_REGS);
}

@inline export function sizeMask(osz: u32): u64 {
  return osz == 3 ? 0xFFFF_FFFF_FFFF_FFFF : ((<u64>1 << (<u64>8 << osz)) - 1);
}

@inline export function signBit(v: u64, osz: u32): u64 {
  return (v >> ((<u64>8 << osz) - 1)) & 1;
}

/** Sign-extends the low 8 << osz bits of v to 64 bits. */
@inline export function signExtend(v: u64, osz: u32): u64 {
  const sh = <u64>64 - (<u64>8 << osz);
  return <u64>((<i64>(v << sh)) >> sh);
}
