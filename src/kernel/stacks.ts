// Kernel stacks, as the host creates them: every one STACK_SIZE bytes, STACK_SIZE-aligned, in
// the vmap stack area with an unmapped guard gap below it (an overflow faults instead of
// corrupting a neighbour), and a header at its base holding its per-stack in_tracing flag.
import { packStruct, StructView } from "../machine/struct.js";
import type { Machine } from "../machine/machine.js";
import type { AddressSpace, FrameAllocator } from "../machine/paging.js";
import { PAGE } from "../machine/paging.js";
import { STACK_SIZE, STACK_HEADER_SIZE, STACK_MAGIC, stackHeaderFields, StackKind } from "../gen/layout.js";
import { VMAP_STACKS_START, VMAP_STACKS_END } from "./memory.js";

export type StackKindName = "task" | "irq" | "ist";

export interface KernelStack {
  kind: StackKindName;
  /** Task pid, or vCPU number. */
  owner: number;
  /** What it is for: "task busy/0", "irq cpu1", "ist #DF cpu0". */
  name: string;
  base: bigint;
  top: bigint;
  pages: number[];
}

const KIND = { task: StackKind.TASK, irq: StackKind.IRQ, ist: StackKind.IST } as const;

/** The stacks' state, plain data (KernelState.stacks). */
export interface StacksState {
  all: KernelStack[];
  /** Where the next one goes. */
  next: bigint;
}

export class KernelStacks {
  /** Replaced as a whole when a snapshot is restored. */
  state: StacksState = { all: [], next: VMAP_STACKS_START + BigInt(STACK_SIZE) }; // a guard gap before the first one too

  constructor(private readonly machine: Machine, private readonly space: AddressSpace, private readonly frames: FrameAllocator) {}

  get all(): KernelStack[] { return this.state.all; }

  create(kind: StackKindName, owner: number, name: string): KernelStack {
    const base = this.state.next;
    if (base + BigInt(STACK_SIZE) > VMAP_STACKS_END) throw new Error("the vmap stack area is full");
    this.state.next += 2n * BigInt(STACK_SIZE);
    const pages = Array.from({ length: STACK_SIZE / PAGE }, (_, i) => {
      const pa = this.frames.alloc();
      this.machine.writePhys(pa, new Uint8Array(PAGE));
      this.space.mapPage(base + BigInt(i * PAGE), pa, { write: true });
      return pa;
    });
    const s: KernelStack = { kind, owner, name, base, top: base + BigInt(STACK_SIZE), pages };
    this.write(s, base, packStruct(stackHeaderFields, STACK_HEADER_SIZE, { magic: STACK_MAGIC, kind: KIND[kind], owner }));
    this.all.push(s);
    return s;
  }

  /** Writes bytes into a stack (one page at a time: the pages are not contiguous). */
  write(s: KernelStack, va: bigint, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      const off = Number(va - s.base) + done;
      const room = PAGE - (off % PAGE);
      const part = bytes.subarray(done, done + room);
      this.machine.writePhys(s.pages[Math.floor(off / PAGE)] + (off % PAGE), part);
      done += part.length;
    }
  }

  /** The stack containing `va`, if any. */
  find(va: bigint): KernelStack | undefined {
    return this.all.find((s) => va >= s.base && va < s.top);
  }

  /** The stack whose guard gap (the unmapped STACK_SIZE below it) contains `va`: an overflow. */
  guardOf(va: bigint): KernelStack | undefined {
    return this.all.find((s) => va >= s.base - BigInt(STACK_SIZE) && va < s.base);
  }

  /** Its header, read in place. */
  header(s: KernelStack): StructView<typeof stackHeaderFields> {
    return new StructView(this.machine.ram.buffer, this.machine.ram.byteOffset + s.pages[0], stackHeaderFields);
  }
}
