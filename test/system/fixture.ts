// Builds the system tests' guest programs (GNU as via gcc) into build/fixtures, once per
// source change, and boots them on a bare-metal machine.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { bootBareMetal, type BareMetal } from "../../src/machine/baremetal.js";
import type { MachineConfig } from "../../src/machine/machine.js";
import { Interleaver, type StopReason } from "../../src/machine/interleave.js";

const SRC = join(projectRoot, "test/system/fixtures");
/** The generated constants the fixtures include (vectors, MSRs, APIC bits). */
const CONSTANTS = join(projectRoot, "firmware/include/gen/constants.h");
const OUT = join(projectRoot, "build/fixtures");

export function buildFixture(name: string): Uint8Array {
  const sources = readdirSync(SRC).filter((f) => f.endsWith(".inc") || f === `${name}.S`).sort();
  const hash = createHash("sha256");
  for (const f of sources) hash.update(f).update(readFileSync(join(SRC, f)));
  hash.update(readFileSync(CONSTANTS));
  const elf = join(OUT, `${name}-${hash.digest("hex").slice(0, 12)}.elf`);
  if (!existsSync(elf)) {
    mkdirSync(OUT, { recursive: true });
    execFileSync("gcc", ["-nostdlib", "-static", "-no-pie", "-Wl,-Ttext=0x200000", "-Wl,--build-id=none",
      "-Wl,--no-warn-rwx-segments", "-I", SRC, "-I", join(projectRoot, "firmware/include"),
      "-o", elf, join(SRC, `${name}.S`)], { stdio: "pipe" });
  }
  return readFileSync(elf);
}

export function bootFixture(name: string, config: MachineConfig = {}): BareMetal {
  return bootBareMetal(buildFixture(name), config);
}

/** Reads a guest u64 variable (element `index` of an array) by symbol; memory is identity-mapped. */
export function readVar(b: BareMetal, name: string, index = 0): bigint {
  const s = b.symbols.get(name);
  if (!s) throw new Error(`no symbol ${name}`);
  return new DataView(b.machine.ram.buffer, b.machine.ram.byteOffset).getBigUint64(Number(s.addr) + index * 8, true);
}

export function writeVar(b: BareMetal, name: string, v: bigint): void {
  const s = b.symbols.get(name);
  if (!s) throw new Error(`no symbol ${name}`);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, v, true);
  b.machine.writePhys(Number(s.addr), bytes);
}

/** The fixtures' hypercalls (smp.inc): the program finished, or hit something it did not expect. */
export const HC_DONE = 1;
export const HC_UNEXPECTED = 3;

/** Runs until the program says it is done (or unexpectedly stopped), at most `ticks`. */
export function runToDone(b: BareMetal, ticks = 1_000_000): StopReason {
  const sched = new Interleaver(b.machine);
  sched.hypercalls.set(HC_DONE, () => "stop");
  sched.hypercalls.set(HC_UNEXPECTED, () => "stop");
  return sched.runFor(ticks);
}

/** One record of exc_log, as exc_record in smp.inc writes it (16 u64 slots each). */
export interface Trap {
  vector: number; error: bigint; rip: bigint; cs: bigint; rflags: bigint; rsp: bigint; ss: bigint; cr2: bigint; top: bigint;
}

export function trapLog(b: BareMetal): Trap[] {
  const out: Trap[] = [];
  for (let i = 0; i < Number(readVar(b, "exc_count")); i++) {
    const f = (k: number) => readVar(b, "exc_log", i * 16 + k);
    out.push({ vector: Number(f(0)), error: f(1), rip: f(2), cs: f(3), rflags: f(4), rsp: f(5), ss: f(6), cr2: f(7), top: f(8) });
  }
  return out;
}
