// struct ftrace_ops, host side: who wants which functions traced, and with what callback.
import { FtraceOpsFlag } from "../../gen/constants.js";
import type { Trampoline } from "./trampoline.js";

/** What the ops' callback is: a firmware function, or a host function behind a guest stub. */
export type OpsCallback =
  | { kind: "guest"; symbol: string }
  | { kind: "host"; fn: (call: HostCall) => void }
  /** A function at an address: a module's callback. */
  | { kind: "address"; addr: bigint };

export interface HostCall {
  cpu: number;
  ip: bigint;
  parentIp: bigint;
  /** The guest address of the ops the callback was called with. */
  op: bigint;
  /** Who called the callback: a dynamic trampoline, or ftrace_ops_list_func. */
  caller: bigint;
}

export interface OpsOptions {
  name: string;
  callback: OpsCallback;
  /** set_ftrace_filter globs; empty: every function. */
  filter?: string;
  /** set_ftrace_notrace globs. */
  notrace?: string;
  /** FTRACE_OPS_FL_SAVE_REGS: the callback needs a full pt_regs (ftrace_regs_caller). */
  saveRegs?: boolean;
  /** FTRACE_OPS_FL_RECURSION: ftrace must protect the callback against recursion. */
  recursion?: boolean;
  /** Allocated at run time (kmalloc'ed, a module's): FTRACE_OPS_FL_DYNAMIC. Default true. */
  dynamic?: boolean;
  /** Tracer data the guest callback reads (op->private). */
  private?: bigint;
  /** The struct ftrace_ops is already in guest memory here (a module's); else ftrace allocates one. */
  at?: bigint;
  /** Flags of the caller's own struct that ftrace keeps as they are (FTRACE_OPS_FL_PERMANENT...). */
  extraFlags?: number;
  /**
   * Seed 000's permanent trampolines (a proposal, not the kernel's): its sites call a fixed
   * trampoline that is never freed, which calls the ops' own code inside an RCU reader.
   */
  permanent?: boolean;
}

/** An ops' state, plain data (KernelState.ftrace.byId once registered). */
export interface OpsState {
  id: number;
  name: string;
  /** The callback as data: a host callback's function stays with ftrace (Ftrace.hostCallback). */
  callback: { kind: "guest"; symbol: string } | { kind: "host" } | { kind: "address"; addr: bigint };
  filter: string;
  notrace: string;
  saveRegs: boolean;
  recursion: boolean;
  dynamic: boolean;
  private: bigint;
  /** Guest address of its struct ftrace_ops (0 until registered). */
  addr: bigint;
  /** That struct is the caller's (a module's), not allocated by ftrace: never freed by it. */
  external: boolean;
  extraFlags: number;
  /** Record indices its filter and notrace hashes select. */
  filterSet: Set<number>;
  notraceSet: Set<number>;
  trampoline?: Trampoline;
  /** Permanent-trampoline mode: the ops' slot (ftrace_permanent_N) once registered; its trampoline is the per-ops code. */
  permanent?: boolean;
  permanentSlot?: number;
  /** Direct calls: the trampoline of the caller's own that its sites call (register_ftrace_direct). */
  direct?: bigint;
  enabled: boolean;
  /** Guest memory of its hashes, to free when they change. */
  hashes: { va: bigint; size: number }[];
}

/** The ops traces record i: in the filter (or no filter) and not in notrace. */
export function opsTraces(o: OpsState, i: number): boolean {
  return (o.filter.trim() === "" || o.filterSet.has(i)) && !o.notraceSet.has(i);
}

/** Its flags as the guest's struct ftrace_ops holds them. */
export function opsGuestFlags(o: OpsState): bigint {
  let f = 0;
  if (o.enabled) f |= FtraceOpsFlag.ENABLED;
  if (o.dynamic) f |= FtraceOpsFlag.DYNAMIC;
  if (o.saveRegs) f |= FtraceOpsFlag.SAVE_REGS;
  if (o.recursion) f |= FtraceOpsFlag.RECURSION;
  return BigInt(f | o.extraFlags);
}

/** The callback as plain data (a host function stays out of the state). */
function callbackData(c: OpsCallback): OpsState["callback"] {
  if (c.kind === "guest") return { kind: "guest", symbol: c.symbol };
  if (c.kind === "address") return { kind: "address", addr: c.addr };
  return { kind: "host" };
}

let nextId = 1;

/**
 * The caller's handle on an ops. Until it is first registered it holds its own state; from
 * then on it reads the kernel's (so it follows a restored snapshot too).
 */
export class FtraceOps {
  readonly id = nextId++;
  readonly callback: OpsCallback;
  private readonly own: OpsState;
  private kernel?: () => Map<number, OpsState>;

  constructor(o: OpsOptions) {
    this.callback = o.callback;
    this.own = {
      id: this.id, name: o.name, callback: callbackData(o.callback),
      filter: o.filter ?? "", notrace: o.notrace ?? "", saveRegs: o.saveRegs ?? false, recursion: o.recursion ?? false,
      dynamic: o.dynamic ?? true, private: o.private ?? 0n, addr: o.at ?? 0n, external: o.at !== undefined,
      extraFlags: o.extraFlags ?? 0, permanent: o.permanent ?? false, filterSet: new Set(), notraceSet: new Set(),
      enabled: false, hashes: [],
    };
  }

  /** Its state: the kernel's once registered there. */
  get data(): OpsState {
    return this.kernel?.().get(this.id) ?? this.own;
  }

  /** Registration hands the state to the kernel's `byId` (a copy: its own stays as it was before). */
  bind(byId: () => Map<number, OpsState>): OpsState {
    const known = byId().get(this.id);
    if (known) return known;
    const o = this.own;
    const s: OpsState = { ...o, filterSet: new Set(o.filterSet), notraceSet: new Set(o.notraceSet), hashes: [...o.hashes] };
    byId().set(this.id, s);
    this.kernel = byId;
    return s;
  }

  get name(): string { return this.data.name; }
  get filter(): string { return this.data.filter; }
  set filter(v: string) { this.data.filter = v; }
  get notrace(): string { return this.data.notrace; }
  set notrace(v: string) { this.data.notrace = v; }
  get saveRegs(): boolean { return this.data.saveRegs; }
  get recursion(): boolean { return this.data.recursion; }
  get dynamic(): boolean { return this.data.dynamic; }
  get private(): bigint { return this.data.private; }
  get addr(): bigint { return this.data.addr; }
  get filterSet(): Set<number> { return this.data.filterSet; }
  get notraceSet(): Set<number> { return this.data.notraceSet; }
  get trampoline(): Trampoline | undefined { return this.data.trampoline; }
  get enabled(): boolean { return this.data.enabled; }
  get hashes(): { va: bigint; size: number }[] { return this.data.hashes; }

  /** The ops traces record i: in the filter (or no filter) and not in notrace. */
  traces(i: number): boolean {
    return opsTraces(this.data, i);
  }

  get guestFlags(): bigint {
    return opsGuestFlags(this.data);
  }
}
