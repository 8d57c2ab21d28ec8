// Live patching of kernel text under running vCPUs: the batched INT3 protocol of
// arch/x86/kernel/alternative.c (text_poke_bp_batch / smp_text_poke_batch_finish).
//
// The patching agent is the host; every write is a physical write logged as the host's, and
// every sync is a real IPI that each vCPU takes (and serializes in) while the machine keeps
// running. For a batch of up to 256 sites, sorted by address:
//
//   0. publish the batch in text_poke_vec, where the guest's INT3 handler finds it;
//   1. write int3 (CC) over each site's first byte;                 sync every vCPU
//   2. write each site's tail (bytes 1-4);                          sync every vCPU
//   3. write each site's new first byte;                            sync every vCPU
//   4. retire the vector.
//
//     host (patching)                    vCPU n (running through a site)
//     write CC                           executes old insn or CC: both whole
//     IPI, wait  ------------------->    takes the IPI: serialized
//     write tail                         executes CC -> INT3 handler emulates the NEW insn
//     IPI, wait  ------------------->    serialized: a later fetch of the site sees CC+tail
//     write head                         executes CC or the new insn: both whole
//     IPI, wait  ------------------->    serialized
//
// Writing the 5 bytes in one store instead lets a vCPU fetch a mix of old and new bytes; the
// core reports that as a cross-modifying-code hazard (see assembly/xmc.ts).
import { EventKind, pokeLocFields, POKE_LOC_SIZE } from "../../gen/layout.js";
import { packStruct } from "../../machine/struct.js";
import { NOP5, hexBytes, sameBytes } from "./records.js";
import { TEXT_POKE_MAX, VEC_CALL_FUNCTION } from "../../gen/constants.js";

export { TEXT_POKE_MAX };

export interface PokeRequest {
  addr: bigint;
  /** Bytes the site holds now (verified by the caller; logged here). */
  old: Uint8Array;
  new: Uint8Array;
}

export interface PokeStats {
  batches: number;
  syncs: number;
  ipis: number;
  sitesChanged: number;
  int3Hits: bigint;
}

/** The text poker's state, plain data (KernelState.poke). */
export interface PokeState {
  /** Sites queued for the next batch. */
  queue: PokeRequest[];
  stats: PokeStats;
  /** The patch log: every step of every batch, one line each. */
  log: string[];
  /** Write all 5 bytes of a site at once instead of the protocol (to show why it exists). */
  naive: boolean;
}

export function initialPokeState(): PokeState {
  return { queue: [], stats: { batches: 0, syncs: 0, ipis: 0, sitesChanged: 0, int3Hits: 0n }, log: [], naive: false };
}

/** What the protocol needs of the machine and the guest kernel. */
export interface PokeDeps {
  ncpus: number;
  now: () => bigint;
  /** A host write of kernel text or data at a kernel virtual address. */
  write: (va: bigint, bytes: Uint8Array) => void;
  readU64: (va: bigint) => bigint;
  /** Raises an interrupt on a vCPU. */
  interrupt: (cpu: number, vector: number) => void;
  record: (kind: EventKind, a?: bigint, b?: bigint, c?: bigint, d?: bigint) => void;
  /** An address as people read it (symbol+offset). */
  name: (addr: bigint) => string;
  /** Where a vCPU is, for the report of a sync that never ends: "at f+0x3 (interrupts off)". */
  where: (cpu: number) => string;
  /** Runs the machine a little; false if the run stopped for another reason. */
  runSome: () => boolean;
  /** Each vCPU's count of CALL_FUNCTION IPIs taken (per-CPU callFunctionCount). */
  callFunctionCounts: () => bigint[];
  /** The guest's text_poke_vec, text_poke_nr, text_poke_int3_hits and _stext. */
  vecAddr: bigint;
  nrAddr: bigint;
  hitsAddr: bigint;
  stext: bigint;
}

export class TextPoke {
  /** Batches being patched now (the machine runs during their syncs). */
  private depth = 0;

  constructor(private readonly st: () => PokeState, private readonly d: PokeDeps) {}

  /** A batch is being patched: the machine is running inside one of its syncs. */
  get busy(): boolean { return this.depth > 0; }

  get stats(): PokeStats { return this.st().stats; }
  get log(): string[] { return this.st().log; }
  get naive(): boolean { return this.st().naive; }
  set naive(v: boolean) { this.st().naive = v; }

  /**
   * text_poke_queue: add a site; the batch is flushed first if it is full (TP_VEC_MAX) or if the
   * new site lies below the last one queued (tp_order_fail: the INT3 handler bsearches the
   * vector, so it must stay sorted; an equal address does not flush, as in the kernel).
   */
  add(req: PokeRequest): void {
    pokeLoc(req.new); // refused before anything is queued or written, as text_poke_loc_init BUG()s
    const queue = this.st().queue;
    const last = queue[queue.length - 1];
    if (queue.length >= TEXT_POKE_MAX || (last && req.addr < last.addr)) this.finish();
    this.st().queue.push(req);
  }

