// Source lines of an image from its DWARF line table (.debug_line, versions 2 to 5): which
// file and line an address came from, for stop lines and backtraces ("at firmware/work.c:45").
// Everything read is bounds-checked: a damaged table is a DwarfError, and the image is then
// used without line information.

export class DwarfError extends Error {}

export interface LineRow {
  addr: bigint;
  file: string;
  line: number;
}

/** The sections a line table needs: .debug_line, and the string tables DWARF 5 points into. */
export interface LineSections {
  line: Uint8Array;
  lineStr?: Uint8Array;
  str?: Uint8Array;
}

/** Limits: a table that asks for more is refused, so a hostile image cannot exhaust the host. */
const MAX_ROWS = 4_000_000;
const MAX_FILES = 100_000;

class Reader {
  constructor(readonly b: Uint8Array, public at = 0, readonly end = b.length) {}

  private need(n: number): void {
    if (this.at + n > this.end) throw new DwarfError(`.debug_line ends inside a field at offset ${this.at}`);
  }

  u8(): number { this.need(1); return this.b[this.at++]; }
  u16(): number { this.need(2); const v = this.b[this.at] | (this.b[this.at + 1] << 8); this.at += 2; return v; }
  private view(n: number): DataView {
    this.need(n);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.at, n);
    this.at += n;
    return v;
  }

  u32(): number { return this.view(4).getUint32(0, true); }
  u64(): bigint { return this.view(8).getBigUint64(0, true); }
  i8(): number { const v = this.u8(); return v > 127 ? v - 256 : v; }
  skip(n: number): void { this.need(n); this.at += n; }

  uleb(): bigint {
    let v = 0n, shift = 0n;
    for (;;) {
      const byte = this.u8();
      if (shift < 64n) v |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (!(byte & 0x80)) return v;
    }
  }

  sleb(): bigint {
    let v = 0n, shift = 0n, byte: number;
    do {
      byte = this.u8();
      if (shift < 64n) v |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    return byte & 0x40 && shift < 64n ? v - (1n << shift) : v;
  }

  cstr(): string {
    const nul = this.b.indexOf(0, this.at);
    if (nul < 0 || nul >= this.end) throw new DwarfError(`unterminated string at offset ${this.at}`);
    const s = Buffer.from(this.b.subarray(this.at, nul)).toString("utf8");
    this.at = nul + 1;
    return s;
  }
}

function strAt(table: Uint8Array | undefined, off: number, what: string): string {
  if (!table || off >= table.length) throw new DwarfError(`${what} offset ${off} is outside its string table`);
  const nul = table.indexOf(0, off);
  return Buffer.from(table.subarray(off, nul < 0 ? table.length : nul)).toString("utf8");
}

const DW_FORM = { block: 0x09, data1: 0x0b, data2: 0x05, data4: 0x06, data8: 0x07, data16: 0x1e, string: 0x08,
  strp: 0x0e, line_strp: 0x1f, udata: 0x0f } as const;
const DW_LNCT_path = 1, DW_LNCT_directory_index = 2;

/** One DWARF 5 entry (a directory or a file): the path and directory index, whatever else it holds. */
function readEntry(r: Reader, format: [number, number][], s: LineSections, offset64: boolean): { path: string; dir: number } {
  let path = "", dir = 0;
  for (const [kind, form] of format) {
    let value: string | bigint;
    switch (form) {
      case DW_FORM.string: value = r.cstr(); break;
      case DW_FORM.line_strp: value = strAt(s.lineStr, Number(offset64 ? r.u64() : r.u32()), ".debug_line_str"); break;
      case DW_FORM.strp: value = strAt(s.str, Number(offset64 ? r.u64() : r.u32()), ".debug_str"); break;
      case DW_FORM.udata: value = r.uleb(); break;
      case DW_FORM.data1: value = BigInt(r.u8()); break;
      case DW_FORM.data2: value = BigInt(r.u16()); break;
      case DW_FORM.data4: value = BigInt(r.u32()); break;
      case DW_FORM.data8: value = r.u64(); break;
      case DW_FORM.data16: r.skip(16); value = 0n; break;
      case DW_FORM.block: r.skip(Number(r.uleb())); value = 0n; break;
      default: throw new DwarfError(`unknown form 0x${form.toString(16)} in a line table entry`);
    }
    if (kind === DW_LNCT_path && typeof value === "string") path = value;
    if (kind === DW_LNCT_directory_index && typeof value === "bigint") dir = Number(value);
  }
  return { path, dir };
}

function entryFormat(r: Reader): [number, number][] {
  const n = r.u8();
  return Array.from({ length: n }, () => [Number(r.uleb()), Number(r.uleb())] as [number, number]);
}

/** A file's name as people read it: relative to the compile directory when it is in it. */
function fileName(path: string, dir: string, compDir: string): string {
  const full = path.startsWith("/") || dir === "" ? path : `${dir}/${path}`;
  return compDir && full.startsWith(compDir + "/") ? full.slice(compDir.length + 1) : full;
}

