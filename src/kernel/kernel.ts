// The guest kernel as a whole: boots the machine, creates the control plane's state (one
// plain object, state.ts) and wires the subsystems that act on it: the scheduler's policy
// behind the hypercalls (hypercalls.ts), the RCU flavours, ftrace with its text poker,
// trampolines and releases, the heap, the demand pager and the sys_enter tracepoint.
import { dropTrampolineGuards } from "./ftrace/guard-sites.js";
import { readInput } from "../io.js";
import { join } from "node:path";
import { buildDir } from "../paths.js";
import { EventKind, Hypercall, PERCPU_SIZE, percpuFields } from "../gen/layout.js";
import { X86_EFLAGS_IF } from "../gen/constants.js";
import { Interleaver, describeStop, type StopReason } from "../machine/interleave.js";
import { readVirt, walk, PAGE } from "../machine/paging.js";
import { formatTime } from "../machine/units.js";
import { finish, SliceTimer, type Slices } from "../machine/slices.js";
import { GuestHeap } from "./heap.js";
import { Ftrace } from "./ftrace/ftrace.js";
import { TextPoke, type PokeDeps } from "./ftrace/textpoke.js";
import { Trampolines, type Trampoline, type HeldBy } from "./ftrace/trampoline.js";
import { RcuSubsystem } from "./rcu/index.js";
import { Releases, releaseSteps } from "./ftrace/release.js";
import { taskContext, holdersOf, runningTasks, type Holder } from "./task-context.js";
import { freedTrampoline, freedBlock, freedModule, type UseAfterFree, type FreedObject } from "./uaf.js";
import type { TimelineContext } from "./timeline.js";
import type { Flavour, RcuCallback } from "./rcu/flavour.js";
import type { Machine } from "../machine/machine.js";
import type { SymbolTable } from "../machine/symbols.js";
import { bootKernel, type BootedKernel } from "./boot.js";
import { SchedPolicy, type Task } from "./sched.js";
import type { Oops } from "./oops.js";
import { kernelConfig, deriveKconfig, type KernelConfig, type Kconfig } from "./config.js";
import { VERSIONS } from "./versions.js";
import { MODULES_END, MODULES_START, physOfDirect } from "./memory.js";
import { DemandPager } from "./traps/demand.js";
import type { Warning } from "./traps/warn.js";
import { SysEnterTracepoint } from "./tracepoint.js";
import type { KernelStacks } from "./stacks.js";
import { installHypercalls } from "./hypercalls.js";
import { ftraceInitLines } from "./ftrace/pages.js";
import { initialKernelState, printk, type KernelState, type Lockup } from "./state.js";
import { HostJobs } from "./jobs.js";
import { createKthread } from "./kthread.js";
import { installModuleApi, rcuCallbacks, type ModuleApiDeps } from "./module/api.js";
import { ModuleFtrace } from "./module/ftrace-calls.js";
import { Modules, BUG_TABLES_MAX, type LoadedModule } from "./module/loader.js";
import { moduleLineTable } from "./module/debuglines.js";
import { taskFields } from "../gen/layout.js";
import { lineTableOf, type LineRow, type LineTable } from "../machine/dwarf-line.js";

export type { KernelState, Lockup, Holder };

export const firmwarePath = join(buildDir, "firmware.elf");

export class Kernel {
  readonly machine: Machine;
  private readonly baseSymbols: SymbolTable;
  private symbolCache?: { version: number; table: SymbolTable };
  private exportCache?: Map<string, bigint>;
  /** The image's line table (null: it has none), read on first use. */
  private lines?: LineTable | null;
  private runningCache?: { key: bigint; map: Map<Task, number> };
  /** Every subsystem's mutable state; replaced as a whole by restore(). */
  private current: KernelState;
  readonly sched: SchedPolicy;
  readonly interleaver: Interleaver;
  readonly kconfig: Kconfig;
  readonly booted: BootedKernel;
  private readonly cr3: number;
  readonly heap: GuestHeap;
  readonly trampolines: Trampolines;
  readonly poke: TextPoke;
  readonly ftrace: Ftrace;
  readonly rcu: RcuSubsystem;
  readonly releases: Releases;
  /** Pages the guest's #PF handler asked for (and how long its faults sleep). */
  readonly demand: DemandPager;
  /** The sys_enter tracepoint's probes (seed 004). */
  readonly sysEnter: SysEnterTracepoint;
  /** Tasks waiting for the host's work (module calls into ftrace, grace periods...). */
  readonly jobs: HostJobs;
  /** Loadable modules: insmod, rmmod, lsmod. */
  readonly modules: Modules;
  private readonly moduleFtrace: ModuleFtrace;