  /** text_poke_finish: patch everything queued. */
  finish(): void {
    const s = this.st();
    if (s.queue.length === 0) return;
    const batch = s.queue;
    s.queue = [];
    this.depth++;
    try {
      if (s.naive) this.naiveBatch(batch);
      else this.batch(batch);
    } finally {
      this.depth--;
    }
  }

  /** One site patched on its own (text_poke_bp). */
  single(req: PokeRequest): void {
    this.finish();
    this.add(req);
    this.finish();
  }

  private name(addr: bigint): string {
    return this.d.name(addr);
  }

  /** A physical write of kernel text (or data) at virtual address addr, as the host. */
  private write(addr: bigint, bytes: Uint8Array): void {
    this.d.write(addr, bytes);
  }

  private batch(batch: PokeRequest[]): void {
    const n = ++this.stats.batches;
    this.log.push(`batch ${n}: ${batch.length} site${batch.length === 1 ? "" : "s"}`);
    this.d.record(EventKind.POKE, BigInt(n), BigInt(batch.length), 0n, batch[0].addr);

    // Step 0: publish the vector (sorted) for the INT3 handler.
    this.publish(batch);

    // Step 1: int3 over every first byte.
    for (const p of batch) {
      this.write(p.addr, Uint8Array.of(0xcc));
      this.logStep("int3", p.addr, p.old, Uint8Array.of(0xcc, ...p.old.subarray(1)));
    }
    this.sync();

    // Step 2: the tails. Every one is written, equal to the old bytes or not, as the kernel
    // does; the sync follows if any site is longer than its int3.
    const tails = batch.filter((p) => p.new.length > 1);
    for (const p of tails) {
      this.write(p.addr + 1n, p.new.subarray(1));
      this.logStep("tail", p.addr, Uint8Array.of(0xcc, ...p.old.subarray(1)), Uint8Array.of(0xcc, ...p.new.subarray(1)));
    }
    if (tails.length > 0) this.sync();

    // Step 3: the first bytes.
    const heads = batch.filter((p) => p.new[0] !== 0xcc);
    for (const p of heads) {
      this.write(p.addr, p.new.subarray(0, 1));
      this.logStep("head", p.addr, Uint8Array.of(0xcc, ...p.new.subarray(1)), p.new);
    }
    if (heads.length > 0) this.sync();

    // Step 4: no vCPU can be in the INT3 handler for these sites any more.
    this.write(this.d.nrAddr, new Uint8Array(4));
    this.stats.sitesChanged += batch.length;
  }

  /** What the protocol prevents: 5 bytes written at once, no int3, no sync. */
  private naiveBatch(batch: PokeRequest[]): void {
    this.log.push(`naive batch: ${batch.length} site${batch.length === 1 ? "" : "s"} written in place`);
    for (const p of batch) {
      this.write(p.addr, p.new);
      this.logStep("write", p.addr, p.old, p.new);
    }
    this.stats.sitesChanged += batch.length;
  }

  private publish(batch: PokeRequest[]): void {
    const vec = new Uint8Array(batch.length * POKE_LOC_SIZE);
    batch.forEach((p, i) => {
      const loc = pokeLoc(p.new);
      vec.set(packStruct(pokeLocFields, POKE_LOC_SIZE, {
        relAddr: Number(p.addr - this.d.stext), disp: loc.disp, len: loc.len, opcode: loc.opcode, text: loc.text, old: p.old[0],
      }), i * POKE_LOC_SIZE);
    });
    this.write(this.d.vecAddr, vec);
    const nr = new Uint8Array(4);
    new DataView(nr.buffer).setUint32(0, batch.length, true);
    this.write(this.d.nrAddr, nr);
  }

  private logStep(step: string, addr: bigint, before: Uint8Array, after: Uint8Array): void {
    this.log.push(`  ${step.padEnd(5)} ${this.name(addr).padEnd(28)} ${this.render(addr, before)} -> ${this.render(addr, after)}`);
  }

  /** Bytes as text, with a call's rel32 shown as its target (stable across rebuilds). */
  private render(addr: bigint, b: Uint8Array): string {
    if (b.length === 5 && (b[0] === 0xe8 || b[0] === 0xcc) && !sameBytes(b.subarray(1), NOP5.subarray(1))) {
      const rel = BigInt(new DataView(b.buffer, b.byteOffset).getInt32(1, true));
      const target = addr + 5n + rel;
      return `${b[0].toString(16)} <${this.name(target)}>`;
    }
    if (sameBytes(b, NOP5)) return "nop5";
    return hexBytes(b);
  }

  private int3Hits(): bigint[] {
    return Array.from({ length: this.d.ncpus }, (_, cpu) => this.d.readU64(this.d.hitsAddr + BigInt(cpu * 8)));
  }

