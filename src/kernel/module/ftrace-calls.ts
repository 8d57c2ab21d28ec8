// ftrace's interface to modules (firmware/ftrace_api.c), host side. A module's struct
// ftrace_ops lives in the module's memory; the first call that names it gives it a handle here,
// which holds its filters until it is registered (as ops->func_hash does). Each call runs as a
// host job, because registering, unregistering and changing filters patch text under running
// vCPUs; unregistering also waits, as ftrace_shutdown does, for the release of the trampoline.
import { ftraceOpsFields, FTRACE_OPS_SIZE, ModOpsCall } from "../../gen/layout.js";
import { Errno, FtraceOpsFlag } from "../../gen/constants.js";
import { readGuest, type AccessRights } from "../../machine/paging.js";
import type { Machine } from "../../machine/machine.js";
import type { SymbolTable } from "../../machine/symbols.js";
import { FtraceOps } from "../ftrace/ops.js";
import { FtraceError, type Ftrace } from "../ftrace/ftrace.js";
import { GlobError } from "../ftrace/glob.js";
import type { JobWait } from "../jobs.js";

/** The longest filter string a module may pass (set_ftrace_filter's write is bounded the same way). */
export const FILTER_MAX = 4096;

/** Flags a module may set that ftrace keeps in its struct as they are. */
const KEPT_FLAGS = FtraceOpsFlag.IPMODIFY | FtraceOpsFlag.RCU | FtraceOpsFlag.PERMANENT | FtraceOpsFlag.DIRECT;

export interface ModuleFtraceDeps {
  machine: Machine;
  cr3: number;
  ftrace: Ftrace;
  symbols: () => SymbolTable;
}

const fail = (e: number) => BigInt(-e);
/** The caller is kernel code (a module): its pointers are read as the kernel reads them. */
const KERNEL: AccessRights = { user: false, wp: true };

export class ModuleFtrace {
  /** Handles of module ops by the address of their struct. */
  private readonly handles = new Map<bigint, FtraceOps>();

  constructor(private readonly d: ModuleFtraceDeps) {}

  /**
   * The handle of the ops at `addr`. Until the ops is registered it only holds filters; the
   * register calls make it anew from the struct as it is then (func, flags, private), as
   * ftrace reads them at registration. A direct ops has no func of its own: ftrace gives it
   * call_direct_funcs.
   */
  private handle(addr: bigint, register?: "plain" | "direct"): FtraceOps | bigint {
    const known = this.handles.get(addr);
    if (known && (known.enabled || !register)) return known;
    const raw = readGuest(this.d.machine, this.d.cr3, addr, FTRACE_OPS_SIZE, KERNEL);
    if (!(raw instanceof Uint8Array)) return fail(Errno.EFAULT);
    const v = new DataView(raw.buffer, raw.byteOffset);
    const func = v.getBigUint64(ftraceOpsFields.func.offset, true);
    const flags = Number(v.getBigUint64(ftraceOpsFields.flags.offset, true) & 0xffffffffn);
    if (register === "plain" && func === 0n) return fail(Errno.EINVAL);
    const direct = register === "direct";
    const s = this.d.symbols().find(addr);
    const name = s ? (s.module ? `${s.module}:${s.name}` : s.name) : `ops@0x${addr.toString(16)}`;
    // register_ftrace_direct's flags: SAVE_REGS (shared sites need ftrace_regs_caller), DIRECT.
    const ops = new FtraceOps({
      name, callback: direct ? { kind: "guest", symbol: "call_direct_funcs" } : { kind: "address", addr: func }, at: addr,
      dynamic: true, extraFlags: (flags & KEPT_FLAGS) | (direct ? FtraceOpsFlag.DIRECT : 0),
      saveRegs: direct || (flags & (FtraceOpsFlag.SAVE_REGS | FtraceOpsFlag.SAVE_REGS_IF_SUPPORTED)) !== 0,
      recursion: direct || (flags & FtraceOpsFlag.RECURSION) !== 0, private: v.getBigUint64(ftraceOpsFields.private.offset, true),
      filter: known?.filter, notrace: known?.notrace,
    });
    this.handles.set(addr, ops);
    return ops;
  }

