// nop pause fences, cpuid rdtsc rdtscp, ud2 int3, syscall sysret, hlt cli sti, swapgs,
// rdmsr wrmsr, mov to/from CRn, lgdt lidt sgdt sidt ltr, invlpg, vmcall.
import {
  ACTIVE, C_CR0, C_CR2, C_CR3, C_CR4, C_EFER, C_FS_BASE, C_GS_BASE, C_KERNEL_GS_BASE, C_STAR, C_LSTAR,
  C_CSTAR, C_SFMASK, C_GDT_BASE, C_GDT_LIMIT, C_IDT_BASE, C_IDT_LIMIT, C_TR, C_TR_BASE, C_CS, C_SS,
  C_EXIT_VECTOR, C_HALTED, C_SHADOW, C_TIMER_LVT, EXIT_SYSCALL, EXIT_HYPERCALL,
  OPTION_SYSCALL_EXITS, EVENTKIND_HALT, EVENTKIND_HYPERCALL, CPUVENDOR_AMD,
  SERIALIZE_CPUID, SERIALIZE_CR_WRITE, SERIALIZE_WRMSR, SERIALIZE_DESCRIPTOR,
} from "../gen/layout";
import { FAULTED, raiseUD, raiseGP, raiseTrap, skipStepTrap } from "../fault";
import { getFlags, setFlags, setSomeFlags, RF, IF, TF } from "../flags";
import {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- RIP is only assigned here: the assignment is the point
  RIP, CPL, nextRip, clockAt, requestExit, REG_RAX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_R11, reg64, setReg, setReg64, getReg,
  cpuIndex,
} from "../state";
import { readMem, writeMem, flushTlb, flushTlbPage, invalidateFetch, updateAlignCheck, changeCpl, canonical } from "../mem";
import { OPTIONS, VENDOR } from "../machine";
import { serialize } from "../xmc";
import { logEvent } from "../events";
import { iretFrame, updateIrq, eoi, sendIpi, startTimer, timerRemaining, softwareInterrupt, syncStepping, SHADOW_IRQ } from "../interrupts";
import { rmOp, sub, imm, ea, loadE } from "../operand";
import {
  VECTOR_BP, VECTOR_DB, CR0_ET, EFER_SCE, MSR_TSC, MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_FS_BASE,
  MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_TSC_AUX, MSR_APIC_ID, MSR_APIC_EOI, MSR_APIC_ICR, MSR_APIC_TIMER_LVT,
  MSR_APIC_TIMER_INITIAL, MSR_APIC_TIMER_CURRENT, MSR_APIC_TIMER_DIVIDE,
} from "../gen/constants";

export function nop(e: usize): void {}
export function pause(e: usize): void {}
export function fence(e: usize): void {}

/** Raises #GP(0) and returns false unless running at CPL 0. */
function privileged(): bool {
  if (CPL == 0) return true;
  raiseGP(0);
  return false;
}

// ---------------------------------------------------------------- identification and time

// Vendor strings in EBX, EDX, ECX order.
const INTEL_EBX: u32 = 0x756E6547; // "Genu"
const INTEL_EDX: u32 = 0x49656E69; // "ineI"
const INTEL_ECX: u32 = 0x6C65746E; // "ntel"
const AMD_EBX: u32 = 0x68747541; // "Auth"
const AMD_EDX: u32 = 0x69746E65; // "enti"
const AMD_ECX: u32 = 0x444D4163; // "cAMD"
/** The hypervisor leaf 0x40000000 names the emulator: "TrampLab x86". */
const HV_EBX: u32 = 0x6D617254; // "Tram"
const HV_ECX: u32 = 0x62614C70; // "pLab"
const HV_EDX: u32 = 0x36387820; // " x86"

/**
 * The documented feature set (docs/cpu.md): what the core implements, nothing more, under the
 * vendor profile's name and family. Leaf 1 EAX: Intel family 6 model 0x55 stepping 7; AMD
 * family 0x19 model 0x11 stepping 1. Leaf 1 EDX: TSC MSR PAE CX8 CMOV; ECX: CX16 POPCNT
 * HYPERVISOR. Leaf 7: nothing (no BMI1: tzcnt's encoding is decoded, as BMI1-less parts do
 * not, but andn/bextr/blsi are not). Leaf 0x80000001 EDX: SYSCALL NX RDTSCP LM; ECX:
 * LAHF-SAHF, ABM (lzcnt). AMD's leaf 0x80000021 EAX bit 6: a null selector clears the base.
 */
