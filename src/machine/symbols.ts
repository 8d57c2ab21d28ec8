// Address symbolization: "name+0xoff" for any address inside a known symbol.
import type { ElfSymbol } from "./elf.js";

export interface SymbolEntry {
  name: string;
  addr: bigint;
  size: bigint;
  /** A constant (`.set`), not an address: found by name, never used to symbolize. */
  absolute?: boolean;
  /** The loadable module it belongs to, printed after it ("work_fn+0x4 [mymod]"). */
  module?: string;
}

export class SymbolTable {
  private readonly sorted: SymbolEntry[];
  private readonly byName = new Map<string, SymbolEntry>();

  constructor(entries: Iterable<SymbolEntry> = []) {
    const all = [...entries];
    this.sorted = all.filter((e) => !e.absolute).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    for (const e of all) if (!this.byName.has(e.name)) this.byName.set(e.name, e);
  }

  static fromElf(symbols: ElfSymbol[]): SymbolTable {
    return new SymbolTable(symbols.map((s) => ({ name: s.name, addr: s.value, size: s.size, absolute: s.section === "*ABS*" })));
  }

  /** Adds symbols (e.g. dynamic trampolines) and returns a new table. */
  with(extra: SymbolEntry[]): SymbolTable {
    return new SymbolTable([...this.byName.values(), ...extra]);
  }

  get(name: string): SymbolEntry | undefined {
    return this.byName.get(name);
  }

  /** The symbol containing addr (or the nearest one below it when sizes are unknown). */
  find(addr: bigint): SymbolEntry | undefined {
    let lo = 0, hi = this.sorted.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].addr <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = best; i >= 0 && i > best - 8; i--) {
      const s = this.sorted[i];
      if (addr < s.addr + (s.size || 1n)) return s;
    }
    return undefined;
  }

  /** "name+0xoff", or the hex address when no symbol covers it. */
  format(addr: bigint): string {
    const s = this.find(addr);
    if (!s) return `0x${addr.toString(16)}`;
    const off = addr - s.addr;
    const mod = s.module ? ` [${s.module}]` : "";
    return (off === 0n ? s.name : `${s.name}+0x${off.toString(16)}`) + mod;
  }

  get entries(): readonly SymbolEntry[] {
    return this.sorted;
  }
}
