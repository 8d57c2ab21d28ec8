// Dynamic ftrace: records of every fentry site, ops registration, and deciding what each site
// calls (kernel/trace/ftrace.c and arch/x86/kernel/ftrace.c, restated). The bytes go into
// memory through TextPoke; this file decides which bytes, and always checks the old ones first.
import { ftraceOpsFields, FTRACE_OPS_SIZE, EventKind } from "../../gen/layout.js";
import { packStruct } from "../../machine/struct.js";
import type { Machine } from "../../machine/machine.js";
import type { SymbolTable } from "../../machine/symbols.js";
import type { GuestHeap } from "../heap.js";
import { selectRecords, GlobError } from "./glob.js";
import {
  type DynFtrace, FTRACE_FL_ENABLED, FTRACE_FL_REGS, FTRACE_FL_REGS_EN, FTRACE_FL_TRAMP, FTRACE_FL_TRAMP_EN, FTRACE_FL_DIRECT,
  FTRACE_FL_DIRECT_EN, FTRACE_FL_IPMODIFY, FTRACE_FL_MODIFIED,
  FTRACE_REF_MAX, MCOUNT_INSN_SIZE, NOP5, callInsn, hexBytes, sameBytes, refCount,
} from "./records.js";
import type { TextPoke } from "./textpoke.js";
import type { Trampoline, Trampolines } from "./trampoline.js";
import type { Release, ReleasePolicy } from "./release.js";
import { opsGuestFlags, opsTraces, type FtraceOps, type HostCall, type OpsState } from "./ops.js";
import { FtraceOpsFlag } from "../../gen/constants.js";
import type { RcuCallback } from "../rcu/flavour.js";
import { pS, trampAddr } from "./kallsyms.js";

/**
 * ftrace_check_record(rec, enable = 1, update = 0): what the site needs, from its flags alone
 * (`addrNew` says what it should call, asked only for a site that is on and stays on).
 */
export function checkRecord(rec: DynFtrace, addrNew: () => bigint): UpdateAction {
  const wanted = refCount(rec) > 0;
  const on = (rec.flags & FTRACE_FL_ENABLED) !== 0;
  if (!wanted) return on ? "make_nop" : "ignore";
  if (!on) return "make_call";
  return addrNew() !== rec.installed ? "modify_call" : "ignore";
}

/**
 * An ftrace_bug report's headline: what failed and where. print_ip_sym writes the site on a
 * line of its own, so this joins the report's second and third lines.
 */
export function bugHeadline(report: string): string {
  return report.split("\n").slice(1, 3).join("");
}

export class FtraceError extends Error {
  constructor(readonly errno: "EBUSY" | "ENODEV" | "EINVAL", message: string) {
    super(message);
  }
}

/** What ftrace_check_record() decides for a record (FTRACE_UPDATE_*). */
export type UpdateAction = "ignore" | "make_call" | "modify_call" | "make_nop";

const BUG_TYPES: Record<Exclude<UpdateAction, "ignore"> | "init", string> = {
  init: "Initializing ftrace call sites",
  make_nop: "Setting ftrace call site to NOP",
  make_call: "Setting ftrace call site to call ftrace function",
  modify_call: "Updating ftrace call site to call a different ftrace function",
};

export interface FtraceDeps {
  machine: Machine;
  symbols: () => SymbolTable;
  heap: GuestHeap;
  poke: TextPoke;
  trampolines: Trampolines;
  /** Physical address of a kernel virtual address (text, data, execmem). */
  phys: (va: bigint) => number;
  /**
   * The mainline recursion scheme: ops are routed as ftrace_ops_get_func and
   * ftrace_ops_get_list_func route them (the assist function for RECURSION or RCU ops).
   */
  mainlineRecursion?: boolean;
  /** call_rcu(): run `cb` after an RCU grace period. */
  deferFree: (cb: RcuCallback) => void;
  /**
   * The tail of ftrace_shutdown for a dynamic ops: checks `policy` (throwing before anything
   * changed if it is bad) and returns what starts the wait for its grace periods, after which
   * the trampoline and memory are freed.
   */
  release: (policy?: ReleasePolicy) => (o: OpsState, trampoline: Trampoline | undefined, memory: { va: bigint; size: number }[]) => Release;
  /** Appends to the kernel log (ftrace_bug's lines are printk'd). */
  printk: (text: string) => void;
  /** Functions the modelled release builds noinstr (versions.ts), and how messages name the release. */
  noinstr: { names: readonly string[]; release: string };
}

