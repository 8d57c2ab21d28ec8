// add or adc sbb and sub xor cmp, test, inc dec, not neg.
import { FAULTED } from "../fault";
import { getCF, setLogicCC, setArithCC, setCarryCC, setIncDecCC, CC_ADD, CC_ADC, CC_SUB, CC_SBB } from "../flags";
import { getReg, setReg, sizeMask } from "../state";
import { regOp, imm, loadE, loadRMW, storeE } from "../operand";

export const ALU_ADD: u32 = 0;
export const ALU_OR: u32 = 1;
export const ALU_ADC: u32 = 2;
export const ALU_SBB: u32 = 3;
export const ALU_AND: u32 = 4;
export const ALU_SUB: u32 = 5;
export const ALU_XOR: u32 = 6;
export const ALU_CMP: u32 = 7;

@inline function compute(k: u32, a: u64, b: u64, cin: u64): u64 {
  switch (k) {
    case ALU_ADD: return a + b;
    case ALU_OR: return a | b;
    case ALU_ADC: return a + b + cin;
    case ALU_SBB: return a - b - cin;
    case ALU_AND: return a & b;
    case ALU_XOR: return a ^ b;
    default: return a - b;
  }
}

@inline function commit(k: u32, s: u32, a: u64, b: u64, r: u64, cin: u64): void {
  switch (k) {
    case ALU_ADD: setArithCC(CC_ADD, s, a, b, r); break;
    case ALU_ADC: setCarryCC(CC_ADC, s, a, b, r, cin); break;
    case ALU_SBB: setCarryCC(CC_SBB, s, a, b, r, cin); break;
    case ALU_SUB:
    case ALU_CMP: setArithCC(CC_SUB, s, a, b, r); break;
    default: setLogicCC(s, r);
  }
}

/** r/m op= b */
@inline function aluIntoE(e: usize, k: u32, s: u32, b: u64): void {
  const cin = k == ALU_ADC || k == ALU_SBB ? getCF() : 0;
  const a = k == ALU_CMP ? loadE(e, s) : loadRMW(e, s);
  if (FAULTED) return;
  const r = compute(k, a, b, cin);
  if (k != ALU_CMP) {
    storeE(e, s, r);
    if (FAULTED) return;
  }
  commit(k, s, a, b, r, cin);
}

@inline export function aluEG(e: usize, s: u32, k: u32): void {
  aluIntoE(e, k, s, getReg(regOp(e), s));
}

@inline export function aluEI(e: usize, s: u32, k: u32): void {
  aluIntoE(e, k, s, imm(e) & sizeMask(s));
}

@inline export function aluGE(e: usize, s: u32, k: u32): void {
  const cin = k == ALU_ADC || k == ALU_SBB ? getCF() : 0;
  const b = loadE(e, s);
  if (FAULTED) return;
  const g = regOp(e);
  const a = getReg(g, s);
  const r = compute(k, a, b, cin);
  if (k != ALU_CMP) setReg(g, s, r);
  commit(k, s, a, b, r, cin);
}

@inline export function testEG(e: usize, s: u32): void {
  const a = loadE(e, s);
  if (FAULTED) return;
  setLogicCC(s, a & getReg(regOp(e), s));
}

export function testEI(e: usize, s: u32): void {
  const a = loadE(e, s);
  if (FAULTED) return;
  setLogicCC(s, a & imm(e));
}

@inline export function incDecE(e: usize, s: u32, dec: bool): void {
  const a = loadRMW(e, s);
  if (FAULTED) return;
  const r = dec ? a - 1 : a + 1;
  storeE(e, s, r);
  if (FAULTED) return;
  setIncDecCC(dec, s, r);
}

export function notE(e: usize, s: u32): void {
  const a = loadRMW(e, s);
  if (FAULTED) return;
  storeE(e, s, ~a);
}

export function negE(e: usize, s: u32): void {
  const a = loadRMW(e, s);
  if (FAULTED) return;
  const r = 0 - a;
  storeE(e, s, r);
  if (FAULTED) return;
  setArithCC(CC_SUB, s, 0, a, r);
}
