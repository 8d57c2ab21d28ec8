// Runs a static Linux x86-64 program in user mode: the core executes it, and the host plays
// the kernel for the few system calls freestanding programs make (write, exit, exit_group).
// Every other system call returns -ENOSYS and is reported once. Faults kill the process with
// the signal Linux would send, after a report of what, where, the bytes and the registers.
import type { CpuVendorName } from "../machine/machine.js";
import { Exit, Vector } from "../gen/layout.js";
import { parseElf } from "../machine/elf.js";
import { SymbolTable } from "../machine/symbols.js";
import { readVirt } from "../machine/paging.js";
import { disassemble, hex } from "../machine/disasm.js";
import { REG_NAMES, describeFlags } from "../machine/registers.js";
import { loadProgram, STACK_TOP, STACK_LIMIT, type LoadedProgram } from "./loader.js";
import { SIGNALS, signalFor, describeVector, describePageFault, type SignalName } from "./signals.js";
import { PAGE } from "../machine/paging.js";
import { finish, SliceTimer, type Slices } from "../machine/slices.js";

const SYS_WRITE = 1, SYS_EXIT = 60, SYS_EXIT_GROUP = 231;
const EBADF = 9, EFAULT = 14, ENOSYS = 38;
const SYSCALL_NAMES: Record<number, string> = {
  0: "read", 2: "open", 3: "close", 9: "mmap", 10: "mprotect", 11: "munmap", 12: "brk", 13: "rt_sigaction",
  16: "ioctl", 20: "writev", 39: "getpid", 158: "arch_prctl", 202: "futex", 218: "set_tid_address", 228: "clock_gettime",
  257: "openat", 262: "newfstatat", 302: "prlimit64", 318: "getrandom", 334: "rseq",
};
const SLICE = 1_000_000n;

export interface RunOptions {
  argv?: string[];
  env?: string[];
  /** Stop the program after this many instructions (a runaway guest). */
  maxInsns?: bigint;
  stdout?: (b: Uint8Array) => void;
  stderr?: (b: Uint8Array) => void;
  /** Where emulator diagnostics go (unsupported system calls, fault reports). */
  diagnostics?: (line: string) => void;
  seed?: number;
  /** The CPU vendor profile (default intel). */
  cpuVendor?: CpuVendorName;
}

export interface FaultInfo {
  vector: number;
  error: bigint;
  address: bigint;
  rip: bigint;
  report: string;
}

export interface ProgramResult {
  /** The program's exit status, or 128 + signal, as a shell reports it. */
  exitCode: number;
  signal?: SignalName;
  fault?: FaultInfo;
  /** True when --max-insns stopped the program. */
  limitReached: boolean;
  insns: bigint;
  wallMs: number;
  unsupportedSyscalls: number[];
}

export function runProgram(bytes: Uint8Array, opts: RunOptions = {}): ProgramResult {
  return finish(runProgramSlices(bytes, opts));
}

/**
 * runProgram in slices (src/machine/slices.ts): `tramplab run PROGRAM` drives it so that Ctrl-C
 * can stop a program that never exits. The image is parsed and loaded before the first slice.
 */
export function runProgramSlices(bytes: Uint8Array, opts: RunOptions = {}): Slices<ProgramResult> {
  const image = parseElf(bytes);
  const argv = opts.argv ?? ["program"];
  const loaded = loadProgram(image, argv, opts.env ?? [], { seed: opts.seed, cpuVendor: opts.cpuVendor });
  const symbols = SymbolTable.fromElf(image.symbols);
  return new Process(loaded, symbols, opts).run();
}

class Process {
  private readonly cpu;
  private readonly cr3: number;
  private readonly unsupported = new Set<number>();
  private exitCode: number | null = null;
  private stackBottom: bigint;

  constructor(private readonly p: LoadedProgram, private readonly symbols: SymbolTable, private readonly opts: RunOptions) {
    this.cpu = p.machine.cpus[0];
    this.cr3 = p.space.root;
    this.stackBottom = p.stackBottom;
  }

  *run(): Slices<ProgramResult> {
    const m = this.p.machine;
    const limit = this.opts.maxInsns;
    const t0 = performance.now();
    const slice = new SliceTimer(m);
    let signal: SignalName | undefined, fault: FaultInfo | undefined, limitReached = false;
    while (this.exitCode === null) {
      const done = this.cpu.get("insns");
      if (limit !== undefined && done >= limit) { limitReached = true; break; }
      const budget = limit === undefined ? SLICE : (limit - done < SLICE ? limit - done : SLICE);
      const exit = m.run(0, budget);
      if (exit === Exit.SYSCALL) this.syscall();
      else if (exit === Exit.UNSUPPORTED) {
        this.diag(`tramplab: the program switched to 32-bit compatibility mode at 0x${this.cpu.rip.toString(16)}, which the emulator does not support`);
        this.exitCode = 2;
      } else if (exit === Exit.FAULT) {
        if (this.growStack() || this.int80()) continue;
        fault = this.faultInfo();
        signal = signalFor(fault.vector);
        this.diag(`tramplab: program killed by ${signal}: ${fault.report}`);
        break;
      } else if (exit !== Exit.BUDGET) {
        throw new Error(`unexpected exit ${exit} from a user-mode program`);
      }
      if (this.exitCode === null && slice.due()) yield;
    }
    if (limitReached) this.diag(`tramplab: stopped after ${this.cpu.get("insns")} instructions (--max-insns)`);
    const exitCode = this.exitCode ?? (signal ? 128 + SIGNALS[signal] : 128 + SIGNALS.SIGXCPU);
    return {
      exitCode, signal: signal ?? (limitReached ? "SIGXCPU" : undefined), fault, limitReached,
      insns: this.cpu.get("insns"), wallMs: performance.now() - t0, unsupportedSyscalls: [...this.unsupported],
    };
  }

