// How the kernel prints a code address in ftrace's files and reports (%pS, as
// lib/vsprintf.c's symbol() and kernel/kallsyms.c's sprint_symbol write it).
import type { SymbolTable } from "../../machine/symbols.js";
import type { Trampoline } from "./trampoline.js";

/**
 * %pS (lib/vsprintf.c, sprint_symbol): "name+0xoff/0xsize", then " [module]" for a module's
 * symbol; an address kallsyms does not know (a dynamic trampoline: ftrace adds those to
 * /proc/kallsyms only) as "0x%lx".
 */
export function pS(symbols: SymbolTable, addr: bigint): string {
  const s = symbols.find(addr);
  if (!s || !inKallsyms(s.name)) return `0x${addr.toString(16)}`;
  return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}${s.module ? ` [${s.module}]` : ""}`;
}

/**
 * %pS of a dynamic trampoline: kallsyms_lookup() does not search ftrace's trampolines (they
 * are listed in /proc/kallsyms as ftrace_trampoline [__builtin__ftrace], nothing more), so the
 * kernel prints the bare address where tramplab's symbol table would name it.
 */
export function trampAddr(t: Trampoline): string {
  return `0x${t.addr.toString(16)}`;
}

/**
 * Whether kallsyms_lookup() finds a symbol of tramplab's table: not a dynamic trampoline's
 * (tramplab names them ftrace_trampoline[OPS] for its own reports; the kernel cannot).
 */
export function inKallsyms(name: string): boolean {
  return !name.startsWith("ftrace_trampoline[");
}

/**
 * %pB (sprint_backtrace): a return address, named after the symbol of the call before it
 * (addr - 1), with the offset of the address itself.
 */
export function pB(symbols: SymbolTable, addr: bigint): string {
  const s = symbols.find(addr - 1n);
  if (!s || !inKallsyms(s.name)) return `0x${addr.toString(16)}`;
  return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}${s.module ? ` [${s.module}]` : ""}`;
}