  /** One call; its result, or what the calling task waits for next. */
  call(call: number, addr: bigint, a: bigint, b: bigint): bigint | JobWait {
    const register = call === ModOpsCall.REGISTER ? "plain" : call === ModOpsCall.REGISTER_DIRECT ? "direct" : undefined;
    const ops = this.handle(addr, register);
    if (typeof ops === "bigint") return ops;
    try {
      return this.dispatch(ops, call, a, b);
    } catch (e) {
      if (e instanceof FtraceError) return fail(Errno[e.errno]);
      if (e instanceof GlobError) return fail(Errno.EINVAL);
      throw e;
    }
  }

  private dispatch(ops: FtraceOps, call: number, a: bigint, b: bigint): bigint | JobWait {
    const f = this.d.ftrace;
    switch (call) {
      case ModOpsCall.REGISTER:
        f.register(ops);
        return 0n;
      case ModOpsCall.UNREGISTER: {
        const release = f.unregister(ops);
        return release ? { kind: "release", opsAddr: ops.addr } : 0n;
      }
      case ModOpsCall.SET_FILTER:
      case ModOpsCall.SET_NOTRACE: {
        const len = Number(b & 0xffffffffn), reset = (b >> 32n) !== 0n;
        if (len > FILTER_MAX) return fail(Errno.EINVAL);
        const text = readText(this.d, a, len);
        if (text === undefined) return fail(Errno.EFAULT);
        return this.changeFilter(ops, call === ModOpsCall.SET_FILTER, text, reset);
      }
      case ModOpsCall.SET_FILTER_IP: {
        if (!f.record(a)) return fail(Errno.ENOENT);
        const term = `${(b & 1n) !== 0n ? "!" : ""}0x${a.toString(16)}`;
        return this.changeFilter(ops, true, term, (b & 2n) !== 0n);
      }
      case ModOpsCall.REGISTER_DIRECT: {
        // register_ftrace_direct: a filter must say where; the ops must not be live or a plain one.
        if (ops.enabled || ops.filter.trim() === "" || a === 0n) return fail(Errno.EINVAL);
        const mine = f.select(ops.filter).selected;
        const busy = f.ops.some((o) => o.direct && [...o.filterSet].some((i) => mine.has(i)));
        ops.data.direct = a;
        if (busy) { ops.data.direct = undefined; return fail(Errno.EBUSY); }
        f.register(ops);
        return 0n;
      }
      case ModOpsCall.UNREGISTER_DIRECT: {
        if (!ops.enabled || ops.data.direct === undefined) return fail(Errno.EINVAL);
        if (ops.data.direct !== a) return fail(Errno.EINVAL);
        const release = f.unregister(ops);
        ops.data.direct = undefined;
        if (b !== 0n) { ops.filter = ""; ops.notrace = ""; }
        return release ? { kind: "release", opsAddr: ops.addr } : 0n;
      }
      case ModOpsCall.MODIFY_DIRECT:
        if (ops.data.direct === undefined || a === 0n) return fail(Errno.EINVAL);
        f.modifyDirect(ops, a);
        return 0n;
      case ModOpsCall.FREE_FILTER:
        if (ops.enabled) return fail(Errno.EBUSY);
        ops.filter = "";
        ops.notrace = "";
        return 0n;
      default:
        return fail(Errno.ENOSYS);
    }
  }

  /** ftrace_set_filter / ftrace_set_notrace: replace or add to the globs; live sites follow. */
  private changeFilter(ops: FtraceOps, filter: boolean, text: string, reset: boolean): bigint {
    const f = this.d.ftrace;
    const old = filter ? ops.filter : ops.notrace;
    const next = reset ? text.trim() : `${old} ${text}`.trim();
    f.checkFilter(text);
    if (ops.enabled) {
      if (filter) f.setFilter(ops, next);
      else f.setFilter(ops, ops.filter, next);
    } else if (filter) ops.filter = next;
    else ops.notrace = next;
    return 0n;
  }
}

function readText(d: ModuleFtraceDeps, va: bigint, len: number): string | undefined {
  if (len === 0) return "";
  const b = readGuest(d.machine, d.cr3, va, len, KERNEL);
  if (!(b instanceof Uint8Array)) return undefined;
  const nul = b.indexOf(0);
  return Buffer.from(nul < 0 ? b : b.subarray(0, nul)).toString("latin1");
}
