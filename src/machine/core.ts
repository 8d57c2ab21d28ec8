// Loads the CPU core (build/core.wasm) and checks it was built from the same layout.
import { existsSync } from "node:fs";
import { readInput } from "../io.js";
import { coreWasmPath } from "../paths.js";
import { LAYOUT_HASH } from "../gen/layout.js";

/** The debugger's breakpoint table in the core (assembly/debug.ts). */
export interface DebugCore {
  setBreakpoint(i: number, addr: bigint): void;
  setBreakpointCount(n: number): void;
  /** The next run of `cpu` executes the instruction at `rip` once without stopping there. */
  skipBreakpoint(cpu: number, rip: bigint): void;
}

export interface CoreExports extends DebugCore {
  layoutHash(): number;
  init(): void;
  run(cpu: number, budget: bigint): number;
  hostDecode(n: number): number;
  hostWrite(pa: bigint, len: number, clock: bigint): void;
  hostInterrupt(cpu: number, vector: number): void;
  hostFlushTlb(cpu: number): void;
}

const compiled = new Map<string, WebAssembly.Module>();

function module(path: string): WebAssembly.Module {
  let m = compiled.get(path);
  if (m) return m;
  if (!existsSync(path)) throw new Error(`tramplab: ${path} is missing; run \`npm run build\``);
  m = new WebAssembly.Module(readInput(path, "project"));
  compiled.set(path, m);
  return m;
}

/** Instantiates the core over `memory` (another build of it can be named, e.g. for A/B benchmarks). */
export function instantiateCore(memory: WebAssembly.Memory, path = coreWasmPath): CoreExports {
  const instance = new WebAssembly.Instance(module(path), { env: { memory } });
  // WebAssembly.Exports knows no names; CoreExports describes what assembly/index.ts exports.
  const exports: object = instance.exports;
  const core = exports as CoreExports;
  checkLayout(core.layoutHash() >>> 0);
  return core;
}

/** Refuses a core built from a different layout description than this driver. */
export function checkLayout(hash: number): void {
  if (hash !== LAYOUT_HASH) {
    throw new Error(`tramplab: core layout hash ${hash.toString(16)} does not match the driver's ` +
      `${LAYOUT_HASH.toString(16)}; rebuild with \`npm run build\``);
  }
}
