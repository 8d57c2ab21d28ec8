// How the debugger prints numbers, addresses, registers, flags and instructions.
import { hex as hexBytes } from "../machine/disasm.js";
import { decodeOne } from "./disasm.js";
import { REG_NAMES, FLAG_BITS } from "../machine/registers.js";
import type { CpuState, CpuVendorName } from "../machine/machine.js";
import type { SymbolTable } from "../machine/symbols.js";

export const hex = (v: bigint | number): string => "0x" + BigInt.asUintN(64, BigInt(v)).toString(16);

/** "0xffffffff81000010 <work_a+16>", or just the hex when no symbol covers it. */
export function addrText(symbols: SymbolTable, a: bigint): string {
  const s = symbols.find(a);
  return s ? `${hex(a)} <${symbols.format(a)}>` : hex(a);
}

/** One instruction as "0x... <sym+off>:\tbytes\tgas text", or why it cannot be read. */
export function insnLine(symbols: SymbolTable, read: (va: bigint, len: number) => Uint8Array | null, a: bigint, marker = "  ",
  vendor: CpuVendorName = "intel"): string {
  const bytes = readUpTo(read, a, 15);
  if (!bytes) return `${marker} ${addrText(symbols, a)}:\t<unmapped>`;
  const line = decodeOne(bytes, a, symbols, vendor);
  return `${marker} ${addrText(symbols, a)}:\t${hexBytes(line.bytes).padEnd(24)}\t${line.text}`;
}

/** Up to len bytes at a; shorter when a page boundary ends the mapping; null when a is unmapped. */
export function readUpTo(read: (va: bigint, len: number) => Uint8Array | null, a: bigint, len: number): Uint8Array | null {
  const full = read(a, len);
  if (full) return full;
  const inPage = 4096 - Number(a & 0xfffn);
  return inPage < len ? read(a, inPage) : null;
}

/** Decoded RFLAGS: "[ IF ZF ]" as gdb prints it. */
export function eflagsText(rflags: bigint): string {
  const set = FLAG_BITS.filter(([, b]) => (rflags >> BigInt(b)) & 1n).map(([n]) => n);
  const iopl = Number((rflags >> 12n) & 3n);
  return `[ ${set.join(" ")}${set.length ? " " : ""}]${iopl ? ` IOPL=${iopl}` : ""}`;
}

/** `info eflags`: every flag with its state and meaning. */
export function eflagsTable(rflags: bigint): string {
  const meaning: Record<string, string> = {
    CF: "carry", PF: "parity", AF: "adjust", ZF: "zero", SF: "sign", TF: "trap (single step)",
    IF: "interrupts enabled", DF: "direction (down)", OF: "overflow", RF: "resume", AC: "alignment check", ID: "cpuid available",
  };
  const lines = FLAG_BITS.map(([n, b]) => `${n.padEnd(3)} ${(rflags >> BigInt(b)) & 1n}  ${meaning[n]}`);
  return [`eflags ${hex(rflags)} ${eflagsText(rflags)}`, ...lines, `IOPL ${(rflags >> 12n) & 3n}`].join("\n");
}

/** The name column of `info registers`: gdb's 15 characters, wider than any name here (k_gs_base). */
export const REGISTER_NAME_WIDTH = 15;

/** `info registers`: general registers, rip, eflags, segment selectors, control registers. */
export function registersText(c: CpuState, symbols: SymbolTable): string {
  const row = (name: string, v: bigint, extra = "") =>
    `${name.padEnd(REGISTER_NAME_WIDTH)}${hex(v).padEnd(19)}${extra || BigInt.asIntN(64, v).toString()}`;
  const lines = REG_NAMES.map((n, i) => row(n, c.reg(i)));
  lines.push(row("rip", c.rip, `<${symbols.format(c.rip)}>`));
  lines.push(row("eflags", c.rflags, eflagsText(c.rflags)));
  lines.push(row("cs", BigInt(c.get("cs"))), row("ss", BigInt(c.get("ss"))));
  lines.push(row("fs_base", c.get("fsBase")), row("gs_base", c.get("gsBase")), row("k_gs_base", c.get("kernelGsBase")));
  for (const cr of ["cr0", "cr2", "cr3", "cr4"] as const) lines.push(row(cr, BigInt(c.get(cr)), hex(BigInt(c.get(cr)))));
  lines.push(row("cpl", BigInt(c.get("cpl"))));
  return lines.join("\n");
}
