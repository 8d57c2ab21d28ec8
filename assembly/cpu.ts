// The run loop: between blocks it takes timer ticks, interrupts and halts into account; inside
// a block it runs decoded instructions and looks at PENDING once per instruction.
//
// Single-stepping: an instruction that begins with RFLAGS.TF set runs alone, and a #DB trap
// follows it (SDM Vol. 3 "Single-Step Exception Condition") unless it raised an exception of
// its own, ended in an exit to the host (a system call the host serves), or skipped the trap
// (syscall masking TF, mov ss). popf, iret and sysret end their blocks, so the instruction
// after one that sets TF starts a block and is the first one stepped. TF is mirrored in the
// shadow word (SHADOW_STEP) next to the interrupt shadow, so the loop reads one word per
// block for both, as it did for the shadow alone.
import {
  ACTIVE, CPUS, CPU_BLOCK_SIZE, ENTRY_SIZE, B_COUNT, B_END, E_LEN,
  C_RIP, C_RFLAGS, C_CPL, C_INSNS, C_CLOCK, C_HALTED, C_SHADOW, C_TIMER_DEADLINE,
  C_EXIT_REASON, C_EXIT_VECTOR, C_EXIT_ERROR, C_EXIT_ADDR, C_EXIT_RIP,
  EXIT_NONE, EXIT_BUDGET, EXIT_BREAKPOINT, EXIT_FAULT, EXIT_HALT, EXIT_HAZARD, EXIT_TRIPLE_FAULT, OPTION_FAULT_EXITS,
  E_FLAGS, ENTRYFLAG_STACK,
  XMCPOLICY_NEW, XMCPOLICY_STOP, M_XMC_POLICY, EVENTKIND_TRIPLE_FAULT,
} from "./gen/layout";
import { dispatch } from "./gen/dispatch";
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- BLOCK_FIRST is only assigned here: the assignment is the point
import { RIP, CPL, BLOCK_PAGE, BLOCK_FIRST, ICOUNT, CLOCK, EXIT, requestExit, nextRip, thisRip } from "./state";
import { getFlags, loadFlags } from "./flags";
import {
  PENDING, PEND_FAULT, PEND_EXIT, PEND_CODE, PEND_IRQ, FAULT_VECTOR, FAULT_ERROR, FAULT_HAS_ERROR, FAULT_ADDR,
  FAULT_IS_TRAP, FAULT_SOFTWARE, FAULT_NONCANONICAL, STEP_SKIP, clearFault, clearPending, clearStepSkip, raiseTrap,
} from "./fault";
import { CODE_VPN, CODE_ADD, NO_PA, selectTlb, translateFetch } from "./mem";
import { lookupBlock, buildBlock, decodeHazard } from "./codecache";
import { OPTIONS } from "./machine";
import {
  deliver, takeInterrupt, updateIrq, timerFires, syncStepping, DELIVER_FAULT, DELIVER_SOFTWARE, SHADOW_IRQ, SHADOW_STEP,
} from "./interrupts";
import { unsynchronized, check, reportHazard, logCodeWrites } from "./xmc";
import { logEvent } from "./events";
import { BP_COUNT, breakpointLimit } from "./debug";
import { VECTOR_DB, VECTOR_SS } from "./gen/constants";

@inline function block(cpu: u32): usize {
  return CPUS + <usize>cpu * CPU_BLOCK_SIZE;
}

function enterCpu(cpu: u32): void {
  memory.copy(ACTIVE, block(cpu), CPU_BLOCK_SIZE);
  RIP = load<u64>(ACTIVE + C_RIP);
  loadFlags(load<u64>(ACTIVE + C_RFLAGS));
  CPL = load<u32>(ACTIVE + C_CPL);
  ICOUNT = load<u64>(ACTIVE + C_INSNS);
  CLOCK = load<u64>(ACTIVE + C_CLOCK);
  selectTlb(cpu);
  clearPending(PEND_EXIT | PEND_CODE);
  clearStepSkip();
  syncStepping(); // the host may have changed RFLAGS
  updateIrq();
}