export function cpuid(e: usize): void {
  const leaf = <u32>reg64(REG_RAX);
  const amd = VENDOR == CPUVENDOR_AMD;
  let a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0;
  switch (leaf) {
    case 0:
      a = 7;
      b = amd ? AMD_EBX : INTEL_EBX; d = amd ? AMD_EDX : INTEL_EDX; c = amd ? AMD_ECX : INTEL_ECX;
      break;
    case 1:
      a = amd ? 0x00A00F11 : 0x00050657;
      b = cpuIndex() << 24;
      c = (1 << 13) | (1 << 23) | (1 << 31);
      d = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 15);
      break;
    case 7: break;
    case 0x40000000: a = 0x40000000; b = HV_EBX; c = HV_ECX; d = HV_EDX; break;
    case 0x80000000:
      a = amd ? 0x80000021 : 0x80000008;
      if (amd) { b = AMD_EBX; d = AMD_EDX; c = AMD_ECX; }
      break;
    case 0x80000001: c = (1 << 0) | (1 << 5); d = (1 << 11) | (1 << 20) | (1 << 27) | (1 << 29); break;
    case 0x80000008: a = 0x3024; break; // 36 physical, 48 virtual address bits
    case 0x80000021: if (amd) a = 1 << 6; break;
    default: break;
  }
  serialize(SERIALIZE_CPUID, clockAt(e));
  setReg(REG_RAX, 2, a);
  setReg(24, 2, b); // RBX
  setReg(REG_RCX, 2, c);
  setReg(REG_RDX, 2, d);
}

/** The time-stamp counter at instruction e: this vCPU's virtual time (ticks). */
@inline function tsc(e: usize): u64 { return clockAt(e); }

export function rdtsc(e: usize): void {
  const t = tsc(e);
  setReg(REG_RAX, 2, t);
  setReg(REG_RDX, 2, t >> 32);
}

export function rdtscp(e: usize): void {
  rdtsc(e);
  setReg(REG_RCX, 2, cpuIndex());
}

// ---------------------------------------------------------------- ports and caches

/**
 * in / out. The machine has no I/O ports: at CPL 3 (IOPL is 0, no I/O bitmap) they raise
 * #GP(0) as on hardware; at CPL 0 an in reads all ones and an out goes nowhere, as with no
 * device on the port.
 */
export function portIn(e: usize, s: u32, fromDx: bool): void {
  if (!privileged()) return;
  setReg(REG_RAX, s == 3 ? 2 : s, 0xFFFF_FFFF);
}

export function portOut(e: usize, s: u32, fromDx: bool): void {
  privileged();
}

/** invd / wbinvd: nothing to flush; privileged. */
export function cacheFlush(e: usize): void {
  privileged();
}

/** rdpmc: no performance counters (CR4.PCE is clear, so CPL 3 gets #GP); reads 0 at CPL 0. */
export function rdpmc(e: usize): void {
  if (!privileged()) return;
  setReg(REG_RAX, 2, 0);
  setReg(REG_RDX, 2, 0);
}

// ---------------------------------------------------------------- traps

export function ud2(e: usize): void { raiseUD(); }
export function int3(e: usize): void { softwareInterrupt(VECTOR_BP); }
export function intN(e: usize): void { softwareInterrupt(<u32>imm(e)); }
/** int1 (icebp, F1): a #DB trap delivered like an exception, whatever the gate's DPL. */
export function int1(e: usize): void { raiseTrap(VECTOR_DB); }

// ---------------------------------------------------------------- system calls

export function syscall(e: usize): void {
  if (OPTIONS & OPTION_SYSCALL_EXITS) { requestExit(EXIT_SYSCALL); return; }
  if ((load<u64>(ACTIVE + C_EFER) & EFER_SCE) == 0) { raiseUD(); return; }
  const star = load<u64>(ACTIVE + C_STAR);
  setReg64(REG_RCX, nextRip(e));
  setReg64(REG_R11, getFlags());
  // With TF masked off by SFMASK there is no single-step trap after syscall (nor in the kernel).
  if ((RF & TF) != 0 && (load<u64>(ACTIVE + C_SFMASK) & TF) != 0) skipStepTrap();
  setFlags(getFlags() & ~load<u64>(ACTIVE + C_SFMASK));
  syncStepping();
  store<u32>(ACTIVE + C_CS, <u32>(star >> 32) & 0xFFFC);
  store<u32>(ACTIVE + C_SS, (<u32>(star >> 32) + 8) & 0xFFFC);
  RIP = load<u64>(ACTIVE + C_LSTAR);
  changeCpl(0);
}