/** ftrace's state, plain data (KernelState.ftrace). */
export interface FtraceState {
  records: DynFtrace[];
  /** Registered ops, oldest first. */
  ops: OpsState[];
  /** Set by ftrace_bug(): ftrace is off for good. */
  disabled: boolean;
  bugs: string[];
  /** Boot conversion: sites skipped because they lie in .noinstr.text. */
  skippedNoinstr: number;
  /** ftrace_recursion_sites: the guest's per-record recursion counters. */
  recursionTable: bigint;
  /** Once a module is loaded: the guest's record table and the room both tables have. */
  recordTable: bigint;
  tableCapacity: number;
  /**
   * Give each ops its own dynamic trampoline (x86-64 since v3.18). When false every site goes
   * through ftrace_caller and the list function, as before: the comparison seed 003 argues.
   */
  useTrampolines: boolean;
  /** Every ops ever registered, by id (timelines name them). */
  byId: Map<number, OpsState>;
  /** Guest addresses of unregistered ops whose memory is not freed yet (callbacks may still run). */
  retired: Map<bigint, OpsState>;
  /** Permanent trampolines handed out (seed 000's proposal): slots are never reused. */
  permanentSlots: number;
}

/** ftrace_permanent_0 .. _15 in firmware/ftrace_permanent.S. */
export const PERMANENT_SLOTS = 16;

export function initialFtraceState(): FtraceState {
  return { records: [], ops: [], disabled: false, bugs: [], skippedNoinstr: 0, recursionTable: 0n, recordTable: 0n, tableCapacity: 0,
    useTrampolines: true,
    byId: new Map(), retired: new Map(), permanentSlots: 0 };
}

/** What the callback of an ops is, as far as publishing it needs. */
type CallbackKind = { callback: OpsState["callback"] };

export class Ftrace {
  /** Host callbacks by ops id: behaviour, kept out of the state. */
  private readonly hostCallbacks = new Map<number, (call: HostCall) => void>();
  private readonly firmwareSyms = new Map<string, bigint>();
  /** While replaceCode runs: the ops tracing each record (indexUsers). */
  private usersByRecord?: Map<number, OpsState[]>;

  constructor(private readonly st: () => FtraceState, private readonly d: FtraceDeps) {}

  private get s(): FtraceState { return this.st(); }
  get records(): DynFtrace[] { return this.s.records; }
  get ops(): OpsState[] { return this.s.ops; }
  get disabled(): boolean { return this.s.disabled; }
  get bugs(): string[] { return this.s.bugs; }
  get skippedNoinstr(): number { return this.s.skippedNoinstr; }
  get useTrampolines(): boolean { return this.s.useTrampolines; }
  set useTrampolines(v: boolean) { this.s.useTrampolines = v; }
  get byId(): Map<number, OpsState> { return this.s.byId; }

  /** The host function behind ops `id`'s callback stub. */
  hostCallback(id: number): ((call: HostCall) => void) | undefined {
    return this.hostCallbacks.get(id);
  }

  /**
   * A firmware symbol's address. They never move, so each is looked up once: the full table is
   * rebuilt whenever a trampoline comes or goes, and registering a thousand ops must not rebuild
   * it a thousand times.
   */
  private sym(name: string): bigint {
    const known = this.firmwareSyms.get(name);
    if (known !== undefined) return known;
    const s = this.d.symbols().get(name);
    if (!s) throw new Error(`the firmware has no ${name}`);
    this.firmwareSyms.set(name, s.addr);
    return s.addr;
  }

  private read(va: bigint, len: number): Uint8Array {
    return this.d.machine.readPhys(this.d.phys(va), len);
  }

  private writeData(va: bigint, bytes: Uint8Array): void {
    this.d.machine.writePhys(this.d.phys(va), bytes);
  }

  private writeU64(va: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.writeData(va, b);
  }

  private readU64(va: bigint): bigint {
    return new DataView(this.read(va, 8).buffer).getBigUint64(0, true);
  }

  private writePtr(symbol: string, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.writeData(this.sym(symbol), b);
  }

  // ---------------------------------------------------------------- boot: ftrace_init

  /**
   * ftrace_init(): one record per __mcount_loc entry, sorted; every `call __fentry__` becomes
   * the 5-byte NOP after its bytes are checked. The vCPUs have not started, so the sites are
   * written directly (text_poke_early). Sites in .noinstr.text are never recorded, nor
   * `noinstrSites`: functions the firmware compiles traced but the modelled release builds
   * noinstr. Those become the NOP too, standing for the call the kernel's build never emits.
   */
  init(mcountLoc: bigint[], noinstrSites: bigint[] = []): void {
    const stext = this.sym("_stext"), etext = this.sym("_etext");
    const noinstr = [this.sym("__noinstr_text_start"), this.sym("__noinstr_text_end")];
    const fentry = this.sym("__fentry__");
    const ips = [...new Set(mcountLoc.filter((ip) => ip !== 0n))].sort((a, b) => (a < b ? -1 : 1));
    for (const ip of ips) {
      if (ip >= noinstr[0] && ip < noinstr[1]) { this.s.skippedNoinstr++; continue; }
      if (ip < stext || ip >= etext) continue;
      const name = this.d.symbols().find(ip)?.name ?? `__ftrace_invalid_address___${ip - stext}`;
      this.records.push({ ip, name, index: this.records.length, flags: 0, installed: 0n });
    }
    for (const rec of this.records) {
      const old = callInsn(rec.ip, fentry);
      if (!this.verify(rec, old, "init")) return;
      this.writeData(rec.ip, NOP5);
    }
    for (const ip of noinstrSites) {
      if (!sameBytes(this.read(ip, 5), callInsn(ip, fentry))) continue; // not a call site: leave it
      this.writeData(ip, NOP5);
      this.s.skippedNoinstr++;
    }
    // The guest's copy of the records (sorted), for tracers that index by record.
    const table = this.d.heap.alloc(this.records.length * 8);
    const bytes = new Uint8Array(this.records.length * 8);
    this.records.forEach((r, i) => new DataView(bytes.buffer).setBigUint64(i * 8, r.ip, true));
    this.d.heap.write(table, bytes);
    this.writePtr("ftrace_records", table);
    this.writePtr("ftrace_nr_records", BigInt(this.records.length));
    // One counter per record for the recursion guard (firmware/recursion.c), zeroed.
    this.s.recursionTable = this.d.heap.alloc(this.records.length * 8);
    this.d.heap.write(this.s.recursionTable, new Uint8Array(this.records.length * 8));
    this.writePtr("ftrace_recursion_sites", this.s.recursionTable);
  }