  constructor(readonly config: KernelConfig, firmware: Uint8Array = readInput(firmwarePath, "elf")) {
    const booted = this.booted = bootKernel(firmware, config);
    const m = this.machine = booted.machine;
    this.baseSymbols = booted.symbols;
    this.kconfig = deriveKconfig(config.preempt, config.kconfig, config.kernel);
    this.cr3 = booted.space.root;
    this.interleaver = new Interleaver(m, { quantum: config.quantum, seed: config.seed, lockupTicks: config.softLockupTicks });
    this.current = initialKernelState(booted, this.interleaver.state);
    const st = () => this.current;
    const percpuPa = physOfDirect(booted.percpuBase);
    const sym = (n: string) => this.baseSymbols.get(n)!.addr;

    this.sched = new SchedPolicy(m, () => st().sched, percpuPa, config.preempt, config.timeslice, config.tickPeriod);
    this.heap = new GuestHeap(() => st().heap, m, booted.frames, booted.space);
    this.trampolines = new Trampolines(() => st().trampolines, m, booted.space, booted.frames, () => this.symbols);
    this.poke = new TextPoke(() => st().poke, this.pokeDeps(sym));

    this.rcu = new RcuSubsystem({ st: () => st().rcu, invoke: (cb) => this.runDeferred(cb), machine: m,
      tasks: () => this.sched.tasks, current: () => this.sched.current, forceSchedule: (cpu) => this.sched.forceSchedule(cpu), percpuPa,
      tickPeriod: config.tickPeriod, preemptible: this.kconfig.PREEMPT_RCU,
      context: (t) => taskContext(m, this.cr3, this.running(), t),
      releasing: () => this.trampolines.all.filter((t) => t.state === "releasing")
        .map((t) => ({ start: t.addr, end: t.addr + BigInt(t.pages.length * PAGE) })) });
    this.sched.onSchedule.push((cpu, prev, _next, reason) => this.rcu.scheduled(cpu, prev, reason));
    // __is_kernel() (_stext.._end) || __is_module_text(), for seed 000's check at preemption time.
    const [stext, end] = [sym("_stext"), sym("_end")];
    const moduleText = (a: bigint) => a >= MODULES_START && a < MODULES_END && this.modules.at(a) !== undefined;
    this.sched.isText = (a) => (a >= stext && a < end) || moduleText(a);
    this.sched.onTick.push((cpu, task, user) => this.rcu.tick(cpu, task, user));
    const flavours = this.rcu.flavours;
    for (const f of flavours) {
      f.listeners.push((fl, phase, seq, now) =>
        m.events.record(EventKind.GP, "host", now, BigInt(flavours.indexOf(fl)), BigInt(seq), phase === "start" ? 0n : 1n));
    }
    releaseSteps(config.release, this.kconfig, this.rcu); // a bad policy is refused at boot
    this.releases = new Releases(() => st().releases, {
      flavour: (name) => this.rcu.flavours.find((f) => f.name === name)!,
      freeTrampoline: (t, now, why) => this.trampolines.free(t, now, why, this.heldBy(t)),
      freeMemory: (va, size, why) => this.heap.release(va, size, why),
      freed: (r) => this.ftrace.forgetRetired(r),
    });
    this.interleaver.afterRound.push(() => {
      this.rcu.advance(m.time);
      this.releases.advance(m.time);
    });

    this.ftrace = new Ftrace(() => st().ftrace, { machine: m, symbols: () => this.symbols, heap: this.heap, poke: this.poke,
      trampolines: this.trampolines, phys: (va) => this.phys(va), mainlineRecursion: config.recursion === "mainline",
      deferFree: (cb) => this.rcu.rcu.call(cb, m.time),
      noinstr: { names: VERSIONS[config.kernel].noinstr, release: VERSIONS[config.kernel].title },
      release: (policy = this.config.release) => {
        const specs = releaseSteps(policy, this.kconfig, this.rcu);
        return (ops, trampoline, memory) => {
          const now = m.time;
          // Only an ops with a trampoline is on the trampolines' kallsyms list.
          const steps = specs.filter((s) => trampoline || !s.kallsyms)
            .map((s) => ({ flavour: s.flavour.data, skipped: s.skipped, kallsyms: s.kallsyms }));
          return this.releases.start({ ops, trampoline, memory, policy, steps, unregisteredAt: now }, now);
        };
      },
      printk: (text) => printk(st().reports, text, m.time) });
    // ftrace_init: "allocating" before the sites are converted, "allocated" after (even when
    // an ftrace bug stopped the conversion, as ftrace_update_code returns 0 then).
    // A function the release builds noinstr has no __mcount_loc entry there.
    const noinstr = VERSIONS[config.kernel].noinstr;
    const quiet = (ip: bigint) => noinstr.includes(this.baseSymbols.find(ip)?.name ?? "");
    const sites = this.mcountLoc(), mcount = sites.filter((ip) => !quiet(ip));
    const [allocating, allocated] = ftraceInitLines(mcount.length);
    printk(st().reports, allocating + "\n", m.time);
    this.ftrace.init(mcount, sites.filter(quiet));
    // Mainline's trampolines have no recursion guard: jump over tramplab's (ftrace/guard-sites.ts).
    if (config.recursion === "mainline") {
      dropTrampolineGuards({ read: (va, len) => this.readKernel(va, len), write: (va, b) => this.writeKernel(va, b), sym });
    }
    if (allocated) printk(st().reports, allocated + "\n", m.time);
    // The idle boot parameters (firmware/idle.c): idle=poll, or a timer-stopping idle state.
    this.writeGlobal(sym("cpu_idle_force_poll"), config.idle === "poll" ? 1n : 0n, 4);
    this.writeGlobal(sym("cpuidle_timer_stop"), config.idle === "broadcast" ? 1n : 0n, 4);
    this.demand = new DemandPager(() => st().demand, m, booted.space, booted.frames);
    this.sysEnter = new SysEnterTracepoint(() => st().tracepoint, { heap: this.heap, symbol: sym,
      writeU64: (va, v) => this.writeGlobal(va, v, 8), writeU32: (va, v) => this.writeGlobal(va, BigInt(v), 4),
      now: () => m.time, arrayFlavour: () => this.rcu.trace }, config.tracepointReadSide);
    installHypercalls(this.interleaver.hypercalls, { machine: m, cr3: this.cr3, sched: this.sched, ftrace: this.ftrace,
      demand: this.demand, stacks: booted.stacks, reports: () => st().reports, online: () => st().online,
      symbols: () => this.symbols, freedAt: (a) => this.freedAt(a), timelineContext: () => this.timelineContext,
      jiffies: (now) => this.writeGlobal(sym("jiffies"), now / BigInt(config.tickPeriod), 8),
      exited: (t) => m.writePhys(physOfDirect(t.addr) + taskFields.exited.offset, Uint8Array.of(1, 0, 0, 0)),
      preemption: this.kconfig.PREEMPTION, dialect: VERSIONS[config.kernel].oops });
    // The read side's slow paths: a reader leaving with special bits set (firmware/rcu.c).
    this.interleaver.hypercalls.set(Hypercall.RCU_UNLOCK_SPECIAL, (cpu) => this.rcu.unlockSpecial(cpu.index, this.sched.task(cpu.reg(7)),
      cpu.reg(6) !== 0n));
    this.interleaver.hypercalls.set(Hypercall.TRC_UNLOCK_SPECIAL, (cpu) => this.rcu.trace.unlockSpecial(this.sched.task(cpu.reg(7))));

    // What modules call: the module API, ftrace's calls, and the jobs they wait on.
    this.moduleFtrace = new ModuleFtrace({ machine: m, cr3: this.cr3, ftrace: this.ftrace, symbols: () => this.symbols });
    const kthread = (name: string, cpu: number, entry: bigint, arg: bigint) => createKthread({ machine: m, heap: this.heap,
      stacks: booted.stacks, sched: this.sched, retFromFork: sym("ret_from_fork") }, name, cpu, entry, arg);
    // The jobs answer the rcuc thread through the module API's state; apiDeps is only read
    // once the machine runs, after both exist.
    this.jobs = new HostJobs(() => st().jobs, { machine: m, sched: this.sched,
      gracePeriodDone: (name, seq) => this.rcu.flavours.find((f) => f.name === name)!.done(seq),
      work: (w) => this.moduleFtrace.call(Number(w.args[0]), w.args[1], w.args[2], w.args[3]),
      released: (addr) => !this.releases.pending().some((r) => r.ops.addr === addr),
      busy: () => this.poke.busy,
      rcuCallbacks: (w) => rcuCallbacks(apiDeps, w) });
    const apiDeps: ModuleApiDeps = { machine: m, cr3: this.cr3, st: () => st().moduleApi, heap: this.heap, sched: this.sched,
      jobs: this.jobs, rcu: this.rcu, symbols: () => this.symbols, console: (text) => printk(st().reports, text, m.time),
      kthread, sym, preemptCount: (cpu) => this.percpuU32(cpu, "preemptCount") };
    installModuleApi(this.interleaver.hypercalls, apiDeps);
    this.interleaver.afterRound.push(() => this.jobs.advance());
    this.modules = new Modules(() => st().modules, { machine: m, space: booted.space, frames: booted.frames, ftrace: this.ftrace,
      exports: () => this.exports(), log: (line) => printk(st().reports, line + "\n", m.time), kthread,
      wake: (t) => this.sched.wakeUp(t, m.time), sym,
      runUntil: (done, max) => this.runUntil(done, max),
      synchronizeRcu: () => { this.synchronize(this.rcu.rcu); },
      readTaskExit: (t) => {
        const v = new DataView(m.ram.buffer, m.ram.byteOffset);
        const pa = physOfDirect(t.addr);
        return { exited: v.getUint32(pa + taskFields.exited.offset, true) !== 0,
          code: v.getBigUint64(pa + taskFields.exitCode.offset, true) };
      },
      oopsed: (t) => st().reports.oopses.some((o) => o.pid === t.pid),
      writeKernel: (va, bytes) => this.writeKernel(va, bytes), readKernel: (va, len) => this.readKernel(va, len),
      kstrdup: (text) => {
        const bytes = Buffer.from(text + "\0", "latin1");
        const va = this.heap.alloc(bytes.length);
        this.heap.write(va, bytes);
        return va;
      },
      changed: () => { this.symbolCache = undefined; } });
  }

