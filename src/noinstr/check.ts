// check-noinstr: every way control can leave .noinstr.text.
//
// Code in .noinstr.text runs where a tracer must not: the int3 handler that live patching
// depends on, the recursion guard the tracer itself takes, idle with RCU not watching. Such
// code is compiled without fentry sites, but that protects only its own entry: whatever it
// calls must be noinstr too, or the first traced function it reaches undoes the promise.
//
// So every instruction of every function in the region is decoded (iced-x86), and each one that
// can transfer control is judged by its target:
//   call / jmp / jcc rel   fine when the target lies inside .noinstr.text, reported otherwise
//                          (a jmp or jcc to another function is a sibling call: still a call)
//   call / jmp indirect    reported: the target is known only at run time, except for a
//                          jump through a read-only jump table into the same function
//                          (a compiled switch; see jumptable.ts)
//   undecodable bytes      reported: nothing can be said about where they lead
// Between instrumentation_begin() and instrumentation_end() noinstr code may call out (that is
// what the annotation is for); a ret inside such a region is reported instead, since the caller
// would go on with instrumentation still allowed. The markers are the addresses listed in the
// .discard.instr_begin / .discard.instr_end sections (instr.ts), and the region is taken in
// address order within one function, where objtool follows the control flow.
// Reports use objtool's wording, which kernel developers already grep for, with `{dynamic}`
// standing for an indirect target: `func+0xoff: call to callee() leaves .noinstr.text section`,
// `func+0xoff: return with instrumentation enabled`; the command prints them after objtool's
// `OBJECT: warning: objtool: ` prefix.
import iced from "iced-x86";
import { parseElf, type ElfImage } from "../machine/elf.js";
import { SymbolTable } from "../machine/symbols.js";
import { hex } from "../machine/disasm.js";
import { jumpTableTargets } from "./jumptable.js";
import { instrumentationMarkers, type InstrMarkers } from "./instr.js";
import { bytesAt, findRegion, piecesOf, type CodePiece, type NoinstrRegion } from "./region.js";

export { NoinstrError, type NoinstrRegion } from "./region.js";

const { Decoder, DecoderOptions, Code, FlowControl, OpKind } = iced;

export type FindingKind = "call" | "jump" | "conditional jump" | "indirect call" | "indirect jump" | "undecodable" | "return";

export interface NoinstrFinding {
  kind: FindingKind;
  /** The offending instruction's address, and the same as `func+0xoff`. */
  ip: bigint;
  where: string;
  /** Where it goes; undefined for indirect, undecodable and return ones. */
  target?: bigint;
  /** The target as a symbol (`name`, `name+0xoff`, or an address), `{dynamic}` if indirect;
   * undefined for undecodable bytes and returns. */
  callee?: string;
  bytes: Uint8Array;
  /** One line, as printed by `tramplab check-noinstr`. */
  message: string;
}

export interface NoinstrReport {
  region: NoinstrRegion;
  functions: number;
  instructions: number;
  /** instrumentation_begin() markers found in the region (each allows calls until its end). */
  instrumentationRegions: number;
  findings: NoinstrFinding[];
}

/** Checks a linked ELF image (the file's bytes). Throws ElfError/NoinstrError on bad input. */
export function checkNoinstr(file: Uint8Array): NoinstrReport {
  return checkNoinstrElf(parseElf(file, "any"));
}

export function checkNoinstrElf(elf: ElfImage): NoinstrReport {
  const region = findRegion(elf);
  const pieces = piecesOf(elf, region);
  const names = new Namer(elf);
  const markers = instrumentationMarkers(elf);
  const inRegion = (a: bigint) => a >= region.start && a < region.end;
  const report: NoinstrReport = {
    region, functions: 0, instructions: 0, instrumentationRegions: [...markers.begin].filter(inRegion).length, findings: [],
  };
  for (const piece of pieces) {
    if (piece.name !== undefined) report.functions++;
    report.instructions += checkPiece(elf, region, piece, names, markers, report.findings);
  }
  return report;
}