  // ---------------------------------------------------------------- modules

  /** Sites the guest's tables have room for once a module is loaded (they grow then, once). */
  private static readonly MODULE_SITES = 16384;

  /**
   * ftrace_module_init: a record per `call __fentry__` of the module's text (`ips`, from its
   * __mcount_loc), each checked and made a NOP before the module's code can run (as at boot, a
   * direct write: no vCPU can be there yet). False after an ftrace bug.
   */
  moduleInit(mod: string, ips: bigint[], text: { start: bigint; end: bigint }, names: (ip: bigint) => string): boolean {
    if (this.disabled) return true; // ftrace is off: the sites stay calls to __fentry__ (a bare ret)
    const fentry = this.sym("__fentry__");
    const sites = [...new Set(ips)].filter((ip) => ip >= text.start && ip < text.end).sort((a, b) => (a < b ? -1 : 1));
    const last = this.records[this.records.length - 1];
    if (sites.length > 0 && last && sites[0] <= last.ip) throw new Error(`module ${mod}: text below an earlier site`);
    const added: DynFtrace[] = sites.map((ip) => ({ ip, name: names(ip), index: 0, flags: 0, installed: 0n, mod }));
    for (const rec of added) {
      rec.index = this.records.length;
      this.records.push(rec);
      if (!this.verify(rec, callInsn(rec.ip, fentry), "init")) return false;
      this.writeData(rec.ip, NOP5);
    }
    this.growTables();
    return true;
  }

  /**
   * The guest's copies: the sorted record table and the recursion counters. The first module
   * moves them to tables with room (copying the counters while no vCPU runs); new entries are
   * written before the count that makes them visible.
   */
  private growTables(): void {
    const n = this.records.length;
    const s = this.s;
    if (!s.tableCapacity) {
      const cap = n + Ftrace.MODULE_SITES;
      const counts = this.read(s.recursionTable, (n - this.records.filter((r) => r.mod).length) * 8);
      const table = this.d.heap.alloc(cap * 8), recursion = this.d.heap.alloc(cap * 8);
      this.d.heap.write(recursion, counts);
      s.recordTable = table;
      s.recursionTable = recursion;
      s.tableCapacity = cap;
      this.writePtr("ftrace_recursion_sites", recursion);
    }
    if (n > s.tableCapacity) throw new Error(`more than ${s.tableCapacity} ftrace sites`);
    const bytes = new Uint8Array(n * 8);
    this.records.forEach((r, i) => new DataView(bytes.buffer).setBigUint64(i * 8, r.ip, true));
    this.d.heap.write(s.recordTable, bytes);
    this.writePtr("ftrace_records", s.recordTable);
    this.writePtr("ftrace_nr_records", BigInt(n));
  }

  /**
   * ftrace_module_enable: ops whose filters name the module (`:mod:`) take its functions; ops
   * that trace every function take them anyway; then the sites are patched live.
   */
  moduleEnable(mod: string): void {
    if (this.disabled) return;
    for (const o of this.ops) {
      const ownSites = (globs: string) => [...this.select(globs).selected].filter((i) => this.records[i].mod === mod);
      for (const i of ownSites(o.filter)) o.filterSet.add(i);
      for (const i of ownSites(o.notrace)) o.notraceSet.add(i);
      this.publishOps(o, this.readU64(o.addr + BigInt(ftraceOpsFields.next.offset)));
    }
    this.modifyAllCode();
  }

