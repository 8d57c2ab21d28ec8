// The run loop: find the decoded block at RIP, run its instructions, and look at PENDING
// once per instruction.
import {
  ACTIVE, CPUS, CPU_BLOCK_SIZE, ENTRY_SIZE, B_COUNT, B_END,
  C_RIP, C_RFLAGS, C_CPL, C_INSNS, C_EXIT_REASON, C_EXIT_VECTOR, C_EXIT_ERROR, C_EXIT_ADDR, C_EXIT_RIP,
  EXIT_NONE, EXIT_BUDGET, EXIT_FAULT,
} from "./gen/layout";
import { dispatch } from "./gen/dispatch";
import { RIP, CPL, BLOCK_PAGE, BLOCK_FIRST, ICOUNT, EXIT, requestExit, nextRip, thisRip } from "./state";
import { getFlags, loadFlags } from "./flags";
import {
  PENDING, PEND_FAULT, PEND_EXIT, PEND_CODE, FAULT_VECTOR, FAULT_ERROR, FAULT_ADDR, FAULT_IS_TRAP,
  clearFault, clearPending,
} from "./fault";
import { CODE_VPN, CODE_ADD, NO_PA, selectTlb, translateFetch } from "./mem";
import { lookupBlock, buildBlock } from "./codecache";

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

/** Records a fault the machine does not deliver and stops the run. */
function faultExit(at: u64): void {
  store<u32>(ACTIVE + C_EXIT_VECTOR, FAULT_VECTOR);
  store<u64>(ACTIVE + C_EXIT_ERROR, FAULT_ERROR);
  store<u64>(ACTIVE + C_EXIT_ADDR, FAULT_ADDR);
  store<u64>(ACTIVE + C_EXIT_RIP, at);
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
  clearPending(PEND_EXIT | PEND_CODE);
  let left = budget;
  while (left != 0) {
    // Find the block at RIP, decoding it if needed.
    const rip = RIP;
    let b: usize = 0;
    if ((rip >> 12) == CODE_VPN || refillCode(rip)) {
      const pa = <u32>(rip + CODE_ADD);
      b = lookupBlock(pa);
      if (b == 0) b = buildBlock(pa, rip);
    }
    if (b == 0) {
      faultExit(rip); // fetch fault: #PF, #GP, or undecodable bytes
      break;
    }

    // Run it. RIP already holds the fall-through address for the block's last instruction.
    const count = load<u32>(b + B_COUNT);
    const n: u32 = <u64>count < left ? count : <u32>left;
    BLOCK_PAGE = rip & ~<u64>0xFFF;
    RIP = BLOCK_PAGE + <u64>load<u32>(b + B_END);
    let e = b + ENTRY_SIZE;
    BLOCK_FIRST = e;
    let done: u32 = 0;
    while (true) {
      dispatch(e);
      done++;
      if (PENDING != 0 || done == n) break;
      e += ENTRY_SIZE;
    }

    // Stopped before the end of the block: continue after the last instruction that ran.
    if (done != count) RIP = nextRip(e);
    if (PENDING != 0) {
      if (PENDING & PEND_FAULT) {
        if (FAULT_IS_TRAP) faultExit(thisRip(e));
        else {
          done--; // a fault retires nothing and reports the instruction itself
          RIP = thisRip(e);
          faultExit(RIP);
        }
      }
      clearPending(PEND_CODE);
    }
    left -= done;
    ICOUNT += done;
    if (PENDING & PEND_EXIT) {
      clearPending(PEND_EXIT);
      break;
    }
  }
  if (EXIT == EXIT_NONE) EXIT = EXIT_BUDGET;
  store<u32>(ACTIVE + C_EXIT_REASON, EXIT);
  leaveCpu(cpu);
  return EXIT;
}
