// Runs a static Linux x86-64 program in user mode: the core executes it, and the host plays
// the kernel for the few system calls freestanding programs make (write, exit, exit_group).
// Every other system call returns -ENOSYS and is reported once. A system call's buffer is read
// through the checked guest-memory path with a user's rights, so a kernel, non-canonical or
// unmapped buffer gives -EFAULT as on Linux. Faults kill the process with the signal Linux
// would send, after a report of what, where, the bytes and the registers.
import type { CpuVendorName, Machine } from "../machine/machine.js";
import { Exit, Vector } from "../gen/layout.js";
import { Errno } from "../gen/constants.js";
import { parseElf, TASK_SIZE_MAX, type ElfImage } from "../machine/elf.js";
import { SymbolTable } from "../machine/symbols.js";
import { readGuest, USER_ACCESS, type FrameState } from "../machine/paging.js";
import { disassemble, hex } from "../machine/disasm.js";
import { REG_NAMES, describeFlags } from "../machine/registers.js";
import { loadProgram, STACK_TOP, STACK_LIMIT, type LoadedProgram } from "./loader.js";
import { SIGNALS, signalFor, describeFault, type SignalName } from "./signals.js";
import { PAGE } from "../machine/paging.js";
import { finish, SliceTimer, type Slices } from "../machine/slices.js";

const SYS_WRITE = 1, SYS_EXIT = 60, SYS_EXIT_GROUP = 231;
const SYSCALL_NAMES: Record<number, string> = {
  0: "read", 2: "open", 3: "close", 9: "mmap", 10: "mprotect", 11: "munmap", 12: "brk", 13: "rt_sigaction",
  16: "ioctl", 20: "writev", 39: "getpid", 158: "arch_prctl", 202: "futex", 218: "set_tid_address", 228: "clock_gettime",
  257: "openat", 262: "newfstatat", 302: "prlimit64", 318: "getrandom", 334: "rseq",
};
const SLICE = 1_000_000n;
/** Linux's MAX_RW_COUNT: one write moves at most this many bytes. */
const MAX_RW_COUNT = 0x7fff_f000n;

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
  /** Numbers of the unsupported system calls the program made (as the kernel reads them: eax as an int). */
  unsupportedSyscalls: number[];
  /** The same for i386 system calls made through int $0x80. */
  unsupportedI386Syscalls: number[];
}

export function runProgram(bytes: Uint8Array, opts: RunOptions = {}): ProgramResult {
  return finish(runProgramSlices(bytes, opts));
}

/**
 * runProgram in slices (src/machine/slices.ts): `tramplab run PROGRAM` drives it so that Ctrl-C
 * can stop a program that never exits. The image is parsed and loaded before the first slice.
 */
export function runProgramSlices(bytes: Uint8Array, opts: RunOptions = {}): Slices<ProgramResult> {
  return loadProcess(bytes, opts).run();
}

/** Parses and loads a program (ElfError, LoadError when it cannot be): a process ready at its entry point. */
export function loadProcess(bytes: Uint8Array, opts: RunOptions = {}): Process {
  const image = parseElf(bytes);
  const argv = opts.argv ?? ["program"];
  const loaded = loadProgram(image, argv, opts.env ?? [], { seed: opts.seed, cpuVendor: opts.cpuVendor });
  const symbols = SymbolTable.fromElf(image.symbols.map((s) => (s.section === "*ABS*" ? s : { ...s, value: s.value + loaded.bias })));
  return new Process(loaded, image, symbols, opts);
}

/** What changes as the process runs, besides guest memory: plain data, so the debugger can save and restore it. */
export interface ProcessState {
  /** Set by exit or exit_group. */
  exitCode: number | null;
  /** Lowest stack address mapped so far. */
  stackBottom: bigint;
  /** The page-frame allocator's state (the stack grows into new frames). */
  frames: FrameState;
  /** Unsupported system calls already reported (each is reported once). */
  unsupported: number[];
  unsupportedI386: number[];
}

/**
 * A program and the host playing its kernel: run() runs it to the end; the debugger instead
 * calls syscall() and resolveFault() from its own schedule (src/debug/program.ts).
 */
export class Process {
  readonly cpu;
  private readonly cr3: number;
  state: ProcessState;

  constructor(readonly p: LoadedProgram, readonly image: ElfImage, readonly symbols: SymbolTable, private readonly opts: RunOptions) {
    this.cpu = p.machine.cpus[0];
    this.cr3 = p.space.root;
    this.state = { exitCode: null, stackBottom: p.stackBottom, frames: p.space.frames.state, unsupported: [], unsupportedI386: [] };
  }

  get machine(): Machine { return this.p.machine; }
  /** The exit status once the program called exit or exit_group, else null. */
  get exitCode(): number | null { return this.state.exitCode; }