  /**
   * ftrace_release_mod: the module's records go (its text is about to be freed). A site still
   * patched is not restored; nothing will run it again unless something still calls the module.
   */
  releaseMod(mod: string): void {
    for (const rec of this.records) {
      if (rec.mod !== mod || rec.gone) continue;
      if (rec.installed) this.d.trampolines.find(rec.installed)?.sites.delete(rec.ip);
      rec.gone = true;
      rec.flags = 0;
      rec.installed = 0n;
      for (const o of this.ops) { o.filterSet.delete(rec.index); o.notraceSet.delete(rec.index); }
    }
  }

  /** Callback calls the recursion guard skipped: in all, and per site (function name) that had any. */
  recursions(): { total: bigint; sites: Map<string, bigint> } {
    const sites = new Map<string, bigint>();
    // No table when ftrace_init stopped at an ftrace bug: nothing was ever traced.
    const table = this.s.recursionTable;
    const counts = table ? this.read(table, this.records.length * 8) : new Uint8Array(0);
    const view = new DataView(counts.buffer, counts.byteOffset, counts.byteLength);
    for (let i = 0; i < counts.length / 8; i++) {
      const n = view.getBigUint64(i * 8, true);
      if (n) sites.set(this.records[i].name, n);
    }
    const total = new DataView(this.read(this.sym("ftrace_recursions"), 8).buffer).getBigUint64(0, true);
    return { total, sites };
  }

  /** Callback calls of FTRACE_OPS_FL_RCU ops not made because RCU was not watching the vCPU (ftrace_rcu_skips). */
  rcuSkips(): bigint {
    return this.readU64(this.sym("ftrace_rcu_skips"));
  }

  /** The record of a function (by name) or site. */
  record(nameOrIp: string | bigint): DynFtrace | undefined {
    return typeof nameOrIp === "string" ? this.records.find((r) => r.name === nameOrIp) : this.records.find((r) => r.ip === nameOrIp);
  }

  // ---------------------------------------------------------------- verification and bugs

  /** ftrace_verify_code: the site holds `expected`, or ftrace_bug() and false. */
  private verify(rec: DynFtrace, expected: Uint8Array, type: keyof typeof BUG_TYPES): boolean {
    const actual = this.read(rec.ip, MCOUNT_INSN_SIZE);
    if (sameBytes(actual, expected)) return true;
    this.bug(rec, type, expected, actual);
    return false;
  }

  /** ftrace_bug(): report, then ftrace_kill(). */
  private bug(rec: DynFtrace, type: keyof typeof BUG_TYPES, expected: Uint8Array, actual: Uint8Array): void {
    const colon = (b: Uint8Array) => hexBytes(b).replace(/ /g, ":");
    // print_ip_sym() is a printk of its own ("%s[<%px>] %pS\n"), so the address starts a line;
    // the count line is a pr_cont after a line that ended, so it stands alone too.
    const t = rec.flags & FTRACE_FL_TRAMP_EN ? this.d.trampolines.find(rec.installed) : undefined;
    const ops = t && this.ops.find((o) => o.id === t.ops.id);
    const tramp = !(rec.flags & FTRACE_FL_TRAMP_EN) ? ""
      : t && ops ? `\ttramp: ${trampAddr(t)} (${pS(this.d.symbols(), this.callbackAddr(ops))})` : "\ttramp: ERROR!";
    const lines = [
      "------------[ ftrace bug ]------------",
      "ftrace failed to modify ",
      `[<${rec.ip.toString(16).padStart(16, "0")}>] ${pS(this.d.symbols(), rec.ip)}`,
      ` actual:   ${colon(actual)}`,
      ` expected: ${colon(expected)}`,
      BUG_TYPES[type],
      `ftrace record flags: ${(rec.flags >>> 0).toString(16)}`,
      ` (${refCount(rec)})${rec.flags & FTRACE_FL_REGS ? " R" : "  "}  ${tramp}`,
      ` expected tramp: ${this.addrCurr(rec).toString(16)}`,
    ];
    this.bugs.push(lines.join("\n"));
    this.d.printk(lines.join("\n") + "\n");
    this.d.machine.events.record(EventKind.POKE, "host", this.d.machine.time, rec.ip, 0n, 1n);
    this.s.disabled = true; // ftrace_kill()
  }

  // ---------------------------------------------------------------- where each site points

  /** The ops that trace record i. */
  private users(i: number): OpsState[] {
    if (this.records[i].gone) return [];
    if (this.usersByRecord) return this.usersByRecord.get(i) ?? [];
    return this.ops.filter((o) => o.enabled && opsTraces(o, i));
  }

  /**
   * users() of every record at once, in the same order (ops order), for one pass of
   * replaceCode: asking each record of every ops costs records x ops per registration, which
   * a thousand ops on a thousand functions (seed 003) cannot afford.
   */
  private indexUsers(): Map<number, OpsState[]> {
    const m = new Map<number, OpsState[]>();
    for (const o of this.ops) {
      if (!o.enabled) continue;
      for (const i of o.filter.trim() === "" ? this.records.keys() : o.filterSet.values()) {
        if (o.notraceSet.has(i)) continue;
        const list = m.get(i);
        if (list) list.push(o);
        else m.set(i, [o]);
      }
    }
    return m;
  }

