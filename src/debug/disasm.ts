// The debugger's disassembly: GAS syntax through iced-x86, with branch and call targets and
// RIP-relative operands symbolized the way gdb prints them:
//   call 0xffffffff81001960 <work_leaf>
//   mov %rax,0x87ba(%rip)        # 0xffffffff8100a0f0 <work_sink>
// iced-x86's JavaScript build has no symbol-resolver hook (the Rust crate's SymbolResolver is
// not exported to it), so the formatter prints the numbers and the targets come from the
// decoded instruction itself (nearBranchTarget, ipRelMemoryAddress).
import iced from "iced-x86";
import type { SymbolTable } from "../machine/symbols.js";
import type { CpuVendorName } from "../machine/machine.js";
import { decoderOptions } from "../machine/disasm.js";

const { Decoder, Formatter, FormatterSyntax, Code, OpKind } = iced;

export interface Insn {
  bytes: Uint8Array;
  text: string;
}

let gas: InstanceType<typeof Formatter> | null = null;

function formatter(): InstanceType<typeof Formatter> {
  if (gas) return gas;
  gas = new Formatter(FormatterSyntax.Gas);
  gas.uppercaseHex = false; // as objdump and gdb print hex
  gas.ripRelativeAddresses = true; // 0x87ba(%rip), with the address in the comment
  return gas;
}

const BRANCH = new Set<number>([OpKind.NearBranch16, OpKind.NearBranch32, OpKind.NearBranch64]);

/** "0xffffffff81001960 <work_leaf>" as gdb shows an address, or just the hex. */
function target(symbols: SymbolTable, a: bigint): string {
  const hex = "0x" + a.toString(16);
  return symbols.find(a) ? `${hex} <${symbols.format(a)}>` : hex;
}

/** The first instruction in `bytes` (located at `ip`), symbolized; "(bad)" when it does not decode. */
export function decodeOne(bytes: Uint8Array, ip: bigint, symbols: SymbolTable, vendor: CpuVendorName = "intel"): Insn {
  const d = new Decoder(64, bytes, decoderOptions(vendor));
  d.ip = ip;
  const insn = d.decode();
  try {
    const length = insn.length || 1;
    if (insn.code === Code.INVALID) return { bytes: bytes.slice(0, length), text: "(bad)" };
    let text = formatter().format(insn);
    let branch: bigint | null = null;
    for (let i = 0; i < insn.opCount; i++) if (BRANCH.has(insn.opKind(i))) branch = insn.nearBranchTarget;
    if (branch !== null) {
      if (symbols.find(branch)) text += ` <${symbols.format(branch)}>`;
    } else if (insn.isIpRelMemoryOperand) {
      text += `        # ${target(symbols, insn.ipRelMemoryAddress)}`;
    }
    return { bytes: bytes.slice(0, length), text };
  } finally {
    insn.free();
    d.free();
  }
}
