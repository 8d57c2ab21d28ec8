// Register names in encoding order (the order of the CPU block's register file).
export const REG_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"] as const;
export type RegName = (typeof REG_NAMES)[number];

export const Reg = Object.fromEntries(REG_NAMES.map((n, i) => [n, i])) as Record<RegName, number>;

/** RFLAGS bits with their conventional one-letter names, low to high. */
export const FLAG_BITS: readonly [string, number][] = [
  ["CF", 0], ["PF", 2], ["AF", 4], ["ZF", 6], ["SF", 7], ["TF", 8], ["IF", 9], ["DF", 10], ["OF", 11],
  ["RF", 16], ["AC", 18], ["ID", 21],
];

export function describeFlags(rflags: bigint): string {
  return FLAG_BITS.filter(([, b]) => (rflags >> BigInt(b)) & 1n).map(([n]) => n).join(" ");
}