  /**
   * Hash accounting (__ftrace_hash_rec_update): count = ops tracing the record; REGS if one of
   * them wants registers; TRAMP iff exactly one ops traces it and that ops has a trampoline;
   * DIRECT iff exactly one ops traces it and that ops makes direct calls.
   */
  private account(rec: DynFtrace): void {
    const users = this.users(rec.index);
    let f = rec.flags & ~(FTRACE_REF_MAX | FTRACE_FL_REGS | FTRACE_FL_TRAMP | FTRACE_FL_DIRECT);
    f |= Math.min(users.length, FTRACE_REF_MAX);
    if (users.some((o) => o.saveRegs)) f |= FTRACE_FL_REGS;
    if (users.some((o) => o.extraFlags & FtraceOpsFlag.IPMODIFY)) f |= FTRACE_FL_IPMODIFY;
    else f &= ~FTRACE_FL_IPMODIFY;
    if (users.length === 1 && users[0].direct) f |= FTRACE_FL_DIRECT;
    else if (users.length === 1 && users[0].trampoline) f |= FTRACE_FL_TRAMP;
    rec.flags = f;
  }

  /** ftrace_get_addr_new: what the record should call given its wanted flags. */
  private addrNew(rec: DynFtrace): bigint {
    if (rec.flags & FTRACE_FL_DIRECT) return this.users(rec.index)[0].direct!;
    if (rec.flags & FTRACE_FL_TRAMP) {
      const o = this.users(rec.index)[0];
      return o.permanentSlot !== undefined ? this.sym(`ftrace_permanent_${o.permanentSlot}`) : o.trampoline!.addr;
    }
    if (rec.flags & FTRACE_FL_REGS) return this.sym("ftrace_regs_caller");
    return this.sym("ftrace_caller");
  }

  /**
   * ftrace_get_addr_curr: what it calls now (from what was installed). A site that is a NOP has
   * no _EN flag, and the kernel's answer for it is then FTRACE_ADDR, never 0.
   */
  private addrCurr(rec: DynFtrace): bigint {
    return rec.installed || this.sym("ftrace_caller");
  }

  /**
   * x86's static_tramp_func: for a site not on a trampoline of its own, what the static
   * caller's call calls now (ftrace_regs_call when the site saves registers, else ftrace_call);
   * undefined if that is not a CALL.
   */
  staticTrampFunc(rec: DynFtrace): bigint | undefined {
    const site = this.sym(rec.flags & FTRACE_FL_REGS_EN ? "ftrace_regs_call" : "ftrace_call");
    const b = this.read(site, MCOUNT_INSN_SIZE);
    if (b[0] !== 0xe8) return undefined;
    return site + BigInt(MCOUNT_INSN_SIZE) + BigInt(new DataView(b.buffer, b.byteOffset).getInt32(1, true));
  }

  /** ftrace_find_rec_direct: the direct-call target of a site one direct ops traces. */
  directOf(rec: DynFtrace): bigint | undefined {
    return rec.flags & FTRACE_FL_DIRECT ? this.users(rec.index)[0]?.direct : undefined;
  }

  /** ftrace_update_record: commit the _EN flags to what was just installed. */
  private updateRecord(rec: DynFtrace, target: bigint): void {
    const t = this.d.trampolines;
    if (rec.installed) t.find(rec.installed)?.sites.delete(rec.ip);
    rec.installed = target;
    if (target) t.find(target)?.sites.add(rec.ip);
    let f = rec.flags & ~(FTRACE_FL_ENABLED | FTRACE_FL_REGS_EN | FTRACE_FL_TRAMP_EN | FTRACE_FL_DIRECT_EN);
    if (target) {
      f |= FTRACE_FL_ENABLED;
      if (f & FTRACE_FL_REGS) f |= FTRACE_FL_REGS_EN;
      if (f & FTRACE_FL_TRAMP) f |= FTRACE_FL_TRAMP_EN;
      if (f & FTRACE_FL_DIRECT) f |= FTRACE_FL_DIRECT_EN;
      if (f & (FTRACE_FL_DIRECT | FTRACE_FL_IPMODIFY)) f |= FTRACE_FL_MODIFIED;
    }
    rec.flags = f;
  }

  /**
   * ftrace_replace_code: pass 1 checks every site it will touch holds what ftrace thinks it
   * holds (nothing is written if one does not: ftrace_bug); pass 2 queues the new bytes.
   */
  private replaceCode(): void {
    this.usersByRecord = this.indexUsers();
    try {
      this.replaceCodeIndexed();
    } finally {
      this.usersByRecord = undefined;
    }
  }

