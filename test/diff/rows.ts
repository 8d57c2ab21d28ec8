// The supported-instruction table (src/gen/opcodes.ts, from tools/opcodes.mjs) parsed into
// encoding facts the generator and the decoder-length test need: opcode bytes, ModRM use,
// immediates, and which operand forms a row admits.
import { opcodeRows, type OpcodeRow } from "../../src/gen/opcodes.js";

/** Immediate kinds: b = sign-extended byte, u = zero-extended byte, w = word, z = 16/32 by
 *  operand size, v = 16/32/64, jb/jz = branch displacements, o = moffs (8 bytes, 4 with 67). */
export type ImmKind = "b" | "u" | "w" | "z" | "v" | "jb" | "jz" | "o";

export interface RowInfo {
  row: OpcodeRow;
  /** Unique name for coverage reports, e.g. "80/3 sbb Eb,Ib". */
  key: string;
  /** 0xF3 when the row needs it as a mandatory prefix. */
  mandatory: number;
  /** Opcode bytes including 0F; for +r / +cc rows the base value. */
  opcode: number[];
  plus: "r" | "cc" | null;
  /** ModRM.reg fixed by the row (a group member), or null. */
  digit: number | null;
  /** The whole ModRM byte fixed by the row (0F 01 F8), or null. */
  exact: number | null;
  modrm: boolean;
  operands: string[];
  imms: ImmKind[];
  memOnly: boolean;
  regOnly: boolean;
  lockable: boolean;
  nosz16: boolean;
  /** #UD with a 66, F2 or F3 prefix (the fences, vmcall). */
  noprefix: boolean;
  /** mov to/from CRn: ModRM.mod is ignored, rm always names a register. */
  modreg: boolean;
}

const IMM: Record<string, ImmKind> = { Ib: "b", Ub: "u", Iw: "w", Iz: "z", Iv: "v", Jb: "jb", Jz: "jz", Ob: "o", Ov: "o" };

export function parseRow(row: OpcodeRow): RowInfo {
  const bytes = row.enc.split(" ");
  let mandatory = 0;
  if (bytes[0] === "F3" && bytes.length > 1) {
    mandatory = 0xf3;
    bytes.shift();
  }
  const opcode: number[] = [];
  let plus: RowInfo["plus"] = null;
  let digit: number | null = null;
  let exact: number | null = null;
  for (const b of bytes) {
    const m = /^([0-9A-F]{2})(?:\/([0-7])|\+(r|cc))?$/.exec(b);
    if (!m) throw new Error(`rows: cannot parse encoding "${row.enc}"`);
    // After the opcode proper (01 of 0F 01 F8) a further byte is an exact ModRM.
    const isOpcodeByte = opcode.length === 0 || (opcode.length === 1 && opcode[0] === 0x0f);
    if (isOpcodeByte) opcode.push(parseInt(m[1], 16));
    else exact = parseInt(m[1], 16);
    if (m[2] !== undefined) digit = Number(m[2]);
    if (m[3] !== undefined) plus = m[3] as "r" | "cc";
  }
  const operands = row.ops ? row.ops.split(",") : [];
  const imms = operands.filter((o) => o in IMM).map((o) => IMM[o]);
  const hasModrmOperand = operands.some((o) => /^[EGMRCS]/.test(o) && o !== "CL");
  return {
    row,
    key: `${row.enc} ${row.mn} ${row.ops}`.trim(),
    mandatory,
    opcode,
    plus,
    digit,
    exact,
    modrm: digit !== null || exact !== null || hasModrmOperand,
    operands,
    imms,
    memOnly: operands.some((o) => /^M/.test(o)),
    regOnly: operands.some((o) => /^R/.test(o)) && !row.flags.includes("modreg"),
    lockable: row.flags.split(" ").includes("lock"),
    nosz16: row.flags.includes("nosz16"),
    noprefix: row.flags.split(" ").includes("noprefix"),
    modreg: row.flags.includes("modreg"),
  };
}

export const rowInfos: readonly RowInfo[] = opcodeRows.map(parseRow);

/** Prefix and REX facts of an encoded instruction, read the way the CPU reads them. */
export interface PrefixScan {
  /** Index of the first opcode byte. */
  at: number;
  osz16: boolean;
  asz32: boolean;
  lock: boolean;
  /** The last of F2/F3, or 0. */
  rep: number;
  /** The REX byte if it immediately precedes the opcode, else 0. */
  rex: number;
}

export function scanPrefixes(bytes: Uint8Array): PrefixScan {
  const s: PrefixScan = { at: 0, osz16: false, asz32: false, lock: false, rep: 0, rex: 0 };
  for (; s.at < bytes.length; s.at++) {
    const b = bytes[s.at];
    if ((b & 0xf0) === 0x40) { s.rex = b; continue; }
    if (b === 0x66) s.osz16 = true;
    else if (b === 0x67) s.asz32 = true;
    else if (b === 0xf0) s.lock = true;
    else if (b === 0xf2 || b === 0xf3) s.rep = b;
    else if (![0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].includes(b)) break;
    s.rex = 0; // a legacy prefix after REX cancels it
  }
  return s;
}

/**
 * The row an encoding belongs to, if its exact form (prefixes, ModRM shape, LOCK use) is one
 * the core claims to support; null otherwise. Used to decide when the core's decoded length
 * must match iced-x86's.
 */
export function supportedRow(bytes: Uint8Array): RowInfo | null {
  const p = scanPrefixes(bytes);
  let i = p.at;
  const op: number[] = [bytes[i++]];
  if (op[0] === 0x0f) op.push(bytes[i++]);
  const modrm = bytes[i];
  const last = op[op.length - 1];
  const matches = rowInfos.filter((r) => {
    if (r.opcode.length !== op.length || (op.length === 2 && r.opcode[0] !== 0x0f)) return false;
    const base = r.opcode[r.opcode.length - 1];
    if (r.plus === "r" ? (last & ~7) !== base : r.plus === "cc" ? (last & ~15) !== base : last !== base) return false;
    if (r.digit !== null && ((modrm >> 3) & 7) !== r.digit) return false;
    if (r.exact !== null && modrm !== r.exact) return false;
    return true;
  });
  // F3 picks the mandatory-prefix row where there is one (popcnt, tzcnt, lzcnt, pause).
  const withF3 = matches.filter((r) => r.mandatory === 0xf3);
  let pick = p.rep === 0xf3 && withF3.length > 0 ? withF3 : matches.filter((r) => r.mandatory === 0);
  // 90: nop, or xchg with r8 when REX.B is set.
  if (op.length === 1 && op[0] === 0x90 && pick.length > 1) {
    pick = pick.filter((r) => (r.plus === "r") === ((p.rex & 1) !== 0));
  }
  // Exact-ModRM rows win over group rows of the same opcode (0F 01 F8 vs 0F 01/7).
  const exact = pick.filter((r) => r.exact !== null);
  const r = exact.length > 0 ? exact[0] : pick.find((x) => x.exact === null) ?? null;
  if (!r) return null;
  const isMem = r.modrm && !r.modreg && (modrm >> 6) !== 3;
  if (r.memOnly && !isMem) return null;
  if (r.regOnly && isMem) return null;
  if (p.lock && !(r.lockable && isMem)) return null;
  const rexW = (p.rex & 8) !== 0;
  if (r.nosz16 && p.osz16 && !rexW) return null;
  if (r.noprefix && (p.osz16 || p.rep !== 0)) return null;
  return r;
}