  /**
   * smp_text_poke_sync_each_cpu: IPI every vCPU and run the machine until each has taken it
   * (taking an interrupt serializes). vCPUs with interrupts off make it wait, as they would.
   */
  private sync(): void {
    const hitsBefore = this.int3Hits();
    this.ipiEachCpu("text_poke sync: the sync IPI");
    this.stats.syncs++;
    const d = this.d;
    const hits = this.int3Hits().map((h, i) => h - hitsBefore[i]);
    const total = hits.reduce((a, b) => a + b, 0n);
    this.stats.int3Hits += total;
    const who = hits.map((h, i) => (h > 0n ? `cpu${i} x${h}` : "")).filter(Boolean).join(", ");
    this.log.push(`  sync  ${d.ncpus} vCPUs${total > 0n ? `; int3 emulated: ${who}` : ""}`);
  }

  /**
   * ftrace_modify_all_code's smp_call_function(ftrace_sync_ipi): an IPI every vCPU takes
   * before ftrace_call is switched from the list function to the final one, so none can still
   * be between loading function_trace_op and calling (see Ftrace.modifyAllCode). Shown in the
   * poke log, not counted as a text_poke sync.
   */
  ftraceSyncIpi(): void {
    if (this.naive) return; // naive writing shows what no synchronization at all does
    this.ipiEachCpu("ftrace_sync_ipi: the IPI");
    this.log.push(`ftrace_sync_ipi: ${this.d.ncpus} vCPUs`);
  }

  /** IPI every vCPU and run the machine until each has taken it (`what`: the error's subject). */
  private ipiEachCpu(what: string): void {
    const d = this.d;
    const before = d.callFunctionCounts();
    for (let cpu = 0; cpu < d.ncpus; cpu++) d.interrupt(cpu, VEC_CALL_FUNCTION);
    this.stats.ipis += d.ncpus;
    const waiting = () => d.callFunctionCounts().flatMap((n, cpu) => (n > before[cpu] ? [] : [cpu]));
    let rounds = 0;
    for (let w = waiting(); w.length > 0; w = waiting()) {
      if (!d.runSome() || ++rounds > 100_000) {
        // Name where each one is stuck: a vCPU spinning with interrupts off (a soft lockup,
        // reported on the console) or stopped for good.
        const at = w.map((cpu) => `vCPU ${cpu} ${d.where(cpu)}`);
        throw new Error(`${what} was never taken: ${at.join("; ")}`);
      }
    }
  }
}

/** x86_nops[2]: the NOP the kernel emulates as `jmp8 +0`. */
const NOP2 = Uint8Array.of(0x66, 0x90);

/** What the guest's INT3 handler is told to emulate for a site (struct text_poke_loc's fields). */
export interface PokeLoc {
  opcode: number;
  disp: number;
  len: number;
  /** The bytes after the 0x0f of a near Jcc, else the new bytes (at most 5). */
  text: Uint8Array;
}

/**
 * text_poke_loc_init (arch/x86/kernel/alternative.c): decode the new instruction into what the
 * INT3 handler emulates, or refuse it as the kernel BUG()s on it. INT3, RET (padded with int3),
 * CALL, JMP32 and JMP8 (padded with int3) and the short Jcc are emulated as they are; a near
 * Jcc (0f 80..8f, 6 bytes) is stored as its short opcode with the length telling them apart;
 * x86's NOP5 and NOP2 become JMP32 +0 and JMP8 +0. Anything else, or a length that does not
 * match the instruction, throws: a vector entry the handler could not emulate is never published.
 */
export function pokeLoc(b: Uint8Array): PokeLoc {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const len = b.length;
  const padded = (n: number) => len >= n && b.subarray(n).every((x) => x === 0xcc);
  const exact = (n: number) => len === n;
  const loc = (opcode: number, disp: number, text: Uint8Array = b) => ({ opcode, disp, len, text: text.subarray(0, 5) });
  const op = b[0];
  if (op === 0xcc && exact(1)) return loc(op, 0);
  if (op === 0xc3 && padded(1)) return loc(op, 0);
  if ((op === 0xe8 && exact(5)) || (op === 0xe9 && padded(5))) return loc(op, v.getInt32(1, true));
  if (op === 0xeb && padded(2)) return loc(op, v.getInt8(1));
  if (op >= 0x70 && op <= 0x7f && exact(2)) return loc(op, v.getInt8(1));
  if (op === 0x0f && len === 6 && b[1] >= 0x80 && b[1] <= 0x8f) return loc(b[1] - 0x10, v.getInt32(2, true), b.subarray(1));
  if (sameBytes(b, NOP5)) return loc(0xe9, 0);
  if (sameBytes(b, NOP2)) return loc(0xeb, 0);
  throw new Error(`text_poke: cannot emulate ${hexBytes(b)} (${len} bytes): the INT3 handler emulates INT3, RET, CALL, ` +
    "JMP32, JMP8, Jcc and x86's NOP5 and NOP2 only");
}
