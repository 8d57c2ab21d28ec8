// Loading and unloading modules: load_module and delete_module, in their order.
//
// insmod (load_module):
//   1. read and check the object; refuse a second module of the same name (-EEXIST)
//   2. lay out text, rodata, data and bss in the module area
//   3. resolve undefined symbols against the kernel's exports (`Unknown symbol X (err -2)`),
//      apply the relocations
//   4. copy it in, mapped text read-only+exec, rodata read-only, data and bss read-write
//   5. parse the parameters into the module's variables (-EINVAL for a bad value)
//   6. ftrace_module_init: the module's fentry sites become NOPs, each one checked first
//   7. its __bug_table joins the #UD handler's list (WARN_ON in a module is a warning)
//   8. ftrace_module_enable: ops whose filters take the module's functions patch them live
//   9. init_module() runs in a task of its own; a failure unwinds: ftrace_release_mod, free
//
// rmmod (delete_module): cleanup_module() in a task, ftrace_release_mod, then free_module's
// synchronize_rcu() before the memory is unmapped and poisoned. Anything that still calls into
// the module after that (an ops it forgot to unregister) faults, and the report names it.
import { Errno, ErrnoName } from "../../gen/constants.js";
import type { Machine } from "../../machine/machine.js";
import { PAGE, type AddressSpace, type FrameAllocator } from "../../machine/paging.js";
import type { SymbolEntry } from "../../machine/symbols.js";
import { formatTime } from "../../machine/units.js";
import type { Ftrace } from "../ftrace/ftrace.js";
import type { Task } from "../sched.js";
import { MODULES_START, MODULES_END } from "../memory.js";
import { parseModuleObject, moduleInfo, moduleName, ModuleError } from "./object.js";
import { layoutModule, GROUPS, type Group } from "./layout.js";
import { linkModule, type LinkedModule } from "./link.js";
import { moduleLines, type ModuleLines } from "./debuglines.js";
import { paramBytes, parseInsmodLine, ParamError, PARAM_TYPE_NAMES } from "./params.js";
import { POISON } from "../ftrace/trampoline.js";

export type ModuleStateName = "coming" | "live" | "going" | "freed";

export interface LoadedModule {
  name: string;
  file: string;
  state: ModuleStateName;
  bases: Record<Group, bigint>;
  sizes: Record<Group, number>;
  pages: { va: bigint; pa: number }[];
  symbols: SymbolEntry[];
  init: bigint;
  exit: bigint;
  /** The insmod line's parameters, as given. */
  params: string[];
  license: string;
  loadedAt: bigint;
  freedAt?: bigint;
  freedBy?: string;
  bugTable?: { start: bigint; end: bigint };
  /** Its source lines (debuglines.ts), while it is loaded: none when it has no usable .debug_line. */
  lines?: ModuleLines;
}

/** The modules' state, plain data (KernelState.modules). */
export interface ModulesState {
  all: LoadedModule[];
  /** Where the next module goes (addresses are never reused). */
  next: bigint;
  /** The guest's module_bug_tables array (room for BUG_TABLES_MAX entries), once made. */
  bugTables: bigint;
}

export function initialModulesState(): ModulesState {
  return { all: [], next: MODULES_START, bugTables: 0n };
}

const BUG_TABLES_MAX = 256;
/** How long insmod and rmmod wait for init_module / cleanup_module to return (virtual time). */
export const MODULE_CALL_TIMEOUT = 10_000_000_000n;

/** insmod/rmmod failing: the errno, and the lines the kernel log gets. */
export class ModuleLoadError extends Error {
  /** `stuck`: the module cannot be unwound (its init oopsed), so it stays as it was, as in the kernel. */
  constructor(readonly errno: number, message: string, readonly stuck = false) {
    super(message);
  }
}

export interface ModulesDeps {
  machine: Machine;
  space: AddressSpace;
  frames: FrameAllocator;
  ftrace: Ftrace;
  /** The kernel's exported symbols (__ksymtab). */
  exports: () => Map<string, bigint>;
  log: (line: string) => void;
  /** A stopped kernel thread at `entry(arg)`. */
  kthread: (name: string, cpu: number, entry: bigint, arg: bigint) => Task;
  wake: (t: Task) => void;
  sym: (name: string) => bigint;
  /** Runs the machine until done() or `maxTicks` pass; false on timeout or a stop. */
  runUntil: (done: () => boolean, maxTicks: bigint) => boolean;
  /** synchronize_rcu(), run by the host: the machine runs until a plain RCU grace period has ended. */
  synchronizeRcu: () => void;
  readTaskExit: (t: Task) => { exited: boolean; code: bigint };
  /** The task died in an oops. */
  oopsed: (t: Task) => boolean;
  writeKernel: (va: bigint, bytes: Uint8Array) => void;
  /** A copy of `s` (NUL-terminated) in kernel memory: a charp parameter's value. */
  kstrdup: (s: string) => bigint;
  readKernel: (va: bigint, len: number) => Uint8Array;
  /** Symbols changed (module symbols joined or left). */
  changed: () => void;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

export class Modules {
  constructor(private readonly st: () => ModulesState, private readonly d: ModulesDeps) {}

