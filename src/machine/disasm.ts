// Disassembly through iced-x86, in GAS (AT&T) syntax by default.
import iced from "iced-x86";
import type { CpuVendorName } from "./machine.js";

const { Decoder, DecoderOptions, Formatter, FormatterSyntax, Code } = iced;

export interface DisasmLine {
  ip: bigint;
  bytes: Uint8Array;
  text: string;
  /** iced-x86's verdict: false for bytes that are not a valid instruction. */
  valid: boolean;
}

let gas: InstanceType<typeof Formatter> | null = null;
let intel: InstanceType<typeof Formatter> | null = null;

/** Lower-case hex everywhere, as objdump and gdb print it. */
function make(syntax: number): InstanceType<typeof Formatter> {
  const f = new Formatter(syntax);
  f.uppercaseHex = false;
  return f;
}

function formatter(syntax: "gas" | "intel"): InstanceType<typeof Formatter> {
  if (syntax === "gas") return (gas ??= make(FormatterSyntax.Gas));
  return (intel ??= make(FormatterSyntax.Intel));
}

/**
 * iced-x86's decoder options for a vendor profile: AMD parts decode a 66-prefixed near branch
 * with a 16-bit operand size (rel16), Intel parts ignore the prefix (docs/cpu.md).
 */
export function decoderOptions(vendor: CpuVendorName = "intel"): number {
  return vendor === "amd" ? DecoderOptions.AMD : DecoderOptions.None;
}

/** Disassembles up to `count` instructions from bytes located at address ip, as `vendor`'s parts decode them. */
export function disassemble(bytes: Uint8Array, ip: bigint, count = Infinity, syntax: "gas" | "intel" = "gas",
  vendor: CpuVendorName = "intel"): DisasmLine[] {
  const decoder = new Decoder(64, bytes, decoderOptions(vendor));
  decoder.ip = ip;
  const fmt = formatter(syntax);
  const out: DisasmLine[] = [];
  let offset = 0;
  while (decoder.canDecode && out.length < count) {
    const insn = decoder.decode();
    const len = insn.length;
    const valid = insn.code !== Code.INVALID;
    out.push({ ip: ip + BigInt(offset), bytes: bytes.slice(offset, offset + len), text: valid ? fmt.format(insn) : "(bad)", valid });
    offset += len;
    insn.free();
  }
  decoder.free();
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