/** Every row of every unit's line program, in the order they are defined; more than `maxRows` is a DwarfError. */
export function readLineRows(s: LineSections, maxRows = MAX_ROWS): { rows: LineRow[]; ends: bigint[] } {
  const rows: LineRow[] = [];
  const ends: bigint[] = [];
  let unit = 0;
  while (unit < s.line.length) {
    const r = new Reader(s.line, unit);
    let length = r.u32(), offset64 = false;
    if (length === 0xffffffff) { length = Number(r.u64()); offset64 = true; }
    const end = r.at + length;
    if (end > s.line.length) throw new DwarfError(`a line table unit at offset ${unit} runs past .debug_line`);
    const u = new Reader(s.line, r.at, end);
    const version = u.u16();
    if (version < 2 || version > 5) throw new DwarfError(`line table version ${version} is not 2 to 5`);
    if (version >= 5) { u.u8(); u.u8(); } // address size, segment selector size
    const headerLength = Number(offset64 ? u.u64() : u.u32());
    const program = u.at + headerLength;
    const minInsn = u.u8();
    if (version >= 4) u.u8(); // maximum operations per instruction (VLIW only)
    u.u8(); // default_is_stmt: every row is kept (addr2line reports non-statement rows too)
    const lineBase = u.i8(), lineRange = u.u8(), opcodeBase = u.u8();
    if (lineRange === 0 || opcodeBase === 0) throw new DwarfError("line table with line_range or opcode_base 0");
    const opLengths = Array.from({ length: opcodeBase - 1 }, () => u.u8());
    let dirs: string[] = [], files: { path: string; dir: number }[] = [];
    if (version >= 5) {
      const df = entryFormat(u);
      const nd = Number(u.uleb());
      if (nd > MAX_FILES) throw new DwarfError(`${nd} directories`);
      dirs = Array.from({ length: nd }, () => readEntry(u, df, s, offset64).path);
      const ff = entryFormat(u);
      const nf = Number(u.uleb());
      if (nf > MAX_FILES) throw new DwarfError(`${nf} files`);
      files = Array.from({ length: nf }, () => readEntry(u, ff, s, offset64));
    } else {
      dirs = [""];
      for (let d = u.cstr(); d !== ""; d = u.cstr()) dirs.push(d);
      files = [{ path: "", dir: 0 }]; // DWARF 2-4 count files from 1
      for (let f = u.cstr(); f !== ""; f = u.cstr()) { files.push({ path: f, dir: Number(u.uleb()) }); u.uleb(); u.uleb(); }
    }
    const compDir = version >= 5 ? dirs[0] ?? "" : "";
    const names = files.map((f) => fileName(f.path, dirs[f.dir] ?? "", compDir));
    u.at = program;
    // The state machine.
    let addr = 0n, file = 1, line = 1;
    const reset = () => { addr = 0n; file = 1; line = 1; };
    const emit = () => {
      if (rows.length >= maxRows) throw new DwarfError(`more than ${maxRows} line table rows`);
      rows.push({ addr, file: names[file] ?? `file ${file}`, line });
    };
    while (u.at < end) {
      const op = u.u8();
      if (op >= opcodeBase) {
        const adj = op - opcodeBase;
        addr += BigInt(Math.floor(adj / lineRange) * minInsn);
        line += lineBase + (adj % lineRange);
        emit();
        continue;
      }
      switch (op) {
        case 0: {
          const len = Number(u.uleb());
          const next = u.at + len;
          const sub = len > 0 ? u.u8() : -1;
          if (sub === 1) { ends.push(addr); reset(); } // end_sequence
          else if (sub === 2) addr = len >= 9 ? u.u64() : BigInt(u.u32()); // set_address
          u.at = next;
          break;
        }
        case 1: emit(); break; // copy
        case 2: addr += u.uleb() * BigInt(minInsn); break;
        case 3: line += Number(u.sleb()); break;
        case 4: file = Number(u.uleb()); break;
        case 5: u.uleb(); break; // column
        case 6: break; // negate_stmt
        case 7: break; // basic block
        case 8: addr += BigInt(Math.floor((255 - opcodeBase) / lineRange) * minInsn); break;
        case 9: addr += BigInt(u.u16()); break;
        case 10: case 11: break; // prologue end, epilogue begin
        default:
          for (let i = 0; i < (opLengths[op - 1] ?? 0); i++) u.uleb(); // an opcode this reader does not know
      }
    }
    unit = end;
  }
  return { rows, ends };
}

/** Address to source line, for one image. */
export class LineTable {
  private readonly rows: LineRow[];

  constructor(rows: LineRow[], private readonly ends: bigint[]) {
    this.rows = [...rows].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    this.ends = [...ends].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  static read(s: LineSections): LineTable {
    const { rows, ends } = readLineRows(s);
    return new LineTable(rows, ends);
  }

  get size(): number { return this.rows.length; }

  /** The line `addr` belongs to: the last address at or below it, if no sequence ended in between. */
  find(addr: bigint): LineRow | undefined {
    let lo = 0, hi = this.rows.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid].addr <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    // Several rows at one address (views: an inlined function's lines, then the caller's): the
    // last one, as addr2line reports it.
    const row = this.rows[best];
    if (this.ends.some((e) => e > row.addr && e <= addr)) return undefined;
    return row;
  }

  /** "firmware/work.c:45", or undefined. */
  format(addr: bigint): string | undefined {
    const r = this.find(addr);
    return r ? `${r.file}:${r.line}` : undefined;
  }
}

/** The line table of an image, or undefined when it has none (or a damaged one: `error` says why). */
type Image = { sections: { name: string; offset: number; size: bigint; type: number }[]; bytes: Uint8Array };

export function lineTableOf(elf: Image): { table?: LineTable; error?: string } {
  const section = (name: string) => {
    const s = elf.sections.find((x) => x.name === name && x.type !== 8);
    if (!s) return undefined;
    const end = s.offset + Number(s.size);
    if (end > elf.bytes.length) throw new DwarfError(`${name} runs past the end of the file`);
    return elf.bytes.subarray(s.offset, end);
  };
  try {
    const line = section(".debug_line");
    if (!line) return {};
    return { table: LineTable.read({ line, lineStr: section(".debug_line_str"), str: section(".debug_str") }) };
  } catch (e) {
    if (e instanceof DwarfError) return { error: e.message };
    throw e;
  }
}
