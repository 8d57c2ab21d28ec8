// The guest kernel as a whole: the booted machine, the scheduler policy behind its hypercalls,
// the console, oops and lockup reports, and a summary of a run.
import { readInput } from "../io.js";
import { join } from "node:path";
import { buildDir } from "../paths.js";
import { Hypercall, EventKind, PERCPU_SIZE, percpuFields } from "../gen/layout.js";
import { Scheduler, describeStop, type StopReason } from "../machine/scheduler.js";
import { readVirt, readGuest, rightsOf, walk, PAGE } from "../machine/paging.js";
import { formatHz, formatTime } from "../machine/units.js";
import { finish, SliceTimer, type Slices } from "../machine/slices.js";
import { GuestHeap } from "./heap.js";
import { Ftrace } from "./ftrace/ftrace.js";
import { TextPoke } from "./ftrace/textpoke.js";
import { Trampolines } from "./ftrace/trampoline.js";
import { RcuSubsystem } from "./rcu/index.js";
import { Releases, releaseSteps } from "./ftrace/release.js";
import { taskContext, findHold, runningTasks, type Hold } from "./stacks.js";

/** A task found holding some memory (Kernel.holders). */
export interface Holder {
  task: Task;
  hold: Hold;
  text: string;
}
import { makeUseAfterFree, freedTrampoline, freedBlock, type UseAfterFree, type FreedObject } from "./uaf.js";
import type { TimelineContext } from "./timeline.js";
import type { Flavour } from "./rcu/flavour.js";
import type { Machine, CpuState } from "../machine/machine.js";
import type { SymbolTable } from "../machine/symbols.js";
import { bootKernel, type BootedKernel } from "./boot.js";
import { SchedPolicy, type Task } from "./sched.js";
import { makeOops, type Oops } from "./oops.js";
import { kernelConfig, deriveKconfig, type KernelConfig, type Kconfig } from "./config.js";
import { physOfDirect } from "./memory.js";
import { DemandPager } from "./traps/demand.js";
import { makeWarning, type Warning } from "./traps/warn.js";
import { SysEnterTracepoint } from "./tracepoint.js";
import type { KernelStacks } from "./kstacks.js";

export const firmwarePath = join(buildDir, "firmware.elf");

export interface Lockup {
  cpu: number;
  task: string;
  pid: number;
  rip: bigint;
  ticks: bigint;
  text: string;
}

export class Kernel {
  readonly machine: Machine;
  private readonly baseSymbols: SymbolTable;
  private symbolCache?: { version: number; table: SymbolTable };
  private runningCache?: { key: bigint; map: Map<Task, number> };
  readonly sched: SchedPolicy;
  readonly scheduler: Scheduler;
  readonly kconfig: Kconfig;
  readonly console: string[] = [];
  readonly oopses: Oops[] = [];
  readonly lockups: Lockup[] = [];
  /** Executions of freed trampoline memory, caught. */
  readonly useAfterFrees: UseAfterFree[] = [];
  readonly booted: BootedKernel;
  private readonly cr3: number;
  /** vCPUs that finished early boot. */
  readonly online = new Set<number>();
  readonly heap: GuestHeap;
  readonly trampolines: Trampolines;
  readonly poke: TextPoke;
  readonly ftrace: Ftrace;
  readonly rcu: RcuSubsystem;
  /** Unregistered ops waiting for their grace periods, and freed ones. */
  readonly releases: Releases;
  /** Pages the guest's #PF handler asked for (and how long its faults sleep). */
  readonly demand: DemandPager;
  /** WARN_ON() reports. */
  readonly warnings: Warning[] = [];
  /** The sys_enter tracepoint's probes (seed 004). */
  readonly sysEnter: SysEnterTracepoint;

