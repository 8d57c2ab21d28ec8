// jcc, jmp, call, ret, jrcxz, and the flag instructions clc stc cmc cld std.
import { FAULTED } from "../fault";
import { testCC, getCF, setSomeFlags, CF, DF } from "../flags";
import { RIP, REG_RCX, REG_RSP, reg64, setReg64, nextRip } from "../state";
import { PFX_ASZ } from "../decode";
import { imm, sub, pfx, loadE } from "../operand";
import { push, pop } from "./stack";

@inline export function jcc(e: usize): void {
  if (testCC(sub(e))) RIP = nextRip(e) + imm(e);
}

@inline export function jmpJ(e: usize): void {
  RIP = nextRip(e) + imm(e);
}

@inline export function jmpE(e: usize): void {
  const t = loadE(e, 3);
  if (FAULTED) return;
  RIP = t;
}

@inline export function callJ(e: usize): void {
  const next = nextRip(e);
  push(next, 3);
  if (FAULTED) return;
  RIP = next + imm(e);
}

@inline export function callE(e: usize): void {
  const t = loadE(e, 3);
  if (FAULTED) return;
  push(nextRip(e), 3);
  if (FAULTED) return;
  RIP = t;
}

@inline export function ret(e: usize): void {
  const t = pop(3);
  if (FAULTED) return;
  RIP = t;
  const n = imm(e);
  if (n != 0) setReg64(REG_RSP, reg64(REG_RSP) + n);
}

export function jrcxz(e: usize): void {
  const c = reg64(REG_RCX);
  if ((pfx(e) & PFX_ASZ ? c & 0xFFFF_FFFF : c) == 0) RIP = nextRip(e) + imm(e);
}

export const FLAGOP_CLC: u32 = 0;
export const FLAGOP_STC: u32 = 1;
export const FLAGOP_CMC: u32 = 2;
export const FLAGOP_CLD: u32 = 3;
export const FLAGOP_STD: u32 = 4;

export function flagOp(e: usize, op: u32): void {
  switch (op) {
    case FLAGOP_CLC: setSomeFlags(CF, 0); break;
    case FLAGOP_STC: setSomeFlags(CF, CF); break;
    case FLAGOP_CMC: setSomeFlags(CF, getCF() ^ 1); break;
    case FLAGOP_CLD: setSomeFlags(DF, 0); break;
    default: setSomeFlags(DF, DF);
  }
}