  private replaceCodeIndexed(): void {
    const plan: { rec: DynFtrace; action: UpdateAction; old: Uint8Array; next: Uint8Array; target: bigint }[] = [];
    for (const rec of this.records) {
      if (rec.gone) continue;
      this.account(rec);
      const action = checkRecord(rec, () => this.addrNew(rec));
      if (action === "ignore") continue;
      const old = action === "make_call" ? NOP5 : callInsn(rec.ip, this.addrCurr(rec));
      if (!this.verify(rec, old, action)) return;
      const target = action === "make_nop" ? 0n : this.addrNew(rec);
      plan.push({ rec, action, old, next: target ? callInsn(rec.ip, target) : NOP5, target });
    }
    for (const p of plan) {
      this.d.poke.add({ addr: p.rec.ip, old: p.old, new: p.next });
      this.updateRecord(p.rec, p.target);
    }
    this.d.poke.finish();
  }

  // ---------------------------------------------------------------- the static trampolines' call

  /** update_ftrace_function: what ftrace_call calls, and the op it passes. */
  private traceFunction(): { func: bigint; op: bigint } {
    const live = this.ops.filter((o) => o.enabled);
    const listFunc = this.sym("ftrace_ops_list_func");
    if (live.length === 0) return { func: this.sym("ftrace_stub"), op: this.sym("ftrace_list_end") };
    if (live.length === 1) {
      const o = live[0];
      // ftrace_ops_get_list_func: a dynamic or RCU ops is only ever called through the list
      // function. tramplab's own schemes route a recursion-protected ops there too (their guard
      // is in the trampoline); mainline gives it the assist function (entryAddr).
      const viaList = this.d.mainlineRecursion ? o.dynamic || (o.extraFlags & FtraceOpsFlag.RCU) !== 0 : o.dynamic || o.recursion;
      return { func: viaList ? listFunc : this.entryAddr(o), op: o.addr };
    }
    return { func: listFunc, op: this.sym("ftrace_list_end") };
  }

  private setCallSite(site: string, func: bigint): void {
    const ip = this.sym(site);
    const old = this.read(ip, MCOUNT_INSN_SIZE);
    const next = callInsn(ip, func);
    if (!sameBytes(old, next)) this.d.poke.single({ addr: ip, old, new: next });
  }

  /**
   * ftrace_modify_all_code: point ftrace_call at the list function first (safe for any mix of
   * ops), re-patch the sites, then publish the final op and, after the ftrace_sync_ipi round,
   * switch ftrace_call to the final function.
   */
  private modifyAllCode(): void {
    const listFunc = this.sym("ftrace_ops_list_func");
    const final = this.traceFunction();
    this.setCallSite("ftrace_call", listFunc);
    this.setCallSite("ftrace_regs_call", listFunc);
    this.replaceCode();
    if (this.disabled) return;
    this.writePtr("function_trace_op", final.op);
    if (final.func !== listFunc) {
      // The kernel's ftrace_sync_ipi round: every vCPU takes an IPI (a full barrier) before
      // ftrace_call stops calling the list function, so none runs the final function with the
      // op it loaded before function_trace_op changed.
      this.d.poke.ftraceSyncIpi();
      this.setCallSite("ftrace_call", final.func);
      this.setCallSite("ftrace_regs_call", final.func);
    }
  }

  // ---------------------------------------------------------------- registering ops

  /**
   * ftrace_ops_get_func: what trampolines and the list function call for the ops, its callback or
   * the assist function. The assist function is for an RCU ops, and under the mainline scheme for
   * a RECURSION one too (since 5.11 the flag means "ftrace must guard this callback"; it was
   * RECURSION_SAFE, "the callback guards itself", before).
   */
  private entryAddr(o: OpsState): bigint {
    const assist = (o.extraFlags & FtraceOpsFlag.RCU) !== 0 || (this.d.mainlineRecursion === true && o.recursion);
    return assist ? this.sym("ftrace_ops_assist_func") : this.callbackAddr(o);
  }

  callbackAddr(o: CallbackKind): bigint {
    const c = o.callback;
    if (c.kind === "address") return c.addr;
    return this.sym(c.kind === "guest" ? c.symbol : "ftrace_host_callback");
  }

  /** The records a filter selects (ftrace_match_records); `namesModule` if it has `:mod:` terms. */
  select(globs: string): { selected: Set<number>; namesModule: boolean } {
    const { selected, namesModule } = selectRecords(globs, this.records);
    for (const i of selected) if (this.records[i].gone) selected.delete(i);
    return { selected, namesModule };
  }

  /** For a filter that selects nothing: " (NAME: noinstr in kernel V, no patch site)" if it names such a function. */
  noinstrNote(globs: string): string {
    const { names, release } = this.d.noinstr;
    const quiet = globs.trim().split(/\s+/).filter((g) => names.includes(g));
    return quiet.length ? ` (${quiet.join(", ")}: noinstr in ${release}, no patch site)` : "";
  }

  /** Throws FtraceError(EINVAL) if `globs` selects nothing and names no module to wait for. */
  checkFilter(globs: string): void {
    const { selected, namesModule } = this.select(globs);
    if (globs.trim() !== "" && selected.size === 0 && !namesModule) {
      throw new FtraceError("EINVAL", `filter "${globs}" matches no traceable function${this.noinstrNote(globs)}`);
    }
  }