  /** "firmware/work.c:45": the source line of a kernel address, when the image has DWARF lines. */
  sourceLine(addr: bigint): string | undefined {
    const r = this.lineRow(addr);
    return r ? `${r.file}:${r.line}` : undefined;
  }

  /** The line-table row a kernel or module address belongs to (its address: where that line's code starts). */
  lineRow(addr: bigint): LineRow | undefined {
    const mod = this.modules.at(addr);
    if (mod) return mod.lines ? moduleLineTable(mod.lines).find(addr) : undefined;
    this.lines ??= lineTableOf(this.booted.image).table ?? null;
    return this.lines?.find(addr);
  }

  /** The kernel's exported symbols: __ksymtab's {address, name} entries. */
  private exports(): Map<string, bigint> {
    if (this.exportCache) return this.exportCache;
    const start = this.baseSymbols.get("__start___ksymtab")!.addr, stop = this.baseSymbols.get("__stop___ksymtab")!.addr;
    const table = this.readKernel(start, Number(stop - start));
    const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
    const out = new Map<string, bigint>();
    for (let i = 0; i + 16 <= table.length; i += 16) {
      const name = this.readKernel(v.getBigUint64(i + 8, true), 64);
      out.set(Buffer.from(name.subarray(0, name.indexOf(0))).toString("latin1"), v.getBigUint64(i, true));
    }
    this.exportCache = out;
    return out;
  }

