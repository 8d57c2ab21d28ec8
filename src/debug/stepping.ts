// Forward execution commands as plans for the engine: si, ni, finish, until/advance, c, run.
// Every plan keeps to the machine's schedule; the other vCPUs run whenever it is their turn.
import iced from "iced-x86";
import type { CpuState } from "../machine/machine.js";
import { decoderOptions } from "../machine/disasm.js";
import { FOREVER } from "./cursor.js";
import { DebugError, stepBudget, type Engine, type Plan } from "./engine.js";
import { readUpTo } from "./format.js";

const { Decoder, FlowControl, Code } = iced;

/** si N: the selected vCPU retires N instructions; stops before its next one. */
export function stepPlan(e: Engine, n: number): Plan {
  const cpu = e.cpu;
  let left = n;
  let seen = e.machine.cpus[cpu].get("insns");
  return {
    before: (c) => (left <= 0 && c.index === cpu ? "" : null),
    budget: (c) => (c.index === cpu ? stepBudget(c) : FOREVER),
    after: (c) => {
      if (c.index !== cpu) return null;
      const now = c.get("insns");
      left -= Number(now - seen);
      seen = now;
      return null;
    },
  };
}

interface Decoded { length: number; call: boolean }

function decodeAt(e: Engine, c: CpuState): Decoded | null {
  const bytes = readUpTo((a, n) => e.read(a, n, c.index), c.rip, 15);
  if (!bytes) return null;
  const d = new Decoder(64, bytes, decoderOptions(e.machine.cpuVendor));
  d.ip = c.rip;
  const insn = d.decode();
  const fc = insn.flowControl;
  const out = { length: insn.length, call: fc === FlowControl.Call || fc === FlowControl.IndirectCall };
  insn.free();
  d.free();
  return out;
}

/** The instruction at c's rip is a call. */
export function isCall(e: Engine, c: CpuState): boolean {
  return decodeAt(e, c)?.call ?? false;
}

/** Stops the selected vCPU when it reaches `addr` with its stack pointer at least `minRsp`. */
function reachPlan(e: Engine, addr: bigint, what: string, minRsp?: bigint): Plan {
  const cpu = e.cpu;
  const bp = e.addBreakpoint({ kind: "break", temporary: true, internal: true, addr, cpu, what,
    cond: minRsp === undefined ? undefined : `$rsp >= 0x${minRsp.toString(16)}` });
  // The engine removes the breakpoint when it stops there; a stop elsewhere leaves it to cleanup.
  return { cleanup: () => e.removeBreakpoint(bp) };
}

/** ni: like si, but a call runs until it returns to the next instruction. */
export function nextPlan(e: Engine): Plan {
  const c = e.current;
  const d = decodeAt(e, c);
  if (!d || !d.call || c.get("halted") !== 0) return stepPlan(e, 1);
  return reachPlan(e, c.rip + BigInt(d.length), "", c.reg(4));
}

/** ni N: N times ni, each from where the last one stopped; a breakpoint or watchpoint on the way ends it. */
export function nextPlans(e: Engine, n: number): Plan {
  const p = nextPlan(e);
  return n > 1 ? { ...p, then: () => nextPlans(e, n - 1) } : p;
}

/**
 * finish: run until the current function returns. The return address is found from the
 * frame-pointer convention the firmware is built with: before `push %rbp` it is at [rsp],
 * right after it at [rsp+8], and once `mov %rsp,%rbp` ran at [rbp+8].
 */
export function finishPlan(e: Engine): Plan {
  const c = e.current;
  const sym = e.symbols.find(c.rip);
  if (!sym) throw new DebugError(`"finish" needs a function: ${"0x" + c.rip.toString(16)} is in no symbol`);
  const frame = frameSetup(e, c, sym.addr);
  const retSlot = frame === "none" ? c.reg(4) : frame === "pushed" ? c.reg(4) + 8n : c.reg(5) + 8n;
  const ret = e.readU64(retSlot);
  if (ret === null) throw new DebugError(`cannot read the return address at 0x${retSlot.toString(16)}`);
  return reachPlan(e, ret, `Run till exit from ${sym.name}`, retSlot + 8n);
}

/** How far function `start`'s prologue got before c's rip. */
export function frameSetup(e: Engine, c: CpuState, start: bigint): "none" | "pushed" | "set" {
  const len = Number(c.rip - start);
  if (len <= 0 || len > 64) return len <= 0 ? "none" : "set";
  const bytes = e.read(start, len);
  if (!bytes) return "set";
  const d = new Decoder(64, bytes, decoderOptions(e.machine.cpuVendor));
  d.ip = start;
  let state: "none" | "pushed" | "set" = "none";
  while (d.canDecode) {
    const insn = d.decode();
    const t = insn.code;
    if (t === Code.Push_r64 && insn.op0Register === iced.Register.RBP) state = "pushed";
    if (t === Code.Mov_rm64_r64 && insn.op0Register === iced.Register.RBP && insn.op1Register === iced.Register.RSP) state = "set";
    insn.free();
  }
  d.free();
  return state;
}

/** until/advance ADDR: run until the selected vCPU reaches ADDR (or something else stops it). */
export function advancePlan(e: Engine, addr: bigint): Plan {
  return reachPlan(e, addr, "");
}

/** c: run until a breakpoint, watchpoint, event or Ctrl-C. */
export function continuePlan(): Plan {
  return {};
}

/** run TIME: run for `ticks` of virtual time (stops early like c). */
export function runTimePlan(e: Engine, ticks: bigint): Plan {
  return { end: e.machine.time + ticks };
}
