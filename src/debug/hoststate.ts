// Snapshots of the control plane's host-side state (tasks, run queues, grace periods, ftrace
// records, trampolines, the event log...), to go with the machine's memory in checkpoints.
//
// The kernel's objects are tied together by closures (callbacks that capture `this`), so they
// cannot be cloned and swapped in. Instead a snapshot records every reachable object's own
// fields (shallowly), and restoring writes those fields back into the *same* objects: every
// closure keeps pointing at live objects, and objects created later simply become unreachable.
// What is not recorded: wasm memory and views of it (the machine snapshot has those),
// functions, and symbol tables (never changed after they are built).
import { Machine } from "../machine/machine.js";
import { StructView } from "../machine/struct.js";
import { SymbolTable } from "../machine/symbols.js";
import { EventLog } from "../machine/events.js";

type Record =
  | { o: object; kind: "object"; keys: PropertyKey[]; values: unknown[] }
  | { o: unknown[]; kind: "array"; items: unknown[] }
  | { o: Map<unknown, unknown>; kind: "map"; entries: [unknown, unknown][] }
  | { o: Set<unknown>; kind: "set"; items: unknown[] }
  | { o: ArrayBufferView; kind: "bytes"; copy: Uint8Array };

export interface HostSnapshot {
  readonly records: Record[];
}

/** Lists whose elements are never changed once added (their elements are not visited). */
function appendOnlyItems(parent: object, key: PropertyKey): boolean {
  return parent instanceof EventLog && key === "events";
}

export function captureHost(roots: object[], wasm: ArrayBufferLike): HostSnapshot {
  const records: Record[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [...roots];
  const skip = (v: unknown): boolean => v === null || typeof v !== "object" || seen.has(v) ||
    v instanceof Machine || v instanceof StructView || v instanceof SymbolTable || v instanceof WebAssembly.Memory ||
    v instanceof WebAssembly.Module || v instanceof WebAssembly.Instance || v === wasm ||
    (ArrayBuffer.isView(v) && v.buffer === wasm) || Object.isFrozen(v);
  while (stack.length > 0) {
    const o = stack.pop();
    if (skip(o)) continue;
    seen.add(o);
    if (Array.isArray(o)) {
      records.push({ o, kind: "array", items: o.slice() });
      for (const x of o) stack.push(x);
    } else if (o instanceof Map) {
      const entries = [...o.entries()];
      records.push({ o, kind: "map", entries });
      for (const [k, v] of entries) stack.push(k, v);
    } else if (o instanceof Set) {
      records.push({ o, kind: "set", items: [...o] });
      for (const x of o) stack.push(x);
    } else if (ArrayBuffer.isView(o)) {
      records.push({ o, kind: "bytes", copy: new Uint8Array(o.buffer, o.byteOffset, o.byteLength).slice() });
    } else if (o instanceof ArrayBuffer) {
      continue; // reached only through views, which are recorded themselves
    } else {
      const obj = o as { [k: PropertyKey]: unknown };
      const keys = Reflect.ownKeys(obj);
      const values = keys.map((k) => obj[k]);
      records.push({ o: obj, kind: "object", keys, values });
      keys.forEach((k, i) => {
        const v = values[i];
        if (Array.isArray(v) && appendOnlyItems(obj, k)) {
          records.push({ o: v, kind: "array", items: v.slice() });
          seen.add(v);
        } else stack.push(v);
      });
    }
  }
  return { records };
}

export function restoreHost(s: HostSnapshot): void {
  for (const r of s.records) {
    switch (r.kind) {
      case "array":
        r.o.length = r.items.length;
        for (let i = 0; i < r.items.length; i++) r.o[i] = r.items[i];
        break;
      case "map":
        r.o.clear();
        for (const [k, v] of r.entries) r.o.set(k, v);
        break;
      case "set":
        r.o.clear();
        for (const x of r.items) r.o.add(x);
        break;
      case "bytes":
        new Uint8Array(r.o.buffer, r.o.byteOffset, r.o.byteLength).set(r.copy);
        break;
      case "object": {
        const obj = r.o as { [k: PropertyKey]: unknown };
        const keep = new Set(r.keys);
        for (const k of Reflect.ownKeys(obj)) if (!keep.has(k)) delete obj[k];
        r.keys.forEach((k, i) => { if (obj[k] !== r.values[i]) obj[k] = r.values[i]; });
        break;
      }
    }
  }
}