function leaveCpu(cpu: u32): void {
  store<u64>(ACTIVE + C_RIP, RIP);
  store<u64>(ACTIVE + C_RFLAGS, getFlags());
  store<u32>(ACTIVE + C_CPL, CPL);
  store<u64>(ACTIVE + C_INSNS, ICOUNT);
  store<u64>(ACTIVE + C_CLOCK, CLOCK);
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

/** Stops the run with the fault's details (the machine does not deliver it, or cannot). */
function stopWithFault(reason: u32, at: u64): void {
  store<u32>(ACTIVE + C_EXIT_VECTOR, FAULT_VECTOR);
  store<u64>(ACTIVE + C_EXIT_ERROR, FAULT_ERROR);
  store<u64>(ACTIVE + C_EXIT_ADDR, FAULT_ADDR);
  store<u64>(ACTIVE + C_EXIT_RIP, at);
  if (reason == EXIT_TRIPLE_FAULT) logEvent(CLOCK, EVENTKIND_TRIPLE_FAULT, <u64>FAULT_VECTOR, FAULT_ERROR, at, FAULT_ADDR, 0);
  clearFault();
  requestExit(reason);
}

/**
 * The instruction at `at` faulted (RIP is already where its frame should return). Delivers it
 * through the IDT, or stops the run when the machine is configured to, or on a triple fault.
 */
function handleFault(at: u64): void {
  if (OPTIONS & OPTION_FAULT_EXITS) { stopWithFault(EXIT_FAULT, at); return; }
  const vector = FAULT_VECTOR;
  const kind = FAULT_SOFTWARE ? DELIVER_SOFTWARE : DELIVER_FAULT;
  const hasError = FAULT_HAS_ERROR, error = FAULT_ERROR;
  clearFault();
  if (!deliver(vector, kind, hasError, error, at)) stopWithFault(EXIT_TRIPLE_FAULT, at);
}

/** The block to run at RIP, or 0 after handling a fetch fault. */
function findBlock(rip: u64): usize {
  let b: usize = 0;
  if ((rip >> 12) == CODE_VPN || refillCode(rip)) {
    const pa = <u32>(rip + CODE_ADD);
    b = lookupBlock(pa);
    if (b == 0) b = buildBlock(pa, rip);
  }
  if (b == 0) handleFault(rip);
  return b;
}

/**
 * A halted vCPU waits for an interrupt, letting its virtual time pass. Returns the ticks it
 * spent; it stays halted if nothing woke it within `left`.
 */
function idle(left: u64): u64 {
  const deadline = load<u64>(ACTIVE + C_TIMER_DEADLINE);
  if (deadline != 0 && deadline <= CLOCK + left) {
    const waited = deadline > CLOCK ? deadline - CLOCK : 0;
    CLOCK += waited;
    timerFires();
    return waited;
  }
  CLOCK += left;
  return left;
}

/** One instruction, outside the run loop's inlined dispatch (keeps a single copy of it). */
function executeOne(e: usize): void {
  dispatch(e);
}

/**
 * With other agents' code changes not yet serialized, run one instruction after checking it.
 * Returns false if the run must stop (a hazard under the stop policy).
 */
function runChecked(b: usize): bool {
  const e = b + ENTRY_SIZE;
  const len = <u32>load<u8>(e, E_LEN);
  RIP = nextRip(e);
  const pa = <u64>(thisRip(e) + CODE_ADD);
  if (!check(pa, len)) { executeOne(e); return true; }
  reportHazard(thisRip(e), pa, len, CLOCK);
  const policy = load<u32>(M_XMC_POLICY);
  if (policy == XMCPOLICY_STOP) {
    RIP = thisRip(e);
    requestExit(EXIT_HAZARD);
    return false;
  }
  if (policy == XMCPOLICY_NEW) { executeOne(e); return true; }
  // Execute what the policy says the CPU saw: the old bytes, or a torn mix.
  const s = decodeHazard(pa, len);
  if (s == 0) return true; // the mixed bytes do not decode: the fault is pending
  RIP = nextRip(s);
  executeOne(s);
  return true;
}

/**
 * After an instruction that ran alone because of the shadow word as it was when it began:
 * ends the interrupt shadow, and follows a single-stepped instruction with a #DB trap unless
 * it raised an exception, ended in an exit to the host, or asked for no trap (STEP_SKIP).
 */
function endShadowed(shadow: u32): void {
  if (shadow & SHADOW_IRQ) {
    store<u32>(ACTIVE + C_SHADOW, load<u32>(ACTIVE + C_SHADOW) & ~SHADOW_IRQ);
    updateIrq();
  }
  if (shadow & SHADOW_STEP) {
    if ((PENDING & (PEND_FAULT | PEND_EXIT)) == 0 && !STEP_SKIP) raiseTrap(VECTOR_DB);
    clearStepSkip();
  }
}

/**
 * Runs vCPU `cpu` for at most `budget` ticks of its virtual time (one instruction is one tick;
 * a halted vCPU lets ticks pass). Returns the exit reason; details are in the CPU block.
 */
export function run(cpu: u32, budget: u64): u32 {
  enterCpu(cpu);
  EXIT = EXIT_NONE;
  let left = budget;
  while (left != 0) {
    // Between blocks: the timer, interrupts, halt.
    let deadline = load<u64>(ACTIVE + C_TIMER_DEADLINE);
    if (deadline != 0 && deadline <= CLOCK) {
      timerFires();
      deadline = load<u64>(ACTIVE + C_TIMER_DEADLINE);
    }
    if (PENDING & PEND_IRQ) {
      if (!takeInterrupt()) { stopWithFault(EXIT_TRIPLE_FAULT, RIP); break; }
    }
    if (load<u32>(ACTIVE + C_HALTED) != 0) {
      left -= idle(left);
      if (left == 0 && (PENDING & PEND_IRQ) == 0) { requestExit(EXIT_HALT); break; }
      continue;
    }

    const rip = RIP;
    const b = findBlock(rip);
    if (b == 0) {
      if (PENDING & PEND_EXIT) break;
      continue;
    }

    // How much of the block may run: the budget, the timer, an sti shadow, a pending check.
    const count = load<u32>(b + B_COUNT);
    let n: u64 = <u64>count;
    if (n > left) n = left;
    if (deadline > CLOCK && deadline - CLOCK < n) n = deadline - CLOCK;
    const shadow = load<u32>(ACTIVE + C_SHADOW);
    const checked = unsynchronized();
    if (shadow != 0 || checked) n = 1;
    if (BP_COUNT != 0) {
      n = breakpointLimit(cpu, b, rip, n);
      if (n == 0) { requestExit(EXIT_BREAKPOINT); break; }
    }

    BLOCK_PAGE = rip & ~<u64>0xFFF;
    RIP = BLOCK_PAGE + <u64>load<u32>(b + B_END);
    let e = b + ENTRY_SIZE;
    BLOCK_FIRST = e;
    let done: u64 = 0;
    if (checked) {
      if (!runChecked(b)) break;
      done = 1;
    } else {
      while (true) {
        dispatch(e);
        done++;
        if (PENDING != 0 || done == n) break;
        e += ENTRY_SIZE;
      }
    }

    // Stopped before the end of the block: continue after the last instruction that ran.
    if (done != <u64>count && !checked) RIP = nextRip(e);
    if (shadow != 0) endShadowed(shadow);
    if (PENDING & PEND_FAULT) {
      const at = thisRip(e);
      if (FAULT_NONCANONICAL && (load<u8>(e, E_FLAGS) & ENTRYFLAG_STACK) != 0) FAULT_VECTOR = VECTOR_SS;
      if (!FAULT_IS_TRAP) { done--; RIP = at; }
      ICOUNT += done; CLOCK += done; left -= done;
      handleFault(at);
    } else {
      ICOUNT += done; CLOCK += done; left -= done;
    }
    if (PENDING & PEND_CODE) {
      logCodeWrites(cpu, CLOCK);
      clearPending(PEND_CODE);
    }
    if (PENDING & PEND_EXIT) break;
  }
  clearPending(PEND_EXIT);
  if (EXIT == EXIT_NONE) EXIT = EXIT_BUDGET;
  store<u32>(ACTIVE + C_EXIT_REASON, EXIT);
  leaveCpu(cpu);
  return EXIT;
}
