// The machine's event log: records the core appends to its ring (assembly/events.ts), drained
// after every run into typed events that tests and the debugger read. The log is bounded; what
// the core overwrote before it was drained, or what fell off the end, is counted, never lost
// silently.
import { regions, eventFields, machineFields, EVENT_SIZE, EventKind, EventKindName, HOST_AGENT } from "../gen/layout.js";
import { StructView } from "./struct.js";
import { formatTime } from "./units.js";

/** What the log reads of the Machine that owns it: the core's ring and its head. */
export interface EventRing {
  readonly memory: WebAssembly.Memory;
  readonly state: StructView<typeof machineFields>;
}

export interface MachineEvent {
  seq: bigint;
  /** Virtual time of the vCPU the event happened on. */
  clock: bigint;
  kind: EventKind;
  /** vCPU index, or "host". */
  cpu: number | "host";
  a: bigint;
  b: bigint;
  c: bigint;
  d: bigint;
  e: bigint;
  /** Recorded by the host rather than the core; then seq is the core position it follows. */
  host?: boolean;
}

/** The log as a snapshot holds it. */
export interface EventLogState {
  /** Shared with the log, not copied: an event never changes once logged. */
  events: readonly MachineEvent[];
  dropped: number;
  next: bigint;
}

export class EventLog {
  readonly events: MachineEvent[] = [];
  /** Events lost: overwritten in the core's ring before draining, or beyond `capacity`. */
  dropped = 0;
  private next = 0n;
  private readonly slots = BigInt(regions.EVLOG.size / EVENT_SIZE);

  constructor(private readonly machine: EventRing, public capacity = 200_000) {}

  /** Copies new records out of the core's ring. */
  drain(): void {
    const head = this.machine.state.get("evHead");
    if (head - this.next > this.slots) {
      this.dropped += Number(head - this.next - this.slots);
      this.next = head - this.slots;
    }
    for (; this.next < head; this.next++) {
      const r = new StructView(this.machine.memory.buffer, regions.EVLOG.base + Number(this.next % this.slots) * EVENT_SIZE, eventFields);
      const cpu = r.get("cpu");
      const ev: MachineEvent = {
        seq: r.get("seq"), clock: r.get("clock"), kind: r.get("kind") as EventKind, cpu: cpu === HOST_AGENT ? "host" : cpu,
        a: r.get("a"), b: r.get("b"), c: r.get("c"), d: r.get("d"), e: r.get("e"),
      };
      this.push(ev);
    }
  }

  /**
   * Appends an event of the host's own (the kernel control plane: context switches, patch
   * steps, grace-period steps). It takes the next sequence number after the core's records.
   */
  record(kind: EventKind, cpu: number | "host", clock: bigint, a = 0n, b = 0n, c = 0n, d = 0n, e = 0n): MachineEvent {
    this.drain();
    // Host events carry the core position they follow, so a rewind can drop them too.
    const ev: MachineEvent = { seq: this.next, clock, kind, cpu, a, b, c, d, e, host: true };
    this.push(ev);
    return ev;
  }

  /** Appends; a full log first drops its oldest quarter in one go (counted), not one event per push. */
  private push(ev: MachineEvent): void {
    if (this.events.length >= this.capacity) {
      const n = Math.max(1, this.capacity >> 2);
      this.events.splice(0, n);
      this.dropped += n;
    }
    this.events.push(ev);
  }

  /** Forgets the events read so far (the dropped count stays). */
  clear(): void {
    this.events.length = 0;
  }

  /** The log's state for a snapshot (drain first to include the core's latest records). */
  save(): EventLogState {
    return { events: this.events.slice(), dropped: this.dropped, next: this.next };
  }

  /** Back to a saved state. */
  load(s: EventLogState): void {
    this.events.length = 0;
    for (const e of s.events) this.events.push(e);
    this.dropped = s.dropped;
    this.next = s.next;
  }

  /** Position in the core's ring: part of a snapshot. */
  get position(): bigint { return this.next; }

  /** Back to an earlier position (a restored snapshot): later events are forgotten. */
  rewind(position: bigint): void {
    this.next = position;
    const after = (e: MachineEvent) => (e.host ? e.seq > position : e.seq >= position);
    while (this.events.length > 0 && after(this.events[this.events.length - 1])) this.events.pop();
  }

  ofKind(kind: EventKind): MachineEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }
}

/** One line per event, stable enough for golden files. */
export function formatEvent(e: MachineEvent): string {
  const who = e.cpu === "host" ? "host " : `cpu${e.cpu}`;
  const hex = (v: bigint) => "0x" + v.toString(16);
  const head = `${formatTime(e.clock).padStart(13)} ${who.padEnd(5)} ${EventKindName[e.kind] ?? e.kind}`;
  switch (e.kind) {
    case EventKind.EXCEPTION: return `${head} vector ${e.a} error ${hex(e.b)} at ${hex(e.c)}${e.a === 14n ? ` cr2 ${hex(e.d)}` : ""}`;
    case EventKind.INTERRUPT: return `${head} vector ${e.a} at ${hex(e.c)}`;
    case EventKind.IRET: return `${head} to ${hex(e.a)} cpl ${e.b}->${e.c}`;
    case EventKind.HYPERCALL: return `${head} nr ${e.a} args ${hex(e.b)} ${hex(e.c)} ${hex(e.d)}`;
    case EventKind.SERIALIZE: return `${head} reason ${e.a} log ${e.b}`;
    case EventKind.CODE_WRITE: {
      // b packs the record's length (bits 0-15), writer (16-31) and store number (32-63).
      const agent = Number((e.b >> 16n) & 0xffffn);
      return `${head} pa ${hex(e.a)} len ${e.b & 0xffffn} by ${agent === HOST_AGENT ? "host" : `cpu${agent}`} store ${e.b >> 32n}`;
    }
    case EventKind.HAZARD:
      return `${head} at ${hex(e.a)} pa ${hex(e.b & 0xffff_ffff_ffffn)} by ${e.b >> 48n} changed-mask ${hex((e.c >> 16n) & 0xffffn)}`;
    case EventKind.IPI: return `${head} to cpu${e.a} vector ${e.b}`;
    case EventKind.EOI: return `${head} vector ${e.a}`;
    case EventKind.HALT: return `${head} at ${hex(e.a)}`;
    default: return `${head} ${hex(e.a)} ${hex(e.b)} ${hex(e.c)}`;
  }
}
