// Stack frames of the selected vCPU by its frame-pointer chain, as `bt`, `frame`, `up`, `down`
// and `info frame` show them. A frame knows where its caller's rbp and its return address were
// saved (its "saved registers"); the frame's address is gdb's: the stack pointer its caller had
// before the call, just above the return address.
import type { Engine } from "./engine.js";
import { frameSetup } from "./stepping.js";
import { addrText, hex } from "./format.js";

/** Functions whose frames are interrupt or exception entries (their caller was interrupted). */
const ENTRY = /^(asm_|entry_|irq_|.*_interrupt$|.*_entry$|common_interrupt|int3|exc_)/;
/** The assembly entries (firmware/entry.S) that build a pt_regs right above their call's return address. */
const PT_REGS_ENTRY = /^(asm_|entry_SYSCALL_64)/;
const TRAMPOLINE = /tramp/;
/** struct pt_regs offsets (firmware/include/gen/layout.h: PTREGS_RIP, PTREGS_CS, PTREGS_RSP). */
const PTREGS_RIP = 128n, PTREGS_CS = 136n, PTREGS_RSP = 152n;
/** Frames shown at most: a corrupt chain cannot make bt print forever. */
export const MAX_FRAMES = 64;

export interface Frame {
  level: number;
  pc: bigint;
  /** Where this frame saved its caller's rbp (absent in a prologue before `push %rbp`, or outermost). */
  rbpAt?: bigint;
  /** Where its return address is (absent for the outermost frame). */
  ripAt?: bigint;
}

export interface Unwind {
  frames: Frame[];
  /** Why the chain ended early, as gdb's "Backtrace stopped: ..." line. */
  stopped?: string;
}

/** The frame-pointer chain of the selected vCPU. */
export function unwind(e: Engine): Unwind {
  const c = e.current;
  const sym = e.symbols.find(c.rip);
  // A function stopped in its prologue has not linked its frame yet: its return address is on the stack.
  const setup = sym ? frameSetup(e, c, sym.addr) : "set";
  const rsp = c.reg(4), rbp = c.reg(5);
  const first: Frame = setup === "none" ? { level: 0, pc: c.rip, ripAt: rsp }
    : setup === "pushed" ? { level: 0, pc: c.rip, rbpAt: rsp, ripAt: rsp + 8n }
      : rbp !== 0n ? { level: 0, pc: c.rip, rbpAt: rbp, ripAt: rbp + 8n } : { level: 0, pc: c.rip };
  const frames = [first];
  // The caller's frame pointer: what the prologue saved, or rbp itself before it was saved.
  let fp: bigint | null = first.rbpAt !== undefined ? e.readU64(first.rbpAt) : rbp;
  const seen = new Set<bigint>();
  while (frames.length < MAX_FRAMES) {
    const f = frames.at(-1)!;
    if (f.ripAt === undefined) break;
    const pc = e.readU64(f.ripAt);
    if (pc === null || pc === 0n) { delete f.ripAt; delete f.rbpAt; break; }
    const next: Frame = { level: frames.length, pc };
    frames.push(next);
    const user = fromUser(e, next, f.ripAt);
    if (user) return { frames, stopped: user };
    if (fp === null || fp === 0n || seen.has(fp)) break;
    seen.add(fp);
    next.rbpAt = fp;
    next.ripAt = fp + 8n;
    fp = e.readU64(fp);
  }
  return { frames };
}

/**
 * An entry frame whose pt_regs says it came from user mode: the kernel stack ends there (the
 * user's frames are on another stack, reached through iretq or sysret, never a `ret`).
 */
function fromUser(e: Engine, f: Frame, retSlot: bigint): string | null {
  const name = e.symbols.find(f.pc)?.name ?? "";
  if (!PT_REGS_ENTRY.test(name)) return null;
  const regs = retSlot + 8n;
  const cs = e.readU64(regs + PTREGS_CS);
  if (cs === null || (cs & 3n) !== 3n) return null;
  const rip = e.readU64(regs + PTREGS_RIP) ?? 0n, sp = e.readU64(regs + PTREGS_RSP) ?? 0n;
  return `Backtrace stopped: ${name} was entered from user mode (pt_regs at ${hex(regs)}: rip ${addrText(e.symbols, rip)}, rsp ${hex(sp)})`;
}

/** "#1  0xffffffff81001234 <work_middle+9> at firmware/work.c:45  [trampoline]" */
export function frameLine(e: Engine, f: Frame): string {
  const name = e.symbols.find(f.pc)?.name ?? "??";
  const tag = TRAMPOLINE.test(name) ? "  [trampoline]" : ENTRY.test(name) ? "  [interrupt entry]" : "";
  // A return address is the instruction after the call: its line is looked up one byte back,
  // as gdb does, so a frame names the line of the call.
  const line = e.target.sourceLine(f.level === 0 ? f.pc : f.pc - 1n);
  return `#${f.level}  ${addrText(e.symbols, f.pc)}${line ? ` at ${line}` : ""}${tag}`;
}

/** bt: every frame, the selected one marked. */
export function backtraceText(e: Engine, u: Unwind, selected: number): string {
  const lines = u.frames.map((f) => frameLine(e, f) + (f.level === selected ? "  <- selected" : ""));
  if (u.stopped) lines.push(u.stopped);
  return lines.join("\n");
}

/** info frame: the selected frame's pc, its caller, where it saved rbp and rip. */
export function infoFrame(e: Engine, u: Unwind, level: number): string {
  const f = u.frames[level];
  const at = (x: Frame | undefined) => (x?.ripAt !== undefined ? hex(x.ripAt + 8n) : "an unknown address");
  const name = e.symbols.find(f.pc)?.name;
  const saved = f.ripAt !== undefined ? e.readU64(f.ripAt) : null;
  const lines = [
    `Stack level ${level}, frame at ${at(f)}:`,
    ` rip = ${hex(f.pc)}${name ? ` in ${name}` : ""}; saved rip = ${saved !== null ? hex(saved) : "<not saved>"}`,
  ];
  if (level > 0) lines.push(` caller of frame at ${at(u.frames[level - 1])}`);
  if (level + 1 < u.frames.length) lines.push(` called by frame at ${at(u.frames[level + 1])}`);
  else if (u.stopped) lines.push(` ${u.stopped}`);
  if (f.ripAt !== undefined) lines.push(` Previous frame's sp is ${hex(f.ripAt + 8n)}`);
  const regs = [f.rbpAt !== undefined ? `rbp at ${hex(f.rbpAt)}` : "", f.ripAt !== undefined ? `rip at ${hex(f.ripAt)}` : ""]
    .filter(Boolean);
  lines.push(" Saved registers:", `  ${regs.length ? regs.join(", ") : "none (the outermost frame)"}`);
  return lines.join("\n");
}
