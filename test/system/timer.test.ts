import { describe, it, expect } from "vitest";
import { EventKind } from "../../src/gen/layout.js";
import { VEC_TIMER } from "../../src/gen/constants.js";
import { Interleaver } from "../../src/machine/interleave.js";
import { bootFixture, readVar, writeVar } from "./fixture.js";

const HC_DONE = 1;
const PERIOD = 1000n;

const MODE = { periodic: 0, oneShot: 1, masked: 2, halting: 5 } as const;

/** Boots timer.S in `mode` on one vCPU and runs it until it reports done. */
function run(mode: number) {
  const b = bootFixture("timer");
  writeVar(b, "mode", BigInt(mode));
  const sched = new Interleaver(b.machine, { quantum: 700 });
  sched.hypercalls.set(HC_DONE, () => "stop");
  const stop = sched.runFor(200_000);
  const timerIrqs = b.machine.events.ofKind(EventKind.INTERRUPT).filter((e) => Number(e.a) === VEC_TIMER);
  return { b, stop, timerIrqs, v: (name: string) => readVar(b, name), sym: (name: string) => b.symbols.get(name)!.addr };
}

describe("local timer", () => {
  it("a periodic timer interrupts a tight loop exactly every PERIOD instructions", () => {
    const { stop, timerIrqs, v, sym } = run(MODE.periodic);
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    const start = v("timer_start");
    expect(start).toBeGreaterThan(0n);
    expect(timerIrqs.map((e) => e.clock)).toEqual([1n, 2n, 3n, 4n, 5n].map((k) => start + k * PERIOD));
    expect(v("ticks")).toBe(5n);
    const loop = sym("periodic_loop");
    for (const e of timerIrqs) expect(e.c === loop || e.c === loop + 8n, `interrupted at 0x${e.c.toString(16)}`).toBe(true);
  });

  it("the EOI and IRET events of the timer handler carry the virtual time of their instruction", () => {
    const { b, timerIrqs } = run(MODE.periodic);
    const events = b.machine.events.events;
    for (const irq of timerIrqs) {
      const after = events.filter((e) => e.seq > irq.seq);
      const eoi = after.find((e) => e.kind === EventKind.EOI)!;
      const iret = after.find((e) => e.kind === EventKind.IRET)!;
      // tick: push, push, push, incq, xor, xor, mov, wrmsr (EOI) | pop, pop, pop, iretq
      expect(eoi.clock - irq.clock).toBe(7n);
      expect(iret.clock - irq.clock).toBe(11n);
    }
  });

  it("the same periodic run gives the same clocks with a different scheduling quantum", () => {
    const a = run(MODE.periodic).timerIrqs.map((e) => e.clock);
    const b = bootFixture("timer");
    writeVar(b, "mode", BigInt(MODE.periodic));
    const sched = new Interleaver(b.machine, { quantum: 37 });
    sched.hypercalls.set(HC_DONE, () => "stop");
    expect(sched.runFor(200_000).kind).toBe("stopped");
    expect(b.machine.events.ofKind(EventKind.INTERRUPT).map((e) => e.clock)).toEqual(a);
  });

  it("a one-shot timer fires once, and its current count reads exactly", () => {
    const { stop, timerIrqs, v, b } = run(MODE.oneShot);
    expect(stop.kind).toBe("stopped");
    expect(v("current_armed")).toBe(299n); // read two instructions after arming with 300
    expect(v("current_after")).toBe(0n);
    expect(v("ticks")).toBe(1n);
    expect(timerIrqs.length).toBe(1);
    expect(b.machine.cpus[0].get("timerDeadline")).toBe(0n);
  });

  it("a masked timer delivers nothing; unmasked, the same timer interrupts", () => {
    const { stop, timerIrqs, v, sym } = run(MODE.masked);
    expect(stop.kind).toBe("stopped");
    expect(v("ticks_while_masked")).toBe(0n);
    expect(v("ticks")).toBe(3n);
    // The first interrupt comes after the unmask, and the count kept running while masked:
    // every interrupt is on the grid that started when the timer was armed.
    expect(timerIrqs.length).toBe(3);
    expect(timerIrqs[0].c >= sym("unmask"), "taken after the unmask").toBe(true);
    const start = v("timer_start");
    for (const e of timerIrqs) expect((e.clock - start) % 100n).toBe(0n);
    expect(timerIrqs[0].clock - start).toBeGreaterThan(50n * 100n);
    expect(timerIrqs.slice(1).map((e, i) => e.clock - timerIrqs[i].clock)).toEqual([100n, 100n]);
  });

  it("hlt parks the vCPU until its timer fires; virtual time passes while it sleeps", () => {
    const { stop, timerIrqs, v, sym, b } = run(MODE.halting);
    expect(stop.kind).toBe("stopped");
    const start = v("timer_start");
    const halts = b.machine.events.ofKind(EventKind.HALT);
    expect(halts.length).toBe(1);
    expect(halts[0].a).toBe(sym("halt_resume"));
    expect(timerIrqs.length).toBe(1);
    expect(timerIrqs[0].clock).toBe(start + 5000n);
    expect(timerIrqs[0].c).toBe(sym("halt_resume")); // the frame returns after the hlt
    const cpu = b.machine.cpus[0];
    expect(cpu.get("clock")).toBeGreaterThan(start + 5000n);
    expect(cpu.get("insns"), "few instructions ran; the rest was sleep").toBeLessThan(200n);
  });
});
