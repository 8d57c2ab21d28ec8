// Tracers built on ftrace ops: the function tracer (per-CPU ring buffers the guest fills, the
// host reads) and a per-function hit counter. Their callbacks are firmware functions.
import { traceRingFields, traceEntryFields, TRACE_ENTRY_SIZE, TraceFlag } from "../../gen/layout.js";
import { packStruct } from "../../machine/struct.js";
import type { Machine } from "../../machine/machine.js";
import type { GuestHeap } from "../heap.js";
import { physOfDirect } from "../memory.js";
import { FtraceOps } from "./ops.js";

const RING_SIZE = 24;

export interface TraceRecord {
  ip: bigint;
  parentIp: bigint;
  /** Virtual time (ticks = ns). */
  ts: bigint;
  pid: number;
  cpu: number;
  flags: number;
  preemptDepth: number;
}

/** The function tracer: op->private points at one struct trace_ring per vCPU. */
export class FunctionTracer {
  readonly ops: FtraceOps;
  private readonly rings: bigint;
  private readonly entries: bigint[] = [];
  /**
   * Per vCPU: records read so far, and records lost to overwriting before they were read.
   * Plain data, replaced as a whole when the debugger restores a snapshot.
   */
  state: { read: bigint[]; overruns: bigint[] };

  constructor(private readonly machine: Machine, heap: GuestHeap, readonly capacity = 1 << 14, filter = "", notrace = "") {
    if (capacity & (capacity - 1)) throw new RangeError("ring capacity must be a power of two");
    const n = machine.ncpus;
    this.rings = heap.alloc(n * RING_SIZE);
    for (let c = 0; c < n; c++) {
      const e = heap.alloc(capacity * TRACE_ENTRY_SIZE);
      this.entries.push(e);
      const ring = packStruct(traceRingFields, RING_SIZE, { head: 0n, mask: BigInt(capacity - 1), entries: e });
      heap.write(this.rings + BigInt(c * RING_SIZE), ring);
    }
    this.state = { read: new Array(n).fill(0n), overruns: new Array(n).fill(0n) };
    this.ops = new FtraceOps({
      name: "function", callback: { kind: "guest", symbol: "function_trace_call" }, filter, notrace, private: this.rings, dynamic: false,
    });
  }

  get read(): bigint[] { return this.state.read; }
  get overruns(): bigint[] { return this.state.overruns; }

  private view(): DataView {
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset);
  }

  /** Records written so far on vCPU c. */
  head(c: number): bigint {
    return this.view().getBigUint64(physOfDirect(this.rings) + c * RING_SIZE + traceRingFields.head.offset, true);
  }

  /**
   * Takes the complete records not read yet, merged by time (trace_pipe). A record still being
   * written (its commit word not yet set: the writer was interrupted or is in flight) and
   * everything after it on that vCPU wait for the next read.
   */
  consume(): TraceRecord[] {
    const out: TraceRecord[] = [];
    const v = this.view();
    for (let c = 0; c < this.machine.ncpus; c++) {
      const head = this.head(c);
      let from = this.read[c];
      if (head - from > BigInt(this.capacity)) {
        this.overruns[c] += head - from - BigInt(this.capacity);
        from = head - BigInt(this.capacity);
      }
      let i = from;
      for (; i < head; i++) {
        const at = physOfDirect(this.entries[c]) + Number(i % BigInt(this.capacity)) * TRACE_ENTRY_SIZE;
        if (v.getBigUint64(at + traceEntryFields.commit.offset, true) !== i + 1n) break;
        const flags = v.getUint32(at + traceEntryFields.flags.offset, true);
        out.push({
          ip: v.getBigUint64(at + traceEntryFields.ip.offset, true),
          parentIp: v.getBigUint64(at + traceEntryFields.parentIp.offset, true),
          ts: v.getBigUint64(at + traceEntryFields.ts.offset, true),
          pid: v.getUint32(at + traceEntryFields.pid.offset, true),
          cpu: flags >>> 16, flags: flags & 0xff, preemptDepth: (flags >> 8) & 0xf,
        });
      }
      this.read[c] = i;
    }
    return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.cpu - b.cpu));
  }

  get written(): bigint {
    return this.machine.cpus.reduce((n, c) => n + this.head(c.index), 0n);
  }

  get lost(): bigint {
    return this.overruns.reduce((a, b) => a + b, 0n);
  }
}

/**
 * The latency-format columns, as kernel/trace/trace_output.c's trace_print_lat_fmt writes them
 * (6.13, with the lazy letters): irqs-off ('d'; 'b'/'D' need a BH-disabled flag the model does
 * not record), need-resched, hardirq/softirq ('Z' 'z' 'H' 'h' 's'), preempt depth in hex, then
 * migrate-disable (never, here). Need-resched reads three kernel flags: TIF_NEED_RESCHED,
 * TIF_NEED_RESCHED_LAZY and PREEMPT_NEED_RESCHED (folded into the preempt count). The model's
 * per-CPU RESCHED_NEED is what preempt_enable tests, so it stands for the first and the folded
 * bit together; RESCHED_LAZY is never folded. Hence 'N', 'l' and 'B' (both), as the kernel
 * prints those states; 'n', 'L', 'b' and 'p' need the two halves apart.
 */
export function flagColumns(r: TraceRecord): string {
  const irq = r.flags & TraceFlag.IRQS_OFF ? "d" : ".";
  const need = (r.flags & TraceFlag.NEED_RESCHED) !== 0, lazy = (r.flags & TraceFlag.NEED_RESCHED_LAZY) !== 0;
  const resched = need && lazy ? "B" : need ? "N" : lazy ? "l" : ".";
  const nmi = r.flags & TraceFlag.NMI, hard = r.flags & TraceFlag.HARDIRQ, soft = r.flags & TraceFlag.SOFTIRQ;
  const ctx = nmi && hard ? "Z" : nmi ? "z" : hard && soft ? "H" : hard ? "h" : soft ? "s" : ".";
  const depth = r.preemptDepth ? Math.min(r.preemptDepth, 0xf).toString(16) : ".";
  return irq + resched + ctx + depth + ".";
}

/** A per-function hit counter: op->private points at one u64 per ftrace record. */
export class FunctionCounter {
  readonly ops: FtraceOps;
  private readonly counters: bigint;

  constructor(private readonly machine: Machine, heap: GuestHeap, readonly records: number, filter = "", notrace = "", name = "counter") {
    this.counters = heap.alloc(records * 8);
    this.ops = new FtraceOps({ name, callback: { kind: "guest", symbol: "function_count_call" }, filter, notrace, private: this.counters });
  }

  hits(index: number): bigint {
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getBigUint64(physOfDirect(this.counters) + index * 8, true);
  }
}
