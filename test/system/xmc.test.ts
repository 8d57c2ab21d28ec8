import { describe, it, expect } from "vitest";
import { EventKind } from "../../src/gen/layout.js";
import { Interleaver } from "../../src/machine/interleave.js";
import { bootFixture, readVar, writeVar } from "./fixture.js";
import type { MachineConfig } from "../../src/machine/machine.js";

const HC_DONE = 1;

/** Boots xmc.S on `cpus` vCPUs in the given mode, runs until vCPU 0 is done patching. */
function patchRun(mode: 0 | 1, seed: number, config: MachineConfig = {}, cpus = 2) {
  const b = bootFixture("xmc", { cpus, seed, ...config });
  writeVar(b, "mode", BigInt(mode));
  const sched = new Interleaver(b.machine, { quantum: 200, seed });
  sched.hypercalls.set(HC_DONE, () => "stop");
  const stop = sched.runFor(50_000_000);
  const site = b.symbols.get("site")!.addr;
  const hazards = b.machine.events.ofKind(EventKind.HAZARD);
  return { b, stop, site, hazards };
}

describe("cross-modifying code", () => {
  it("a naive 5-byte rewrite of a call site another vCPU runs is reported as a hazard naming both vCPUs", () => {
    const { stop, site, hazards } = patchRun(0, 1);
    expect(stop.kind).toBe("stopped");
    expect(hazards.length).toBeGreaterThan(0);
    const h = hazards[0];
    expect(h.cpu).toBe(1);                       // the vCPU that executed the site
    expect(h.a).toBe(site);                      // at the site
    expect(Number(h.b >> 48n)).toBe(0);          // changed by vCPU 0
    expect(((h.c >> 16n) & 0xffffn) > 1n).toBe(true); // more than one byte changed
  });

  it("the same rewrite through int3, sync, tail, sync, head, sync is never a hazard, under many seeds", () => {
    let int3Hits = 0n;
    for (let seed = 1; seed <= 12; seed++) {
      const { b, stop, hazards } = patchRun(1, seed);
      expect(stop.kind, `seed ${seed}`).toBe("stopped");
      expect(hazards, `seed ${seed}`).toEqual([]);
      int3Hits += readVar(b, "int3_hits");
      expect(readVar(b, "hook_calls"), `seed ${seed}: the patched call ran`).toBeGreaterThan(0n);
      // Each sync is a real IPI the other vCPU took and vCPU 0 waited for: 3 per round.
      expect(readVar(b, "ipi_count", 1), `seed ${seed}`).toBe(3n * readVar(b, "rounds"));
      expect(readVar(b, "ipi_count", 0), "all-but-self never interrupts the sender").toBe(0n);
    }
    expect(int3Hits, "some vCPU hit the site mid-patch and had it emulated").toBeGreaterThan(0n);
  });
});

describe("cross-modifying code under the torn policy", () => {
  it("a vCPU that sees a mix of old and new bytes executes a wrong instruction and the guest crashes", () => {
    const outcomes: string[] = [];
    let crashed = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const { stop, hazards } = patchRun(0, seed, { xmcPolicy: "TORN" });
      expect(hazards.length, `seed ${seed}: the torn execution is reported`).toBeGreaterThan(0);
      outcomes.push(`${seed}:${stop.kind}`);
      if (stop.kind === "triple-fault" || stop.kind === "fault") crashed++;
    }
    expect(crashed, outcomes.join(" ")).toBeGreaterThan(0);
  });
});
