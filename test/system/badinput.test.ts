import { describe, it, expect } from "vitest";
import { EventKind, Vector } from "../../src/gen/layout.js";
import { X86_EFLAGS_IF } from "../../src/gen/constants.js";
import { Machine } from "../../src/machine/machine.js";
import { Interleaver, describeStop, type InterleaveOptions } from "../../src/machine/interleave.js";
import { walk } from "../../src/machine/paging.js";
import { formatTime } from "../../src/machine/units.js";
import { bootFixture, readVar, writeVar } from "./fixture.js";
import type { MachineConfig } from "../../src/machine/machine.js";
import type { BareMetal } from "../../src/machine/baremetal.js";

const HC_DONE = 1;
const UNMAPPED = 0x1000_0000n;
const SELF_VA = (1n << 39n) | (1n << 30n) | (1n << 21n) | (1n << 12n);
const HOLE_VA = (1n << 39n) | (1n << 30n) | (1n << 21n) | (3n << 12n);
const MODE = { lockup: 0, wildJump: 1, ptLoop: 2, badIdt: 3, bogusHypercall: 4, haltForever: 5 } as const;

function run(mode: number, opts: { config?: MachineConfig; sched?: InterleaveOptions; variant?: number } = {}) {
  const b = bootFixture("badinput", opts.config);
  writeVar(b, "mode", BigInt(mode));
  writeVar(b, "variant", BigInt(opts.variant ?? 0));
  const sched = new Interleaver(b.machine, opts.sched);
  sched.hypercalls.set(HC_DONE, () => "stop");
  const stop = sched.runFor(2_000_000);
  const text = describeStop(stop, (a) => b.symbols.format(a));
  return { b, sched, stop, text, sym: (name: string) => b.symbols.get(name)!.addr };
}

/** The machine can still be looked at, and the host can make and run a new one. */
function expectHealthy(b: BareMetal) {
  for (const cpu of b.machine.cpus) {
    expect(typeof cpu.rip).toBe("bigint");
    expect(cpu.reg(4)).toBeGreaterThan(0n);
  }
  const fresh = bootFixture("badinput");
  writeVar(fresh, "mode", BigInt(MODE.bogusHypercall));
  const sched = new Interleaver(fresh.machine);
  sched.hypercalls.set(0x7777, () => {});
  sched.hypercalls.set(HC_DONE, () => "stop");
  expect(sched.runFor(10_000)).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
  expect(new Machine().cpus.length).toBe(1);
}

