// A user program as a debug target: `tramplab debug PROGRAM [ARGS...]`. The same loader and
// the same host system calls as `tramplab run PROGRAM` (src/linux/process.ts), driven by the
// debugger's schedule instead of run()'s loop, so breakpoints, stepping, checkpoints and reverse
// execution work as they do on the kernel.
//
// What the program writes goes out once. A reverse step replays from a checkpoint, and the
// replay makes the same write system calls again at the same instants; only a write past the
// furthest instant already reached is passed on, so the terminal shows the program's output as
// one run made it, however often the session goes back and forth.
import { Exit } from "../gen/layout.js";
import { Interleaver, describeStop, faultStop, type StopReason } from "../machine/interleave.js";
import { lineTableOf, type LineRow, type LineTable } from "../machine/dwarf-line.js";
import type { SymbolTable } from "../machine/symbols.js";
import { loadProcess, unsupportedMode, type Process, type ProcessState, type RunOptions } from "../linux/process.js";
import { signalFor, SIGNALS, type SignalName } from "../linux/signals.js";
import type { DebugTarget } from "./target.js";

/** Where the program's output and the host's diagnostics go. */
export interface ProgramOutput {
  stdout(b: Uint8Array): void;
  stderr(b: Uint8Array): void;
  diagnostics(line: string): void;
}

interface Saved {
  process: ProcessState;
  interleave: Interleaver["state"];
  /** The signal that killed the program, or the reason it can run no further. */
  ended: string | null;
}

const SIGNAL_TEXT: Record<SignalName, string> = {
  SIGILL: "Illegal instruction", SIGTRAP: "Trace/breakpoint trap", SIGBUS: "Bus error", SIGFPE: "Arithmetic exception",
  SIGSEGV: "Segmentation fault", SIGXCPU: "CPU time limit exceeded",
};

export class ProgramTarget implements DebugTarget {
  readonly interleaver: Interleaver;
  readonly title: string;
  private readonly process: Process;
  private ended: string | null = null;
  private lines: LineTable | null | undefined;
  /** The furthest instant (vCPU clock) whose output was passed on. */
  private emitted = -1n;

  /** Loads the program (ElfError, LoadError as `run` gives them). */
  constructor(bytes: Uint8Array, readonly path: string, opts: Pick<RunOptions, "argv" | "env" | "seed" | "cpuVendor">,
    private readonly out: ProgramOutput) {
    this.title = `the program ${path}`;
    this.process = loadProcess(bytes, {
      ...opts,
      stdout: (b) => this.once(() => out.stdout(b)),
      stderr: (b) => this.once(() => out.stderr(b)),
      diagnostics: (l) => this.once(() => out.diagnostics(l)),
    });
    this.interleaver = new Interleaver(this.machine);
    this.interleaver.hostExit = (cpu, exit) => (exit === Exit.SYSCALL ? this.syscall() : this.fault());
  }

  get machine() { return this.process.machine; }
  get loadBias(): bigint { return this.process.p.bias; }
  get symbols(): SymbolTable { return this.process.symbols; }

  saveState(): Saved {
    return { process: this.process.save(), interleave: structuredClone(this.interleaver.state), ended: this.ended };
  }

  restoreState(saved: unknown): void {
    const s = saved as Saved;
    this.process.load(s.process);
    this.interleaver.state = structuredClone(s.interleave);
    this.ended = s.ended;
  }

  stopped(stop: StopReason): string {
    if (stop.kind === "exited") {
      this.ended = `the program exited with code ${stop.status}`;
      if (stop.status === 0) return "[Inferior 1 (process 1) exited normally]";
      return `[Inferior 1 (process 1) exited with code ${octal(stop.status)}]`;
    }
    if (stop.kind === "fault") {
      const f = this.process.faultInfo(), signal = signalFor(f.vector);
      this.ended = `the program was killed by ${signal}`;
      return `Program received signal ${signal}, ${SIGNAL_TEXT[signal]}.\n${f.report}`;
    }
    if (stop.kind === "stopped" && stop.by === "UNSUPPORTED") {
      this.ended = "the program left 64-bit mode";
      return unsupportedMode(this.machine.cpus[0].rip);
    }
    return describeStop(stop, (a) => this.symbols.format(a));
  }

  /** The signal a fault stop means to gdb (its number), or undefined. */
  signalOf(stop: StopReason): number | undefined {
    return stop.kind === "fault" ? SIGNALS[signalFor(stop.vector)] : undefined;
  }

  sourceLine(addr: bigint): string | undefined {
    const r = this.lineRow(addr);
    return r ? `${r.file}:${r.line}` : undefined;
  }

  lineRow(addr: bigint): LineRow | undefined {
    this.lines ??= lineTableOf(this.process.image).table ?? null;
    const bias = this.process.p.bias;
    const r = this.lines?.find(addr - bias);
    return r && { ...r, addr: r.addr + bias };
  }

  threadName(): string {
    return this.path.split("/").pop()!.slice(0, 15); // the kernel's comm: 15 characters
  }

  finished(): string | null {
    return this.ended === null ? null : `The program is not being run: ${this.ended}.`;
  }

  private syscall(): StopReason | null {
    this.process.syscall();
    return this.exit();
  }

  private fault(): StopReason | null {
    if (this.process.resolveFault()) return this.exit(); // int $0x80 may have been exit
    return faultStop(this.process.cpu);
  }

  private exit(): StopReason | null {
    const code = this.process.exitCode;
    return code === null ? null : { kind: "exited", cpu: 0, status: code };
  }

  private once(f: () => void): void {
    const now = this.process.cpu.get("clock");
    if (now <= this.emitted) return;
    this.emitted = now;
    f();
  }
}

/** gdb prints an exit code in octal: "exited with code 03". */
function octal(n: number): string {
  return "0" + n.toString(8);
}