  /** Parses the ops' filter and notrace globs into record sets (ftrace_set_filter). */
  private computeHashes(o: OpsState): void {
    this.checkFilter(o.filter);
    o.filterSet = this.select(o.filter).selected;
    o.notraceSet = this.select(o.notrace).selected;
  }

  /** Writes the ops' struct and hashes into guest memory. */
  private publishOps(o: OpsState, next: bigint): void {
    // The old hashes may still be read by a vCPU in the list function (preemption disabled):
    // free them after an RCU grace period, as free_ftrace_hash_rcu() does.
    const old = o.hashes;
    if (old.length > 0) {
      this.d.deferFree({ kind: "free", blocks: old, why: `the filter of ${o.name} changed; freed after an RCU grace period` });
    }
    o.hashes = [];
    const hash = (set: Set<number>) => {
      if (set.size === 0) return 0n;
      const ips = [...set].sort((a, b) => a - b).map((i) => (i < 0 ? 0n : this.records[i].ip));
      const va = this.d.heap.allocGuarded(ips.length * 8, `hash of ftrace_ops ${o.name}`);
      const b = new Uint8Array(ips.length * 8);
      ips.forEach((ip, i) => new DataView(b.buffer).setBigUint64(i * 8, ip, true));
      this.d.heap.write(va, b);
      o.hashes.push({ va, size: b.length });
      return va;
    };
    // A filter that selects nothing yet (a `:mod:` filter before its module is loaded) still
    // filters: one impossible address keeps the guest from reading it as "every function".
    const filtered = o.filter.trim() !== "";
    const filterIps = filtered && o.filterSet.size === 0 ? new Set([-1]) : o.filterSet;
    const packed = packStruct(ftraceOpsFields, FTRACE_OPS_SIZE, {
      func: this.entryAddr(o), next, flags: opsGuestFlags(o),
      filterHash: filtered ? hash(filterIps) : 0n, filterCount: filtered ? filterIps.size : 0,
      notraceHash: hash(o.notraceSet), notraceCount: o.notraceSet.size,
      trampoline: o.trampoline?.addr ?? 0n, trampolineSize: o.trampoline?.size ?? 0, id: o.id, private: o.private,
      directCall: o.direct ?? 0n, savedFunc: this.callbackAddr(o),
    });
    // The caller's own struct keeps its calls counter (and what ftrace does not own).
    this.writeData(o.addr, o.external ? packed.subarray(0, ftraceOpsFields.calls.offset) : packed);
    if (o.external) {
      const at = ftraceOpsFields.directCall.offset;
      this.writeData(o.addr + BigInt(at), packed.subarray(at, at + 16)); // directCall, savedFunc
    }
  }

  /** The guest's ftrace_ops_list, newest first, ending at ftrace_list_end. */
  private publishList(): void {
    let next = this.sym("ftrace_list_end");
    const live = this.ops.filter((o) => o.enabled);
    for (let i = 0; i < live.length; i++) {
      const o = live[i];
      this.writeU64(o.addr + BigInt(ftraceOpsFields.next.offset), next);
      next = o.addr;
    }
    this.writePtr("ftrace_ops_list", next);
  }

  /**
   * register_ftrace_function → ftrace_startup: add the ops to the list, give it a trampoline,
   * account its hash, and patch every site whose target changed.
   */
  register(ops: FtraceOps): void {
    if (this.disabled) throw new FtraceError("ENODEV", "ftrace is disabled after an ftrace bug");
    if (ops.enabled) throw new FtraceError("EBUSY", `ops ${ops.name} is already registered`);
    if (ops.data.permanent) this.checkPermanent(ops.data);
    this.computeHashes(ops.data);
    const o = ops.bind(() => this.s.byId);
    if (ops.callback.kind === "host") this.hostCallbacks.set(ops.id, ops.callback.fn);
    if (!o.external) o.addr = this.d.heap.allocGuarded(FTRACE_OPS_SIZE, `ftrace_ops ${o.name}`);
    // arch_ftrace_update_trampoline: every ops gets its own copy of the right template.
    // A direct ops needs none: alone on a site it is called directly, shared it goes through
    // ftrace_regs_caller.
    if (o.permanent) this.givePermanent(o);
    else if (!o.trampoline && this.useTrampolines && !o.direct) {
      o.trampoline = this.d.trampolines.create(o, o.addr, this.entryAddr(o), this.d.machine.time);
    }
    o.enabled = true;
    this.ops.push(o);
    this.d.machine.events.record(EventKind.OPS, "host", this.d.machine.time, BigInt(o.id), 1n, o.trampoline?.addr ?? 0n);
    this.publishOps(o, 0n);
    this.publishList();
    this.modifyAllCode();
  }

