// The run loop: fetch from the decoded cache, execute, and look at PENDING once per instruction.
import {
  ACTIVE, CPUS, CPU_BLOCK_SIZE, RAM, E_TAG, E_LEN,
  C_RIP, C_RFLAGS, C_CPL, C_INSNS, C_EXIT_REASON, C_EXIT_VECTOR, C_EXIT_ERROR, C_EXIT_ADDR, C_EXIT_RIP,
  EXIT_NONE, EXIT_BUDGET, EXIT_FAULT,
} from "./gen/layout";
import { dispatch } from "./gen/dispatch";
import { RIP, CPL } from "./state";
import { getFlags, loadFlags } from "./flags";
import {
  PENDING, PEND_FAULT, PEND_EXIT, FAULTED, FAULT_VECTOR, FAULT_ERROR, FAULT_ADDR, FAULT_IS_TRAP,
  clearFault, raiseUD, raiseGP, clearPending,
} from "./fault";
import { CODE_VPN, CODE_ADD, NO_PA, selectTlb, translateFetch } from "./mem";
import { entryFor, markCode } from "./codecache";
import { decodeInsn, DEC_NEED_MORE, DEC_UD } from "./decode";
import { FETCH_BUF, SCRATCH_ENTRY } from "./machine";

/** Why the current run() will stop (set with requestExit). */
let EXIT: u32 = EXIT_NONE;
/** Instructions retired by the running vCPU (rdtsc reads it). */
export let ICOUNT: u64 = 0;

export function requestExit(reason: u32): void {
  EXIT = reason;
  PENDING |= PEND_EXIT;
}

@inline function block(cpu: u32): usize {
  return CPUS + <usize>cpu * CPU_BLOCK_SIZE;
}

function enterCpu(cpu: u32): void {
  memory.copy(ACTIVE, block(cpu), CPU_BLOCK_SIZE);
  RIP = load<u64>(ACTIVE + C_RIP);
  loadFlags(load<u64>(ACTIVE + C_RFLAGS));
  CPL = load<u32>(ACTIVE + C_CPL);
  ICOUNT = load<u64>(ACTIVE + C_INSNS);
  selectTlb(cpu);
}

function leaveCpu(cpu: u32): void {
  store<u64>(ACTIVE + C_RIP, RIP);
  store<u64>(ACTIVE + C_RFLAGS, getFlags());
  store<u32>(ACTIVE + C_CPL, CPL);
  store<u64>(ACTIVE + C_INSNS, ICOUNT);
  memory.copy(block(cpu), ACTIVE, CPU_BLOCK_SIZE);
}

/** Points the fetch page at rip's page; false after raising a fault. */
function refillCode(rip: u64): bool {
  const pa = translateFetch(rip);
  if (pa == NO_PA) return false;
  CODE_VPN = rip >> 12;
  CODE_ADD = (pa & ~<u64>0xFFF) - (rip & ~<u64>0xFFF);
  return true;
}

/** Decodes the instruction at pa into its cache slot e. Returns the record, or 0 after a fault. */
function fill(e: usize, pa: u32, rip: u64): usize {
  store<u32>(e + E_TAG, 0);
  const room = 0x1000 - (pa & 0xFFF);
  const n: u32 = room < 15 ? room : 15;
  memory.copy(FETCH_BUF, RAM + <usize>pa, n);
  let r = decodeInsn(e, FETCH_BUF, n);
  if (r == DEC_NEED_MORE) {
    // The instruction runs onto the next page: fetch from there too, and do not cache it.
    const pa2 = translateFetch(rip + n);
    if (pa2 == NO_PA) return 0;
    memory.copy(FETCH_BUF + n, RAM + <usize>pa2, 15 - n);
    r = decodeInsn(SCRATCH_ENTRY, FETCH_BUF, 15);
    if (r < 0) { decodeFault(r); return 0; }
    return SCRATCH_ENTRY;
  }
  if (r < 0) { decodeFault(r); return 0; }
  store<u32>(e + E_TAG, pa + 1);
  markCode(pa, <u32>r);
  return e;
}

function decodeFault(r: i32): void {
  if (r == DEC_UD) raiseUD();
  else raiseGP(0);
}

/** Records a fault the machine does not deliver and stops the run. */
function faultExit(rip: u64): void {
  store<u32>(ACTIVE + C_EXIT_VECTOR, FAULT_VECTOR);
  store<u64>(ACTIVE + C_EXIT_ERROR, FAULT_ERROR);
  store<u64>(ACTIVE + C_EXIT_ADDR, FAULT_ADDR);
  store<u64>(ACTIVE + C_EXIT_RIP, rip);
  clearFault();
  requestExit(EXIT_FAULT);
}

/**
 * Runs vCPU `cpu` for at most `budget` instructions. Returns the exit reason; details are in
 * the CPU block's exit fields.
 */
export function run(cpu: u32, budget: u64): u32 {
  enterCpu(cpu);
  EXIT = EXIT_NONE;
  clearPending(PEND_EXIT);
  let left = budget;
  while (left != 0) {
    const rip = RIP;
    let e: usize = 0;
    if ((rip >> 12) == CODE_VPN || refillCode(rip)) {
      const pa = <u32>(rip + CODE_ADD);
      e = entryFor(pa);
      if (load<u32>(e + E_TAG) != pa + 1) e = fill(e, pa, rip);
    }
    if (e != 0) {
      RIP = rip + <u64>load<u8>(e + E_LEN);
      dispatch(e);
      left--;
      ICOUNT++;
    }
    if (PENDING != 0) {
      if (PENDING & PEND_FAULT) {
        if (!FAULT_IS_TRAP) {
          RIP = rip;
          if (e != 0) { left++; ICOUNT--; }
        }
        faultExit(rip);
      }
      if (PENDING & PEND_EXIT) {
        clearPending(PEND_EXIT);
        break;
      }
    }
  }
  if (EXIT == EXIT_NONE) EXIT = EXIT_BUDGET;
  store<u32>(ACTIVE + C_EXIT_REASON, EXIT);
  leaveCpu(cpu);
  return EXIT;
}

