// Exceptions and interrupts through the 64-bit IDT, IRET, and the local interrupt controller:
// pending and in-service vectors, EOI, a local timer, and inter-processor interrupts. The
// controller is programmed through x2APIC-style MSRs (no MMIO): MSR_APIC_* in gen/constants
// (ID, EOI, ICR, the timer's LVT, initial and current count).
import {
  ACTIVE, CPUS, CPU_BLOCK_SIZE, C_IDT_BASE, C_IDT_LIMIT, C_TR_BASE, C_GDT_BASE, C_GDT_LIMIT, C_EXIT_VECTOR,
  EXIT_UNSUPPORTED, UNSUPPORTED_COMPAT_MODE, C_CS, C_SS, C_CR2, C_IRR, C_ISR,
  C_HALTED, C_SHADOW, C_TIMER_LVT, C_TIMER_INITIAL, C_TIMER_DEADLINE,
  EVENTKIND_EXCEPTION, EVENTKIND_INTERRUPT, EVENTKIND_IRET, EVENTKIND_IPI, EVENTKIND_EOI, SERIALIZE_INTERRUPT, SERIALIZE_IRET,
  OPTION_FAULT_EXITS,
} from "./gen/layout";
import { RIP, CPL, REG_RSP, reg64, setReg64, CLOCK, requestExit, cpuIndex } from "./state";
import { getFlags, setFlags, RF, IF, TF, NT, WRITABLE } from "./flags";
import {
  FAULTED, FAULT_VECTOR, FAULT_ERROR, FAULT_HAS_ERROR, FAULT_ADDR, raise, raiseGP, raiseSoftware, clearFault, setPending, clearPending,
  PEND_IRQ,
} from "./fault";
import { readMem, writeMem, readSystem, updateAlignCheck, changeCpl, canonical } from "./mem";
import { NCPUS, OPTIONS } from "./machine";
import { logEvent } from "./events";
import { serialize } from "./xmc";
import {
  VECTOR_DE, VECTOR_DF, VECTOR_GP, VECTOR_NP, VECTOR_PF, VECTOR_SS, VECTOR_TS, X86_EFLAGS_RF, APIC_LVT_MASKED, APIC_LVT_PERIODIC,
  GATE_INTERRUPT, GATE_TRAP,
} from "./gen/constants";

export const DELIVER_FAULT: u32 = 0;     // an exception raised by an instruction
export const DELIVER_SOFTWARE: u32 = 1;  // int n, int3: the gate's DPL is checked
export const DELIVER_EXTERNAL: u32 = 2;  // a hardware interrupt

@inline function contributory(v: u32): bool {
  return v == VECTOR_DE || v == VECTOR_TS || v == VECTOR_NP || v == VECTOR_SS || v == VECTOR_GP;
}

/** SDM Table 6-5: which pairs of exceptions make a double fault. */
function makesDoubleFault(first: u32, second: u32): bool {
  if (first == VECTOR_PF) return second == VECTOR_PF || contributory(second);
  return contributory(first) && contributory(second);
}

/**
 * Delivers `vector` through the IDT; RIP must already hold the address the frame should
 * return to. A fault during delivery is handled as the hardware does: serially, as #DF, or
 * (during #DF) as a triple fault, which returns false and leaves the vCPU stopped.
 */
export function deliver(vector: u32, kind: u32, hasError: bool, error: u64, at: u64 = 0): bool {
  let v = vector, k = kind, he = hasError, err = error;
  for (let round = 0; round < 3; round++) {
    if (tryDeliver(v, k, he, err)) return true;
    const second = FAULT_VECTOR, secondHas = FAULT_HAS_ERROR, secondErr = FAULT_ERROR;
    // A #PF loads CR2 when it is recognized, even when delivering it fails: a double fault
    // on a stack's guard page finds the guard address there.
    if (second == VECTOR_PF) store<u64>(ACTIVE + C_CR2, FAULT_ADDR);
    clearFault();
    if (v == VECTOR_DF) return false;
    if (k == DELIVER_SOFTWARE) RIP = at;
    if (k == DELIVER_FAULT && makesDoubleFault(v, second)) { v = VECTOR_DF; he = true; err = 0; }
    else { v = second; he = secondHas; err = secondErr; }
    k = DELIVER_FAULT;
  }
  return false;
}

/** Error code of a fault that names IDT entry `vector` (bit 1 IDT, bit 0 external). */
@inline function gateError(vector: u32, kind: u32): u64 {
  return (<u64>vector << 3) | 2 | (kind == DELIVER_EXTERNAL ? 1 : 0);
}