  constructor(readonly config: KernelConfig, firmware: Uint8Array = readInput(firmwarePath, "elf")) {
    this.booted = bootKernel(firmware, config);
    this.machine = this.booted.machine;
    this.baseSymbols = this.booted.symbols;
    this.kconfig = deriveKconfig(config.preempt, config.kconfig);
    this.cr3 = this.booted.space.root;
    this.sched = new SchedPolicy(this.machine, this.booted.tasks, physOfDirect(this.booted.percpuBase), config.preempt,
      config.timeslice, config.tickPeriod);
    this.scheduler = new Scheduler(this.machine, { quantum: config.quantum, seed: config.seed, lockupTicks: config.softLockupTicks });
    this.installHypercalls();

    this.heap = new GuestHeap(this.machine, this.booted.frames, this.booted.space);
    this.trampolines = new Trampolines(this.machine, this.booted.space, this.booted.frames, () => this.symbols, firmware);
    const sym = (n: string) => this.baseSymbols.get(n)!.addr;
    this.poke = new TextPoke(this.machine, () => this.symbols, () => this.runSome(), (va) => this.phys(va),
      sym("text_poke_vec"), sym("text_poke_nr"), sym("text_poke_int3_hits"), sym("_stext"),
      () => this.machine.cpus.map((c) => this.percpuU64(c.index, "callFunctionCount")));

    this.rcu = new RcuSubsystem({ machine: this.machine, sched: this.sched, percpuPa: physOfDirect(this.booted.percpuBase),
      tickPeriod: config.tickPeriod, preemptible: config.preempt === "full", stallTicks: BigInt(config.tickPeriod) * 200n,
      context: (t) => taskContext(this.machine, this.cr3, this.running(), t),
      releasing: () => this.trampolines.all.filter((t) => t.state === "releasing")
        .map((t) => ({ start: t.addr, end: t.addr + BigInt(t.pages.length * PAGE) })) });
    const flavours = this.rcu.flavours;
    for (const f of flavours) {
      f.listeners.push((fl, phase, seq, now) =>
        this.machine.events.record(EventKind.GP, "host", now, BigInt(flavours.indexOf(fl)), BigInt(seq), phase === "start" ? 0n : 1n));
    }
    releaseSteps(config.release, this.kconfig, this.rcu); // a bad policy is refused at boot
    this.releases = new Releases({
      freeTrampoline: (t, now, why) => this.trampolines.free(t, now, why, this.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE))
        .map((h) => ({ pid: h.task.pid, name: h.task.name, live: h.hold.where !== "stack", text: h.text }))),
      freeMemory: (va, size, why) => this.heap.release(va, size, why),
    });
    this.scheduler.afterRound.push(() => {
      this.rcu.advance(this.machine.time);
      this.releases.advance(this.machine.time);
    });

    this.ftrace = new Ftrace({ machine: this.machine, symbols: () => this.symbols, heap: this.heap, poke: this.poke,
      trampolines: this.trampolines, phys: (va) => this.phys(va),
      deferFree: (fn) => this.rcu.rcu.call(fn, this.machine.time),
      release: (policy = this.config.release) => {
        const flavours = releaseSteps(policy, this.kconfig, this.rcu);
        return (ops, trampoline, memory) => {
          const now = this.machine.time;
          const steps = flavours.map((flavour) => ({ flavour }));
          return this.releases.start({ ops, trampoline, memory, policy, steps, unregisteredAt: now }, now);
        };
      } });
    this.ftrace.init(this.mcountLoc());
    this.demand = new DemandPager(this.machine, this.booted.space, this.booted.frames);
    this.sysEnter = new SysEnterTracepoint({ heap: this.heap, symbol: (n) => this.baseSymbols.get(n)!.addr,
      writeU64: (va, v) => this.writeGlobal(va, v, 8), writeU32: (va, v) => this.writeGlobal(va, BigInt(v), 4),
      now: () => this.machine.time, arrayFlavour: () => this.rcu.trace }, config.tracepointReadSide);
  }

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
    return undefined;
  }

  /** Which task each vCPU is really executing now (see stacks.ts); cached until the machine moves. */
  running(): Map<Task, number> {
    const key = this.machine.cpus.reduce((a, c) => a + c.get("insns") + c.get("clock"), 0n);
    if (this.runningCache?.key !== key) {
      this.runningCache = { key, map: runningTasks(this.machine, this.sched, (cpu) => this.percpuU64(cpu, "current")) };
    }
    return this.runningCache.map;
  }

  /** Tasks (idle ones included) whose IP or live stack points into [start, end). */
  holders(start: bigint, end: bigint): Holder[] {
    const out: Holder[] = [];
    const running = this.running();
    for (const t of this.sched.tasks) {
      if (t.state === "dead") continue;
      const hold = findHold(taskContext(this.machine, this.cr3, running, t), (a) => a >= start && a < end, "stack");
      if (!hold) continue;
      const where = hold.where === "ip" ? "its IP is" : hold.where === "frame" ? `the return address at ${hold.at!.toString(16)} is`
        : `its stack at ${hold.at!.toString(16)} holds (maybe stale)`;
      const text = `${t.name}/${t.pid} (${t.state}${t.preempted && t.state === "runnable" ? ", preempted" : ""}): ${where} ${this.symbols.format(hold.value)}`;
      out.push({ task: t, hold, text });
    }
    return out;
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
      throw new Error(`${f.name}: grace period ${seq} did not end within ${formatTime(BigInt(maxTicks))} (${f.describe(this.machine.time)})`);
    }
    return this.machine.time - start;
  }

  /** Symbols of the firmware image plus the dynamic trampolines still mapped. */
  get symbols(): SymbolTable {
    const version = this.trampolines?.version ?? 0;
    if (version === 0) return this.baseSymbols;
    if (this.symbolCache?.version !== version) this.symbolCache = { version, table: this.baseSymbols.with(this.trampolines.symbolEntries()) };
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
    const stop = this.scheduler.runFor(BigInt(this.config.quantum) * BigInt(this.machine.ncpus));
    if (stop.kind === "lockup") this.reportLockup(stop.cpu, stop.rip, stop.ticks);
    return stop.kind === "time";
  }

  static boot(overrides: Partial<KernelConfig> = {}): Kernel {
    return new Kernel(kernelConfig(overrides));
  }

  private installHypercalls(): void {
    const h = this.scheduler.hypercalls;
    const ret = (cpu: CpuState, v: bigint) => cpu.setReg(0, v);
    h.set(Hypercall.CONSOLE, (cpu) => {
      // The guest kernel's buffer, read with the calling vCPU's rights (the checked path).
      const bytes = readGuest(this.machine, this.cr3, cpu.reg(7), Number(cpu.reg(6) & 0xffffn), rightsOf(cpu));
      this.console.push(bytes instanceof Uint8Array ? Buffer.from(bytes).toString("latin1") : "<unreadable console write>");
    });
    h.set(Hypercall.BOOT_DONE, (cpu) => { this.online.add(cpu.index); });
    h.set(Hypercall.SCHED_TICK, (cpu) => this.sched.tick(cpu.index, cpu.reg(6) !== 0n, cpu.get("clock")));
    h.set(Hypercall.SLEEP, (cpu) => this.sched.sleep(cpu.index, cpu.reg(7), cpu.get("clock")));
    h.set(Hypercall.TASK_EXIT, (cpu) => this.sched.exit(this.sched.task(cpu.reg(7))));
    h.set(Hypercall.SCHEDULE, (cpu) => {
      ret(cpu, this.sched.schedule(cpu.index, cpu.reg(7), Number(cpu.reg(6)), cpu.get("clock"), cpu.reg(2)));
    });
    h.set(Hypercall.FTRACE_CALLBACK, (cpu) => {
      const ops = this.ftrace.opsByGuestAddr(cpu.reg(7));
      if (!ops || ops.callback.kind !== "host") throw new Error(`FTRACE_CALLBACK for an unknown ops 0x${cpu.reg(7).toString(16)}`);
      ops.callback.fn({ cpu: cpu.index, ip: cpu.reg(6), parentIp: cpu.reg(2), op: cpu.reg(7), caller: cpu.reg(10) });
    });
    h.set(Hypercall.MAP_PAGE, (cpu) => ret(cpu, this.demand.fault(cpu.index, cpu.reg(7), cpu.get("clock"))));
    h.set(Hypercall.RECURSION, (cpu) => {
      const pid = this.sched.current[cpu.index]?.pid ?? -1;
      this.machine.events.record(EventKind.RECURSION, cpu.index, cpu.get("clock"), cpu.reg(7), cpu.reg(6), cpu.reg(2), cpu.reg(10), BigInt(pid));
    });
    h.set(Hypercall.WARN, (cpu) => {
      const task = this.sched.current[cpu.index];
      const w = makeWarning(this.machine, this.cr3, this.symbols, task, cpu.index, cpu.reg(7));
      this.warnings.push(w);
      this.machine.events.record(EventKind.WARN, cpu.index, cpu.get("clock"), BigInt(task.pid), w.rip);
      this.console.push(w.text + "\n");
    });
    h.set(Hypercall.OOPS, (cpu) => {
      const task = this.sched.current[cpu.index];
      const clock = cpu.get("clock");
      const oops = makeOops(this.machine, this.cr3, this.symbols, task, cpu.index, cpu.reg(7), Number(cpu.reg(6)), cpu.reg(2), cpu.get("cr2"));
      const guard = oops.vector === 8 ? this.booted.stacks.guardOf(oops.cr2) : undefined;
      if (guard) {
        oops.overflow = guard.name;
        oops.text = `BUG: stack guard page was hit at 0x${oops.cr2.toString(16)} (stack is 0x${guard.base.toString(16)}..0x${guard.top.toString(16)}, ${guard.name})\n` +
          `kernel stack overflow (double-fault)\n${oops.text}`;
      }
      this.oopses.push(oops);
      this.machine.events.record(EventKind.OOPS, cpu.index, clock, BigInt(task.pid), BigInt(oops.vector), oops.rip);
      const freed = this.freedAt(oops.rip) ?? (oops.vector === 14 ? this.freedAt(oops.cr2) : undefined);
      if (freed) {
        const uaf = makeUseAfterFree(oops, freed, clock, this.machine.events.events, this.timelineContext);
        this.useAfterFrees.push(uaf);
        this.console.push(uaf.text + "\n");
      }
      this.console.push(oops.text + "\n");
    });
  }

  /** Runs the machine for `ticks` of virtual time; lockups are reported, oopses recorded. */
  run(ticks: number | bigint): StopReason {
    return finish(this.runSlices(ticks));
  }

  /** run in slices (src/machine/slices.ts). */
  *runSlices(ticks: number | bigint): Slices<StopReason> {
    const stop = yield* this.scheduler.runForSlices(ticks);
    if (stop.kind === "lockup") this.reportLockup(stop.cpu, stop.rip, stop.ticks);
    return stop;
  }

  /** The soft-lockup watchdog's report: console, lockups and the event log. */
  reportLockup(cpu: number, rip: bigint, ticks: bigint): void {
    const task = this.sched.current[cpu];
    const text = `watchdog: BUG: soft lockup - CPU#${cpu} stuck for ${formatTime(ticks)} with interrupts off! [${task.name}:${task.pid}]\n` +
      `RIP: ${this.symbols.format(rip)}`;
    this.lockups.push({ cpu, task: task.name, pid: task.pid, rip, ticks, text });
    this.console.push(text + "\n");
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

  /** A u64 field of `cpu`'s per-CPU area. */
  percpuU64(cpu: number, field: "irqCount" | "ticks" | "callFunctionCount" | "current"): bigint {
    const pa = physOfDirect(this.booted.percpuBase) + cpu * PERCPU_SIZE + percpuFields[field].offset;
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getBigUint64(pa, true);
  }

  /** Interrupts taken by `cpu` according to its per-CPU counter. */
  irqCount(cpu: number): bigint {
    return this.percpuU64(cpu, "irqCount");
  }

  /** What `tramplab run` prints after a run. */
  summary(): string {
    const m = this.machine;
    const lines: string[] = [];
    lines.push(`tramplab: ${m.ncpus} vCPUs, preempt=${this.config.preempt}, virtual time ${formatTime(m.time)}, ${formatHz(this.config.tickPeriod)}`);
    lines.push("cpu  busy   idle   interrupts");
    for (let c = 0; c < m.ncpus; c++) {
      const total = this.sched.busyTicks[c] + this.sched.idleTicks[c] || 1;
      const busy = (100 * this.sched.busyTicks[c]) / total;
      lines.push(`${String(c).padStart(3)}  ${busy.toFixed(1).padStart(5)}% ${(100 - busy).toFixed(1).padStart(5)}%  ${this.irqCount(c)}`);
    }
    lines.push("task               pid cpu state     voluntary involuntary  jiffies");
    for (const t of this.sched.tasks) {
      lines.push(`${t.name.padEnd(18)} ${String(t.pid).padStart(3)} ${String(t.cpu).padStart(3)} ${t.state.padEnd(9)} ${String(t.nvcsw).padStart(9)} ${String(t.nivcsw).padStart(11)} ${String(t.runTicks).padStart(8)}`);
    }
    lines.push("(voluntary: the task blocked, nvcsw; involuntary: it was preempted or yielded while runnable, nivcsw;");
    lines.push(` jiffies: timer ticks that found it running, ${formatHz(this.config.tickPeriod)}, 1 jiffy = ${formatTime(this.config.tickPeriod)})`);
    lines.push("grace periods     done          mean latency  state");
    for (const f of this.rcu.flavours) {
      const l = f.latencies();
      const mean = l.length ? formatTime(l.reduce((a, b) => a + b, 0n) / BigInt(l.length)) : "-";
      lines.push(`${f.name.padEnd(16)} ${String(f.completed).padStart(5)}  ${mean.padStart(20)}  ${f.describe(this.machine.time).replace(/^[^:]*: /, "")}`);
    }
    if (this.releases.all.length > 0) lines.push("released ops:", ...this.releases.describe(this.machine.time).split("\n").map((l) => `  ${l}`));
    const skipped = this.ftrace.recursions();
    if (skipped.total > 0n) {
      const sites = [...skipped.sites].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([f, n]) => `${f} ${n}`).join(", ");
      lines.push(`ftrace recursion (${this.config.recursion}): ${skipped.total} callback call(s) skipped; most at ${sites}`);
    }
    if (this.warnings.length > 0) lines.push(`${this.warnings.length} WARNING(s) (reports above)`);
    if (this.useAfterFrees.length > 0) lines.push(`${this.useAfterFrees.length} use-after-free(s) caught (reports above)`);
    return lines.join("\n");
  }
}

export type { Task };
