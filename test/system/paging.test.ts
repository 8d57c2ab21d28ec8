import { describe, it, expect, beforeAll } from "vitest";
import { Vector } from "../../src/gen/layout.js";
import type { StopReason } from "../../src/machine/interleave.js";
import { walk, PTE_A, PTE_D, PTE_P, PTE_RW } from "../../src/machine/paging.js";
import { bootFixture, readVar, runToDone, trapLog, type Trap } from "./fixture.js";
import type { BareMetal } from "../../src/machine/baremetal.js";

const TV = 0x4000_0000n;
const FRAMES = 0x80_0000;

let b: BareMetal;
let stop: StopReason;
let log: Trap[];
const sym = (name: string) => b.symbols.get(name)!.addr;
const v = (name: string, i = 0) => readVar(b, name, i);
const phys64 = (pa: number) => new DataView(b.machine.ram.buffer, b.machine.ram.byteOffset).getBigUint64(pa, true);

beforeAll(() => {
  b = bootFixture("paging");
  stop = runToDone(b);
  log = trapLog(b);
});

describe("paging", () => {
  it("the guest runs to the end on its own page tables", () => {
    expect(stop).toEqual({ kind: "stopped", cpu: 0, by: "hypercall 1" });
    expect(b.machine.cpus[0].get("cr3")).toBe(sym("pml4"));
    expect(log.length).toBe(5);
  });

  it("4 KiB and 2 MiB pages translate to their frames", () => {
    expect(phys64(FRAMES + 0x10)).toBe(0xaaaan);
    expect(phys64(FRAMES + 0x1010)).toBe(0xbbbbn);
    expect(phys64(0xa12348)).toBe(0xccccn);
    // The host's walker agrees with what the guest built.
    const cr3 = Number(sym("pml4"));
    expect(walk(b.machine, cr3, TV + 0x1010n)).toMatchObject({ pa: FRAMES + 0x1010, pageSize: 4096 });
    expect(walk(b.machine, cr3, TV + 0x212348n)).toMatchObject({ pa: 0xa12348, pageSize: 2 << 20 });
  });

  it("a read sets the accessed bit and a write the dirty bit, in 4 KiB PTEs and 2 MiB PDEs", () => {
    const base = BigInt(FRAMES) | PTE_P | PTE_RW;
    expect(v("pte_after_read")).toBe(base | PTE_A);
    expect(v("pte_after_write")).toBe(base | PTE_A | PTE_D);
    expect(v("pte_untouched")).toBe((base + 0x1000n));
    expect(v("pde_2m") & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    // The walk set A in the upper levels too.
    expect(phys64(Number(sym("pml4"))) & PTE_A).toBe(PTE_A);
    expect(phys64(Number(sym("pdpt")) + 8) & PTE_A).toBe(PTE_A);
    expect(phys64(Number(sym("pd_hi"))) & PTE_A).toBe(PTE_A);
  });

  it("fetching from a no-execute page faults with P|I, and runs once NX is cleared", () => {
    expect(log[0]).toMatchObject({ vector: Vector.PF, error: 0x11n, rip: sym("nx_target"), cr2: sym("nx_target") });
    expect(v("nx_cleared_ran")).toBe(1n);
  });

  it("a supervisor write to a read-only page faults under CR0.WP and goes through without it", () => {
    expect(log[1]).toMatchObject({ vector: Vector.PF, error: 3n, rip: sym("wp_write"), cr2: TV + 0x3008n });
    expect(phys64(FRAMES + 0x3008)).toBe(0n);
    expect(phys64(FRAMES + 0x3010)).toBe(0x6666n);
  });

  it("user accesses fault on a supervisor page (P|U) and on writes to a read-only user page (P|W|U)", () => {
    expect(log[2]).toMatchObject({ vector: Vector.PF, error: 5n, rip: sym("user_read_sup"), cr2: TV + 0x4000n, cs: 0x2bn });
    expect(log[3]).toMatchObject({ vector: Vector.PF, error: 7n, rip: sym("user_write_ro"), cr2: TV + 0x5000n, cs: 0x2bn });
    expect(v("user_read_value")).toBe(0x7777n);
    expect(phys64(FRAMES + 0x5000)).toBe(0x7777n);
  });

  it("after a PTE changes, the old translation is used until invlpg, and the new one after", () => {
    expect([v("invlpg_seen", 0), v("invlpg_seen", 1), v("invlpg_seen", 2)]).toEqual([0x1111n, 0x1111n, 0x2222n]);
  });

  it("a CR3 reload flushes stale translations as well", () => {
    expect([v("cr3_seen", 0), v("cr3_seen", 1), v("cr3_seen", 2)]).toEqual([0x1111n, 0x1111n, 0x2222n]);
  });

  it("an unmapped page stays readable through the stale entry until invlpg, then faults", () => {
    expect([v("unmap_seen", 0), v("unmap_seen", 1)]).toEqual([0x1111n, 0x1111n]);
    expect(log[4]).toMatchObject({ vector: Vector.PF, error: 0n, rip: sym("unmapped_read"), cr2: TV + 0x82000n });
  });
});