/**
 * Whether gate descriptor `lo` may deliver `vector` from privilege level `cpl`: an interrupt
 * or trap gate (#GP otherwise), whose DPL allows the CPL for a software interrupt (#GP), and
 * present (#NP). False with the fault raised.
 */
function gateUsable(lo: u64, vector: u32, kind: u32, cpl: u32): bool {
  const type = <u32>(lo >> 40) & 0xF;
  const dpl = <u32>(lo >> 45) & 3;
  const present = ((lo >> 47) & 1) != 0;
  if ((type != GATE_INTERRUPT && type != GATE_TRAP) || (kind == DELIVER_SOFTWARE && dpl < cpl)) {
    raiseGP(gateError(vector, kind));
    return false;
  }
  if (!present) { raise(VECTOR_NP, gateError(vector, kind), true); return false; }
  return true;
}

/**
 * int n, int3. The gate checks come first, as delivery makes them; when faults exit to the
 * host they are made here, so the host sees the #GP (a fault at the instruction) that a gate
 * user code may not use raises, not the vector. With no IDT loaded (limit 0) the vector is
 * passed on unchecked.
 */
export function softwareInterrupt(vector: u32): void {
  if ((OPTIONS & OPTION_FAULT_EXITS) != 0 && load<u32>(ACTIVE + C_IDT_LIMIT) != 0) {
    if ((<u64>vector << 4) + 15 > <u64>load<u32>(ACTIVE + C_IDT_LIMIT)) { raiseGP(gateError(vector, DELIVER_SOFTWARE)); return; }
    const lo = readSystem(load<u64>(ACTIVE + C_IDT_BASE) + (<u64>vector << 4), 3);
    if (FAULTED || !gateUsable(lo, vector, DELIVER_SOFTWARE, CPL)) return;
  }
  raiseSoftware(vector);
}

/** One attempt; false (with the fault raised) if reading the IDT or pushing the frame faults. */
function tryDeliver(vector: u32, kind: u32, hasError: bool, error: u64): bool {
  if (vector == VECTOR_PF && kind == DELIVER_FAULT) store<u64>(ACTIVE + C_CR2, FAULT_ADDR);
  const oldCpl = CPL, oldRip = RIP, oldRsp = reg64(REG_RSP), oldFlags = getFlags();
  const oldCs = load<u32>(ACTIVE + C_CS), oldSs = load<u32>(ACTIVE + C_SS);
  if ((<u64>vector << 4) + 15 > <u64>load<u32>(ACTIVE + C_IDT_LIMIT)) { raiseGP(gateError(vector, kind)); return false; }
  // The IDT, the TSS and the new stack are read and written with supervisor rights.
  changeCpl(0);
  const gate = load<u64>(ACTIVE + C_IDT_BASE) + (<u64>vector << 4);
  const lo = readMem(gate, 3);
  const hi = readMem(gate + 8, 3);
  if (FAULTED) { changeCpl(oldCpl); return false; }
  if (!gateUsable(lo, vector, kind, oldCpl)) { changeCpl(oldCpl); return false; }
  const target = (lo & 0xFFFF) | (((lo >> 48) & 0xFFFF) << 16) | ((hi & 0xFFFF_FFFF) << 32);
  const selector = <u32>(lo >> 16) & 0xFFFF;
  const ist = <u32>(lo >> 32) & 7;

  // The new stack: an IST entry, RSP0 when coming from user mode, else the current one.
  let rsp = oldRsp;
  const tss = load<u64>(ACTIVE + C_TR_BASE);
  if (ist != 0) rsp = readMem(tss + 0x24 + (<u64>(ist - 1) << 3), 3);
  else if (oldCpl != 0) rsp = readMem(tss + 4, 3);
  if (FAULTED) { changeCpl(oldCpl); return false; }
  rsp &= ~<u64>15;
  writeMem(rsp - 8, <u64>oldSs, 3);
  writeMem(rsp - 16, oldRsp, 3);
  writeMem(rsp - 24, oldFlags, 3);
  writeMem(rsp - 32, <u64>oldCs, 3);
  writeMem(rsp - 40, oldRip, 3);
  rsp -= 40;
  if (hasError) { rsp -= 8; writeMem(rsp, error, 3); }
  if (FAULTED) { changeCpl(oldCpl); return false; }

  setReg64(REG_RSP, rsp);
  if (oldCpl != 0) store<u32>(ACTIVE + C_SS, 0);
  store<u32>(ACTIVE + C_CS, selector);
  let f = oldFlags & ~(TF | NT | X86_EFLAGS_RF);
  if ((<u32>(lo >> 40) & 0xF) == GATE_INTERRUPT) f &= ~IF;
  setFlags(f);
  syncStepping();
  RIP = target;
  serialize(SERIALIZE_INTERRUPT, CLOCK);
  logEvent(CLOCK, kind == DELIVER_EXTERNAL ? EVENTKIND_INTERRUPT : EVENTKIND_EXCEPTION,
    <u64>vector, error, oldRip, FAULT_ADDR, <u64>oldCpl | (<u64>kind << 8));
  updateIrq();
  return true;
}

