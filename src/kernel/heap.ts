// Guest kernel memory the host hands out (what kmalloc would): ops, hashes, ring buffers,
// tracer data. Reached through the direct map; freed blocks are reused by size.
import type { Machine } from "../machine/machine.js";
import type { FrameAllocator } from "../machine/paging.js";
import { PAGE } from "../machine/paging.js";
import { directMap, physOfDirect } from "./memory.js";

export class GuestHeap {
  private chunk = 0;
  private used = PAGE;
  private readonly free = new Map<number, bigint[]>();

  constructor(private readonly machine: Machine, private readonly frames: FrameAllocator) {}

  /** A zeroed block of `size` bytes (16-byte aligned); its kernel virtual address. */
  alloc(size: number): bigint {
    const rounded = Math.max(16, Math.ceil(size / 16) * 16);
    const reuse = this.free.get(rounded)?.pop();
    if (reuse !== undefined) {
      this.machine.writePhys(physOfDirect(reuse), new Uint8Array(rounded));
      return reuse;
    }
    if (rounded > PAGE) return directMap(this.frames.alloc(Math.ceil(rounded / PAGE)));
    if (this.used + rounded > PAGE) { this.chunk = this.frames.alloc(); this.used = 0; }
    const va = directMap(this.chunk + this.used);
    this.used += rounded;
    return va;
  }

  release(va: bigint, size: number): void {
    const rounded = Math.max(16, Math.ceil(size / 16) * 16);
    if (rounded > PAGE) return; // page-sized blocks are not reused
    const list = this.free.get(rounded) ?? [];
    list.push(va);
    this.free.set(rounded, list);
  }

  write(va: bigint, bytes: Uint8Array): void {
    this.machine.writePhys(physOfDirect(va), bytes);
  }

  writeU64(va: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.write(va, b);
  }

  readU64(va: bigint): bigint {
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getBigUint64(physOfDirect(va), true);
  }
}
