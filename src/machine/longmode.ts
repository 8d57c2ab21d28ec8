// The state a vCPU starts in when the host has already done what a boot loader would: paging
// on (4-level, with write protection and NX), long mode active, flat 64-bit segments.
// A user process gets CR0.AM as Linux sets it, so EFLAGS.AC turns alignment checks on.
import type { CpuState } from "./machine.js";

const CR0_PE = 1n, CR0_ET = 0x10n, CR0_WP = 1n << 16n, CR0_AM = 1n << 18n, CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const EFER_SCE = 1n, EFER_LME = 1n << 8n, EFER_LMA = 1n << 10n, EFER_NXE = 1n << 11n;

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
