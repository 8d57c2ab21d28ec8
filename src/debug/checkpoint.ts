// Checkpoints: the whole state needed to resume the deterministic run from a stop point —
// machine memory, the host's state (the kernel's control plane, see src/kernel/state.ts, or
// a program's), the event log, the debugger's own host state, and the cursor's place
// in the round-robin.
//
// A full machine snapshot is large (all of RAM), so only one is kept: the base, taken when the
// session starts. Every checkpoint stores the 4 KiB pages that differ from it.
import { regions } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import type { EventLogState } from "../machine/events.js";
import type { FunctionTracer } from "../kernel/ftrace/tracers.js";
import type { CursorState } from "./cursor.js";
import type { DebugTarget } from "./target.js";

const PAGE = 4096;

/** Host state the debugger adds to the kernel's (saved and restored with it). */
export interface DebugHost {
  tracer?: FunctionTracer;
}

/** DebugHost in a checkpoint: which tracer was on, and a copy of its state. */
interface SavedHost {
  tracer?: FunctionTracer;
  tracerState?: FunctionTracer["state"];
}

export interface Checkpoint {
  pages: Map<number, Uint8Array>;
  /** The target's host state (the kernel's control plane, or a program's). */
  target: unknown;
  events: EventLogState;
  host: SavedHost;
  cursor: CursorState;
  /** Sum of every vCPU's clock: grows by one with every tick, so it orders stop points. */
  position: bigint;
  clocks: bigint[];
  insns: bigint[];
}

/** Sum of the vCPUs' clocks. */
export function positionOf(m: Machine): bigint {
  return m.cpus.reduce((s, c) => s + c.get("clock"), 0n);
}

export class CheckpointStore {
  private readonly base: Uint8Array;
  /** Byte ranges compared and restored: everything but the decoded-block cache (derived state). */
  private readonly ranges: [number, number][];

  constructor(private readonly target: DebugTarget, private readonly host: DebugHost) {
    const m = target.machine;
    const all = new Uint8Array(m.memory.buffer);
    this.base = all.slice();
    this.ranges = [[0, regions.DCACHE.base], [regions.DCACHE.base + regions.DCACHE.size, all.length]];
  }

  take(cursor: CursorState): Checkpoint {
    const m = this.target.machine;
    m.events.drain();
    const mem = Buffer.from(m.memory.buffer);
    const base = Buffer.from(this.base.buffer);
    const pages = new Map<number, Uint8Array>();
    for (const [start, end] of this.ranges) {
      for (let a = start; a < end; a += PAGE) {
        const e = Math.min(a + PAGE, end);
        // (Buffer's slice() is a view; the page must be copied.)
        if (mem.compare(base, a, e, a, e) !== 0) pages.set(a, new Uint8Array(m.memory.buffer, a, e - a).slice());
      }
    }
    const tracer = this.host.tracer;
    return {
      pages, cursor, target: this.target.saveState(), events: m.events.save(),
      host: { tracer, tracerState: tracer && structuredClone(tracer.state) },
      position: positionOf(m), clocks: m.cpus.map((c) => c.get("clock")), insns: m.cpus.map((c) => c.get("insns")),
    };
  }

  /** Puts machine and control plane back exactly as they were at `c`; returns its cursor state. */
  restore(c: Checkpoint): CursorState {
    const m = this.target.machine;
    const mem = new Uint8Array(m.memory.buffer);
    for (const [start, end] of this.ranges) mem.set(this.base.subarray(start, end), start);
    mem.fill(0, regions.DCACHE.base, regions.DCACHE.base + regions.DCACHE.size);
    for (const [a, bytes] of c.pages) mem.set(bytes, a);
    this.target.restoreState(c.target);
    m.events.load(c.events);
    this.host.tracer = c.host.tracer;
    if (c.host.tracer && c.host.tracerState) c.host.tracer.state = structuredClone(c.host.tracerState);
    return { ...c.cursor };
  }
}