  /**
   * unregister_ftrace_function → ftrace_shutdown: unlink, re-account, patch the sites it used
   * back to a NOP (or to what the remaining ops need). A dynamic ops then waits for the grace
   * periods of `policy` (the kernel's, by default) before its trampoline and memory are
   * freed: the returned Release tracks that. A static ops keeps both for the next time.
   */
  unregister(ops: FtraceOps, policy?: ReleasePolicy): Release | undefined {
    if (!ops.enabled) throw new FtraceError("EINVAL", `ops ${ops.name} is not registered`);
    const o = ops.data;
    const startRelease = this.d.release(policy);
    o.enabled = false;
    this.ops.splice(this.ops.indexOf(o), 1);
    // A vCPU may still call it while the sites are patched away (modifyAllCode lets the machine
    // run for its IPIs): its callback must still be found.
    this.s.retired.set(o.addr, o);
    this.d.machine.events.record(EventKind.OPS, "host", this.d.machine.time, BigInt(o.id), 0n, o.trampoline?.addr ?? 0n);
    this.publishList();
    if (!this.disabled) this.modifyAllCode();
    // No site calls the permanent trampoline now; empty its slot, so a task that stopped
    // before the slot load finds nothing to call.
    if (o.permanentSlot !== undefined) this.writeU64(this.sym("ftrace_permanent_slots") + BigInt(8 * o.permanentSlot), 0n);
    if (!o.dynamic) {
      if (this.s.retired.get(o.addr) === o) this.s.retired.delete(o.addr);
      return undefined;
    }
    const t = o.trampoline;
    if (t) this.d.trampolines.retire(t);
    // A module's ops is the module's memory; ftrace frees only what it allocated.
    const memory = [...(o.external ? [] : [{ va: o.addr, size: FTRACE_OPS_SIZE }]), ...o.hashes];
    this.s.retired.set(o.addr, o);
    o.trampoline = undefined;
    o.hashes = [];
    // Once the release frees the memory, forgetRetired() drops it from `retired`.
    return startRelease(o, t, memory);
  }

  /**
   * Seed 000's permanent trampolines: the next never-freed trampoline, and the per-ops code
   * it calls (the only part that is allocated, and freed on release).
   */
  private checkPermanent(o: OpsState): void {
    if (!o.dynamic || o.direct || o.saveRegs) {
      throw new FtraceError("EINVAL", `ops ${o.name}: a permanent trampoline is for a dynamic ops without save-regs or direct calls`);
    }
    if (o.permanentSlot === undefined && this.s.permanentSlots >= PERMANENT_SLOTS) {
      throw new FtraceError("EBUSY", `all ${PERMANENT_SLOTS} permanent trampolines are taken (they are never reused)`);
    }
  }

  private givePermanent(o: OpsState): void {
    if (o.permanentSlot === undefined) o.permanentSlot = this.s.permanentSlots++;
    o.trampoline = this.d.trampolines.createOpsCode(o, o.addr, this.entryAddr(o), this.d.machine.time);
    this.writeU64(this.sym("ftrace_permanent_slots") + BigInt(8 * o.permanentSlot), o.trampoline.addr);
  }

  /** A release freed its ops' memory: no callback can run with that ops any more. */
  forgetRetired(r: Release): void {
    const addr = r.ops.addr;
    if (this.s.retired.get(addr) === r.ops) this.s.retired.delete(addr);
  }

  /**
   * modify_ftrace_direct: the sites a live direct ops traces alone move to `addr`, each through
   * the INT3 protocol (a modify_call), so a vCPU runs either the old call or the new one.
   */
  modifyDirect(ops: FtraceOps, addr: bigint): void {
    const o = ops.data;
    o.direct = addr;
    if (!o.enabled) return;
    this.publishOps(o, this.readU64(o.addr + BigInt(ftraceOpsFields.next.offset)));
    if (!this.disabled) this.modifyAllCode();
  }

  /** Changes a registered ops' filter or notrace and updates the sites (ftrace_set_filter). */
  setFilter(ops: FtraceOps, filter: string, notrace = ops.notrace): void {
    const o = ops.data;
    const before = [o.filter, o.notrace];
    [o.filter, o.notrace] = [filter, notrace];
    try {
      this.computeHashes(o);
    } catch (e) {
      [o.filter, o.notrace] = before;
      this.computeHashes(o);
      throw e;
    }
    if (!o.enabled) return;
    this.publishOps(o, this.readU64(o.addr + BigInt(ftraceOpsFields.next.offset)));
    if (!this.disabled) this.modifyAllCode();
  }

  /** op->calls: how many times a registered ops' callback ran (the tracers count themselves). */
  calls(o: FtraceOps | OpsState): bigint {
    if (!o.enabled) throw new FtraceError("EINVAL", `ops ${o.name} is not registered`);
    return this.readU64(o.addr + BigInt(ftraceOpsFields.calls.offset));
  }

  opsByGuestAddr(addr: bigint): OpsState | undefined {
    return this.ops.find((o) => o.addr === addr) ?? this.s.retired.get(addr);
  }
}

export { GlobError };
