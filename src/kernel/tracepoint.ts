// The sys_enter tracepoint's control plane (firmware/tracepoint.c has the guest half and the
// read-side story). Registering publishes a new probe array; unregistering publishes one
// without the probe and hands the old array and the probe's data to a grace period of the
// caller's choosing, after which they are freed. The probe data is a guarded block: a probe
// that still runs after its data was freed faults, and the fault is reported as a use-after-free.
import { PROBE_DATA_SIZE, PROBE_MAGIC, probeDataFields, TRACEPOINT_FUNC_SIZE, TracepointReadSide } from "../gen/layout.js";
import { packStruct } from "../machine/struct.js";
import { PAGE } from "../machine/paging.js";
import type { GuestHeap } from "./heap.js";
import type { Flavour } from "./rcu/flavour.js";
import { USER_DEMAND_START, USER_DEMAND_END } from "./memory.js";

export type ReadSide = "trace" | "preempt";
export const READ_SIDES: readonly ReadSide[] = ["trace", "preempt"];

/** A registration the tracepoint refuses (the errno the kernel's call returns, and why). */
export class TracepointError extends Error {
  constructor(readonly errno: "EINVAL", message: string) {
    super(message);
  }
}

/**
 * The grace periods tracepoint_synchronize_unregister() waits for, in order (include/linux/
 * tracepoint.h): Tasks Trace RCU first when the tracepoint is faultable (its readers hold
 * rcu_read_lock_trace()), then plain RCU (the others disable preemption). The SRCU some
 * releases also wait for (rcuidle tracepoints, PREEMPT_RT) has no reader here and is left out.
 */
export function synchronizeUnregisterOrder(faultable: boolean): string[] {
  return faultable ? ["rcu_tasks_trace", "rcu"] : ["rcu"];
}

export interface Probe {
  name: string;
  /** Registered with TRACEPOINT_MAY_FAULT (the flag of the posted faultable-tracepoint series). */
  mayFault: boolean;
  /** The guest's struct probe_data (guarded). */
  data: bigint;
  /** The user pages it reads, demand-paged. */
  userAddr: bigint;
  pages: number;
  state: "live" | "releasing" | "freed";
  /** Which grace period its release waited for, and when it was freed. */
  releasedAfter?: string;
  freedAt?: bigint;
  /** Its counters as the free found them (probe calls completed, reads that failed). */
  hitsAtFree?: bigint;
  efaultsAtFree?: bigint;
}

export interface TracepointDeps {
  heap: GuestHeap;
  symbol: (name: string) => bigint;
  writeU64: (va: bigint, v: bigint) => void;
  writeU32: (va: bigint, v: number) => void;
  now: () => bigint;
  /** The grace period after which an array replaced by a registration is freed (Tasks Trace RCU). */
  arrayFlavour: () => Flavour;
}

/** The tracepoint's state, plain data (KernelState.tracepoint). */
export interface TracepointState {
  probes: Probe[];
  /** The published probe array (0 when empty). */
  array: bigint;
  /** Where the next probe's user pages go. */
  nextUser: bigint;
}

export function initialTracepointState(): TracepointState {
  return { probes: [], array: 0n, nextUser: USER_DEMAND_START };
}

export class SysEnterTracepoint {
  constructor(private readonly st: () => TracepointState, private readonly d: TracepointDeps, readonly readSide: ReadSide) {
    d.writeU32(d.symbol("sys_enter_read_side"), readSide === "trace" ? TracepointReadSide.TRACE : TracepointReadSide.PREEMPT);
  }

  get probes(): Probe[] { return this.st().probes; }
  /** A faultable tracepoint: its readers hold rcu_read_lock_trace(), so its probes may take faults that sleep. */
  get faultable(): boolean { return this.readSide === "trace"; }
  get live(): Probe[] { return this.probes.filter((p) => p.state === "live"); }