  /** A deep copy of the state. */
  save(): ProcessState {
    return structuredClone(this.state);
  }

  /** Puts a saved state back (a copy of it, so it can be restored again). */
  load(saved: ProcessState): void {
    this.state = structuredClone(saved);
    this.p.space.frames.state = this.state.frames;
  }

  *run(): Slices<ProgramResult> {
    const m = this.p.machine;
    const limit = this.opts.maxInsns;
    const t0 = performance.now();
    const slice = new SliceTimer(m);
    let signal: SignalName | undefined, fault: FaultInfo | undefined, limitReached = false;
    while (this.state.exitCode === null) {
      const done = this.cpu.get("insns");
      if (limit !== undefined && done >= limit) { limitReached = true; break; }
      const budget = limit === undefined ? SLICE : (limit - done < SLICE ? limit - done : SLICE);
      const exit = m.run(0, budget);
      if (exit === Exit.SYSCALL) this.syscall();
      else if (exit === Exit.UNSUPPORTED) {
        this.diag(unsupportedMode(this.cpu.rip));
        this.state.exitCode = 2;
      } else if (exit === Exit.FAULT) {
        if (this.resolveFault()) continue;
        fault = this.faultInfo();
        signal = signalFor(fault.vector);
        this.diag(`tramplab: program killed by ${signal}: ${fault.report}`);
        break;
      } else if (exit !== Exit.BUDGET) {
        throw new Error(`unexpected exit ${exit} from a user-mode program`);
      }
      if (this.state.exitCode === null && slice.due()) yield;
    }
    if (limitReached) this.diag(`tramplab: stopped after ${this.cpu.get("insns")} instructions (--max-insns)`);
    const exitCode = this.state.exitCode ?? (signal ? 128 + SIGNALS[signal] : 128 + SIGNALS.SIGXCPU);
    return {
      exitCode, signal: signal ?? (limitReached ? "SIGXCPU" : undefined), fault, limitReached,
      insns: this.cpu.get("insns"), wallMs: performance.now() - t0, unsupportedSyscalls: [...this.state.unsupported],
      unsupportedI386Syscalls: [...this.state.unsupportedI386],
    };
  }

  /** A fault the host resolves as Linux would (the stack grows, int $0x80 is a system call): true, and the program resumes. */
  resolveFault(): boolean {
    return this.growStack() || this.int80();
  }

  private diag(line: string): void {
    (this.opts.diagnostics ?? ((l) => process.stderr.write(l + "\n")))(line);
  }

  /** Serves the system call the vCPU left by SYSCALL to make. */
  syscall(): void {
    const c = this.cpu;
    // The kernel takes the number from eax as an int: the upper half of rax is ignored.
    const nr = Number(BigInt.asIntN(32, c.reg(0)));
    const [a0, a1, a2] = [c.reg(7), c.reg(6), c.reg(2)];
    let ret: bigint;
    switch (nr) {
      case SYS_WRITE: ret = this.write(Number(a0), a1, a2); break;
      case SYS_EXIT:
      case SYS_EXIT_GROUP: this.state.exitCode = Number(a0 & 0xffn); return;
      default:
        if (!this.state.unsupported.includes(nr)) {
          this.state.unsupported.push(nr);
          this.diag(`tramplab: unsupported system call ${nr}${SYSCALL_NAMES[nr] ? ` (${SYSCALL_NAMES[nr]})` : ""} returns -ENOSYS`);
        }
        ret = BigInt(-Errno.ENOSYS);
    }
    // The kernel's syscall return: result in rax, rcx = return address, r11 = rflags.
    c.setReg(0, BigInt.asUintN(64, ret));
    c.setReg(1, c.rip);
    c.setReg(11, c.rflags);
  }

  /**
   * write(fd, buf, count) as Linux checks it: a bad fd first, then the whole range must lie in
   * user space (access_ok), then at most MAX_RW_COUNT bytes are copied with a user's rights.
   * A buffer not entirely readable gives -EFAULT and writes nothing (Linux may write the whole
   * pages before the bad byte, depending on what the descriptor is).
   */
  private write(fd: number, buf: bigint, count: bigint): bigint {
    if (fd !== 1 && fd !== 2) return BigInt(-Errno.EBADF);
    if (buf + count > TASK_SIZE_MAX) return BigInt(-Errno.EFAULT);
    const n = Number(count > MAX_RW_COUNT ? MAX_RW_COUNT : count);
    if (n === 0) return 0n;
    const data = readGuest(this.p.machine, this.cr3, buf, n, USER_ACCESS);
    if (!(data instanceof Uint8Array)) return BigInt(-Errno.EFAULT);
    const sink = fd === 1 ? this.opts.stdout : this.opts.stderr;
    (sink ?? ((b: Uint8Array) => (fd === 1 ? process.stdout : process.stderr).write(b)))(data);
    return BigInt(n);
  }

