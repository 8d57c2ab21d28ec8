// Builds the system tests' guest programs (GNU as via gcc) into build/fixtures, once per
// source change, and boots them on a bare-metal machine.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { bootBareMetal, type BareMetal } from "../../src/machine/baremetal.js";
import type { MachineConfig } from "../../src/machine/machine.js";

const SRC = join(projectRoot, "test/system/fixtures");
const OUT = join(projectRoot, "build/fixtures");

export function buildFixture(name: string): Uint8Array {
  const sources = readdirSync(SRC).filter((f) => f.endsWith(".inc") || f === `${name}.S`).sort();
  const hash = createHash("sha256");
  for (const f of sources) hash.update(f).update(readFileSync(join(SRC, f)));
  const elf = join(OUT, `${name}-${hash.digest("hex").slice(0, 12)}.elf`);
  if (!existsSync(elf)) {
    mkdirSync(OUT, { recursive: true });
    execFileSync("gcc", ["-nostdlib", "-static", "-no-pie", "-Wl,-Ttext=0x200000", "-Wl,--build-id=none",
      "-Wl,--no-warn-rwx-segments", "-I", SRC, "-o", elf, join(SRC, `${name}.S`)], { stdio: "pipe" });
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
