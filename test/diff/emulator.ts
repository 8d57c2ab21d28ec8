// The emulator side: runs cases on one reused Machine in flat mode at CPL 3.
//
// Flat mode (CR0.PG clear) makes virtual == physical, so the regions of layout.ts are
// simply RAM. CPL 3 makes privileged instructions fault with #GP as they do for the native
// harness, which is an ordinary user process. faultExits stops the run at the first
// exception (reported like the harness's signal handler sees it) and syscallExits stops it
// at the `syscall` appended after the snippet.
import { Machine, Exit } from "../../src/machine/machine.js";
import { ExitName } from "../../src/gen/layout.js";
import { CODE_BASE, DATA_BASE, DATA_SIZE, FS_BASE, GS_BASE, type CaseInput, type CpuResult } from "./layout.js";
import { fillData, fnv1a64 } from "./prng.js";

/** Snippets are short and loops bounded; anything near this many instructions is a runaway. */
const BUDGET = 100_000;
const SYSCALL = [0x0f, 0x05];

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
  readonly machine = new Machine({ ramBytes: 64 << 20, faultExits: true, syscallExits: true });
  private readonly fill = new Uint8Array(DATA_SIZE);

  run(c: CaseInput, keepData = false): EmulatorResult {
    const m = this.machine;
    const cpu = m.cpus[0];
    fillData(c.seed, this.fill);
    m.writePhys(DATA_BASE, this.fill);
    const code = new Uint8Array(c.code.length + SYSCALL.length);
    code.set(c.code);
    code.set(SYSCALL, c.code.length);
    m.writePhys(CODE_BASE + c.codeOff, code);

    for (let i = 0; i < 16; i++) cpu.setReg(i, BigInt.asUintN(64, c.regs[i]));
    cpu.rflags = c.rflags;
    cpu.rip = BigInt(CODE_BASE + c.codeOff);
    cpu.set("cpl", 3);
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