  /** Guest bytes the program itself could read, or null. */
  private userBytes(va: bigint, len: number): Uint8Array | null {
    const b = readGuest(this.p.machine, this.cr3, va, len, USER_ACCESS);
    return b instanceof Uint8Array ? b : null;
  }

  /**
   * `int $0x80` is Linux's 32-bit system-call gate, usable from 64-bit programs too: eax is the
   * i386 system-call number and ebx, ecx, edx its arguments, truncated to 32 bits.
   */
  private int80(): boolean {
    const c = this.cpu;
    if (Number(c.get("exitVector")) !== 0x80) return false;
    const insn = this.userBytes(c.get("exitRip"), 2);
    if (!insn || insn[0] !== 0xcd || insn[1] !== 0x80) return false;
    const nr = Number(BigInt.asIntN(32, c.reg(0)));
    const arg = (i: number) => c.reg(i) & 0xffff_ffffn;
    let ret: bigint;
    if (nr === 1 || nr === 252) { this.state.exitCode = Number(arg(3) & 0xffn); return true; } // exit, exit_group
    else if (nr === 4) ret = this.write(Number(arg(3)), arg(1), arg(2)); // write(ebx, ecx, edx)
    else {
      if (!this.state.unsupportedI386.includes(nr)) {
        this.state.unsupportedI386.push(nr);
        this.diag(`tramplab: unsupported i386 system call ${nr} (int $0x80) returns -ENOSYS`);
      }
      ret = BigInt(-Errno.ENOSYS);
    }
    c.setReg(0, BigInt.asUintN(64, BigInt.asIntN(32, ret)));
    return true;
  }

  /**
   * A page fault below the stack grows it down to the faulting page, as Linux does, up to
   * STACK_LIMIT below STACK_TOP (RLIMIT_STACK's default); how far below rsp does not matter.
   */
  private growStack(): boolean {
    const c = this.cpu;
    if (Number(c.get("exitVector")) !== Vector.PF) return false;
    const addr = c.get("exitAddr");
    if (addr >= this.state.stackBottom || addr < STACK_TOP - BigInt(STACK_LIMIT)) return false;
    const page = addr & ~0xfffn;
    try {
      for (let va = page; va < this.state.stackBottom; va += BigInt(PAGE)) {
        this.p.space.mapPage(va, this.p.space.frames.alloc(), { user: true, write: true });
      }
    } catch (e) {
      // The machine's memory is used up (by large segments): the stack cannot grow, as on
      // Linux when memory runs out, and the fault kills the program.
      if (e instanceof RangeError) return false;
      throw e;
    }
    this.state.stackBottom = page;
    return true;
  }

  /** What the fault the vCPU left with was, and the report printed when it kills the program. */
  faultInfo(): FaultInfo {
    const c = this.cpu;
    const vector = Number(c.get("exitVector"));
    const error = c.get("exitError");
    const address = c.get("exitAddr");
    const rip = c.get("exitRip");
    let what = describeFault(vector, error, address);
    const bytes = this.userBytes(rip, 15) ?? this.userBytes(rip, Math.min(15, PAGE - Number(rip & 0xfffn)));
    const insn = bytes ? disassemble(bytes, rip, 1, "gas", this.p.machine.cpuVendor)[0] : undefined;
    // #DB comes from int1 (icebp) or, after any other instruction, from single-stepping.
    if (vector === Vector.DB) what += insn && /^int1\b/.test(insn.text) ? ": int1" : ": single step (RFLAGS.TF)";
    const lines = [what, `  at 0x${rip.toString(16)} <${this.symbols.format(rip)}>: ` +
      (insn ? `${hex(insn.bytes)}   ${insn.text}` : "(instruction bytes unreadable)")];
    for (let i = 0; i < 16; i += 4) {
      const regs = REG_NAMES.slice(i, i + 4).map((n, k) => `${n.padStart(3)} ${c.reg(i + k).toString(16).padStart(16, "0")}`);
      lines.push("  " + regs.join("  "));
    }
    lines.push(`  rip ${rip.toString(16).padStart(16, "0")}  rflags ${c.rflags.toString(16).padStart(8, "0")} ` +
      `[${describeFlags(c.rflags)}]`);
    return { vector, error, address, rip, report: lines.join("\n") };
  }
}

/** The diagnostic for a program that left 64-bit mode. */
export function unsupportedMode(rip: bigint): string {
  return `tramplab: the program switched to 32-bit compatibility mode at 0x${rip.toString(16)}, which the emulator does not support`;
}