  get all(): LoadedModule[] { return this.st().all; }
  /** Modules loaded now (not freed). */
  get loaded(): LoadedModule[] { return this.all.filter((m) => m.state !== "freed"); }

  find(name: string): LoadedModule | undefined {
    return this.loaded.find((m) => m.name === name);
  }

  /** The module (loaded or freed) whose memory holds `addr`. */
  at(addr: bigint): LoadedModule | undefined {
    return this.all.find((m) => m.pages.some((p) => addr >= p.va && addr < p.va + BigInt(PAGE)));
  }

  /** Symbols of every module, loaded or freed (a freed one's are named so). */
  symbolEntries(): SymbolEntry[] {
    return this.all.flatMap((m) => m.symbols.map((s) => ({ ...s, module: m.state === "freed" ? `${m.name}, freed` : m.name })));
  }

  /** insmod FILE [PARAM=VALUE]...: the module, loaded and initialized, or a ModuleLoadError. */
  insmod(bytes: Uint8Array, file: string, args: { name: string; value?: string }[]): LoadedModule {
    let obj;
    try {
      obj = parseModuleObject(bytes, file);
    } catch (e) {
      if (e instanceof ModuleError) throw new ModuleLoadError(Errno.ENOEXEC, `${file}: ${e.message}`);
      throw e;
    }
    const name = moduleName(obj);
    if (this.find(name)) throw new ModuleLoadError(Errno.EEXIST, `module ${name} is already loaded`);
    const layout = layoutModule(obj);
    const total = GROUPS.reduce((n, g) => n + layout.size[g], 0);
    const s = this.st();
    if (s.next + BigInt(total) > MODULES_END) throw new ModuleLoadError(Errno.ENOMEM, "the module area is full");
    const bases = {} as Record<Group, bigint>;
    let at = s.next;
    for (const g of GROUPS) { bases[g] = at; at += BigInt(layout.size[g]); }
    const exports = this.d.exports();
    const linked = linkModule(obj, layout, bases, (n) => exports.get(n));
    if ("unknown" in linked) {
      for (const u of linked.unknown) this.d.log(`${name}: Unknown symbol ${u} (err -${Errno.ENOENT})`);
      throw new ModuleLoadError(Errno.ENOENT, `${linked.unknown.length} unknown symbol${linked.unknown.length === 1 ? "" : "s"}`);
    }
    const defined = (n: string) => linked.symbols.find((x) => x.name === n && x.global)?.addr ?? 0n;
    const info = moduleInfo(obj);
    const mod: LoadedModule = {
      name, file, state: "coming", bases, sizes: { ...layout.size }, pages: [],
      symbols: moduleSymbols(linked),
      init: defined("init_module"), exit: defined("cleanup_module"),
      params: args.map((a) => (a.value === undefined ? a.name : `${a.name}=${a.value}`)),
      license: info.get("license")?.[0] ?? "", loadedAt: this.d.machine.time,
    };
    const debug = moduleLines(obj, layout, bases);
    // Debug information is the debugger's, never a reason to refuse a module: a damaged table is said once.
    if (debug.error) this.d.log(`${name}: no source lines: ${debug.error}`);
    mod.lines = debug.lines;
    s.next = at + BigInt(PAGE); // an unmapped page between modules
    this.map(mod, linked);
    this.all.push(mod);
    this.d.changed();
    try {
      this.setParams(mod, linked, args);
      const mcount = linked.section("__mcount_loc");
      const ips = mcount ? u64s(mcount.bytes) : [];
      const names = (ip: bigint) => mod.symbols.find((x) => ip >= x.addr && ip < x.addr + (x.size || 1n))?.name ?? hex(ip);
      if (!this.d.ftrace.moduleInit(name, ips, { start: bases.text, end: bases.text + BigInt(layout.size.text) }, names)) {
        throw new ModuleLoadError(Errno.EINVAL, "ftrace failed to convert the module's call sites (see the ftrace bug above)");
      }
      this.addBugTable(mod, linked);
      this.d.ftrace.moduleEnable(name);
      if (mod.init) {
        const r = this.callInTask(mod, mod.init, "insmod");
        if (r < 0n) throw new ModuleLoadError(Number(-r), `init_module returned ${r}`);
        if (r > 0n) this.d.log(`do_init_module: '${name}'->init suspiciously returned ${r}, it should follow 0/-E convention`);
      }
    } catch (e) {
      if (mod.state === "coming" && !(e instanceof ModuleLoadError && e.stuck)) this.free(mod, "insmod failing");
      throw e;
    }
    mod.state = "live";
    return mod;
  }

