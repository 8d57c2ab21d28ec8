// The batched INT3 protocol against a fake machine: kernel text as a byte map, vCPUs that take
// the sync IPI when the machine "runs", and the guest's counters as plain numbers.
import { describe, it, expect } from "vitest";
import { TextPoke, initialPokeState, pokeLoc, type PokeDeps } from "../../src/kernel/ftrace/textpoke.js";
import { NOP5, callInsn } from "../../src/kernel/ftrace/records.js";
import { EventKind } from "../../src/gen/layout.js";

const STEXT = 0xffff_ffff_8100_0000n;
const VEC = 0xffff_ffff_8200_0000n, NR = 0xffff_ffff_8200_1000n, HITS = 0xffff_ffff_8200_2000n;
const SITE_A = STEXT + 0x100n, SITE_B = STEXT + 0x200n, CALLER = STEXT + 0x900n;

/** A fake machine with `ncpus` vCPUs; those in `masked` never take an IPI. */
function fakeMachine(ncpus: number, masked: number[] = []) {
  const text = new Map<bigint, number>();
  const writes: { va: bigint; bytes: number[] }[] = [];
  const pending = new Set<number>();
  const taken = new Array<bigint>(ncpus).fill(0n);
  const events: EventKind[] = [];
  let runs = 0;
  const d: PokeDeps = {
    ncpus, now: () => 0n, vecAddr: VEC, nrAddr: NR, hitsAddr: HITS, stext: STEXT,
    write: (va, bytes) => {
      writes.push({ va, bytes: [...bytes] });
      bytes.forEach((b, i) => text.set(va + BigInt(i), b));
    },
    readU64: () => 0n,
    interrupt: (cpu) => { pending.add(cpu); },
    record: (kind) => { events.push(kind); },
    name: (a) => (a === SITE_A ? "work_top" : a === SITE_B ? "work_leaf" : a === CALLER ? "ftrace_caller" : `0x${a.toString(16)}`),
    where: (cpu) => `at work_top (interrupts off) [cpu${cpu}]`,
    runSome: () => {
      runs++;
      for (const cpu of [...pending]) if (!masked.includes(cpu)) { pending.delete(cpu); taken[cpu]++; }
      return true;
    },
    callFunctionCounts: () => [...taken],
  };
  const bytesAt = (va: bigint) => Array.from({ length: 5 }, (_, i) => text.get(va + BigInt(i)));
  return { d, text, writes, events, bytesAt, runs: () => runs };
}

describe("text_poke_bp_batch against a fake machine", () => {
  it("patches two NOPs to calls: int3 over each, sync, the tails, sync, the heads, sync", () => {
    const m = fakeMachine(2);
    for (const site of [SITE_A, SITE_B]) m.d.write(site, NOP5);
    m.writes.length = 0;
    const state = initialPokeState();
    const p = new TextPoke(() => state, m.d);
    p.add({ addr: SITE_A, old: NOP5, new: callInsn(SITE_A, CALLER) });
    p.add({ addr: SITE_B, old: NOP5, new: callInsn(SITE_B, CALLER) });
    expect(m.writes).toEqual([]); // queued until finish
    p.finish();

    const names = new Map([[SITE_A, "A"], [SITE_B, "B"], [SITE_A + 1n, "A+1"], [SITE_B + 1n, "B+1"], [VEC, "vec"], [NR, "nr"]]);
    const at = (va: bigint) => names.get(va) ?? "?";
    expect(m.writes.map((w) => at(w.va))).toEqual(["vec", "nr", "A", "B", "A+1", "B+1", "A", "B", "nr"]);
    expect(m.writes[2].bytes).toEqual([0xcc]);
    expect(m.writes[6].bytes).toEqual([0xe8]);
    expect(m.bytesAt(SITE_A)).toEqual([...callInsn(SITE_A, CALLER)]);
    expect(m.bytesAt(SITE_B)).toEqual([...callInsn(SITE_B, CALLER)]);
    expect(m.events).toEqual([EventKind.POKE]);
    expect(state.stats).toEqual({ batches: 1, syncs: 3, ipis: 6, sitesChanged: 2, int3Hits: 0n });
    expect(state.log).toEqual([
      "batch 1: 2 sites",
      "  int3  work_top                     nop5 -> cc 1f 44 00 00",
      "  int3  work_leaf                    nop5 -> cc 1f 44 00 00",
      "  sync  2 vCPUs",
      "  tail  work_top                     cc 1f 44 00 00 -> cc <ftrace_caller>",
      "  tail  work_leaf                    cc 1f 44 00 00 -> cc <ftrace_caller>",
      "  sync  2 vCPUs",
      "  head  work_top                     cc <ftrace_caller> -> e8 <ftrace_caller>",
      "  head  work_leaf                    cc <ftrace_caller> -> e8 <ftrace_caller>",
      "  sync  2 vCPUs",
    ]);
  });

  it("a site whose tail does not change still has its tail written and synced, as text_poke_bp_batch does", () => {
    const m = fakeMachine(1);
    const state = initialPokeState();
    const p = new TextPoke(() => state, m.d);
    const a = callInsn(SITE_A, CALLER), b = Uint8Array.of(0xe9, ...a.subarray(1));
    p.single({ addr: SITE_A, old: a, new: b });
    expect(state.log.filter((l) => l.startsWith("  tail"))).toHaveLength(1);
    expect(state.stats.syncs).toBe(3);
  });

  it("ftrace_sync_ipi: every vCPU takes one IPI, logged, not counted as a text_poke sync; none in naive mode", () => {
    const m = fakeMachine(2);
    const state = initialPokeState();
    const p = new TextPoke(() => state, m.d);
    p.ftraceSyncIpi();
    expect(state.log).toEqual(["ftrace_sync_ipi: 2 vCPUs"]);
    expect(state.stats).toMatchObject({ syncs: 0, ipis: 2 });
    p.naive = true;
    p.ftraceSyncIpi();
    expect(state.stats.ipis).toBe(2);
  });

  it("out-of-order sites start a new batch; a full batch is flushed at TEXT_POKE_MAX", () => {
    const m = fakeMachine(1);
    const state = initialPokeState();
    const p = new TextPoke(() => state, m.d);
    p.add({ addr: SITE_B, old: NOP5, new: callInsn(SITE_B, CALLER) });
    p.add({ addr: SITE_A, old: NOP5, new: callInsn(SITE_A, CALLER) });
    expect(state.stats.batches).toBe(1);
    expect(state.queue.map((q) => q.addr)).toEqual([SITE_A]);
    p.finish();
    expect(state.stats.batches).toBe(2);
  });

  it("tp_order_fail flushes only for a lower address: the same address again stays in the batch", () => {
    const m = fakeMachine(1);
    const state = initialPokeState();
    const p = new TextPoke(() => state, m.d);
    p.add({ addr: SITE_A, old: NOP5, new: callInsn(SITE_A, CALLER) });
    p.add({ addr: SITE_A, old: NOP5, new: callInsn(SITE_A, CALLER) });
    expect(state.stats.batches).toBe(0);
    expect(state.queue).toHaveLength(2);
  });

  it("a vCPU that never takes the sync IPI (interrupts off) makes the sync fail, naming it", () => {
    const m = fakeMachine(2, [1]);
    const state = initialPokeState();
    const d = { ...m.d, runSome: () => (m.d.runSome(), m.runs() < 5) };
    const p = new TextPoke(() => state, d);
    expect(() => p.single({ addr: SITE_A, old: NOP5, new: callInsn(SITE_A, CALLER) }))
      .toThrow("text_poke sync: the sync IPI was never taken: vCPU 1 at work_top (interrupts off) [cpu1]");
  });

  it("naive mode writes all five bytes at once, with no int3 and no sync", () => {
    const m = fakeMachine(2);
    const state = initialPokeState();
    state.naive = true;
    const p = new TextPoke(() => state, m.d);
    p.single({ addr: SITE_A, old: NOP5, new: callInsn(SITE_A, CALLER) });
    expect(m.writes.map((w) => w.bytes.length)).toEqual([5]);
    expect(state.stats.syncs).toBe(0);
    expect(state.log[0]).toBe("naive batch: 1 site written in place");
  });
});

