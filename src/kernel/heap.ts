// Guest kernel memory the host hands out (what kmalloc would): ops, hashes, ring buffers,
// tracer data. Ordinary blocks are reached through the direct map and reused by size once
// freed. Guarded blocks (for objects whose lifetime is the point: ftrace_ops and their hashes)
// get pages of their own that are unmapped when freed, so any later access faults and the
// fault can name the object.
import { EventKind } from "../gen/layout.js";
import type { Machine } from "../machine/machine.js";
import type { AddressSpace, FrameAllocator } from "../machine/paging.js";
import { PAGE } from "../machine/paging.js";
import { directMap, physOfDirect, GUARDED_START, GUARDED_END } from "./memory.js";

export interface GuardedBlock {
  va: bigint;
  size: number;
  /** What it holds, for reports ("ftrace_ops ops0", "filter hash of ops0"). */
  what: string;
  pages: { va: bigint; pa: number }[];
  allocatedAt: bigint;
  freedAt?: bigint;
  freedBy?: string;
}

/** The heap's state, plain data (KernelState.heap). */
export interface HeapState {
  /** The page small blocks are carved from, and how much of it is used. */
  chunk: number;
  used: number;
  /** Freed ordinary blocks by rounded size, for reuse. */
  free: Map<number, bigint[]>;
  nextGuarded: bigint;
  guarded: GuardedBlock[];
}

export function initialHeapState(): HeapState {
  return { chunk: 0, used: PAGE, free: new Map(), nextGuarded: GUARDED_START, guarded: [] };
}

export class GuestHeap {
  constructor(private readonly st: () => HeapState, private readonly machine: Machine, private readonly frames: FrameAllocator,
    private readonly space: AddressSpace) {}

  get guarded(): GuardedBlock[] { return this.st().guarded; }

  /** A zeroed guarded block: fresh pages, mapped read-write, followed by an unmapped guard page. */
  allocGuarded(size: number, what: string): bigint {
    const n = Math.max(1, Math.ceil(size / PAGE));
    const s = this.st();
    const va = s.nextGuarded;
    if (va + BigInt((n + 1) * PAGE) > GUARDED_END) throw new Error("the guarded area is full");
    s.nextGuarded += BigInt((n + 1) * PAGE);
    const pages = Array.from({ length: n }, (_, i) => {
      const pa = this.frames.alloc();
      this.machine.writePhys(pa, new Uint8Array(PAGE));
      this.space.mapPage(va + BigInt(i * PAGE), pa, { write: true, exec: false });
      return { va: va + BigInt(i * PAGE), pa };
    });
    this.guarded.push({ va, size, what, pages, allocatedAt: this.machine.time });
    return va;
  }

  /** The guarded block containing `va` (live or freed), if any. */
  findGuarded(va: bigint): GuardedBlock | undefined {
    if (va < GUARDED_START || va >= GUARDED_END) return undefined;
    return this.guarded.find((b) => va >= b.va && va < b.va + BigInt(b.pages.length * PAGE));
  }

  /** Unmaps a guarded block on every vCPU; its addresses and frames are never used again. */
  freeGuarded(va: bigint, why: string): void {
    const b = this.findGuarded(va);
    if (!b || b.va !== va) throw new Error(`0x${va.toString(16)} is not a guarded block`);
    if (b.freedAt !== undefined) throw new Error(`${b.what} at 0x${va.toString(16)} was already freed`);
    for (const p of b.pages) this.space.unmapPage(p.va);
    for (let c = 0; c < this.machine.ncpus; c++) this.machine.core.hostFlushTlb(c);
    this.machine.events.record(EventKind.TLB_FLUSH, "host", this.machine.time, b.va, BigInt(b.pages.length * PAGE));
    b.freedAt = this.machine.time;
    b.freedBy = why;
  }

  /** Physical address of a heap address, direct-mapped or guarded. */
  private phys(va: bigint): number {
    const b = this.findGuarded(va);
    if (!b) return physOfDirect(va);
    if (b.freedAt !== undefined) throw new Error(`host access to freed ${b.what} at 0x${va.toString(16)}`);
    const off = Number(va - b.va);
    return b.pages[Math.floor(off / PAGE)].pa + (off % PAGE);
  }

  /** A zeroed block of `size` bytes (16-byte aligned); its kernel virtual address. */
  alloc(size: number): bigint {
    const rounded = Math.max(16, Math.ceil(size / 16) * 16);
    const s = this.st();
    const reuse = s.free.get(rounded)?.pop();
    if (reuse !== undefined) {
      this.machine.writePhys(physOfDirect(reuse), new Uint8Array(rounded));
      return reuse;
    }
    if (rounded > PAGE) return directMap(this.frames.alloc(Math.ceil(rounded / PAGE)));
    if (s.used + rounded > PAGE) { s.chunk = this.frames.alloc(); s.used = 0; }
    const va = directMap(s.chunk + s.used);
    s.used += rounded;
    return va;
  }

  /** Frees a block: a guarded one is unmapped (`why` says who freed it), an ordinary one reused. */
  release(va: bigint, size: number, why = "kfree"): void {
    if (this.findGuarded(va)) { this.freeGuarded(va, why); return; }
    const rounded = Math.max(16, Math.ceil(size / 16) * 16);
    if (rounded > PAGE) return; // page-sized blocks are not reused
    const free = this.st().free;
    const list = free.get(rounded) ?? [];
    list.push(va);
    free.set(rounded, list);
  }

  write(va: bigint, bytes: Uint8Array): void {
    // Page by page: a guarded block's pages are not contiguous in physical memory.
    for (let done = 0; done < bytes.length;) {
      const room = PAGE - Number((va + BigInt(done)) % BigInt(PAGE));
      const part = bytes.subarray(done, done + room);
      this.machine.writePhys(this.phys(va + BigInt(done)), part);
      done += part.length;
    }
  }

  writeU64(va: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.write(va, b);
  }

  readU64(va: bigint): bigint {
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getBigUint64(this.phys(va), true);
  }
}
