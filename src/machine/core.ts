// Loads the CPU core (build/core.wasm) and checks it was built from the same layout.
import { readFileSync, existsSync } from "node:fs";
import { coreWasmPath } from "../paths.js";
import { LAYOUT_HASH } from "../gen/layout.js";

export interface CoreExports {
  layoutHash(): number;
  init(): void;
  run(cpu: number, budget: bigint): number;
  hostDecode(n: number): number;
  hostWrite(pa: bigint, len: number): void;
  hostFlushTlb(cpu: number): void;
}

let compiled: WebAssembly.Module | null = null;

function module(): WebAssembly.Module {
  if (compiled) return compiled;
  if (!existsSync(coreWasmPath)) throw new Error(`tramplab: ${coreWasmPath} is missing; run \`npm run build\``);
  compiled = new WebAssembly.Module(readFileSync(coreWasmPath));
  return compiled;
}

/** Instantiates the core over `memory`. */
export function instantiateCore(memory: WebAssembly.Memory): CoreExports {
  const instance = new WebAssembly.Instance(module(), { env: { memory } });
  const core = instance.exports as unknown as CoreExports;
  const hash = core.layoutHash() >>> 0;
  if (hash !== LAYOUT_HASH) {
    throw new Error(`tramplab: core layout hash ${hash.toString(16)} does not match the driver's ` +
      `${LAYOUT_HASH.toString(16)}; rebuild with \`npm run build\``);
  }
  return core;
}
