import { describe, it, expect } from "vitest";
import { EventKind } from "../../src/gen/layout.js";
import { formatEvent } from "../../src/machine/events.js";
import { Interleaver } from "../../src/machine/interleave.js";
import type { Machine } from "../../src/machine/machine.js";
import { bootFixture, readVar } from "./fixture.js";
import type { BareMetal } from "../../src/machine/baremetal.js";

const HC_DONE = 1;
const HC_TICKET = 2;
const ITERATIONS = 200;
const RAM = 16 << 20;

/** An interleaver with seeded quanta that stops once every vCPU reported HC_DONE. */
function scheduler(m: Machine, seed: number): Interleaver {
  const s = new Interleaver(m, { quantum: 300, seed });
  let done = 0;
  s.hypercalls.set(HC_TICKET, () => {});
  s.hypercalls.set(HC_DONE, () => (++done === m.ncpus ? "stop" : undefined));
  return s;
}

/** Everything architectural about the vCPUs, as text (registers, flags, clocks, controller). */
function cpuState(m: Machine): string {
  return m.cpus.map((c) => {
    const regs = Array.from({ length: 16 }, (_, i) => c.reg(i).toString(16)).join(",");
    const apic = [0, 1, 2, 3].map((i) => `${c.get("irr", i)}/${c.get("isr", i)}`).join(",");
    return `cpu${c.index} rip=${c.rip.toString(16)} fl=${c.rflags.toString(16)} clock=${c.get("clock")} ` +
      `insns=${c.get("insns")} halted=${c.get("halted")} deadline=${c.get("timerDeadline")} apic=${apic} regs=${regs}`;
  }).join("\n");
}

function runWhole(cpus: number, seed: number) {
  const b = bootFixture("smpwork", { cpus, ramBytes: RAM });
  const stop = scheduler(b.machine, seed).runFor(5_000_000);
  return { b, stop, log: b.machine.events.events.map(formatEvent), state: cpuState(b.machine) };
}

/** Which vCPU took each ticket: the interleaving as the guest saw it. */
function ticketOwners(b: BareMetal): number[] {
  return b.machine.events.ofKind(EventKind.HYPERCALL).filter((e) => e.a === BigInt(HC_TICKET))
    .sort((x, y) => Number(x.b - y.b)).map((e) => Number(e.c));
}

describe("determinism", () => {
  for (const cpus of [2, 4]) {
    it(`the same image, configuration and seed give byte-identical event logs on ${cpus} vCPUs`, () => {
      const first = runWhole(cpus, 7);
      const second = runWhole(cpus, 7);
      expect(first.stop).toEqual({ kind: "stopped", cpu: expect.any(Number), by: "hypercall 1" });
      expect(readVar(first.b, "total"), "the spinlock held").toBe(BigInt(cpus * ITERATIONS));
      expect(first.log.length).toBeGreaterThan(cpus * ITERATIONS);
      expect(first.b.machine.events.dropped).toBe(0);
      expect(second.log.join("\n")).toBe(first.log.join("\n"));
      expect(second.state).toBe(first.state);
      const kinds = new Set(first.b.machine.events.events.map((e) => e.kind));
      for (const k of [EventKind.INTERRUPT, EventKind.IPI, EventKind.EOI, EventKind.HYPERCALL, EventKind.HALT]) {
        expect(kinds.has(k), `the log has ${k} events`).toBe(true);
      }
    });
  }

  it("different seeds give different interleavings", () => {
    const runs = [1, 2, 3, 4].map((seed) => runWhole(4, seed));
    for (const r of runs) expect(readVar(r.b, "total")).toBe(BigInt(4 * ITERATIONS));
    const owners = runs.map((r) => ticketOwners(r.b).join(""));
    expect(new Set(owners).size, owners.join("\n")).toBeGreaterThan(1);
    expect(new Set(runs.map((r) => r.log.join("\n"))).size).toBe(4);
  });
});

describe("snapshots", () => {
  it("snapshot, run, restore and run again reproduces the event log, registers and memory", () => {
    const b = bootFixture("smpwork", { cpus: 4, ramBytes: RAM });
    const m = b.machine;
    expect(scheduler(m, 3).runFor(20_000).kind).toBe("time");
    const snap = m.snapshot();
    const eventsAtSnapshot = m.events.events.length;

    const stop1 = scheduler(m, 11).runFor(5_000_000);
    const tail1 = m.events.events.slice(eventsAtSnapshot).map(formatEvent);
    const state1 = cpuState(m);
    const ram1 = m.readPhys(0, RAM);
    expect(stop1.kind).toBe("stopped");
    expect(tail1.length).toBeGreaterThan(100);

    m.restore(snap);
    expect(m.events.events.length).toBe(eventsAtSnapshot);
    const stop2 = scheduler(m, 11).runFor(5_000_000);
    expect(stop2).toEqual(stop1);
    expect(m.events.events.slice(eventsAtSnapshot).map(formatEvent).join("\n")).toBe(tail1.join("\n"));
    expect(cpuState(m)).toBe(state1);
    expect(Buffer.compare(m.readPhys(0, RAM), ram1)).toBe(0);
  });

  it("20 snapshot/restore cycles in a row each replay the same stretch exactly", () => {
    const b = bootFixture("smpwork", { cpus: 2, ramBytes: RAM });
    const m = b.machine;
    for (let i = 0; i < 20; i++) {
      const snap = m.snapshot();
      const from = m.events.events.length;
      scheduler(m, 100 + i).runFor(1500);
      const once = m.events.events.slice(from).map(formatEvent).join("\n") + "\n" + cpuState(m);
      m.restore(snap);
      scheduler(m, 100 + i).runFor(1500);
      const twice = m.events.events.slice(from).map(formatEvent).join("\n") + "\n" + cpuState(m);
      expect(twice, `cycle ${i}`).toBe(once);
    }
    expect(m.time).toBeGreaterThanOrEqual(20n * 1500n);
  });
});
