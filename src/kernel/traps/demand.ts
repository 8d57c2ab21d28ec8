// Demand paging behind the guest's #PF handler: the first touch of a page in a demand region
// (boot_params) reaches the host through MAP_PAGE, which maps a zeroed page and says how many
// timer ticks the fault waits for "I/O" (the guest msleep()s that long in handle_mm_fault).
import { EventKind } from "../../gen/layout.js";
import type { Machine } from "../../machine/machine.js";
import type { AddressSpace, FrameAllocator } from "../../machine/paging.js";
import { PAGE } from "../../machine/paging.js";
import { DEMAND_START, DEMAND_END, USER_DEMAND_START, USER_DEMAND_END } from "../memory.js";

/** The pager's state, plain data (KernelState.demand). */
export interface DemandState {
  /** Pages mapped so far, in order. */
  mapped: bigint[];
  /** How long each user fault sleeps, in timer ticks (0: minor faults; kernel ones never sleep). */
  sleepJiffies: number;
}

export class DemandPager {
  constructor(private readonly st: () => DemandState, private readonly machine: Machine, private readonly space: AddressSpace,
    private readonly frames: FrameAllocator) {}

  get mapped(): bigint[] { return this.st().mapped; }
  get sleepJiffies(): number { return this.st().sleepJiffies; }
  set sleepJiffies(v: number) { this.st().sleepJiffies = v; }

  static user(va: bigint): boolean { return va >= USER_DEMAND_START && va < USER_DEMAND_END; }
  static kernel(va: bigint): boolean { return va >= DEMAND_START && va < DEMAND_END; }

  /** MAP_PAGE(addr): returns the timer ticks the faulting task should sleep. */
  fault(cpu: number, addr: bigint, clock: bigint): bigint {
    const user = DemandPager.user(addr);
    if (!user && !DemandPager.kernel(addr)) throw new Error(`MAP_PAGE for 0x${addr.toString(16)}, outside the demand regions`);
    const va = addr & ~BigInt(PAGE - 1);
    if (!this.space.translate(va)) {
      const pa = this.frames.alloc();
      this.machine.writePhys(pa, new Uint8Array(PAGE));
      this.space.mapPage(va, pa, { write: true, exec: false, user });
      this.mapped.push(va);
    }
    // Kernel demand memory is like a vmalloc fault: minor, never a wait.
    const sleep = user ? BigInt(this.sleepJiffies) : 0n;
    this.machine.events.record(EventKind.MAP_PAGE, cpu, clock, va, sleep);
    return sleep;
  }
}