describe("bad guests give a clear stop reason and leave the machine inspectable", () => {
  it("a vCPU spinning with interrupts off is reported as a lockup naming the vCPU and RIP", () => {
    const { b, stop, text, sym } = run(MODE.lockup, { config: { cpus: 2 }, sched: { lockupTicks: 20_000, quantum: 1000 } });
    expect(stop.kind).toBe("lockup");
    if (stop.kind !== "lockup") return;
    expect(stop.cpu).toBe(1);
    expect(stop.rip).toBe(sym("spin_here"));
    expect(stop.ticks).toBeGreaterThanOrEqual(20_000n);
    expect(text).toBe(`cpu1: stuck with interrupts disabled for ${formatTime(stop.ticks)} at spin_here`);
    // vCPU 0, asleep with its timer on, was never taken for locked up.
    expect(b.machine.events.events.some((e) => e.kind === EventKind.INTERRUPT && e.cpu === 0)).toBe(true);
    expect(b.machine.cpus[1].rflags & X86_EFLAGS_IF).toBe(0n);
    expectHealthy(b);
  });

  it("a jump to unmapped memory is an instruction-fetch #PF at the target", () => {
    const { b, stop } = run(MODE.wildJump, { config: { faultExits: true } });
    expect(stop).toEqual({ kind: "fault", cpu: 0, vector: Vector.PF, error: 0x10n, rip: UNMAPPED, address: UNMAPPED });
    expect(describeStop(stop)).toBe("cpu0: unhandled PF (error 0x10) at 0x10000000");
    expect(b.machine.cpus[0].rip).toBe(UNMAPPED);
    expectHealthy(b);
  });

  it("a jump to unmapped memory with no IDT ends in a triple fault", () => {
    const { b, stop, text } = run(MODE.wildJump);
    expect(stop).toMatchObject({ kind: "triple-fault", cpu: 0, rip: UNMAPPED });
    expect(text).toContain("cpu0: triple fault");
    expect(b.machine.events.ofKind(EventKind.TRIPLE_FAULT).length).toBe(1);
    expectHealthy(b);
  });

  it("a PML4 entry pointing at its own table: walks terminate, in the core and on the host", () => {
    const { b, stop, text, sym } = run(MODE.ptLoop, { config: { faultExits: true } });
    expect(stop).toEqual({ kind: "fault", cpu: 0, vector: Vector.PF, error: 0n, rip: sym("hole_read"), address: HOLE_VA });
    expect(text).toBe("cpu0: unhandled PF (error 0x0) at hole_read");
    const cr3 = Number(b.machine.cpus[0].get("cr3"));
    const selfEntry = new DataView(b.machine.ram.buffer, b.machine.ram.byteOffset).getBigUint64(cr3 + 8, true);
    expect(selfEntry & ~0xfffn).toBe(BigInt(cr3));
    expect(readVar(b, "self_read"), "the guest read the PML4 through itself").toBe(selfEntry);
    expect(walk(b.machine, cr3, SELF_VA)).toMatchObject({ pa: cr3, pageSize: 4096 });
    expect(walk(b.machine, cr3, HOLE_VA)).toBeNull();
    expectHealthy(b);
  });

  const idts = [
    { variant: 0, what: "in unmapped memory", last: Vector.PF },
    { variant: 1, what: "full of garbage", last: Vector.GP },
    { variant: 2, what: "with every gate not present", last: Vector.NP },
  ];
  for (const { variant, what, last } of idts) {
    it(`an IDT ${what} turns an exception into a triple fault`, () => {
      const { b, stop, text, sym } = run(MODE.badIdt, { variant });
      expect(stop).toEqual({ kind: "triple-fault", cpu: 0, vector: last, rip: sym("bad_idt_fault") });
      const lastName = Object.entries(Vector).find(([, v]) => v === last)![0];
      expect(text).toContain(`cpu0: triple fault (a fault while delivering #DF, after ${lastName}) at bad_idt_fault`);
      expect(b.machine.cpus[0].rip).toBe(sym("bad_idt_fault"));
      expect(b.machine.events.ofKind(EventKind.EXCEPTION)).toEqual([]); // nothing was ever delivered
      expectHealthy(b);
    });
  }

  it("an unknown hypercall stops the run naming it; once the host handles it, the guest goes on", () => {
    const { b, sched, stop, text, sym } = run(MODE.bogusHypercall);
    expect(stop).toEqual({ kind: "unknown-hypercall", cpu: 0, nr: 0x7777n, rip: sym("after_bogus") });
    expect(text).toBe("cpu0: unknown hypercall 30583 at after_bogus");
    expect(b.machine.cpus[0].reg(0)).toBe(0x7777n);
    sched.hypercalls.set(0x7777, () => {});
    expect(sched.runFor(10_000)).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    expectHealthy(b);
  });

  it("hlt with interrupts off and no timer stops the run as all-halted", () => {
    const { b, stop, text, sym } = run(MODE.haltForever);
    expect(stop).toEqual({ kind: "all-halted" });
    expect(text).toBe("every vCPU is halted and nothing can wake them (no timer, no deliverable interrupt)");
    const cpu = b.machine.cpus[0];
    expect(cpu.get("halted")).toBe(1);
    expect(cpu.rip).toBe(sym("asleep_for_good"));
    expectHealthy(b);
  });
});
