import { describe, it, expect, beforeAll } from "vitest";
import { EventKind, Vector } from "../../src/gen/layout.js";
import { VEC_TIMER, X86_EFLAGS_IF as IF, X86_EFLAGS_TF, X86_EFLAGS_DF } from "../../src/gen/constants.js";
import type { StopReason } from "../../src/machine/interleave.js";
import { bootFixture, readVar, runToDone, trapLog, type Trap } from "./fixture.js";
import type { BareMetal } from "../../src/machine/baremetal.js";

const USER_CS = 0x2bn, USER_SS = 0x23n, KERNEL_CS = 0x08n;
const VEC_IST = 0x81;

let b: BareMetal;
let stop: StopReason;
let log: Trap[];
const sym = (name: string) => b.symbols.get(name)!.addr;
const v = (name: string) => readVar(b, name);

beforeAll(() => {
  b = bootFixture("privilege");
  stop = runToDone(b);
  log = trapLog(b);
});

describe("privilege levels", () => {
  it("the guest reaches CPL 3 with iretq and ends in a system call at CPL 0", () => {
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    expect(log.length).toBe(13);
    const firstIret = b.machine.events.ofKind(EventKind.IRET)[1]; // [0] returns from the CPL 0 int $0x81
    expect(firstIret.a).toBe(sym("user_start"));
    expect([firstIret.b, firstIret.c]).toEqual([0n, 3n]);
    const cpu = b.machine.cpus[0];
    expect(cpu.get("cpl")).toBe(0);                      // stopped inside the exit system call
    expect(BigInt(cpu.get("cs"))).toBe(KERNEL_CS);
  });

  it("syscall enters at LSTAR on CPL 0 with RCX, R11 and SFMASK applied; sysretq goes back to CPL 3", () => {
    expect(v("sys_rcx")).toBe(sym("user_after_syscall"));
    expect(v("sys_r11") & IF).toBe(IF);                   // the user's flags, interrupts on
    expect(v("sys_rflags") & (IF | X86_EFLAGS_TF | X86_EFLAGS_DF)).toBe(0n); // masked on entry
    expect(v("sys_cr3")).toBe(b.machine.cpus[0].get("cr3")); // mov from cr3 worked: CPL 0
    expect(v("sys_rsp")).toBe(sym("kstack_top") - 16n);   // on the kernel stack from gs:0
    expect(v("sys_user_rsp")).toBe(sym("ustack_top"));
    expect(v("probe_result")).toBe(0x5eedn);              // sysretq returned the value to CPL 3
  });

  it("an exception from CPL 3 runs on RSP0 and iretq returns to CPL 3", () => {
    const bp = log[1];
    expect(bp.vector).toBe(Vector.BP);
    expect(bp.rip).toBe(sym("user_after_int3"));
    expect(bp.cs).toBe(USER_CS);
    expect(bp.ss).toBe(USER_SS);
    expect(bp.rsp).toBe(sym("ustack_top"));
    expect(bp.top).toBe(sym("kstack_top"));
    const iret = b.machine.events.ofKind(EventKind.IRET).find((e) => e.a === sym("user_after_int3"))!;
    expect([iret.b, iret.c]).toEqual([0n, 3n]);
  });

  it("an interrupt taken at CPL 3 switches to RSP0 and returns to the interrupted user code", () => {
    const t = log[12];
    expect(t.vector).toBe(VEC_TIMER);
    expect(t.cs).toBe(USER_CS);
    expect(t.top).toBe(sym("kstack_top"));
    expect(t.rflags & IF).toBe(IF);
    expect(t.rip >= sym("user_wait") && t.rip < sym("user_wait") + 16n).toBe(true);
    const ev = b.machine.events.ofKind(EventKind.INTERRUPT).find((e) => Number(e.a) === VEC_TIMER)!;
    expect(ev.c).toBe(t.rip);
    expect(ev.e & 0xffn, "delivered from CPL 3").toBe(3n);
    const iret = b.machine.events.ofKind(EventKind.IRET).find((e) => e.a === t.rip)!;
    expect([iret.b, iret.c]).toEqual([0n, 3n]);
  });

  it("an IST gate always switches to its IST stack, from CPL 0 and from CPL 3", () => {
    const [kernel, user] = [log[0], log[2]];
    expect([kernel.vector, user.vector]).toEqual([VEC_IST, VEC_IST]);
    expect(kernel.cs).toBe(KERNEL_CS);
    expect(kernel.top).toBe(sym("ist_top"));
    expect(user.cs).toBe(USER_CS);
    expect(user.rip).toBe(sym("user_after_ist"));
    expect(user.top).toBe(sym("ist_top"));
  });

  it("hlt, cli, wrmsr, mov to cr3 and swapgs at CPL 3 raise #GP(0)", () => {
    const gp = log.slice(3, 8);
    expect(gp.map((t) => t.rip)).toEqual(["u_hlt", "u_cli", "u_wrmsr", "u_mov_cr3", "u_swapgs"].map(sym));
    for (const t of gp) {
      expect(t.vector).toBe(Vector.GP);
      expect(t.error).toBe(0n);
      expect(t.cs).toBe(USER_CS);
      expect(t.top).toBe(sym("kstack_top"));
    }
  });

  it("int n from CPL 3 to a DPL 0 gate raises #GP(n * 8 + 2) reported on the int instruction", () => {
    expect(log[8]).toMatchObject({ vector: Vector.GP, error: BigInt(VEC_TIMER * 8 + 2), rip: sym("u_int_kernel_gate"), cs: USER_CS });
    expect(v("irq_count"), "the timer handler did not run for it").toBe(1n);
  });

  it("user accesses to supervisor and unmapped pages raise #PF with the U bit", () => {
    const pf = log.slice(9, 12);
    expect(pf.map((t) => [t.vector, t.error, t.rip, t.cr2])).toEqual([
      [Vector.PF, 5n, sym("u_read_sup"), 0x600000n],  // P|U
      [Vector.PF, 7n, sym("u_write_sup"), 0x600000n], // P|W|U
      [Vector.PF, 4n, sym("u_read_np"), 0x10000000n], // U, not present
    ]);
  });

  it("swapgs exchanges GS base and KERNEL_GS_BASE, and gs: addresses use the new base", () => {
    expect(v("gs_after_swapgs")).toBe(sym("percpu"));
    expect(v("kgs_after_swapgs")).toBe(0x1111000n);
    expect(v("gs_load")).toBe(sym("kstack_top"));
    // At the end the system call's swapgs left the per-CPU base in GS.
    expect(b.machine.cpus[0].get("gsBase")).toBe(sym("percpu"));
    expect(b.machine.cpus[0].get("kernelGsBase")).toBe(0x1111000n);
  });
});
