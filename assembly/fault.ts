// The single fault path.
//
// Handlers never unwind: an instruction that faults calls raise(), which records the exception
// and sets PENDING. Memory helpers return 0 after a fault, and handlers check FAULTED before
// committing anything (register writes, flags, RIP), so a faulting instruction leaves no trace.
// The run loop then rewinds RIP to the instruction (for faults; traps keep the next RIP) and
// delivers the exception through the IDT or stops with an exit, as the machine is configured.
import { VECTOR_AC, VECTOR_DE, VECTOR_GP, VECTOR_PF, VECTOR_UD } from "./gen/constants";

/** Bits of PENDING: something for the run loop to look at after the current instruction. */
export const PEND_FAULT: u32 = 1;
export const PEND_EXIT: u32 = 2;
export const PEND_IRQ: u32 = 4;
export const PEND_SERIALIZE: u32 = 8;
/** A store changed decoded code: the running block may be stale. */
export const PEND_CODE: u32 = 16;

/** Nonzero when the run loop must act after this instruction (one test per instruction). */
export let PENDING: u32 = 0;
/** True from raise() until the fault is delivered: handlers stop committing when they see it. */
export let FAULTED: bool = false;
export let FAULT_VECTOR: u32 = 0;
export let FAULT_ERROR: u64 = 0;
export let FAULT_HAS_ERROR: bool = false;
/** Linear address for #PF (becomes CR2 when delivered). */
export let FAULT_ADDR: u64 = 0;
/** A trap reports the address after the instruction; a fault the instruction itself. */
export let FAULT_IS_TRAP: bool = false;
/** A software interrupt (int n, int3): delivery checks the gate's DPL against the CPL. */
export let FAULT_SOFTWARE: bool = false;
/** The fault is a non-canonical address: #GP, or #SS when the access was stack-relative. */
export let FAULT_NONCANONICAL: bool = false;

@inline export function setPending(bits: u32): void { PENDING |= bits; }
export function clearPending(bits: u32): void { PENDING &= ~bits; }

export function raise(vector: u32, error: u64, hasError: bool): void {
  if (FAULTED) return; // the first fault of an instruction wins
  FAULTED = true;
  FAULT_VECTOR = vector;
  FAULT_ERROR = error;
  FAULT_HAS_ERROR = hasError;
  FAULT_IS_TRAP = false;
  FAULT_SOFTWARE = false;
  FAULT_NONCANONICAL = false;
  PENDING |= PEND_FAULT;
}

/** A non-canonical linear address: #GP(0) here; the run loop makes it #SS(0) for stack accesses. */
export function raiseNonCanonical(): void {
  if (FAULTED) return;
  raise(VECTOR_GP, 0, true);
  FAULT_NONCANONICAL = true;
}

/** A trap-class exception (the single-step #DB, int1): RIP points after the instruction. */
export function raiseTrap(vector: u32): void {
  if (FAULTED) return;
  raise(vector, 0, false);
  FAULT_IS_TRAP = true;
}

/** int n, int3: a trap delivered as a software interrupt (the gate's DPL must allow the CPL). */
export function raiseSoftware(vector: u32): void {
  if (FAULTED) return;
  raiseTrap(vector);
  FAULT_SOFTWARE = true;
}

/**
 * Set by an instruction that began with TF set but is not followed by a single-step trap:
 * syscall, whose SFMASK cleared TF, and mov ss, which holds debug traps off for one more
 * instruction. The run loop reads and clears it after each single-stepped instruction.
 */
export let STEP_SKIP: bool = false;
export function skipStepTrap(): void { STEP_SKIP = true; }
export function clearStepSkip(): void { STEP_SKIP = false; }

/**
 * A read-modify-write instruction whose read faulted: the CPU reports the page fault as a
 * write (error code bit 1), since it asked for the line to write it.
 */
export function asWriteFault(): void {
  if (FAULT_VECTOR == VECTOR_PF) FAULT_ERROR |= 2;
}

export function raiseUD(): void { raise(VECTOR_UD, 0, false); }
export function raiseGP(error: u64): void { raise(VECTOR_GP, error, true); }
export function raiseDE(): void { raise(VECTOR_DE, 0, false); }
/** Alignment check: a misaligned access at CPL 3 with CR0.AM and RFLAGS.AC set. */
export function raiseAC(): void { raise(VECTOR_AC, 0, true); }

export function raisePF(addr: u64, error: u64): void {
  if (FAULTED) return;
  raise(VECTOR_PF, error, true);
  FAULT_ADDR = addr;
}

/** Called by the run loop once the fault has been handled. */
export function clearFault(): void {
  FAULTED = false;
  PENDING &= ~PEND_FAULT;
}
