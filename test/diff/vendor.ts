// Which generated instructions Intel and AMD parts may run differently (test/cpu-vendors.test.ts
// states both outcomes for each): a case holding none must come out the same under either
// vendor profile, so the profile the host does not test against is still checked everywhere else.
import { scanPrefixes } from "./rows.js";
import type { GeneratedCase } from "./generator.js";

const NEAR_ONE_BYTE = new Set([0xeb, 0xe9, 0xe8, 0xc3, 0xc2, 0xe0, 0xe1, 0xe2, 0xe3]);
const STRING = new Set([0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);

/** Why instruction `bytes` may differ between the vendors, or null. */
export function divergence(bytes: number[]): string | null {
  const b = Uint8Array.from(bytes);
  const p = scanPrefixes(b);
  const op = b[p.at], op2 = b[p.at + 1], reg = (b[p.at + 1] >> 3) & 7;
  const o16 = p.osz16 && !(p.rex & 8);
  const near = NEAR_ONE_BYTE.has(op) || (op >= 0x70 && op <= 0x7f) || (op === 0x0f && op2 >= 0x80 && op2 <= 0x8f) ||
    (op === 0xff && (reg === 2 || reg === 4));
  if (near && o16) return "near branch with a 66 prefix";
  if (STRING.has(op) && p.asz32 && p.rep) return "rep string instruction with 67 (a zero ECX)";
  if (op === 0x0f && (op2 === 0xbc || op2 === 0xbd) && p.rep !== 0xf3) return "bsf/bsr (a zero source)";
  if (op === 0x0f && (op2 === 0xa4 || op2 === 0xa5 || op2 === 0xac || op2 === 0xad) && o16) return "16-bit shld/shrd (a count above 16)";
  return null;
}

/** Whether any instruction of the case may run differently on the other vendor's parts. */
export function vendorDivergent(c: GeneratedCase): boolean {
  return c.insns.some((i) => divergence(i.bytes) !== null);
}
