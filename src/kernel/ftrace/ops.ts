// struct ftrace_ops, host side: who wants which functions traced, and with what callback.
import { FtraceOpsFlag } from "../../gen/layout.js";
import type { Trampoline } from "./trampoline.js";

/** What the ops' callback is: a firmware function, or a host function behind a guest stub. */
export type OpsCallback =
  | { kind: "guest"; symbol: string }
  | { kind: "host"; fn: (call: HostCall) => void };

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
}

let nextId = 1;

export class FtraceOps {
  readonly id = nextId++;
  readonly name: string;
  readonly callback: OpsCallback;
  filter: string;
  notrace: string;
  readonly saveRegs: boolean;
  readonly recursion: boolean;
  readonly dynamic: boolean;
  private: bigint;
  /** Guest address of its struct ftrace_ops (0 until registered). */
  addr = 0n;
  /** Record indices its filter and notrace hashes select. */
  filterSet = new Set<number>();
  notraceSet = new Set<number>();
  trampoline?: Trampoline;
  enabled = false;
  /** Guest memory of its hashes, to free when they change. */
  hashes: { va: bigint; size: number }[] = [];

  constructor(o: OpsOptions) {
    this.name = o.name;
    this.callback = o.callback;
    this.filter = o.filter ?? "";
    this.notrace = o.notrace ?? "";
    this.saveRegs = o.saveRegs ?? false;
    this.recursion = o.recursion ?? false;
    this.dynamic = o.dynamic ?? true;
    this.private = o.private ?? 0n;
  }

  /** The ops traces record i: in the filter (or no filter) and not in notrace. */
  traces(i: number): boolean {
    return (this.filter.trim() === "" || this.filterSet.has(i)) && !this.notraceSet.has(i);
  }

  get guestFlags(): bigint {
    let f = 0;
    if (this.enabled) f |= FtraceOpsFlag.ENABLED;
    if (this.dynamic) f |= FtraceOpsFlag.DYNAMIC;
    if (this.saveRegs) f |= FtraceOpsFlag.SAVE_REGS;
    if (this.recursion) f |= FtraceOpsFlag.RECURSION;
    return BigInt(f);
  }
}
