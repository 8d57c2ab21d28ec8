import { describe, it, expect } from "vitest";
import { EventKind, Vector } from "../../src/gen/layout.js";
import { X86_EFLAGS_IF } from "../../src/gen/constants.js";
import { Machine } from "../../src/machine/machine.js";
import { Interleaver, describeStop } from "../../src/machine/interleave.js";
import { walk } from "../../src/machine/paging.js";
import { bootFixture, readVar, writeVar, runToDone, trapLog } from "./fixture.js";

const UNMAPPED = 0x1000_0000n;
const KERNEL_CS = 8n;

function run(mode: number) {
  const b = bootFixture("exceptions");
  writeVar(b, "mode", BigInt(mode));
  const stop = runToDone(b);
  const sym = (name: string) => b.symbols.get(name)!.addr;
  return { b, stop, sym, log: trapLog(b) };
}

describe("exceptions through the IDT", () => {
  it("#DE, #UD, #BP, #GP and #PF arrive with the architectural vector, error code, frame RIP and CR2", () => {
    const { stop, sym, log, b } = run(0);
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    const seen = log.slice(0, 11).map((t) => ({ vector: t.vector, error: t.error, rip: t.rip }));
    expect(seen).toEqual([
      { vector: Vector.DE, error: 0n, rip: sym("fault_de") },
      { vector: Vector.UD, error: 0n, rip: sym("fault_ud") },
      { vector: Vector.BP, error: 0n, rip: sym("after_int3") },      // a trap: after the int3
      { vector: Vector.GP, error: 0n, rip: sym("fault_gp_msr") },
      { vector: Vector.GP, error: 0x41n * 8n + 2n, rip: sym("fault_gp_gate") }, // IDT selector, EXT=0
      { vector: Vector.GP, error: 0n, rip: sym("fault_gp_noncanonical") },
      { vector: Vector.PF, error: 0n, rip: sym("fault_pf_read") },           // read, not present
      { vector: Vector.PF, error: 2n, rip: sym("fault_pf_write") },          // W
      { vector: Vector.PF, error: 0x10n, rip: UNMAPPED + 0x40n },            // I: fetch, at the target
      { vector: Vector.PF, error: 3n, rip: sym("fault_pf_ro") },             // P|W: read-only, CR0.WP
      { vector: Vector.UD, error: 0n, rip: sym("nested_ud") },
    ]);
    expect(log.slice(6, 10).map((t) => t.cr2)).toEqual([UNMAPPED + 0x18n, UNMAPPED + 0x20n, UNMAPPED + 0x40n, 0x600030n]);
    for (const t of log) {
      expect(t.cs).toBe(KERNEL_CS);
      expect(t.rflags & X86_EFLAGS_IF).toBe(0n); // interrupts were off when each fault happened
    }
    expect(readVar(b, "ro_value"), "the faulting write did not happen").toBe(0n);
    // The event log tells the same story, CR2 included.
    const events = b.machine.events.ofKind(EventKind.EXCEPTION);
    // Delivery order: the nested #BP is delivered before the #UD inside its handler.
    const { DE, UD, BP, GP, PF } = Vector;
    expect(events.map((e) => Number(e.a))).toEqual([DE, UD, BP, GP, GP, GP, PF, PF, PF, PF, BP, UD]);
    expect(events[9].d).toBe(0x600030n);
  });

  it("an exception inside a handler is delivered on the handler's stack and both return in order", () => {
    const { log, sym, b } = run(0);
    const [ud, bp] = log.slice(10);
    expect(ud.vector).toBe(Vector.UD);
    expect(ud.rip).toBe(sym("nested_ud"));
    expect(bp.vector).toBe(Vector.BP);
    expect(bp.rip).toBe(sym("after_nested_int3"));
    expect(log.length).toBe(12);
    // The #UD interrupted the #BP handler: its frame sits just below the #BP frame.
    expect(ud.rsp).toBe(bp.top - 40n);
    expect(ud.top).toBe(bp.top - 48n); // 64-bit delivery aligns the new frame to 16 bytes
    // Two IRETs at the end, innermost first, both staying at CPL 0.
    const irets = b.machine.events.ofKind(EventKind.IRET).slice(-2);
    expect(irets.map((e) => e.a)).toEqual([sym("nest_resume"), sym("after_nested_int3")]);
    expect(irets.every((e) => e.b === 0n && e.c === 0n)).toBe(true);
  });

  it("a #PF while pushing a #PF frame becomes #DF, delivered on its IST stack", () => {
    const { stop, log, sym, b } = run(1);
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    expect(log.length).toBe(1);
    const df = log[0];
    expect(df.vector).toBe(Vector.DF);
    expect(df.error).toBe(0n);
    expect(df.rip).toBe(sym("df_fault"));
    expect(df.rsp).toBe(sym("bad_stack"));
    expect(df.top).toBe(sym("ist1_top"));
    const vectors = b.machine.events.ofKind(EventKind.EXCEPTION).map((e) => Number(e.a));
    expect(vectors).toEqual([Vector.DF]);
  });

  it("a fault while delivering #DF is a triple fault: the run stops and the machine stays inspectable", () => {
    const { stop, log, sym, b } = run(2);
    expect(stop.kind).toBe("triple-fault");
    if (stop.kind !== "triple-fault") return;
    expect(stop.cpu).toBe(0);
    expect(stop.rip).toBe(sym("df_fault"));
    expect(stop.vector).toBe(Vector.PF); // the fault during #DF delivery: its IST stack is unmapped
    const text = describeStop(stop, (a) => b.symbols.format(a));
    expect(text).toContain("cpu0: triple fault");
    expect(text).toContain("after PF) at df_fault");
    expect(text).toContain("the machine is stopped and can be inspected");
    expect(log.length).toBe(0);
    // Registers and memory are still there to look at.
    const cpu = b.machine.cpus[0];
    expect(cpu.rip).toBe(sym("df_fault"));
    expect(cpu.reg(4)).toBe(sym("bad_stack"));
    expect(cpu.get("cpl")).toBe(0);
    expect(b.machine.events.ofKind(EventKind.TRIPLE_FAULT).length).toBe(1);
    expect(walk(b.machine, Number(cpu.get("cr3")), sym("df_fault"))?.pa).toBe(Number(sym("df_fault")));
    expect(walk(b.machine, Number(cpu.get("cr3")), UNMAPPED)).toBeNull();
    // Running it again faults the same way instead of wandering off.
    expect(new Interleaver(b.machine).runFor(1000).kind).toBe("triple-fault");
    // The host is fine: a new machine boots and runs.
    const again = run(0);
    expect(again.stop.kind).toBe("stopped");
    expect(new Machine({ cpus: 2 }).cpus.length).toBe(2);
  });
});