describe("text_poke_loc_init: what the INT3 handler is told to emulate", () => {
  const b = (...x: number[]) => Uint8Array.of(...x);

  it("a NOP5 is published as JMP32 +0 and a NOP2 as JMP8 +0, as the kernel turns NOPs into jumps", () => {
    expect(pokeLoc(NOP5)).toMatchObject({ opcode: 0xe9, disp: 0, len: 5 });
    expect(pokeLoc(b(0x66, 0x90))).toMatchObject({ opcode: 0xeb, disp: 0, len: 2 });
  });

  it("CALL, JMP32, JMP8, RET and INT3 keep their opcode and displacement; RET and JMP may be padded with int3", () => {
    expect(pokeLoc(b(0xe8, 0xfb, 0xff, 0xff, 0xff))).toMatchObject({ opcode: 0xe8, disp: -5, len: 5 });
    expect(pokeLoc(b(0xe9, 0x10, 0, 0, 0))).toMatchObject({ opcode: 0xe9, disp: 16, len: 5 });
    expect(pokeLoc(b(0xeb, 0x80, 0xcc, 0xcc, 0xcc))).toMatchObject({ opcode: 0xeb, disp: -128, len: 5 });
    expect(pokeLoc(b(0xc3, 0xcc, 0xcc, 0xcc, 0xcc))).toMatchObject({ opcode: 0xc3, disp: 0, len: 5 });
    expect(pokeLoc(b(0xcc))).toMatchObject({ opcode: 0xcc, len: 1 });
  });

  it("a near Jcc (0f 8x, 6 bytes) is stored as its short opcode 7x with length 6 and its text without the 0f", () => {
    for (let cc = 0; cc < 16; cc++) {
      const loc = pokeLoc(b(0x0f, 0x80 + cc, 0x00, 0x01, 0x00, 0x00));
      expect(loc).toMatchObject({ opcode: 0x70 + cc, disp: 0x100, len: 6 });
      expect([...loc.text]).toEqual([0x80 + cc, 0x00, 0x01, 0x00, 0x00]);
      expect(pokeLoc(b(0x70 + cc, 0xfe))).toMatchObject({ opcode: 0x70 + cc, disp: -2, len: 2 });
    }
  });

  it("anything else is refused before a byte is written, where the kernel's text_poke_loc_init BUG()s", () => {
    const m = fakeMachine(1);
    const state = initialPokeState();
    const p = new TextPoke(() => state, m.d);
    for (const bad of [b(0x48, 0x89, 0xe5), b(0x90), b(0x0f, 0x1f, 0x40, 0x00), b(0xe8, 0, 0, 0, 0, 0xcc), b(0x74, 0, 0xcc),
      b(0xc3, 0x90), b(0x0f, 0x80, 0, 0, 0)]) {
      expect(() => p.single({ addr: SITE_A, old: NOP5, new: bad }))
        .toThrow(/^text_poke: cannot emulate .* INT3, RET, CALL, JMP32, JMP8, Jcc/);
    }
    expect(m.writes).toEqual([]);
    expect(state.queue).toEqual([]);
    expect(state.stats.batches).toBe(0);
  });
});
