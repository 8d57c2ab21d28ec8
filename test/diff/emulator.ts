// The emulator side: runs cases on one reused Machine at CPL 3, set up like the harness's
// Linux process.
//
// Paging maps exactly what the harness maps (the code region RWX, the data region RW and
// no-execute, both user pages, virtual == physical), so a stray access or a branch to a
// truncated 16-bit target faults with the same #PF error code as on the host. The GDT has the
// user-visible descriptors of Linux's x86-64 GDT at the same selectors, so loading a segment
// register succeeds or faults as it does natively. faultExits stops the run at the first
// exception (reported like the harness's signal handler sees it) and syscallExits stops it at
// the `syscall` appended after the snippet.
import { Machine, Exit, type CpuVendorName } from "../../src/machine/machine.js";
import { AddressSpace, FrameAllocator } from "../../src/machine/paging.js";
import { startInLongMode } from "../../src/machine/longmode.js";
import { linuxIdtImage } from "../../src/linux/loader.js";
import { ExitName } from "../../src/gen/layout.js";
import { LINUX_KERNEL_CS, LINUX_KERNEL_DS, LINUX_USER_CS, LINUX_USER_DS } from "../../src/gen/constants.js";
import { CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, FS_BASE, GS_BASE, type CaseInput, type CpuResult } from "./layout.js";
import { fillData, fnv1a64 } from "./prng.js";

/** Snippets are short and loops bounded; anything near this many instructions is a runaway. */
const BUDGET = 100_000;
const SYSCALL = [0x0f, 0x05];
/** Page tables and the GDT live above everything a case touches (RAM is 64 MiB). */
const TABLES = 0x3000000;
const GDT = 0x3800000;
/** Linux's IDT (int3, int $4 and int $0x80 open to user code; `int n` to any other vector is #GP). */
const IDT = 0x3801000;
/** Selectors a Linux user process runs with, and the kernel's. */
const USER_CS = LINUX_USER_CS, USER_DS = LINUX_USER_DS, KERNEL_CS = LINUX_KERNEL_CS, KERNEL_DS = LINUX_KERNEL_DS;
/** MSR_STAR as Linux sets it: sysret's selectors from 0x23 (CS 0x33, SS 0x2b), syscall's from 0x10. */
const STAR = 0x0023_0010_0000_0000n;

/**
 * Linux's x86-64 GDT as a user process sees it: kernel code and data (DPL 0), 32- and 64-bit
 * user code and user data (DPL 3), the TSS (a system descriptor), empty LDT and TLS slots, and
 * the read-only CPUNODE data segment getcpu() reads (its limit holds the CPU number).
 */
const LINUX_GDT: bigint[] = [
  0n,
  0x00cf9b000000ffffn, // 0x08 kernel 32-bit code
  0x00af9b000000ffffn, // 0x10 kernel code
  0x00cf93000000ffffn, // 0x18 kernel data
  0x00cffb000000ffffn, // 0x23 user 32-bit code
  0x00cff3000000ffffn, // 0x2b user data
  0x00affb000000ffffn, // 0x33 user code
  0n,
  0x00008b0000000067n, 0n, // 0x40 TSS (busy, 16 bytes)
  0n, 0n, // 0x50 LDT (none)
  0n, 0n, 0n, // 0x60-0x70 TLS slots (empty)
  0x0040f50000000000n, // 0x7b CPUNODE
];

export interface EmulatorResult extends CpuResult {
  /** How run() stopped (Exit.SYSCALL when the snippet ran to its end). */
  exit: number;
  exitName: string;
  /** exitRip for Exit.FAULT: the address of the instruction that raised the exception. */
  exitRip: bigint;
  /** The final data region, when asked for. */
  data?: Uint8Array;
}

export class EmulatorRunner {
  readonly machine: Machine;
  private readonly fill = new Uint8Array(DATA_SIZE);
  private readonly cr3: number;

  constructor(readonly vendor: CpuVendorName) {
    const m = (this.machine = new Machine({ ramBytes: 64 << 20, faultExits: true, syscallExits: true, cpuVendor: vendor }));
    const space = new AddressSpace(m, new FrameAllocator(TABLES, GDT));
    space.map(BigInt(CODE_BASE), CODE_BASE, CODE_SIZE, { user: true, write: true, exec: true });
    space.map(BigInt(DATA_BASE), DATA_BASE, DATA_SIZE, { user: true, write: true });
    space.mapPage(BigInt(GDT), GDT, {});
    space.mapPage(BigInt(IDT), IDT, {});
    m.writePhys(IDT, linuxIdtImage());
    const gdt = new DataView(new ArrayBuffer(LINUX_GDT.length * 8));
    LINUX_GDT.forEach((d, i) => gdt.setBigUint64(i * 8, d, true));
    m.writePhys(GDT, new Uint8Array(gdt.buffer));
    this.cr3 = space.root;
  }

  /**
   * Runs one case at CPL 3 (or, with `kernel`, at CPL 0 with the kernel's selectors and a
   * syscall MSR set like Linux's, for the few system instructions a user process cannot run).
   */
  run(c: CaseInput, keepData = false, kernel = false): EmulatorResult {
    const m = this.machine;
    const cpu = m.cpus[0];
    fillData(c.seed, this.fill);
    m.writePhys(DATA_BASE, this.fill);
    const code = new Uint8Array(c.code.length + SYSCALL.length);
    code.set(c.code);
    code.set(SYSCALL, c.code.length);
    m.writePhys(CODE_BASE + c.codeOff, code);

    const [cpl, cs, ss] = kernel ? [0, KERNEL_CS, KERNEL_DS] as const : [3, USER_CS, USER_DS] as const;
    startInLongMode(cpu, { cr3: this.cr3, cpl, cs: Number(cs), ss: Number(ss), rip: BigInt(CODE_BASE + c.codeOff), rsp: c.regs[4],
      rflags: c.rflags, alignmentMask: true });
    cpu.set("star", STAR);
    for (let i = 0; i < 16; i++) cpu.setReg(i, BigInt.asUintN(64, c.regs[i]));
    for (const sreg of ["ds", "es", "fs", "gs"] as const) cpu.set(sreg, 0);
    cpu.set("gdtBase", BigInt(GDT));
    cpu.set("gdtLimit", LINUX_GDT.length * 8 - 1);
    cpu.set("idtBase", BigInt(IDT));
    cpu.set("idtLimit", 256 * 16 - 1);
    cpu.set("fsBase", FS_BASE);
    cpu.set("gsBase", GS_BASE);
    cpu.set("exitVector", 0);
    cpu.set("exitError", 0n);
    cpu.set("exitRip", 0n);

    const exit = m.run(0, BUDGET);
    const regs: bigint[] = [];
    for (let i = 0; i < 16; i++) regs.push(cpu.reg(i));
    // Hash a copy: indexing the wasm memory's huge buffer directly is several times slower.
    const ram = this.fill;
    ram.set(m.ram.subarray(DATA_BASE, DATA_BASE + DATA_SIZE));
    // At the appended syscall RIP is past it; report the snippet's end like the harness does.
    const rip = exit === Exit.SYSCALL ? cpu.rip - BigInt(SYSCALL.length) : cpu.rip;
    return {
      regs,
      rflags: cpu.rflags,
      rip,
      err: cpu.get("exitError"),
      hash: fnv1a64(ram),
      vector: exit === Exit.FAULT ? cpu.get("exitVector") : null,
      exit,
      exitName: ExitName[exit] ?? `exit ${exit}`,
      exitRip: cpu.get("exitRip"),
      data: keepData ? ram.slice() : undefined,
    };
  }
}
