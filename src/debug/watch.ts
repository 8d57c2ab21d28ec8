// Which memory an instruction is about to read or write, for read and access watchpoints:
// iced-x86 lists its memory operands (implicit stack slots included); the addresses come from
// the vCPU's registers. Watched values are compared after every instruction as well, so
// writes the decoder cannot see (interrupt frames, other agents) still trigger `watch`.
import iced from "iced-x86";
import type { CpuState, CpuVendorName } from "../machine/machine.js";
import { decoderOptions } from "../machine/disasm.js";

const { Decoder, InstructionInfoFactory, MemorySizeExt, OpAccess, Register } = iced;

export interface Access {
  addr: bigint;
  size: number;
  read: boolean;
  write: boolean;
}

let factory: InstanceType<typeof InstructionInfoFactory> | null = null;

function regValue(c: CpuState, r: number, nextIp: bigint): bigint | undefined {
  if (r === Register.None) return 0n;
  if (r === Register.RIP) return nextIp;
  if (r >= Register.RAX && r <= Register.R15) return c.reg(r - Register.RAX);
  if (r >= Register.EAX && r <= Register.R15D) return c.reg(r - Register.EAX) & 0xffff_ffffn;
  return undefined;
}

/** The memory accesses of the instruction in `bytes` at c's rip (empty if it does not decode). */
export function accessesOf(c: CpuState, bytes: Uint8Array, vendor: CpuVendorName = "intel"): Access[] {
  const decoder = new Decoder(64, bytes, decoderOptions(vendor));
  decoder.ip = c.rip;
  const insn = decoder.decode();
  const out: Access[] = [];
  try {
    if (insn.isInvalid) return out;
    const info = (factory ??= new InstructionInfoFactory()).info(insn);
    const nextIp = c.rip + BigInt(insn.length);
    for (const m of info.usedMemory()) {
      const base = regValue(c, m.base, nextIp), index = regValue(c, m.index, nextIp);
      if (base !== undefined && index !== undefined) {
        let addr = base + index * BigInt(m.scale) + m.displacement;
        if (m.segment === Register.FS) addr += c.get("fsBase");
        if (m.segment === Register.GS) addr += c.get("gsBase");
        const a = m.access;
        out.push({
          addr: BigInt.asUintN(64, addr), size: MemorySizeExt.size(m.memorySize) || 8,
          read: a === OpAccess.Read || a === OpAccess.CondRead || a === OpAccess.ReadWrite || a === OpAccess.ReadCondWrite,
          write: a === OpAccess.Write || a === OpAccess.CondWrite || a === OpAccess.ReadWrite || a === OpAccess.ReadCondWrite,
        });
      }
      m.free();
    }
    info.free();
  } finally {
    insn.free();
    decoder.free();
  }
  return out;
}

export function overlaps(a: Access, addr: bigint, size: number): boolean {
  return a.addr < addr + BigInt(size) && addr < a.addr + BigInt(a.size);
}
