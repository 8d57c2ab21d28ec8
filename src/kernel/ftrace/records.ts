// ftrace's per-site records (struct dyn_ftrace): where each `call __fentry__` is, and its
// state as wanted (REGS, TRAMP) beside the state installed in memory (REGS_EN, TRAMP_EN), with
// the number of ops that trace it in the low bits, as in include/linux/ftrace.h.

export const FTRACE_FL_ENABLED = 1 << 31;
export const FTRACE_FL_REGS = 1 << 30;
export const FTRACE_FL_REGS_EN = 1 << 29;
export const FTRACE_FL_TRAMP = 1 << 28;
export const FTRACE_FL_TRAMP_EN = 1 << 27;
export const FTRACE_FL_IPMODIFY = 1 << 26;
export const FTRACE_FL_DISABLED = 1 << 25;
export const FTRACE_FL_DIRECT = 1 << 24;
export const FTRACE_FL_DIRECT_EN = 1 << 23;
/** Ever traced by an ops that changes the IP or calls directly (kept, like DISABLED, across updates). */
export const FTRACE_FL_MODIFIED = 1 << 19;
export const FTRACE_REF_MAX = (1 << 19) - 1;

export const MCOUNT_INSN_SIZE = 5;
/** nopl 0x0(%rax,%rax,1): the 64-bit 5-byte NOP (x86_nops[5]). */
export const NOP5 = Uint8Array.of(0x0f, 0x1f, 0x44, 0x00, 0x00);

export interface DynFtrace {
  /** The patch site (the function's entry). */
  ip: bigint;
  /** The function it belongs to. */
  name: string;
  index: number;
  flags: number;
  /** What the site calls now (0n: it is a NOP). */
  installed: bigint;
  /** The module the function belongs to (absent: the kernel image). */
  mod?: string;
  /** Its module was unloaded (ftrace_release_mod): no longer a site. */
  gone?: boolean;
}

export const refCount = (rec: DynFtrace) => rec.flags & FTRACE_REF_MAX;

/** E8 rel32: a call from `ip` to `target` (ftrace_call_replace). */
export function callInsn(ip: bigint, target: bigint): Uint8Array {
  const rel = target - (ip + BigInt(MCOUNT_INSN_SIZE));
  if (rel < -(1n << 31n) || rel >= 1n << 31n) {
    throw new RangeError(`call from 0x${ip.toString(16)} to 0x${target.toString(16)} is out of rel32 range`);
  }
  const b = new Uint8Array(5);
  b[0] = 0xe8;
  new DataView(b.buffer).setInt32(1, Number(rel), true);
  return b;
}

export function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
