// Typed access to a struct at a fixed address in the core's memory, described by a generated
// field table (src/gen/layout.ts). Values are read and written in place: no copies.
import type { Field } from "../gen/layout.js";

export type FieldValue<F extends Field> = F["type"] extends "u64" | "i64" ? bigint : number;

export class StructView<T extends Record<string, Field>> {
  private readonly view: DataView;
  constructor(buffer: ArrayBufferLike, readonly base: number, readonly fields: T) {
    this.view = new DataView(buffer);
  }

  get<K extends keyof T & string>(name: K, index = 0): FieldValue<T[K]> {
    const f = this.fields[name];
    const at = this.base + f.offset + index * sizeOf(f);
    return read(this.view, at, f) as FieldValue<T[K]>;
  }

  set<K extends keyof T & string>(name: K, value: FieldValue<T[K]>, index = 0): void {
    const f = this.fields[name];
    const at = this.base + f.offset + index * sizeOf(f);
    write(this.view, at, f, value);
  }
}

export function sizeOf(f: Field): number {
  return f.type === "u8" ? 1 : f.type === "u16" ? 2 : f.type === "u32" || f.type === "i32" ? 4 : 8;
}

function read(v: DataView, at: number, f: Field): number | bigint {
  switch (f.type) {
    case "u8": return v.getUint8(at);
    case "u16": return v.getUint16(at, true);
    case "u32": return v.getUint32(at, true);
    case "i32": return v.getInt32(at, true);
    case "u64": return v.getBigUint64(at, true);
    case "i64": return v.getBigInt64(at, true);
  }
}

function write(v: DataView, at: number, f: Field, value: number | bigint): void {
  switch (f.type) {
    case "u8": v.setUint8(at, Number(value)); break;
    case "u16": v.setUint16(at, Number(value), true); break;
    case "u32": v.setUint32(at, Number(value) >>> 0, true); break;
    case "i32": v.setInt32(at, Number(value), true); break;
    case "u64": v.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true); break;
    case "i64": v.setBigInt64(at, BigInt.asIntN(64, BigInt(value)), true); break;
  }
}

/** Bytes of a struct described by `fields`, with the given values (arrays of u8 as bytes). */
export function packStruct<T extends Record<string, Field>>(fields: T, size: number,
  values: Partial<Record<keyof T & string, number | bigint | Uint8Array>>): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  for (const [name, value] of Object.entries(values) as [keyof T & string, number | bigint | Uint8Array][]) {
    const f = fields[name];
    if (value instanceof Uint8Array) bytes.set(value.subarray(0, f.count * sizeOf(f)), f.offset);
    else write(view, f.offset, f, value);
  }
  return bytes;
}
