// Breakpoints for the debugger, kept outside guest memory: guest text is never changed (patch
// sites stay byte-exact, and the cross-modifying-code checks see no debugger writes).
//
// The run loop asks breakpointLimit() once per block, and only while BP_COUNT is not zero, so
// a machine without breakpoints pays one global test per block. The table itself lives in the
// core's static data; the host writes it again after restoring a snapshot.
import { ENTRY_SIZE, E_NEXT, E_LEN } from "./gen/layout";

const MAX_BREAKPOINTS: u32 = 256;
const TABLE: usize = memory.data(<i32>(MAX_BREAKPOINTS * 8));

/** Breakpoints in the table; the run loop looks at nothing else when it is 0. */
export let BP_COUNT: u32 = 0;
/** Resuming from a breakpoint: the first instruction this run may execute at SKIP_RIP on SKIP_CPU. */
let SKIP_CPU: i32 = -1;
let SKIP_RIP: u64 = 0;

/** Host: sets slot i of the table to a virtual address. */
export function setBreakpoint(i: u32, addr: u64): void {
  if (i < MAX_BREAKPOINTS) store<u64>(TABLE + (<usize>i << 3), addr);
}

/** Host: how many slots are in use (0 switches the check off). */
export function setBreakpointCount(n: u32): void {
  BP_COUNT = n < MAX_BREAKPOINTS ? n : MAX_BREAKPOINTS;
}

/** Host: the next run of `cpu` may execute the instruction at `rip` once without stopping. */
export function skipBreakpoint(cpu: i32, rip: u64): void {
  SKIP_CPU = cpu;
  SKIP_RIP = rip;
}

function isBreakpoint(a: u64): bool {
  for (let i: u32 = 0; i < BP_COUNT; i++) {
    if (load<u64>(TABLE + (<usize>i << 3)) == a) return true;
  }
  return false;
}

/**
 * How many of the first n instructions of block b (decoded from the page of `rip`) run before
 * one at a breakpoint; 0 means stop before the first. The skip applies to the first block a
 * run looks at only: if an interrupt comes first, the breakpoint has not executed and still
 * stops when the handler returns to it.
 */
export function breakpointLimit(cpu: u32, b: usize, rip: u64, n: u64): u64 {
  const page = rip & ~<u64>0xFFF;
  const skip = SKIP_CPU == <i32>cpu && SKIP_RIP == rip;
  SKIP_CPU = -1;
  let e = b + ENTRY_SIZE;
  for (let i: u64 = 0; i < n; i++) {
    const a = page + <u64>load<u16>(e, E_NEXT) - <u64>load<u8>(e, E_LEN);
    if (isBreakpoint(a) && !(i == 0 && skip)) return i;
    e += ENTRY_SIZE;
  }
  return n;
}