  private diag(line: string): void {
    (this.opts.diagnostics ?? ((l) => process.stderr.write(l + "\n")))(line);
  }

  private syscall(): void {
    const c = this.cpu;
    const nr = Number(c.reg(0));
    const [a0, a1, a2] = [c.reg(7), c.reg(6), c.reg(2)];
    let ret: bigint;
    switch (nr) {
      case SYS_WRITE: ret = this.write(Number(a0), a1, a2); break;
      case SYS_EXIT:
      case SYS_EXIT_GROUP: this.exitCode = Number(a0 & 0xffn); return;
      default:
        if (!this.unsupported.has(nr)) {
          this.unsupported.add(nr);
          this.diag(`tramplab: unsupported system call ${nr}${SYSCALL_NAMES[nr] ? ` (${SYSCALL_NAMES[nr]})` : ""} returns -ENOSYS`);
        }
        ret = BigInt(-ENOSYS);
    }
    // The kernel's syscall return: result in rax, rcx = return address, r11 = rflags.
    c.setReg(0, BigInt.asUintN(64, ret));
    c.setReg(1, c.rip);
    c.setReg(11, c.rflags);
  }

  private write(fd: number, buf: bigint, count: bigint): bigint {
    if (fd !== 1 && fd !== 2) return BigInt(-EBADF);
    const n = Number(count > 1n << 24n ? 1n << 24n : count);
    const data = readVirt(this.p.machine, this.cr3, buf, n);
    if (!data) return BigInt(-EFAULT);
    const sink = fd === 1 ? this.opts.stdout : this.opts.stderr;
    (sink ?? ((b: Uint8Array) => (fd === 1 ? process.stdout : process.stderr).write(b)))(data);
    return BigInt(n);
  }

  /**
   * `int $0x80` is Linux's 32-bit system-call gate, usable from 64-bit programs too: eax is the
   * i386 system-call number and ebx, ecx, edx its arguments, truncated to 32 bits.
   */
  private int80(): boolean {
    const c = this.cpu;
    if (Number(c.get("exitVector")) !== 0x80) return false;
    const insn = readVirt(this.p.machine, this.cr3, c.get("exitRip"), 2);
    if (!insn || insn[0] !== 0xcd || insn[1] !== 0x80) return false;
    const nr = Number(c.reg(0) & 0xffff_ffffn);
    const arg = (i: number) => c.reg(i) & 0xffff_ffffn;
    let ret: bigint;
    if (nr === 1 || nr === 252) { this.exitCode = Number(arg(3) & 0xffn); return true; } // exit, exit_group
    else if (nr === 4) ret = this.write(Number(arg(3)), arg(1), arg(2)); // write(ebx, ecx, edx)
    else {
      if (!this.unsupported.has(1000 + nr)) {
        this.unsupported.add(1000 + nr);
        this.diag(`tramplab: unsupported i386 system call ${nr} (int $0x80) returns -ENOSYS`);
      }
      ret = BigInt(-ENOSYS);
    }
    c.setReg(0, BigInt.asUintN(64, BigInt.asIntN(32, ret)));
    return true;
  }

  /** A page fault just below the stack grows it, as Linux does, up to STACK_LIMIT. */
  private growStack(): boolean {
    const c = this.cpu;
    if (Number(c.get("exitVector")) !== Vector.PF) return false;
    const addr = c.get("exitAddr");
    if (addr >= this.stackBottom || addr < STACK_TOP - BigInt(STACK_LIMIT) || addr < c.reg(4) - 65536n) return false;
    const page = addr & ~0xfffn;
    try {
      for (let va = page; va < this.stackBottom; va += BigInt(PAGE)) {
        this.p.space.mapPage(va, this.p.space.frames.alloc(), { user: true, write: true });
      }
    } catch (e) {
      // The machine's memory is used up (by large segments): the stack cannot grow, as on
      // Linux when memory runs out, and the fault kills the program.
      if (e instanceof RangeError) return false;
      throw e;
    }
    this.stackBottom = page;
    return true;
  }

  private faultInfo(): FaultInfo {
    const c = this.cpu;
    const vector = Number(c.get("exitVector"));
    const error = c.get("exitError");
    const address = c.get("exitAddr");
    const rip = c.get("exitRip");
    let what = describeVector(vector);
    if (vector >= 32) what = `int $0x${vector.toString(16)}: no gate user code may use (#GP)`;
    if (vector === Vector.PF) what += ` at 0x${address.toString(16)} (${describePageFault(error)})`;
    else if (vector === Vector.GP && error !== 0n) what += ` (error code 0x${error.toString(16)})`;
    const bytes = readVirt(this.p.machine, this.cr3, rip, 15) ?? readVirt(this.p.machine, this.cr3, rip, 1);
    const insn = bytes ? disassemble(bytes, rip, 1)[0] : undefined;
    const lines = [what, `  at 0x${rip.toString(16)} <${this.symbols.format(rip)}>: ` +
      (insn ? `${hex(insn.bytes)}   ${insn.text}` : "(instruction bytes unreadable)")];
    for (let i = 0; i < 16; i += 4) {
      lines.push("  " + REG_NAMES.slice(i, i + 4).map((n, k) => `${n.padStart(3)} ${c.reg(i + k).toString(16).padStart(16, "0")}`).join("  "));
    }
    lines.push(`  rip ${rip.toString(16).padStart(16, "0")}  rflags ${c.rflags.toString(16).padStart(8, "0")} [${describeFlags(c.rflags)}]`);
    return { vector, error, address, rip, report: lines.join("\n") };
  }
}