  /** rmmod NAME. */
  rmmod(name: string): LoadedModule {
    const mod = this.find(name);
    if (!mod) throw new ModuleLoadError(Errno.ENOENT, `Module ${name} is not currently loaded`);
    if (mod.state !== "live") throw new ModuleLoadError(Errno.EBUSY, `Module ${name} is ${mod.state}`);
    // A module with init but no exit cannot be removed (without --force, which is not offered).
    if (mod.init && !mod.exit) throw new ModuleLoadError(Errno.EBUSY, `Module ${name} has no cleanup_module`);
    mod.state = "going";
    if (mod.exit) this.callInTask(mod, mod.exit, "rmmod");
    this.free(mod, "rmmod");
    return mod;
  }

  /**
   * Runs fn() in a new task and waits for it to exit; its return value. The task runs on the last
   * vCPU (where insmod or rmmod would run from a shell), not where a module pins its own threads.
   */
  private callInTask(mod: LoadedModule, fn: bigint, comm: string): bigint {
    const t = this.d.kthread(comm, this.d.machine.ncpus - 1, this.d.sym("module_call"), fn);
    this.d.wake(t);
    const done = () => this.d.readTaskExit(t).exited;
    if (!this.d.runUntil(done, MODULE_CALL_TIMEOUT)) {
      throw new ModuleLoadError(Errno.EBUSY, `${mod.name}: ${comm === "insmod" ? "init_module" : "cleanup_module"} ` +
        `did not return within ${formatTime(MODULE_CALL_TIMEOUT)} (task ${t.pid} ${t.state})`);
    }
    if (this.d.oopsed(t)) {
      // The kernel kills the insmod (or rmmod) process; the module stays where it was, for good.
      throw new ModuleLoadError(Errno.EFAULT, `${comm === "insmod" ? "init_module" : "cleanup_module"} oopsed; ` +
        `module ${mod.name} stays ${mod.state}`, true);
    }
    return BigInt.asIntN(32, this.d.readTaskExit(t).code);
  }

  /** ftrace_release_mod, then free_module: a plain RCU grace period, then unmap and poison. */
  private free(mod: LoadedModule, why: string): void {
    this.d.ftrace.releaseMod(mod.name);
    this.removeBugTable(mod);
    this.d.synchronizeRcu();
    for (const p of mod.pages) {
      this.d.space.unmapPage(p.va);
      this.d.machine.writePhys(p.pa, new Uint8Array(PAGE).fill(POISON));
    }
    for (let c = 0; c < this.d.machine.ncpus; c++) this.d.machine.core.hostFlushTlb(c);
    mod.state = "freed";
    mod.lines = undefined;
    mod.freedAt = this.d.machine.time;
    mod.freedBy = `${why}, after synchronize_rcu()`;
    this.d.changed();
  }

  private map(mod: LoadedModule, linked: LinkedModule): void {
    const perms: Record<Group, { write: boolean; exec: boolean }> = {
      text: { write: false, exec: true }, rodata: { write: false, exec: false }, data: { write: true, exec: false },
      bss: { write: true, exec: false },
    };
    for (const g of GROUPS) {
      const image = g === "bss" ? new Uint8Array(mod.sizes.bss) : linked.images[g];
      for (let off = 0; off < mod.sizes[g]; off += PAGE) {
        const va = mod.bases[g] + BigInt(off), pa = this.d.frames.alloc();
        this.d.machine.writePhys(pa, image.subarray(off, off + PAGE));
        this.d.space.mapPage(va, pa, perms[g]);
        mod.pages.push({ va, pa });
      }
    }
  }

