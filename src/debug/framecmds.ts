// Frame and thread selection: `frame N`, `up`, `down`, `info frame`, `info threads`, `thread N`.
// vCPUs are the threads, numbered from 1 as gdb numbers threads (thread 1 is CPU#0). A frame
// selection holds only while the vCPU stands where it was selected: any run, step, `set` or
// restore of it goes back to frame 0, as a stop does in gdb.
import type { CommandSpec, SessionHost as Session } from "./host.js";
import { DebugError, type Engine } from "./engine.js";
import { LIMITS, numberArg } from "./arguments.js";
import { addrText } from "./format.js";
import { evaluate, ExprError } from "./expressions.js";
import { unwind, frameLine, infoFrame, backtraceText, MAX_FRAMES, type Unwind } from "./frames.js";

/** What the selected vCPU's state is now, as far as a frame selection depends on it. */
function stamp(e: Engine): string {
  const c = e.current;
  return `${e.cpu}:${c.get("insns")}:${c.get("clock")}:${c.rip}:${c.reg(4)}:${c.reg(5)}`;
}

/** The selected frame's level (0 when nothing else was selected since the vCPU last moved). */
export function selectedLevel(s: Session): number {
  const f = s.frameSelection;
  return f && f.stamp === stamp(s.engine) ? f.level : 0;
}

/** The pc of the selected frame (disassemble without an argument shows its function). */
export function selectedPc(s: Session): bigint {
  const level = selectedLevel(s);
  return level === 0 ? s.engine.current.rip : unwind(s.engine).frames[level]?.pc ?? s.engine.current.rip;
}

/**
 * EXPR's value in the selected frame: there $pc is the frame's pc, $sp the stack pointer it had
 * (just above its callee's return address) and $rbp its frame pointer, as gdb unwinds them.
 * Other registers are the vCPU's (callee-saved ones are not tracked).
 */
export function frameEval(s: Session, expr: string): bigint {
  const level = selectedLevel(s);
  const e = s.engine;
  if (level === 0) return e.eval(expr);
  const u = unwind(e);
  const f = u.frames[level], callee = u.frames[level - 1];
  const sp = callee.ripAt !== undefined ? callee.ripAt + 8n : undefined;
  const unwound: Record<string, bigint | undefined> = { pc: f.pc, rip: f.pc, sp, rsp: sp, fp: f.rbpAt, rbp: f.rbpAt };
  const base = e.context();
  return evaluate(expr, {
    ...base,
    register: (n) => {
      if (!Object.hasOwn(unwound, n)) return base.register(n);
      const v = unwound[n];
      if (v === undefined) throw new ExprError(`$${n} is not known in frame ${level}`);
      return v;
    },
  });
}

function select(s: Session, u: Unwind, level: number): string {
  s.frameSelection = { level, stamp: stamp(s.engine) };
  return frameLine(s.engine, u.frames[level]);
}

function frameCommand(s: Session, arg: string): string {
  const u = unwind(s.engine);
  if (!arg) return frameLine(s.engine, u.frames[selectedLevel(s)] ?? u.frames[0]);
  const n = numberArg(arg, "frame takes", 0, MAX_FRAMES - 1);
  if (n >= u.frames.length) throw new DebugError(`No frame at level ${n}.`);
  return select(s, u, n);
}

/** up N (toward the callers) or down N (toward frame 0); gdb stops at either end. */
function move(s: Session, arg: string, dir: 1 | -1): string {
  const n = numberArg(arg, `${dir > 0 ? "up" : "down"} takes`, 1, LIMITS.steps, 1);
  const u = unwind(s.engine);
  const level = selectedLevel(s);
  const last = u.frames.length - 1;
  if (dir > 0 && level >= last) throw new DebugError("Initial frame selected; you cannot go up.");
  if (dir < 0 && level === 0) throw new DebugError("Bottom (innermost) frame selected; you cannot go down.");
  return select(s, u, dir > 0 ? Math.min(last, level + n) : Math.max(0, level - n));
}

/** "CPU#1 [kthread_busy]": a vCPU as a thread, named by the task it runs (a program: its name). */
export function threadName(e: Engine, cpu: number): string {
  return e.target.threadName(cpu);
}

export function infoThreads(e: Engine): string {
  const names = e.machine.cpus.map((c) => threadName(e, c.index));
  const width = Math.max(9, ...names.map((n) => n.length));
  const lines = [`  Id   ${"Target Id".padEnd(width)}  Frame`];
  for (const c of e.machine.cpus) {
    const halted = c.get("halted") !== 0 ? " (halted)" : "";
    lines.push(`${c.index === e.cpu ? "*" : " "} ${String(c.index + 1).padEnd(4)} ${names[c.index].padEnd(width)}  ` +
      `${addrText(e.symbols, c.rip)}${halted}`);
  }
  return lines.join("\n");
}

function thread(s: Session, arg: string): string {
  const e = s.engine;
  if (!arg) return `[Current thread is ${e.cpu + 1} (${threadName(e, e.cpu)})]`;
  const n = numberArg(arg, "thread takes", 1, e.machine.ncpus);
  e.cpu = n - 1;
  return `[Switching to thread ${n} (${threadName(e, e.cpu)})]\n${frameLine(e, unwind(e).frames[0])}`;
}

export const FRAME_COMMANDS: CommandSpec<Session>[] = [
  { names: ["backtrace", "bt", "where"], usage: "bt",
    help: "Frame-pointer backtrace, through trampolines and interrupt entries; ends at an entry from user mode.",
    run: (s, a) => {
      if (a) throw new DebugError(`bt takes no argument, got "${a}"`);
      return backtraceText(s.engine, unwind(s.engine), selectedLevel(s));
    },
  },
  { names: ["frame", "f"], usage: "frame [N]", help: "Show the selected frame, or select frame N (0 is the innermost).",
    run: (s, a) => frameCommand(s, a) },
  { names: ["up"], usage: "up [N]", help: "Select the frame N (default 1) levels up, toward the callers.",
    run: (s, a) => move(s, a, 1) },
  { names: ["down"], usage: "down [N]", help: "Select the frame N (default 1) levels down, toward frame 0.",
    run: (s, a) => move(s, a, -1) },
  { names: ["thread"], usage: "thread [N]", help: "Show the current thread, or select thread N (vCPU N-1).",
    run: (s, a) => thread(s, a) },
];

/** info frame and info threads. */
export function infoFrameText(s: Session): string {
  return infoFrame(s.engine, unwind(s.engine), selectedLevel(s));
}