/**
 * Checks the code selector an IRET returns to against the GDT (when one is loaded): it must
 * name a present code segment whose DPL is its RPL. A 32-bit code segment would mean
 * compatibility mode, which the machine does not have: that stops the run as unsupported.
 */
function checkReturnCs(cs: u64): bool {
  const limit = <u64>load<u32>(ACTIVE + C_GDT_LIMIT);
  if (limit == 0) return true; // no GDT: flat 64-bit segments assumed
  const index = cs & 0xFFF8;
  if (index == 0 || index + 7 > limit) { raiseGP(cs & 0xFFFC); return false; }
  const d = readSystem(load<u64>(ACTIVE + C_GDT_BASE) + index, 3);
  if (FAULTED) return false;
  const code = ((d >> 43) & 1) != 0 && ((d >> 44) & 1) != 0;
  const present = ((d >> 47) & 1) != 0;
  const dpl = (d >> 45) & 3;
  if (!code || !present || dpl != (cs & 3)) { raiseGP(cs & 0xFFFC); return false; }
  if (((d >> 53) & 1) == 0) {
    store<u32>(ACTIVE + C_EXIT_VECTOR, UNSUPPORTED_COMPAT_MODE);
    requestExit(EXIT_UNSUPPORTED);
    return false;
  }
  return true;
}

/** IRETQ (s = 3) or IRETD (s = 2): returns from an interrupt frame, possibly to user mode. */
export function iretFrame(s: u32, clock: u64): void {
  const n: u64 = <u64>1 << s;
  const sp = reg64(REG_RSP);
  const rip = readMem(sp, s);
  const cs = readMem(sp + n, s);
  const flags = readMem(sp + 2 * n, s);
  const rsp = readMem(sp + 3 * n, s);
  const ss = readMem(sp + 4 * n, s);
  if (FAULTED) return;
  const newCpl = <u32>cs & 3;
  if (newCpl < CPL || !canonical(rip)) { raiseGP(0); return; }
  if (!checkReturnCs(cs)) return;
  let mask = WRITABLE;
  if (CPL != 0) mask &= ~IF;
  setFlags((getFlags() & ~mask) | (flags & mask));
  syncStepping();
  setReg64(REG_RSP, rsp);
  store<u32>(ACTIVE + C_CS, <u32>cs);
  store<u32>(ACTIVE + C_SS, <u32>ss);
  logEvent(clock, EVENTKIND_IRET, rip, <u64>CPL, <u64>newCpl, 0, 0);
  RIP = rip;
  changeCpl(newCpl);
  updateAlignCheck(); // RFLAGS.AC may have changed without the CPL
  serialize(SERIALIZE_IRET, clock);
  updateIrq();
}

// ---------------------------------------------------------------- local interrupt controller

@inline function cpuBlock(cpu: u32): usize {
  return cpu == cpuIndex() ? ACTIVE : CPUS + <usize>cpu * CPU_BLOCK_SIZE;
}

@inline function bitOf(block: usize, field: usize, v: u32): usize { return block + field + ((<usize>v >> 6) << 3); }

function setBit(block: usize, field: usize, v: u32): void {
  const a = bitOf(block, field, v);
  store<u64>(a, load<u64>(a) | (<u64>1 << <u64>(v & 63)));
}

function clearBit(block: usize, field: usize, v: u32): void {
  const a = bitOf(block, field, v);
  store<u64>(a, load<u64>(a) & ~(<u64>1 << <u64>(v & 63)));
}

/** Highest vector set in a 256-bit field, or -1. */
function highest(block: usize, field: usize): i32 {
  for (let w: i32 = 3; w >= 0; w--) {
    const bits = load<u64>(block + field + (<usize>w << 3));
    if (bits != 0) return (w << 6) + 63 - <i32>clz<u64>(bits);
  }
  return -1;
}