  /** parse_args over the module's __param table: unknown names are ignored with a warning. */
  private setParams(mod: LoadedModule, linked: LinkedModule, args: { name: string; value?: string }[]): void {
    const table = linked.section("__param");
    // A struct kernel_param is the module's own data: its name and variable must lie in the
    // module (a hostile object may point anywhere), read and written only there.
    const inside = (va: bigint, len: number, groups: Group[]) =>
      groups.some((g) => va >= mod.bases[g] && va + BigInt(len) <= mod.bases[g] + BigInt(mod.sizes[g]));
    const read = (va: bigint, len: number) => (inside(va, len, ["rodata", "data"]) ? this.d.readKernel(va, len) : undefined);
    const params = table ? readParams(table.bytes, read) : [];
    for (const a of args) {
      const p = params.find((x) => x.name === a.name);
      if (!p) { this.d.log(`${mod.name}: unknown parameter '${a.name}' ignored`); continue; }
      const v = paramBytes(p.type, a.value);
      if (!v) {
        this.d.log(`${mod.name}: '${a.value ?? ""}' invalid for parameter '${a.name}' (${PARAM_TYPE_NAMES[p.type] ?? "?"})`);
        throw new ModuleLoadError(Errno.EINVAL, `bad value for ${a.name}`);
      }
      const size = v instanceof Uint8Array ? v.length : 8;
      if (!inside(p.arg, size, ["data", "bss"])) {
        throw new ModuleLoadError(Errno.EINVAL, `parameter ${a.name}'s variable at ${hex(p.arg)} is not in the module's data`);
      }
      if (v instanceof Uint8Array) { this.d.writeKernel(p.arg, v); continue; }
      const ptr = new Uint8Array(8);
      new DataView(ptr.buffer).setBigUint64(0, this.d.kstrdup(v.string), true);
      this.d.writeKernel(p.arg, ptr);
    }
  }

  private addBugTable(mod: LoadedModule, linked: LinkedModule): void {
    const t = linked.section("__bug_table");
    if (!t || t.bytes.length === 0) return;
    mod.bugTable = { start: t.addr, end: t.addr + BigInt(t.bytes.length) };
    this.publishBugTables();
  }

  private removeBugTable(mod: LoadedModule): void {
    if (!mod.bugTable) return;
    mod.bugTable = undefined;
    this.publishBugTables();
  }

  /** module_bug_tables: the live modules' ranges; the count is written last. */
  private publishBugTables(): void {
    const s = this.st();
    const live = this.all.filter((m) => m.bugTable);
    if (live.length > BUG_TABLES_MAX) throw new ModuleLoadError(Errno.ENOMEM, `more than ${BUG_TABLES_MAX} modules with WARN_ON`);
    if (!s.bugTables) throw new Error("module_bug_tables has no memory");
    const bytes = new Uint8Array(live.length * 16);
    live.forEach((m, i) => {
      new DataView(bytes.buffer).setBigUint64(i * 16, m.bugTable!.start, true);
      new DataView(bytes.buffer).setBigUint64(i * 16 + 8, m.bugTable!.end, true);
    });
    this.d.writeKernel(this.d.sym("module_bug_tables_nr"), new Uint8Array(8));
    if (bytes.length) this.d.writeKernel(s.bugTables, bytes);
    const nr = new Uint8Array(8);
    new DataView(nr.buffer).setBigUint64(0, BigInt(live.length), true);
    this.d.writeKernel(this.d.sym("module_bug_tables_nr"), nr);
  }
}

export { parseInsmodLine, ParamError, ErrnoName, BUG_TABLES_MAX };

/**
 * The symbols to name module addresses with: functions and objects, and not the init_module /
 * cleanup_module aliases module_init() makes (the module's own name for the function reads better).
 */
function moduleSymbols(linked: LinkedModule): SymbolEntry[] {
  const named = linked.symbols.filter((x) => x.kind !== "other" || x.size > 0n);
  const alias = (x: { name: string; addr: bigint }) =>
    (x.name === "init_module" || x.name === "cleanup_module") && named.some((y) => y !== x && y.addr === x.addr);
  return named.filter((x) => !alias(x)).map((x) => ({ name: x.name, addr: x.addr, size: x.size }));
}

function u64s(b: Uint8Array): bigint[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: Math.floor(b.length / 8) }, (_, i) => v.getBigUint64(i * 8, true));
}

/** struct kernel_param entries: {name pointer, variable pointer, type u32, perm u16}, 24 bytes. */
type Param = { name: string; arg: bigint; type: number };

function readParams(b: Uint8Array, read: (va: bigint, len: number) => Uint8Array | undefined): Param[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: Math.floor(b.length / 24) }, (_, i) => {
    // A name is at most 63 bytes here; one whose bytes are not all in the module is no name.
    const namePtr = v.getBigUint64(i * 24, true);
    let name = "";
    for (let n = 0; n < 64; n++) {
      const c = read(namePtr + BigInt(n), 1);
      if (!c || c[0] === 0) break;
      name += String.fromCharCode(c[0]);
    }
    return { name, arg: v.getBigUint64(i * 24 + 8, true), type: v.getUint32(i * 24 + 16, true) };
  });
}