  /**
   * tracepoint_probe_register: probe_user_read with fresh data; each call reads `pages` user
   * pages. `mayFault` given: the posted series' tracepoint_probe_register_prio_flags() with or
   * without TRACEPOINT_MAY_FAULT, which refuses a faultable probe on a tracepoint that is not
   * faultable and a non-faultable one on a faultable tracepoint (EINVAL). Left out: the probe
   * matches the tracepoint, as every probe does where no flag exists (the series as merged).
   */
  register(name: string, pages = 8, mayFault?: boolean): Probe {
    if (mayFault !== undefined && mayFault !== this.faultable) {
      throw new TracepointError("EINVAL", mayFault
        ? `probe "${name}" has TRACEPOINT_MAY_FAULT, and sys_enter is not faultable (its readers disable preemption)`
        : `probe "${name}" lacks TRACEPOINT_MAY_FAULT, and sys_enter is faultable (its readers may sleep)`);
    }
    const s = this.st();
    const userAddr = s.nextUser;
    if (userAddr + BigInt(pages * PAGE) > USER_DEMAND_END) throw new Error("the user demand region is full");
    s.nextUser += BigInt(pages * PAGE);
    const data = this.d.heap.allocGuarded(PROBE_DATA_SIZE, `probe_data of probe "${name}"`);
    this.d.heap.write(data, packStruct(probeDataFields, PROBE_DATA_SIZE, { magic: BigInt(PROBE_MAGIC), userAddr, pages: BigInt(pages) }));
    const p: Probe = { name, mayFault: mayFault ?? this.faultable, data, userAddr, pages, state: "live" };
    this.probes.push(p);
    const old = s.array;
    this.publish();
    if (old) {
      const why = `tracepoint_probe_register("${name}") replaced it`;
      this.d.arrayFlavour().call({ kind: "free", blocks: [{ va: old, size: 0 }], why }, this.d.now());
    }
    return p;
  }

  /**
   * tracepoint_probe_unregister: the probe leaves the array at once; the old array and its data
   * are freed after a grace period of `flavour` (Tasks Trace RCU is the one that covers readers
   * that block in a fault).
   */
  unregister(p: Probe, flavour: Flavour): void {
    this.unregisterAfter(p, [flavour]);
  }

  /**
   * Unregistering, then freeing after grace periods of each flavour in turn: the next is
   * requested only when the one before has ended, as tracepoint_synchronize_unregister()'s
   * synchronize calls follow each other (the module frees its data after it returns).
   */
  unregisterAfter(p: Probe, flavours: Flavour[]): void {
    if (p.state !== "live") throw new Error(`probe "${p.name}" is not registered`);
    if (flavours.length === 0) throw new Error("no grace period to wait for");
    p.state = "releasing";
    const old = this.st().array;
    this.publish();
    const names = flavours.map((f) => f.name);
    p.releasedAfter = names.join(", then ");
    const why = `tracepoint_probe_unregister("${p.name}") after ` +
      (names.length > 1 ? `grace periods of ${p.releasedAfter}` : `a ${p.releasedAfter} grace period`);
    flavours[0].call({ kind: "probe", probe: this.probes.indexOf(p), array: old, why, then: names.slice(1) }, this.d.now());
  }

  /** The end of tracepoint_probe_unregister, after the grace period: free the old array and the probe's data. */
  freeProbe(index: number, oldArray: bigint, why: string): void {
    const p = this.probes[index];
    p.hitsAtFree = this.hits(p);
    p.efaultsAtFree = this.efaults(p);
    if (oldArray) this.d.heap.freeGuarded(oldArray, why);
    this.d.heap.freeGuarded(p.data, why);
    p.state = "freed";
    p.freedAt = this.d.now();
  }

  /** Probe calls completed (its data's counter; while the data exists). */
  hits(p: Probe): bigint {
    return this.field(p, "hits");
  }

  /** User reads that failed because the fault could not be served (preemption was off). */
  efaults(p: Probe): bigint {
    return this.field(p, "efaults");
  }

  private field(p: Probe, name: "hits" | "efaults"): bigint {
    if (p.state === "freed") throw new Error(`probe "${p.name}" was freed`);
    return this.d.heap.readU64(p.data + BigInt(probeDataFields[name].offset));
  }

  /** rcu_assign_pointer(tp->funcs, new array): built first, then published with one store. */
  private publish(): void {
    const live = this.live;
    const func = this.d.symbol("probe_user_read");
    const s = this.st();
    if (live.length === 0) {
      s.array = 0n;
    } else {
      // Guarded, like the data: a reader still walking an array freed too early faults.
      const size = (live.length + 1) * TRACEPOINT_FUNC_SIZE;
      s.array = this.d.heap.allocGuarded(size, "sys_enter probe array");
      const bytes = new Uint8Array(size);
      const v = new DataView(bytes.buffer);
      live.forEach((p, i) => {
        v.setBigUint64(i * TRACEPOINT_FUNC_SIZE, func, true);
        v.setBigUint64(i * TRACEPOINT_FUNC_SIZE + 8, p.data, true);
      });
      this.d.heap.write(s.array, bytes);
    }
    this.d.writeU64(this.d.symbol("sys_enter_probes"), s.array);
  }
}