/**
 * Bits of the CPU block's shadow word, which the run loop reads once per block: either makes
 * the next block run a single instruction.
 */
export const SHADOW_IRQ: u32 = 1;   // after sti or mov ss: interrupts wait one instruction
export const SHADOW_STEP: u32 = 2;  // RFLAGS.TF is set: the instruction is followed by a #DB trap

/** Mirrors RFLAGS.TF in the shadow word; called wherever TF may change. */
export function syncStepping(): void {
  const s = load<u32>(ACTIVE + C_SHADOW) & ~SHADOW_STEP;
  store<u32>(ACTIVE + C_SHADOW, (RF & TF) != 0 ? s | SHADOW_STEP : s);
}

/** The vector the running vCPU would take now, or -1: IF set, no sti shadow, priority above service. */
export function deliverableVector(): i32 {
  if ((RF & IF) == 0 || (load<u32>(ACTIVE + C_SHADOW) & SHADOW_IRQ) != 0) return -1;
  const req = highest(ACTIVE, C_IRR);
  if (req < 0) return -1;
  const svc = highest(ACTIVE, C_ISR);
  return svc >= 0 && (req >> 4) <= (svc >> 4) ? -1 : req;
}

/** Keeps PEND_IRQ equal to "an interrupt is deliverable", so the run loop stops for it. */
export function updateIrq(): void {
  if (deliverableVector() >= 0) setPending(PEND_IRQ);
  else clearPending(PEND_IRQ);
}

/** Takes the deliverable interrupt, if any: moves it from request to service and delivers it. */
export function takeInterrupt(): bool {
  const v = deliverableVector();
  if (v < 0) return false;
  clearBit(ACTIVE, C_IRR, <u32>v);
  setBit(ACTIVE, C_ISR, <u32>v);
  store<u32>(ACTIVE + C_HALTED, 0);
  return deliver(<u32>v, DELIVER_EXTERNAL, false, 0);
}

/** Raises interrupt `vector` on vCPU `cpu` (the timer, an IPI, or the host). */
export function requestInterrupt(cpu: u32, vector: u32): void {
  setBit(cpuBlock(cpu), C_IRR, vector);
  if (cpu == cpuIndex()) updateIrq();
}

export function eoi(clock: u64): void {
  const v = highest(ACTIVE, C_ISR);
  if (v >= 0) {
    clearBit(ACTIVE, C_ISR, <u32>v);
    logEvent(clock, EVENTKIND_EOI, <u64>v, 0, 0, 0, 0);
  }
  updateIrq();
}

/** ICR write: bits 0-7 vector, 18-19 shorthand (1 self, 2 all, 3 all but self), 32-63 destination. */
export function sendIpi(icr: u64, clock: u64): void {
  const vector = <u32>icr & 0xFF;
  const shorthand = <u32>(icr >> 18) & 3;
  const self = cpuIndex();
  for (let c: u32 = 0; c < NCPUS; c++) {
    const hit = shorthand == 0 ? c == <u32>(icr >> 32) : shorthand == 1 ? c == self : shorthand == 2 ? true : c != self;
    if (!hit) continue;
    requestInterrupt(c, vector);
    logEvent(clock, EVENTKIND_IPI, <u64>c, <u64>vector, 0, 0, 0);
  }
}

// ---------------------------------------------------------------- local timer

/** Starts (count > 0) or stops the timer, counting from virtual time `now`. */
export function startTimer(count: u64, now: u64): void {
  store<u64>(ACTIVE + C_TIMER_INITIAL, count);
  store<u64>(ACTIVE + C_TIMER_DEADLINE, count == 0 ? 0 : now + count);
}

export function timerRemaining(now: u64): u64 {
  const d = load<u64>(ACTIVE + C_TIMER_DEADLINE);
  return d > now ? d - now : 0;
}

/** The timer's deadline has come: request its vector and rearm a periodic timer. */
export function timerFires(): void {
  const lvt = load<u32>(ACTIVE + C_TIMER_LVT);
  const deadline = load<u64>(ACTIVE + C_TIMER_DEADLINE);
  if (lvt & APIC_LVT_PERIODIC) store<u64>(ACTIVE + C_TIMER_DEADLINE, deadline + max<u64>(load<u64>(ACTIVE + C_TIMER_INITIAL), 1));
  else store<u64>(ACTIVE + C_TIMER_DEADLINE, 0);
  if ((lvt & APIC_LVT_MASKED) == 0) requestInterrupt(cpuIndex(), lvt & 0xFF);
}