export function sysret(e: usize, s: u32): void {
  if (!privileged()) return;
  if ((load<u64>(ACTIVE + C_EFER) & EFER_SCE) == 0) { raiseUD(); return; }
  const target = s == 3 ? reg64(REG_RCX) : reg64(REG_RCX) & 0xFFFF_FFFF;
  // A non-canonical return address: Intel parts raise #GP(0) here, still at CPL 0 on the
  // user's stack; AMD parts complete the return and fault on the fetch, at CPL 3.
  if (VENDOR != CPUVENDOR_AMD && !canonical(target)) { raiseGP(0); return; }
  const sel = <u32>(load<u64>(ACTIVE + C_STAR) >> 48);
  store<u32>(ACTIVE + C_CS, (s == 3 ? sel + 16 : sel) | 3);
  store<u32>(ACTIVE + C_SS, (sel + 8) | 3);
  setFlags((reg64(REG_R11) & 0x3C7FD7) | 2);
  syncStepping();
  RIP = target;
  changeCpl(3);
}

// ---------------------------------------------------------------- interrupt flag and halt

export function cli(e: usize): void {
  if (!privileged()) return;
  setSomeFlags(IF, 0);
  updateIrq();
}

/** sti: interrupts are enabled after the next instruction (the one-instruction shadow). */
export function sti(e: usize): void {
  if (!privileged()) return;
  if ((RF & IF) == 0) store<u32>(ACTIVE + C_SHADOW, load<u32>(ACTIVE + C_SHADOW) | SHADOW_IRQ);
  setSomeFlags(IF, IF);
  updateIrq();
}

/** hlt: park until an interrupt; the run loop lets virtual time pass meanwhile. */
export function hlt(e: usize): void {
  if (!privileged()) return;
  store<u32>(ACTIVE + C_HALTED, 1);
  logEvent(clockAt(e), EVENTKIND_HALT, nextRip(e), 0, 0, 0, 0);
}

/** vmcall: the hypercall. The host reads rax and the argument registers, sets rax, resumes. */
export function vmcall(e: usize): void {
  if (CPL != 0) { raiseUD(); return; }
  store<u32>(ACTIVE + C_EXIT_VECTOR, <u32>reg64(REG_RAX));
  logEvent(clockAt(e), EVENTKIND_HYPERCALL, reg64(REG_RAX), reg64(REG_RDI), reg64(REG_RSI), reg64(REG_RDX), nextRip(e));
  requestExit(EXIT_HYPERCALL);
}

// ---------------------------------------------------------------- segment bases and MSRs

export function swapgs(e: usize): void {
  if (!privileged()) return;
  const g = load<u64>(ACTIVE + C_GS_BASE);
  store<u64>(ACTIVE + C_GS_BASE, load<u64>(ACTIVE + C_KERNEL_GS_BASE));
  store<u64>(ACTIVE + C_KERNEL_GS_BASE, g);
}

/** CPU-block field of an MSR kept there, or 0 when the MSR is not one of those. */
function msrField(msr: u32): usize {
  switch (msr) {
    case MSR_EFER: return C_EFER;
    case MSR_STAR: return C_STAR;
    case MSR_LSTAR: return C_LSTAR;
    case MSR_CSTAR: return C_CSTAR;
    case MSR_SFMASK: return C_SFMASK;
    case MSR_FS_BASE: return C_FS_BASE;
    case MSR_GS_BASE: return C_GS_BASE;
    case MSR_KERNEL_GS_BASE: return C_KERNEL_GS_BASE;
    default: return 0;
  }
}

export function rdmsr(e: usize): void {
  if (!privileged()) return;
  const msr = <u32>reg64(REG_RCX);
  let v: u64;
  const f = msrField(msr);
  if (f != 0) v = load<u64>(ACTIVE + f);
  else if (msr == MSR_TSC) v = tsc(e);
  else if (msr == MSR_TSC_AUX || msr == MSR_APIC_ID) v = cpuIndex();
  else if (msr == MSR_APIC_TIMER_LVT) v = load<u32>(ACTIVE + C_TIMER_LVT);
  else if (msr == MSR_APIC_TIMER_CURRENT) v = timerRemaining(tsc(e));
  else if (msr == MSR_APIC_TIMER_DIVIDE) v = 0xB; // divide by 1
  else { raiseGP(0); return; }
  setReg(REG_RAX, 2, v);
  setReg(REG_RDX, 2, v >> 32);
}

