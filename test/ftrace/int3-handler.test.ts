// The guest's INT3 handler against the CPU: a kthread runs two patch sites (poke_sites.S) with
// every combination of CF, PF, ZF, SF and OF while a batch rewrites them into each Jcc. What the
// handler emulated while the sites began with int3 must be what the CPU does once they are
// written, and what the architecture says. Then the #BP entry's stack gap, and the BUG() for an
// entry the handler cannot emulate.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { Kernel } from "../../src/kernel/kernel.js";
import { pokeLocFields, POKE_LOC_SIZE } from "../../src/gen/layout.js";
import { packStruct } from "../../src/machine/struct.js";

const COMBOS = 32;
const SITES = ["d32", "d8"] as const;

/** The architecture's conditions (Intel SDM, Jcc), by the low nibble of the opcode. */
const CONDITIONS: ((f: Record<"cf" | "pf" | "zf" | "sf" | "of", boolean>) => boolean)[] = [
  (f) => f.of, (f) => !f.of, (f) => f.cf, (f) => !f.cf, (f) => f.zf, (f) => !f.zf, (f) => f.cf || f.zf, (f) => !f.cf && !f.zf,
  (f) => f.sf, (f) => !f.sf, (f) => f.pf, (f) => !f.pf, (f) => f.sf !== f.of, (f) => f.sf === f.of,
  (f) => f.zf || f.sf !== f.of, (f) => !f.zf && f.sf === f.of,
];

/** Combination c as the probe sets it: bits 0-4 are CF, PF, ZF, SF, OF. */
const flagsOf = (c: number) => ({ cf: !!(c & 1), pf: !!(c & 2), zf: !!(c & 4), sf: !!(c & 8), of: !!(c & 16) });

function probeKernel(): Kernel {
  const k = Kernel.boot({
    cpus: 1, seed: 1, quantum: 400, tickPeriod: 20_000,
    workload: [{ name: "jcc-probe", kind: "kthread", entry: "kthread_jcc_probe", arg: 0, cpu: 0 }],
  });
  k.run(500_000);
  return k;
}

const sym = (k: Kernel, name: string) => k.symbols.get(name)!.addr;
/** jcc_probe_results[site][emulated][combination]: 0 not run, else 1 + taken. */
const result = (k: Kernel, site: number, emulated: number, c: number) =>
  k.readGlobal("jcc_probe_results", site * 2 * COMBOS + emulated * COMBOS + c);

function jccBytes(k: Kernel, site: (typeof SITES)[number], cc: number): Uint8Array {
  const at = sym(k, `jcc_site_${site}`), taken = sym(k, `jcc_taken_${site}`);
  if (site === "d8") return Uint8Array.of(0x70 + cc, Number(taken - (at + 2n)));
  const b = new Uint8Array(6);
  b[0] = 0x0f; b[1] = 0x80 + cc;
  new DataView(b.buffer).setInt32(2, Number(taken - (at + 6n)), true);
  return b;
}

