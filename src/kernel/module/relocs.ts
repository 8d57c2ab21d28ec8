// x86-64 RELA relocations as the kernel's module loader applies them (arch/x86/kernel/module.c,
// apply_relocate_add): the types a -mcmodel=kernel object uses, each written little-endian at
// its place after checking that the place still holds zeros and that the value fits.

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_PC64 = 24;

/** The psABI's names, for messages about types the loader does not apply. */
const NAMES = [
  "NONE", "64", "PC32", "GOT32", "PLT32", "COPY", "GLOB_DAT", "JUMP_SLOT", "RELATIVE", "GOTPCREL", "32", "32S", "16", "PC16",
  "8", "PC8", "DTPMOD64", "DTPOFF64", "TPOFF64", "TLSGD", "TLSLD", "DTPOFF32", "GOTTPOFF", "TPOFF32", "PC64", "GOTOFF64",
  "GOTPC32", "GOT64", "GOTPCREL64", "GOTPC64", "GOTPLT64", "PLTOFF64", "SIZE32", "SIZE64", "GOTPC32_TLSDESC", "TLSDESC_CALL",
  "TLSDESC", "IRELATIVE", "RELATIVE64", "PC32_BND", "PLT32_BND", "GOTPCRELX", "REX_GOTPCRELX",
];

export function relocationName(type: number): string {
  return type < NAMES.length ? `R_X86_64_${NAMES[type]}` : "unknown to x86-64";
}

/** How many bytes a relocation type writes, or undefined for a type the loader refuses. */
export function relocationSize(type: number): number | undefined {
  switch (type) {
    case R_X86_64_NONE: return 0;
    case R_X86_64_64: case R_X86_64_PC64: return 8;
    case R_X86_64_PC32: case R_X86_64_PLT32: case R_X86_64_32: case R_X86_64_32S: return 4;
    default: return undefined;
  }
}

const U64 = (1n << 64n) - 1n;
const hex = (n: bigint) => `0x${n.toString(16)}`;

/**
 * The value a relocation stores at `place` (its address) for symbol address plus addend `value`
 * (S + A), or why it cannot: a 32-bit field that cannot hold it. The kernel checks 32 and 32S,
 * and trusts PC32 because its module area lies within 2 GiB of the kernel; here the areas are
 * the caller's, so a PC32/PLT32 that does not reach is refused too rather than truncated.
 */
export function relocationValue(type: number, value: bigint, place: bigint): bigint | string {
  const v = value & U64;
  const overflow = (x: bigint) => `overflow in relocation type ${type} val ${hex(x & U64)}`;
  const notKernelModel = `${overflow(v)} (the module was likely not built with -mcmodel=kernel)`;
  switch (type) {
    case R_X86_64_64: return v;
    case R_X86_64_PC64: return (v - place) & U64;
    case R_X86_64_32:
      return v <= 0xffff_ffffn ? v : notKernelModel;
    case R_X86_64_32S: {
      const s = BigInt.asIntN(64, v);
      return s >= -(1n << 31n) && s < 1n << 31n ? s & 0xffff_ffffn : notKernelModel;
    }
    case R_X86_64_PC32: case R_X86_64_PLT32: {
      const rel = BigInt.asIntN(64, v - place);
      return rel >= -(1n << 31n) && rel < 1n << 31n ? rel & 0xffff_ffffn : `${overflow(v - place)} (S + A = ${hex(v)}, P = ${hex(place)})`;
    }
    default: return 0n;
  }
}

/**
 * Writes a relocation's field at `off` of `image`, or says why not. The place must still be
 * zero (the kernel's "Invalid relocation target" check): a nonzero place means two
 * relocations share it, or the object carries an addend in its bytes, as SHT_REL would.
 */
export function writeRelocation(image: Uint8Array, off: number, type: number, field: bigint): string | undefined {
  const size = relocationSize(type) ?? 0;
  const place = image.subarray(off, off + size);
  if (place.some((b) => b !== 0)) {
    return `Invalid relocation target, existing value is nonzero for type ${type}, val ${hex(field)}`;
  }
  for (let i = 0; i < size; i++) place[i] = Number((field >> BigInt(8 * i)) & 0xffn);
  return undefined;
}