export function wrmsr(e: usize): void {
  if (!privileged()) return;
  const msr = <u32>reg64(REG_RCX);
  const v = (getReg(REG_RDX, 2) << 32) | getReg(REG_RAX, 2);
  serialize(SERIALIZE_WRMSR, clockAt(e));
  switch (msr) {
    case MSR_APIC_EOI: eoi(clockAt(e)); return;
    case MSR_APIC_ICR: sendIpi(v, clockAt(e)); return;
    case MSR_APIC_TIMER_LVT: store<u32>(ACTIVE + C_TIMER_LVT, <u32>v & 0x300FF); return;
    case MSR_APIC_TIMER_INITIAL: startTimer(v & 0xFFFF_FFFF, tsc(e) + 1); return; // counts from the next instruction
    case MSR_APIC_TIMER_DIVIDE: return;
    default: break;
  }
  const f = msrField(msr);
  if (f == 0) { raiseGP(0); return; }
  if ((msr == MSR_FS_BASE || msr == MSR_GS_BASE || msr == MSR_KERNEL_GS_BASE || msr == MSR_LSTAR) &&
      !canonical(v)) { raiseGP(0); return; }
  store<u64>(ACTIVE + f, v);
  if (msr == MSR_EFER) flushAll();
}

function flushAll(): void {
  flushTlb(cpuIndex());
  invalidateFetch();
  updateAlignCheck(); // CR0.AM may have changed
}

// ---------------------------------------------------------------- control registers

export function movRC(e: usize): void {
  if (!privileged()) return;
  let v: u64;
  switch (sub(e)) {
    case 0: v = load<u64>(ACTIVE + C_CR0); break;
    case 2: v = load<u64>(ACTIVE + C_CR2); break;
    case 3: v = load<u64>(ACTIVE + C_CR3); break;
    case 4: v = load<u64>(ACTIVE + C_CR4); break;
    case 8: v = 0; break;
    default: raiseUD(); return;
  }
  setReg64(rmOp(e), v);
}

export function movCR(e: usize): void {
  if (!privileged()) return;
  const v = reg64(rmOp(e));
  switch (sub(e)) {
    case 0: store<u64>(ACTIVE + C_CR0, v | CR0_ET); flushAll(); break; // ET reads as one
    case 2: store<u64>(ACTIVE + C_CR2, v); break;
    case 3: store<u64>(ACTIVE + C_CR3, v); flushAll(); break;
    case 4: store<u64>(ACTIVE + C_CR4, v); flushAll(); break;
    case 8: break;
    default: raiseUD(); return;
  }
  serialize(SERIALIZE_CR_WRITE, clockAt(e));
}

// ---------------------------------------------------------------- descriptor tables

export function descTableLoad(e: usize, idt: bool): void {
  if (!privileged()) return;
  const va = ea(e);
  const limit = readMem(va, 1);
  if (FAULTED) return;
  const base = readMem(va + 2, 3);
  if (FAULTED) return;
  store<u64>(ACTIVE + (idt ? C_IDT_BASE : C_GDT_BASE), base);
  store<u32>(ACTIVE + (idt ? C_IDT_LIMIT : C_GDT_LIMIT), <u32>limit);
  serialize(SERIALIZE_DESCRIPTOR, clockAt(e));
}

export function descTableStore(e: usize, idt: bool): void {
  const va = ea(e);
  writeMem(va, <u64>load<u32>(ACTIVE + (idt ? C_IDT_LIMIT : C_GDT_LIMIT)), 1);
  if (FAULTED) return;
  writeMem(va + 2, load<u64>(ACTIVE + (idt ? C_IDT_BASE : C_GDT_BASE)), 3);
}

/** ltr: load the 16-byte TSS descriptor the selector names and keep its base. */
export function ltr(e: usize, s: u32): void {
  if (!privileged()) return;
  const sel = <u32>loadE(e, 1);
  if (FAULTED) return;
  const index = <u64>(sel & 0xFFF8);
  if (index + 15 > <u64>load<u32>(ACTIVE + C_GDT_LIMIT)) { raiseGP(<u64>sel & 0xFFFC); return; }
  const d = load<u64>(ACTIVE + C_GDT_BASE) + index;
  const lo = readMem(d, 3);
  if (FAULTED) return;
  const hi = readMem(d + 8, 3);
  if (FAULTED) return;
  const base = ((lo >> 16) & 0xFF_FFFF) | (((lo >> 56) & 0xFF) << 24) | ((hi & 0xFFFF_FFFF) << 32);
  store<u32>(ACTIVE + C_TR, sel);
  store<u64>(ACTIVE + C_TR_BASE, base);
  serialize(SERIALIZE_DESCRIPTOR, clockAt(e));
}

export function invlpg(e: usize): void {
  if (!privileged()) return;
  flushTlbPage(cpuIndex(), ea(e));
  invalidateFetch();
}

export function iret(e: usize, s: u32): void {
  if (s == 1) { raiseUD(); return; } // a 16-bit frame is not supported
  iretFrame(s, clockAt(e));
}