describe("the INT3 handler emulates what text_poke_loc_init accepts, as the CPU executes it", () => {
  it("each of the 16 Jcc conditions, near and short, taken and not taken, read from the interrupted code's flags", () => {
    const k = probeKernel();
    for (let cc = 0; cc < 16; cc++) {
      k.writeKernel(sym(k, "jcc_probe_results"), new Uint8Array(2 * 2 * COMBOS * 8));
      const hits = k.poke.stats.int3Hits;
      // The probe's stretches keep interrupts off, so a sync IPI waits for the end of one; but the
      // vCPU may be running another task while a batch is open. The batch is repeated (the same
      // bytes, the whole protocol again) until every combination has met the INT3 handler.
      const seen = (emulated: number) => () =>
        SITES.every((_, s) => Array.from({ length: COMBOS }, (_, c) => result(k, s, emulated, c)).every((r) => r !== 0n));
      for (let batch = 0; batch < 50 && !seen(1)(); batch++) {
        for (const site of SITES) {
          const addr = sym(k, `jcc_site_${site}`), next = jccBytes(k, site, cc);
          k.poke.add({ addr, old: k.readKernel(addr, next.length), new: next });
        }
        k.poke.finish();
      }
      expect(k.poke.stats.int3Hits - hits, `cc ${cc}: the sites were run through the INT3 handler`).toBeGreaterThan(0n);
      // What the CPU executed before the first batch's int3 went in was the previous instruction:
      // forget it. After the last batch's final sync every vCPU runs the new bytes.
      SITES.forEach((_, s) => k.writeKernel(sym(k, "jcc_probe_results") + BigInt(s * 2 * COMBOS * 8), new Uint8Array(COMBOS * 8)));
      expect(k.runUntil(seen(0), 20_000_000), `cc ${cc}: the written Jcc ran with every combination`).toBe(true);
      SITES.forEach((site, s) => {
        for (let c = 0; c < COMBOS; c++) {
          const want = CONDITIONS[cc](flagsOf(c)) ? 2n : 1n;
          const what = `cc ${cc.toString(16)} ${site}, flags ${JSON.stringify(flagsOf(c))}`;
          expect(result(k, s, 1, c), `${what}: emulated`).toBe(want);
          expect(result(k, s, 0, c), `${what}: executed by the CPU`).toBe(want);
        }
      });
    }
    expect(k.oopses).toEqual([]);
  });

  it("JMP8, JMP32 and RET (padded with int3, as text_poke_loc_init allows) emulated as the CPU executes them", () => {
    const k = probeKernel();
    const rel = (site: string, len: bigint) => Number(sym(k, `jcc_taken_${site}`) - (sym(k, `jcc_site_${site}`) + len));
    // A 5-byte jmp32 over the 6-byte site: the handler counts the displacement from the end of
    // the site's len (ip += tp->len), so a padded jump would land one byte off, in the kernel too.
    const jmp32 = new Uint8Array(5);
    jmp32[0] = 0xe9;
    new DataView(jmp32.buffer).setInt32(1, rel("d32", 5n), true);
    const ret = (len: number) => Uint8Array.from({ length: len }, (_, i) => (i === 0 ? 0xc3 : 0xcc));
    const cases = [
      { what: "jmp32 and jmp8 to the taken side", d32: jmp32, d8: Uint8Array.of(0xeb, rel("d8", 2n)), want: 2n },
      { what: "ret out of the probe (%eax still 0)", d32: ret(6), d8: ret(2), want: 1n },
    ];
    const all = (emulated: number) =>
      SITES.every((_, s) => Array.from({ length: COMBOS }, (_, i) => result(k, s, emulated, i)).every((r) => r !== 0n));
    for (const c of cases) {
      k.writeKernel(sym(k, "jcc_probe_results"), new Uint8Array(2 * 2 * COMBOS * 8));
      for (let batch = 0; batch < 50 && !all(1); batch++) {
        for (const site of SITES) {
          const addr = sym(k, `jcc_site_${site}`), next = c[site];
          k.poke.add({ addr, old: k.readKernel(addr, next.length), new: next });
        }
        k.poke.finish();
      }
      expect(k.runUntil(() => all(0), 20_000_000), `${c.what}: executed`).toBe(true);
      for (let s = 0; s < 2; s++) {
        for (let i = 0; i < COMBOS; i++) {
          expect(result(k, s, 1, i), `${c.what} ${SITES[s]}: emulated`).toBe(c.want);
          expect(result(k, s, 0, i), `${c.what} ${SITES[s]}: executed`).toBe(c.want);
        }
      }
    }
    expect(k.oopses).toEqual([]);
  });

  it("the #BP entry copies the CPU's frame 6 words lower, the gap idtentry leaves for an emulated call", () => {
    const k = probeKernel();
    const addr = sym(k, "jcc_site_d8"), next = jccBytes(k, "d8", 4);
    for (let batch = 0; batch < 50 && k.readGlobal("jcc_probe_emulated_rsp") === 0n; batch++) {
      k.poke.single({ addr, old: k.readKernel(addr, 2), new: next });
    }
    const rsp = k.readGlobal("jcc_probe_emulated_rsp");
    expect(rsp).not.toBe(0n);
    // The 16 words below the probe's RSP after its int3 returned: the CPU's frame (pushed below
    // the 16-byte aligned RSP) and the entry's copy hold the interrupted RSP; nothing else does.
    const below = Array.from({ length: 16 }, (_, i) => k.readGlobal("jcc_probe_emulated_below", i));
    const at = below.flatMap((w, i) => (w === rsp ? [rsp - 128n + BigInt(i) * 8n] : []));
    const aligned = rsp & ~15n;
    expect(at).toEqual([aligned - 64n, aligned - 16n]); // the copy, then the CPU's own frame (SS above RSP)
    expect(at[1] - at[0]).toBe(48n);
  });

  it("an entry the handler cannot emulate is a BUG(): kernel BUG at its line, then the invalid-opcode oops", () => {
    const k = probeKernel();
    // Published by hand: the host's text_poke refuses such an entry (textpoke.unit.test.ts).
    const addr = sym(k, "jcc_site_d8");
    k.writeKernel(sym(k, "text_poke_vec"), packStruct(pokeLocFields, POKE_LOC_SIZE, {
      relAddr: Number(addr - sym(k, "_stext")), disp: 0, len: 2, opcode: 0x90, text: Uint8Array.of(0x90, 0x90), old: 0x66,
    }));
    k.writeKernel(sym(k, "text_poke_nr"), Uint8Array.of(1, 0, 0, 0));
    k.writeKernel(addr, Uint8Array.of(0xcc));
    expect(k.runUntil(() => k.oopses.length > 0, 5_000_000)).toBe(true);

    const source = readFileSync("firmware/text_patching.c", "utf8").split("\n");
    const line = source.findIndex((l) => l.includes("BUG();")) + 1;
    expect(line).toBeGreaterThan(0);
    const console = k.console.join("");
    expect(console).toContain(`------------[ cut here ]------------\nkernel BUG at firmware/text_patching.c:${line}!\n`);
    const oops = k.oopses[0];
    expect(oops.text.split("\n")[0]).toBe("Oops: invalid opcode: 0000 [#1] PREEMPT SMP");
    expect(oops.text).toMatch(/\nRIP: [0-9a-f]{4}:poke_int3_handler\+0x[0-9a-f]+\/0x[0-9a-f]+\n/);
    expect(console.indexOf("kernel BUG at")).toBeLessThan(console.indexOf("Oops: invalid opcode"));
    expect(k.warnings).toEqual([]);
  });
});
