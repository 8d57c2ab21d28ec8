import { describe, it, expect } from "vitest";
import { EventKind } from "../../src/gen/layout.js";
import { VEC_CALL_FUNCTION } from "../../src/gen/constants.js";
import { Interleaver } from "../../src/machine/interleave.js";
import { bootFixture, readVar, writeVar } from "./fixture.js";

const HC_DONE = 1;
const VEC_IPI = VEC_CALL_FUNCTION, VEC_HIGH = 0x90, VEC_LOW = 0x50, VEC_SHADOW = 0x60, HOST_VECTOR = 0x70;
const MODE = { priorities: 3, shadow: 4, ipis: 6, hostIrq: 7 } as const;

/** Boots timer.S in `mode` on `cpus` vCPUs and runs it until vCPU 0 reports done. */
function run(mode: number, cpus = 1) {
  const b = bootFixture("timer", { cpus });
  writeVar(b, "mode", BigInt(mode));
  const sched = new Interleaver(b.machine, { quantum: 1000 });
  sched.hypercalls.set(HC_DONE, () => "stop");
  const stop = sched.runFor(1_000_000);
  return { b, sched, stop, v: (name: string, i = 0) => readVar(b, name, i), sym: (name: string) => b.symbols.get(name)!.addr };
}

describe("interrupt controller", () => {
  it("a lower-priority vector waits for the EOI of a higher one; a higher one preempts a lower", () => {
    const { stop, v, b } = run(MODE.priorities);
    expect(stop.kind).toBe("stopped");
    // 1/2: VEC_HIGH handler starts/ends, 3/4: VEC_LOW handler starts/ends.
    const order = Array.from({ length: Number(v("order_len")) }, (_, i) => v("order", i));
    expect(order).toEqual([1n, 2n, 3n, 1n, 2n, 4n]);
    const irqs = b.machine.events.ofKind(EventKind.INTERRUPT).map((e) => Number(e.a));
    expect(irqs).toEqual([VEC_HIGH, VEC_LOW, VEC_HIGH]);
    const eois = b.machine.events.ofKind(EventKind.EOI).map((e) => Number(e.a));
    expect(eois).toEqual([VEC_HIGH, VEC_HIGH, VEC_LOW]);
    // VEC_LOW was requested inside the first VEC_HIGH handler (interrupts on there), yet it was
    // delivered only after that handler's EOI.
    const firstEoi = b.machine.events.ofKind(EventKind.EOI)[0];
    const low = b.machine.events.ofKind(EventKind.INTERRUPT)[1];
    expect(low.seq).toBeGreaterThan(firstEoi.seq);
    expect(b.machine.cpus[0].get("isr", 0) | b.machine.cpus[0].get("isr", 1) | b.machine.cpus[0].get("isr", 2)).toBe(0n);
  });

  it("an interrupt pending when sti executes is taken after the next instruction, not before", () => {
    const { stop, v, sym, b } = run(MODE.shadow);
    expect(stop.kind).toBe("stopped");
    expect(v("shadow_rip")).toBe(sym("shadow_after"));
    expect(v("shadow_a_seen")).toBe(1n); // the instruction after sti ran
    expect(v("shadow_b_seen")).toBe(0n); // the one after it did not
    const irq = b.machine.events.ofKind(EventKind.INTERRUPT).find((e) => Number(e.a) === VEC_SHADOW)!;
    expect(irq.c).toBe(sym("shadow_after"));
  });

  it("IPIs reach one vCPU, self, all but self, and all, and wake vCPUs parked in hlt", () => {
    const { stop, v, sym, b } = run(MODE.ipis, 4);
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    const counts = (step: number) => [0, 1, 2, 3].map((c) => v("ipi_counts", step * 4 + c));
    expect(counts(0), "to vCPU 2").toEqual([0n, 0n, 1n, 0n]);
    expect(counts(1), "to self").toEqual([1n, 0n, 1n, 0n]);
    expect(counts(2), "to all but self").toEqual([1n, 1n, 2n, 1n]);
    expect(counts(3), "to all").toEqual([2n, 2n, 3n, 2n]);
    const sent = b.machine.events.ofKind(EventKind.IPI);
    expect(sent.every((e) => e.cpu === 0 && Number(e.b) === VEC_IPI)).toBe(true);
    expect(sent.map((e) => Number(e.a))).toEqual([2, 0, 1, 2, 3, 0, 1, 2, 3]);
    // Each parked vCPU halted, and each IPI woke it: the frame returns to the hlt loop.
    for (const cpu of [1, 2, 3]) {
      const halts = b.machine.events.events.filter((e) => e.kind === EventKind.HALT && e.cpu === cpu);
      const irqs = b.machine.events.events.filter((e) => e.kind === EventKind.INTERRUPT && e.cpu === cpu);
      expect(irqs.length).toBe(cpu === 2 ? 3 : 2);
      expect(halts.length).toBe(irqs.length + 1); // back to sleep after each one
      for (const irq of irqs) expect(irq.c).toBe(sym("park_hlt") + 1n);
      const c = b.machine.cpus[cpu];
      expect(c.get("halted")).toBe(1);
      expect(c.get("insns"), "sleeping, not spinning").toBeLessThan(300n);
      expect(c.get("clock"), "its virtual time went on while it slept").toBeGreaterThan(10_000n);
    }
  });

  it("an interrupt raised by the host wakes halted vCPUs, including the one that ran last", () => {
    const { b, sched, stop, v } = run(MODE.hostIrq, 2);
    expect(stop.kind).toBe("all-halted");
    b.machine.interrupt(0, HOST_VECTOR);
    b.machine.interrupt(1, HOST_VECTOR);
    expect(sched.runFor(10_000).kind).toBe("all-halted");
    expect([v("ipi_count", 0), v("ipi_count", 1)]).toEqual([1n, 1n]);
    const irqs = b.machine.events.ofKind(EventKind.INTERRUPT);
    expect(irqs.map((e) => [e.cpu, Number(e.a)])).toEqual([[0, HOST_VECTOR], [1, HOST_VECTOR]]);
  });
});