  /** insmod: loads a module object with its parameters (see module/loader.ts). */
  insmod(bytes: Uint8Array, file: string, args: { name: string; value?: string }[] = []): LoadedModule {
    const s = this.current.modules;
    if (!s.bugTables) {
      s.bugTables = this.heap.alloc(BUG_TABLES_MAX * 16);
      this.writeGlobal(this.baseSymbols.get("module_bug_tables")!.addr, s.bugTables, 8);
    }
    return this.modules.insmod(bytes, file, args);
  }

  /** rmmod NAME. */
  rmmod(name: string): LoadedModule {
    return this.modules.rmmod(name);
  }

  /** Host writes of kernel memory by virtual address, page by page (module memory is not contiguous). */
  writeKernel(va: bigint, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      const room = PAGE - Number((va + BigInt(done)) % BigInt(PAGE));
      const part = bytes.subarray(done, done + room);
      this.machine.writePhys(this.phys(va + BigInt(done)), part);
      done += part.length;
    }
  }

  readKernel(va: bigint, len: number): Uint8Array {
    const b = readVirt(this.machine, this.cr3, va, len);
    if (!b) throw new Error(`0x${va.toString(16)}..+${len} is not mapped`);
    return b;
  }

  /** What the text poker needs: host writes by kernel address, IPIs, and a way to let the machine run. */
  private pokeDeps(sym: (name: string) => bigint): PokeDeps {
    const m = this.machine;
    return {
      ncpus: m.ncpus, now: () => m.time,
      write: (va, bytes) => m.writePhys(this.phys(va), bytes),
      readU64: (va) => new DataView(m.ram.buffer, m.ram.byteOffset).getBigUint64(this.phys(va), true),
      interrupt: (cpu, vector) => m.interrupt(cpu, vector),
      record: (kind, a, b, c, d) => { m.events.record(kind, "host", m.time, a, b, c, d); },
      name: (a) => this.symbols.format(a),
      where: (cpu) => `at ${this.symbols.format(m.cpus[cpu].get("rip"))}` +
        `${m.cpus[cpu].get("rflags") & X86_EFLAGS_IF ? "" : " (interrupts off)"}`,
      runSome: () => this.runSome(),
      callFunctionCounts: () => m.cpus.map((c) => this.percpuU64(c.index, "callFunctionCount")),
      vecAddr: sym("text_poke_vec"), nrAddr: sym("text_poke_nr"), hitsAddr: sym("text_poke_int3_hits"), stext: sym("_stext"),
    };
  }

  /** Tasks that still point into a trampoline as it is freed (what a safe free never sees). */
  private heldBy(t: Trampoline): HeldBy[] {
    return this.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE))
      .map((h) => ({ pid: h.task.pid, name: h.task.name, live: h.hold.where !== "stack", text: h.text }));
  }

  /** Work a grace period was waiting for (call_rcu callbacks, as data). */
  private runDeferred(cb: RcuCallback): void {
    if (cb.kind === "free") for (const b of cb.blocks) this.heap.release(b.va, b.size, cb.why);
    else if (cb.kind === "guest") this.current.moduleApi.ready.push({ head: cb.head, func: cb.func });
    else if (cb.then?.length) {
      const next = this.rcu.flavours.find((f) => f.name === cb.then![0])!;
      next.call({ ...cb, then: cb.then.slice(1) }, this.machine.time);
    } else this.sysEnter.freeProbe(cb.probe, cb.array, cb.why);
  }

  /** The control plane's state as it is now (live: it changes as the machine runs). */
  get state(): KernelState {
    return this.current;
  }

  /** A deep copy of the control plane's state, for a snapshot (the machine's memory is not in it). */
  saveState(): KernelState {
    return structuredClone(this.current);
  }

  /** Puts a saved state back (a copy of it, so the snapshot can be restored again). */
  restoreState(saved: KernelState): void {
    const s = structuredClone(saved);
    this.current = s;
    this.booted.frames.state = s.frames;
    this.booted.stacks.state = s.stacks;
    this.interleaver.state = s.interleave;
    this.symbolCache = undefined;
    this.runningCache = undefined;
  }

  get console(): string[] { return this.current.reports.console; }
  get oopses(): Oops[] { return this.current.reports.oopses; }
  get lockups(): Lockup[] { return this.current.reports.lockups; }
  /** Executions of freed trampoline memory, caught. */
  get useAfterFrees(): UseAfterFree[] { return this.current.reports.useAfterFrees; }
  /** WARN_ON() reports. */
  get warnings(): Warning[] { return this.current.reports.warnings; }
  /** vCPUs that finished early boot. */
  get online(): Set<number> { return this.current.online; }

  /** Every kernel stack, with its in_tracing header. */
  get stacks(): KernelStacks {
    return this.booted.stacks;
  }

  private writeGlobal(va: bigint, v: bigint, size: 4 | 8): void {
    const b = new Uint8Array(size);
    if (size === 8) new DataView(b.buffer).setBigUint64(0, v, true); else new DataView(b.buffer).setUint32(0, Number(v), true);
    this.machine.writePhys(this.phys(va), b);
  }

  /** The freed trampoline or guarded object `addr` lies in, if any. */
  freedAt(addr: bigint): FreedObject | undefined {
    const t = this.trampolines.find(addr);
    if (t?.state === "freed") return freedTrampoline(t);
    const b = this.heap.findGuarded(addr);
    if (b?.freedAt !== undefined) return freedBlock(b);
    const mod = this.modules.at(addr);
    if (mod?.state === "freed") return freedModule(mod);
    return undefined;
  }

  /** Which task each vCPU is really executing now (see task-context.ts); cached until the machine moves. */
  running(): Map<Task, number> {
    const key = this.machine.cpus.reduce((a, c) => a + c.get("insns") + c.get("clock"), 0n);
    if (this.runningCache?.key !== key) {
      this.runningCache = { key, map: runningTasks(this.machine, this.sched, (cpu) => this.percpuU64(cpu, "current")) };
    }
    return this.runningCache.map;
  }

  /** Tasks (idle ones included) whose IP or live stack points into [start, end). */
  holders(start: bigint, end: bigint): Holder[] {
    const running = this.running();
    return holdersOf(this.sched.tasks, (t) => taskContext(this.machine, this.cr3, running, t), (a) => this.symbols.format(a), start, end);
  }

  /** How timelines name tasks, addresses and grace-period mechanisms. */
  get timelineContext(): TimelineContext {
    return {
      symbolize: (a) => this.symbols.format(a),
      task: (pid) => {
        const t = this.sched.tasks.find((x) => x.pid === pid);
        return t ? `${t.name}/${pid}` : `pid ${pid}`;
      },
      flavour: (i) => this.rcu.flavours[i]?.name ?? `flavour ${i}`,
      ops: (id) => this.ftrace.byId.get(id)?.name ?? `ops ${id}`,
      stack: (header) => this.booted.stacks.find(header)?.name ?? `stack 0x${header.toString(16)}`,
      tickPeriod: this.config.tickPeriod,
    };
  }

  /**
   * synchronize_*(): runs the machine until a grace period of `f` that starts now has ended.
   * Returns the virtual time it took, or throws if it did not end within `maxTicks`.
   */
  synchronize(f: Flavour, maxTicks: number | bigint = 2_000_000_000n): bigint {
    return finish(this.synchronizeSlices(f, maxTicks));
  }

  /** synchronize in slices (src/machine/slices.ts). */
  *synchronizeSlices(f: Flavour, maxTicks: number | bigint = 2_000_000_000n): Slices<bigint> {
    const start = this.machine.time;
    const seq = f.request(start);
    this.rcu.advance(start);
    if (!(yield* this.runUntilSlices(() => f.done(seq), maxTicks))) {
      throw new Error(`${f.name}: grace period ${seq} did not end within ${formatTime(BigInt(maxTicks))} ` +
        `(${f.describe(this.machine.time)})`);
    }
    return this.machine.time - start;
  }

  /** Symbols of the firmware image plus the dynamic trampolines still mapped. */
  get symbols(): SymbolTable {
    const version = this.trampolines?.version ?? 0;
    const modules = this.current?.modules.all.length ?? 0;
    if (version === 0 && modules === 0) return this.baseSymbols;
    if (this.symbolCache?.version !== version) {
      this.symbolCache = { version, table: this.baseSymbols.with([...this.trampolines.symbolEntries(), ...this.modules.symbolEntries()]) };
    }
    return this.symbolCache.table;
  }

  /** Physical address of a mapped kernel virtual address. */
  phys(va: bigint): number {
    const t = walk(this.machine, this.cr3, va);
    if (!t) throw new Error(`0x${va.toString(16)} is not mapped`);
    return t.pa;
  }

  /** The compiler's table of fentry sites, __start_mcount_loc to __stop_mcount_loc. */
  private mcountLoc(): bigint[] {
    const start = this.baseSymbols.get("__start_mcount_loc")!.addr, stop = this.baseSymbols.get("__stop_mcount_loc")!.addr;
    const bytes = readVirt(this.machine, this.cr3, start, Number(stop - start))!;
    const v = new DataView(bytes.buffer);
    return Array.from({ length: bytes.length / 8 }, (_, i) => v.getBigUint64(i * 8, true));
  }

  /** Every vCPU is halted in its idle task: no task is in the middle of anything. */
  allIdle(): boolean {
    return this.machine.cpus.every((c) => c.get("halted") !== 0 && this.sched.current[c.index].kind === "idle");
  }

  /** Runs until `done()` holds (checked after each round of quanta), at most `maxTicks`. */
  runUntil(done: () => boolean, maxTicks: number | bigint): boolean {
    return finish(this.runUntilSlices(done, maxTicks));
  }

  /** runUntil in slices (src/machine/slices.ts). */
  *runUntilSlices(done: () => boolean, maxTicks: number | bigint): Slices<boolean> {
    const end = this.machine.time + BigInt(maxTicks);
    const slice = new SliceTimer(this.machine);
    while (!done()) {
      if (this.machine.time >= end || !this.runSome()) return false;
      if (slice.due()) yield;
    }
    return true;
  }

  /** Lets the machine run one round of quanta (text_poke waits for IPIs this way). */
  private runSome(): boolean {
    const stop = this.interleaver.runFor(BigInt(this.config.quantum) * BigInt(this.machine.ncpus));
    if (stop.kind === "lockup") this.reportLockup(stop.cpu, stop.rip, stop.ticks);
    return stop.kind === "time";
  }

  static boot(overrides: Partial<KernelConfig> = {}): Kernel {
    return new Kernel(kernelConfig(overrides));
  }

  /** Runs the machine for `ticks` of virtual time; lockups are reported, oopses recorded. */
  run(ticks: number | bigint): StopReason {
    return finish(this.runSlices(ticks));
  }

  /** run in slices (src/machine/slices.ts). */
  *runSlices(ticks: number | bigint): Slices<StopReason> {
    const stop = yield* this.interleaver.runForSlices(ticks);
    if (stop.kind === "lockup") this.reportLockup(stop.cpu, stop.rip, stop.ticks);
    return stop;
  }

  /** The soft-lockup watchdog's report: console, lockups and the event log. */
  reportLockup(cpu: number, rip: bigint, ticks: bigint): void {
    const task = this.sched.current[cpu];
    const text = `watchdog: BUG: soft lockup - CPU#${cpu} stuck for ${formatTime(ticks)} with interrupts off! ` +
      `[${task.name}:${task.pid}]\n` +
      `RIP: ${this.symbols.format(rip)}`;
    this.current.reports.lockups.push({ cpu, task: task.name, pid: task.pid, rip, ticks, text });
    printk(this.current.reports, text + "\n", this.machine.cpus[cpu].get("clock"));
    this.machine.events.record(EventKind.LOCKUP, cpu, this.machine.cpus[cpu].get("clock"), BigInt(task.pid), rip);
  }

  describe(stop: StopReason): string {
    return describeStop(stop, (a) => this.symbols.format(a));
  }

  /** Reads a u64 of a firmware global (its symbol's address in the kernel map). */
  readGlobal(name: string, index = 0): bigint {
    const s = this.symbols.get(name);
    if (!s) throw new Error(`no symbol ${name}`);
    const va = s.addr + BigInt(index) * 8n;
    const b = readVirt(this.machine, this.cr3, va, 8);
    if (!b) throw new Error(`${name}[${index}] (0x${va.toString(16)}) is not mapped`);
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  /** A u32 field of `cpu`'s per-CPU area. */
  percpuU32(cpu: number, field: "preemptCount" | "rcuWatching"): number {
    const pa = physOfDirect(this.booted.percpuBase) + cpu * PERCPU_SIZE + percpuFields[field].offset;
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getUint32(pa, true);
  }

  /** A u64 field of `cpu`'s per-CPU area. */
  percpuU64(cpu: number, field: "irqCount" | "ticks" | "callFunctionCount" | "current"): bigint {
    const pa = physOfDirect(this.booted.percpuBase) + cpu * PERCPU_SIZE + percpuFields[field].offset;
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getBigUint64(pa, true);
  }

  /** Interrupts taken by `cpu` according to its per-CPU counter. */
  irqCount(cpu: number): bigint {
    return this.percpuU64(cpu, "irqCount");
  }
}

export type { Task };

/**
 * The oops's "6.12.0 #1": the modelled release; the PREEMPT_AUTO patch set, posted during 6.10's
 * merge window, as a 6.10 release candidate with the set's name as its local version.
 */
