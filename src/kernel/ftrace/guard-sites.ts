// The mainline recursion scheme's trampolines: mainline's ftrace_caller and ftrace_regs_caller
// have no recursion guard (arch/x86/kernel/ftrace_64.S), but tramplab's are built with the
// recursion_enter / recursion_exit code of its other schemes. Under `recursion: mainline` boot
// replaces the first instruction of each of those four sequences with a jump over it, before any
// vCPU runs (like an alternative applied by text_poke_early). Dynamic trampolines are copies of
// the static ones, so they have no guard either.

/** Reads and writes kernel text by virtual address, and finds a symbol's address. */
export interface GuardText {
  read: (va: bigint, len: number) => Uint8Array;
  write: (va: bigint, bytes: Uint8Array) => void;
  sym: (name: string) => bigint;
}

export interface GuardSequence {
  /** The trampoline, and which of its two guard sequences. */
  trampoline: "ftrace_caller" | "ftrace_regs_caller";
  part: "enter" | "exit";
  start: bigint;
  end: bigint;
}

/** `movabs $addr, %rax`. */
function movabsRax(addr: bigint): number[] {
  const b = [0x48, 0xb8];
  for (let i = 0n; i < 8n; i++) b.push(Number((addr >> (8n * i)) & 0xffn));
  return b;
}

function indexOf(hay: Uint8Array, needle: number[], from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Where the guard code of both static trampolines is. Each sequence starts with
 * `movabs $ftrace_guard_inline, %rax` (firmware/ftrace_64.S); the enter sequence ends where the
 * ops load begins (`*_op_ptr`), the exit sequence right after its `call *%rax` to
 * ftrace_recursion_exit. Throws if the bytes are not what the macros assemble to.
 */
export function guardSequences(t: GuardText): GuardSequence[] {
  const inline = movabsRax(t.sym("ftrace_guard_inline"));
  const exitCall = [...movabsRax(t.sym("ftrace_recursion_exit")), 0xff, 0xd0];
  const out: GuardSequence[] = [];
  for (const tr of ["ftrace_caller", "ftrace_regs_caller"] as const) {
    const start = t.sym(tr), opPtr = t.sym(`${tr}_op_ptr`), call = t.sym(tr === "ftrace_caller" ? "ftrace_call" : "ftrace_regs_call");
    const end = t.sym(`${tr}_end`);
    const code = t.read(start, Number(end - start));
    const enter = indexOf(code, inline);
    if (enter < 0 || start + BigInt(enter) >= opPtr) throw new Error(`${tr}: no recursion_enter sequence before ${tr}_op_ptr`);
    out.push({ trampoline: tr, part: "enter", start: start + BigInt(enter), end: opPtr });
    // recursion_exit follows the 5-byte call of the callback.
    const exit = Number(call - start) + 5;
    const exitEnd = indexOf(code, exitCall, exit);
    if (indexOf(code, inline, exit) !== exit || exitEnd < 0) throw new Error(`${tr}: no recursion_exit sequence after its call`);
    out.push({ trampoline: tr, part: "exit", start: start + BigInt(exit), end: start + BigInt(exitEnd + exitCall.length) });
  }
  return out;
}

/** A jump from `from` to `to`: 2 bytes if it reaches, else 5. */
export function jumpInsn(from: bigint, to: bigint): Uint8Array {
  const short = to - (from + 2n);
  if (short >= -128n && short <= 127n) return Uint8Array.of(0xeb, Number(short & 0xffn));
  const rel = Number(to - (from + 5n));
  const b = new Uint8Array(5);
  b[0] = 0xe9;
  new DataView(b.buffer).setInt32(1, rel, true);
  return b;
}

/** Boot, recursion: mainline: every guard sequence of the static trampolines becomes a jump over it. */
export function dropTrampolineGuards(t: GuardText): GuardSequence[] {
  const seqs = guardSequences(t);
  for (const s of seqs) t.write(s.start, jumpInsn(s.start, s.end));
  return seqs;
}