/** Decodes one piece, appending its findings; returns how many instructions it holds. */
function checkPiece(elf: ElfImage, region: NoinstrRegion, piece: CodePiece, names: Namer, markers: InstrMarkers,
  out: NoinstrFinding[]): number {
  const bytes = bytesAt(elf, piece.start, piece.end);
  const inside = (a: bigint) => a >= region.start && a < region.end;
  // Decoding stops at the piece's end, so an instruction cut off there decodes as invalid
  // rather than borrowing bytes from the next function.
  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  decoder.ip = piece.start;
  let count = 0;
  let instr = 0; // instrumentation_begin() depth: objtool's state->instr
  try {
    while (decoder.canDecode) {
      const insn = decoder.decode();
      if (markers.begin.has(insn.ip)) instr++;
      if (markers.end.has(insn.ip)) instr--;
      if (instr > 0 && insn.flowControl === FlowControl.Return) {
        const off = Number(insn.ip - piece.start), len = insn.length;
        insn.free();
        count++;
        out.push(finding("return", undefined, piece, off, bytes.slice(off, off + len), names));
        continue;
      }
      const leaving = insn.code === Code.INVALID ? "undecodable" : leavingKind(insn.flowControl, NEAR_BRANCH.has(insn.op0Kind));
      // Inside an instrumentation_begin() region calls out are allowed; bytes that do not decode never are.
      const kind = instr > 0 && leaving !== "undecodable" ? undefined : leaving;
      const target = kind === "call" || kind === "jump" || kind === "conditional jump" ? insn.nearBranchTarget : undefined;
      const switchJump = kind === "indirect jump" && piece.name !== undefined && jumpTableTargets(elf, insn, piece) !== undefined;
      const off = Number(insn.ip - piece.start);
      const len = insn.length;
      insn.free();
      count++;
      if (kind === undefined || switchJump || (target !== undefined && inside(target))) continue;
      out.push(finding(kind, target, piece, off, bytes.slice(off, off + len), names));
    }
  } finally {
    decoder.free();
  }
  return count;
}

function finding(kind: FindingKind, target: bigint | undefined, piece: CodePiece, off: number, bytes: Uint8Array,
  names: Namer): NoinstrFinding {
  const ip = piece.start + BigInt(off);
  const where = piece.name !== undefined ? `${piece.name}+0x${off.toString(16)}` : names.format(ip);
  if (kind === "undecodable") {
    const message = `${where}: undecodable bytes (${hex(bytes)}): cannot tell whether control leaves .noinstr.text section`;
    return { kind, ip, where, bytes, message };
  }
  if (kind === "return") return { kind, ip, where, bytes, message: `${where}: return with instrumentation enabled` };
  const callee = target === undefined ? "{dynamic}" : names.format(target);
  return { kind, ip, where, target, callee, bytes, message: `${where}: call to ${callee}() leaves .noinstr.text section` };
}

const NEAR_BRANCH = new Set<number>([OpKind.NearBranch16, OpKind.NearBranch32, OpKind.NearBranch64]);

/** What an instruction's flow control means here; undefined for ones that cannot leave. */
function leavingKind(flow: number, direct: boolean): FindingKind | undefined {
  switch (flow) {
    // iced files syscall, vmcall and vmmcall under Call too, without a target: they enter the
    // kernel's entry code or (vmcall) the emulator's host, never instrumentable code here.
    case FlowControl.Call: return direct ? "call" : undefined;
    case FlowControl.UnconditionalBranch: return direct ? "jump" : undefined;
    case FlowControl.ConditionalBranch: return "conditional jump"; // jcc, loop, jrcxz
    // xbegin: a transaction that aborts resumes at its target.
    case FlowControl.XbeginXabortXend: return direct ? "conditional jump" : undefined;
    case FlowControl.IndirectCall: return "indirect call";
    case FlowControl.IndirectBranch: return "indirect jump";
    // Returns go back to a caller that is checked on its own; int3, ud2 and friends raise
    // exceptions, whose handlers are entry code of their own.
    default: return undefined;
  }
}

/** Names addresses, preferring function symbols to labels such as _stext at the same spot. */
class Namer {
  private readonly funcs: SymbolTable;
  private readonly all: SymbolTable;

  constructor(elf: ElfImage) {
    this.funcs = SymbolTable.fromElf(elf.symbols.filter((s) => s.type === "func"));
    this.all = SymbolTable.fromElf(elf.symbols);
  }

  format(addr: bigint): string {
    return (this.funcs.find(addr) ? this.funcs : this.all).format(addr);
  }
}
