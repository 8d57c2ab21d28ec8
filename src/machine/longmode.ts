// The state a vCPU starts in when the host has already done what a boot loader would: paging
// on (4-level, with write protection and NX), long mode active, flat 64-bit segments.
// A user process gets CR0.AM as Linux sets it, so EFLAGS.AC turns alignment checks on.
import type { CpuState } from "./machine.js";
import { CR0_PE, CR0_ET, CR0_WP, CR0_AM, CR0_PG, CR4_PAE, EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE } from "../gen/constants.js";

export interface LongModeStart {
  /** Physical address of the PML4. */
  cr3: number;
  cpl: 0 | 3;
  cs: number;
  ss: number;
  rip: bigint;
  rsp: bigint;
  rflags: bigint;
  /** CR0.AM: at CPL 3 with EFLAGS.AC set, a misaligned access raises #AC (Linux sets it). */
  alignmentMask?: boolean;
}

export function startInLongMode(cpu: CpuState, s: LongModeStart): void {
  cpu.set("cr0", CR0_PE | CR0_ET | CR0_WP | CR0_PG | (s.alignmentMask ? CR0_AM : 0n));
  cpu.set("cr4", CR4_PAE);
  cpu.set("efer", EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
  cpu.set("cr3", BigInt(s.cr3));
  cpu.set("cpl", s.cpl);
  cpu.set("cs", s.cs);
  cpu.set("ss", s.ss);
  cpu.rip = s.rip;
  cpu.rflags = s.rflags;
  cpu.setReg(4, s.rsp);
}
