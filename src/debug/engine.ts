// The debugger's engine: run control (step, continue, finish, until, run for a time),
// breakpoints kept in the core's table (guest text is never written), watchpoints (the
// machine is single-stepped while any is set), event breakpoints (text pokes, grace periods,
// hazards), checkpoints, and named snapshots. It returns text; it never prints.
import { Kernel } from "../kernel/kernel.js";
import type { CpuState } from "../machine/machine.js";
import type { MachineEvent } from "../machine/events.js";
import type { StopReason } from "../machine/interleave.js";
import type { SymbolTable } from "../machine/symbols.js";
import type { DebugCore } from "../machine/core.js";
import { EventKind } from "../gen/layout.js";
import { readGuest, readVirt, rightsOf, type AccessFault } from "../machine/paging.js";
import { formatTime } from "../machine/units.js";
import { REG_NAMES } from "../machine/registers.js";
import { Cursor, FOREVER, type Control, type CursorStop } from "./cursor.js";
import { CheckpointStore, positionOf, type Checkpoint, type DebugHost } from "./checkpoint.js";
import { check, evaluate, ExprError, type ExprContext } from "./expressions.js";
import { stopTitle, type Breakpoint } from "./breakpoints.js";
import { accessesOf, overlaps, type Access } from "./watch.js";
import { hex, insnLine } from "./format.js";
import { kernelTarget, type DebugTarget } from "./target.js";

/** A way of running: its own stop rules on top of breakpoints and watchpoints. */
export interface Plan {
  before?(c: CpuState): string | null;
  budget?(c: CpuState): bigint;
  beforeRun?(c: CpuState): void;
  after?(c: CpuState): string | null;
  /** Virtual time at which to stop (checked at round boundaries, as runFor does). */
  end?: bigint;
  /** Breakpoints and watchpoints are ignored (replays for reverse execution). */
  quiet?: boolean;
  /** Breakpoints, watchpoints and events stop the run but keep their hit counts and stay (reverse continue's scans). */
  probe?: boolean;
  /** Called after each round of the schedule; a reason to stop there, or null. */
  afterRound?(): string | null;
  /** Called when the run stops, however it stopped. */
  cleanup?(): void;
  /**
   * When the run stopped by this plan's own rule (not a breakpoint, watchpoint, event or
   * machine stop): the plan that carries on from there (ni N), or null to stop, or the stop's
   * title (step and next name the line they reached).
   */
  then?(): Plan | string | null;
}

/**
 * Where a run stopped: before a vCPU's next tick, after one of its runs (a watchpoint or an
 * event noticed once the instruction retired), or at the end of a round of the schedule.
 */
export type StopPoint = "before" | "after" | "round";

export interface Stop {
  /** Why, then where (one or more lines). */
  text: string;
  cpu: number;
  /** The machine's own stop (a fault, the program's exit...), when that is what ended the run. */
  machine?: StopReason;
}

/** Run this many ticks between automatic checkpoints (bounds the replay behind rsi and rc). */
const CHECKPOINT_EVERY = 20_000_000n;
const MAX_CHECKPOINTS = 48;
/**
 * Named snapshots kept at most (each holds the pages that differ from the booted state, about
 * half a MiB on 4 vCPUs): a command file cannot make the debugger keep thousands of them.
 */
export const MAX_SNAPSHOTS = 100;

export class DebugError extends Error {}

export class Engine {
  readonly cursor: Cursor;
  /** The selected vCPU: registers, memory and stepping refer to it. */
  cpu = 0;
  readonly breakpoints: Breakpoint[] = [];
  private nextId = 1;
  readonly store: CheckpointStore;
  /** Checkpoints of this timeline, oldest first. */
  history: Checkpoint[] = [];
  readonly snapshots = new Map<string, Checkpoint>();
  /** Host state the debugger adds (saved and restored with the kernel's). */
  readonly host: DebugHost = {};
  /** Set by Ctrl-C; the run stops at the next stop point. */
  interruptRequested = false;
  private skip: { cpu: number; rip: bigint } | null = null;
  /** The breakpoint, watchpoint or event breakpoint that stopped the last run, if one did. */
  lastHit: Breakpoint | null = null;
  /** The kind of stop point the last run stopped at. */
  stopPoint: StopPoint = "before";
  /** The last run stopped by its plan's own rule. */
  private planStopped = false;
  private lastEvent: MachineEvent | undefined;
  private pendingReads: Access[] = [];
  private active: { plan: Plan; ctl: Control } | null = null;
  private readonly core: DebugCore;

  readonly target: DebugTarget;

  /** Debugs the guest kernel, or another target (a user program: src/debug/program.ts). */
  constructor(target: Kernel | DebugTarget) {
    this.target = target instanceof Kernel ? kernelTarget(target) : target;
    this.cursor = new Cursor(this.target);
    this.core = this.target.machine.core;
    this.store = new CheckpointStore(this.target, this.host);
    this.history.push(this.store.take(this.cursor.save()));
  }

  /** The guest kernel; commands that show the kernel's state refuse through here when a program is debugged. */
  get kernel(): Kernel {
    const k = this.target.kernel;
    if (!k) throw new DebugError(`no kernel here: this session debugs ${this.target.title}`);
    return k;
  }

  get machine() { return this.target.machine; }
  get symbols(): SymbolTable { return this.target.symbols; }
  get current(): CpuState { return this.machine.cpus[this.cpu]; }

  /**
   * Reads guest virtual memory through the page tables of vCPU `cpu` (the selected one by
   * default), as the debugger's own machinery does (watchpoints, backtraces, stepping): any
   * present page at a canonical address.
   */
  read(va: bigint, len: number, cpu = this.cpu): Uint8Array | null {
    return readVirt(this.machine, Number(this.machine.cpus[cpu].get("cr3") & ~0xfffn), BigInt.asUintN(64, va), len);
  }

  /**
   * Reads as vCPU `cpu` itself could now (x, set and expressions' `*` look at memory this
   * way): in user mode, user pages only.
   */
  readAs(va: bigint, len: number, cpu = this.cpu): Uint8Array | null {
    const r = this.access(va, len, cpu);
    return r instanceof Uint8Array ? r : null;
  }

  /**
   * Why vCPU `cpu` cannot read `len` bytes at `va`, as the end of an error line: "" when the
   * page is simply not there (gdb's plain message), else the rule that refused it.
   */
  whyNot(va: bigint, len: number, cpu = this.cpu): string {
    const r = this.access(va, len, cpu);
    if (r instanceof Uint8Array || r.reason === "not present") return "";
    if (r.reason === "supervisor-only") return `: a kernel page, and cpu${cpu} is in user mode`;
    return `: ${r.reason === "non-canonical" ? "a non-canonical address" : "the page lies outside RAM"}`;
  }

  /** As read(), or why the vCPU could not read there. */
  access(va: bigint, len: number, cpu = this.cpu): Uint8Array | AccessFault {
    const c = this.machine.cpus[cpu];
    return readGuest(this.machine, Number(c.get("cr3") & ~0xfffn), BigInt.asUintN(64, va), len, rightsOf(c));
  }

  readU64(va: bigint, size = 8, cpu = this.cpu, asCpu = false): bigint | null {
    const b = asCpu ? this.readAs(va, size, cpu) : this.read(va, size, cpu);
    if (!b) return null;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  }

  /** Expression context of vCPU `cpu`. */
  context(cpu = this.cpu): ExprContext {
    const c = this.machine.cpus[cpu];
    return {
      register: (n) => registerValue(c, n),
      symbol: (n) => this.symbols.get(n)?.addr,
      read: (a, size) => this.readU64(a, size, cpu, true), // what the program could read (as x)
    };
  }

  eval(expr: string, cpu = this.cpu): bigint {
    return evaluate(expr, this.context(cpu));
  }

  /** Checks an expression's syntax and names without evaluating it (expressions.ts, check). */
  checkExpr(expr: string, cpu = this.cpu): void {
    check(expr, this.context(cpu));
  }

  /** Where vCPU `cpu` is, as a one-line disassembly marked with =>. */
  where(cpu = this.cpu): string {
    const c = this.machine.cpus[cpu];
    const state = c.get("halted") !== 0 ? " (halted)" : "";
    const line = insnLine(this.symbols, (a, n) => this.read(a, n, cpu), c.rip, "=>", this.machine.cpuVendor);
    return `[cpu${cpu}${state}] ` + line.trimStart();
  }

  // ---- breakpoints ----

  addBreakpoint(b: Omit<Breakpoint, "id" | "hits" | "enabled">): Breakpoint {
    const bp: Breakpoint = { ...b, id: b.internal ? 0 : this.nextId++, hits: 0, enabled: true };
    if (bp.kind === "watch" || bp.kind === "awatch") bp.last = this.readU64(bp.addr!, bp.size!);
    this.breakpoints.push(bp);
    return bp;
  }

  findBreakpoint(id: number): Breakpoint {
    const b = this.breakpoints.find((x) => x.id === id && !x.internal);
    if (!b) throw new DebugError(`no breakpoint number ${id}`);
    return b;
  }

  removeBreakpoint(b: Breakpoint): void {
    const i = this.breakpoints.indexOf(b);
    if (i >= 0) this.breakpoints.splice(i, 1);
  }

  private armed(kind?: Breakpoint["kind"]): Breakpoint[] {
    return this.breakpoints.filter((b) => b.enabled && (kind === undefined || b.kind === kind));
  }

  /** Something enabled can stop a `c`: a breakpoint, watchpoint or event breakpoint of the user's. */
  canStop(): boolean {
    return this.breakpoints.some((b) => b.enabled && !b.internal);
  }

  private get watching(): boolean {
    return this.breakpoints.some((b) => b.enabled && (b.kind === "watch" || b.kind === "rwatch" || b.kind === "awatch"));
  }

  /** Writes the enabled code breakpoints into the core's table (0 entries while quiet). */
  private syncTable(quiet: boolean): void {
    const addrs = quiet ? [] : [...new Set(this.armed("break").map((b) => b.addr!))];
    addrs.forEach((a, i) => this.core.setBreakpoint(i, a));
    this.core.setBreakpointCount(addrs.length);
  }

  // ---- running ----

  /** Starts running by `plan`; work() then advances it. */
  start(plan: Plan): void {
    const ended = this.target.finished();
    if (ended !== null) throw new DebugError(ended);
    this.maybeCheckpoint();
    this.interruptRequested = false;
    this.lastHit = null;
    this.planStopped = false;
    const c = this.current;
    // Resuming from a breakpoint: the instruction there runs once before it can stop again.
    this.skip = { cpu: this.cpu, rip: c.rip };
    this.lastEvent = this.machine.events.events.at(-1);
    for (const b of this.armed("gp")) b.wasIn = this.inGpState(b);
    for (const b of this.armed()) if (b.kind === "watch" || b.kind === "awatch") b.last = this.readU64(b.addr!, b.size!);
    this.active = { plan, ctl: this.control(plan) };
  }

  /** Advances the active run by at most `maxRuns` vCPU runs; the stop, or null if still running. */
  work(maxRuns = Infinity): Stop | null {
    if (!this.active) throw new Error("no run in progress");
    const { plan, ctl } = this.active;
    this.syncTable(plan.quiet ?? false);
    let s: CursorStop | null;
    try {
      s = this.cursor.advance(ctl, plan.end ?? FOREVER, maxRuns);
    } finally {
      this.core.setBreakpointCount(0);
      this.machine.events.drain();
    }
    if (s === null) {
      if (!plan.quiet) this.maybeCheckpoint();
      return null;
    }
    this.active = null;
    plan.cleanup?.();
    const next = this.planStopped ? plan.then?.() ?? null : null;
    if (typeof next === "string") return this.describe(s.kind === "control" ? { ...s, why: next } : s);
    if (next) {
      // Exactly as if the next command were typed at this stop point.
      this.start(next);
      return null;
    }
    return this.describe(s);
  }

  /** Runs `plan` to its stop. */
  run(plan: Plan): Stop {
    this.start(plan);
    for (;;) {
      const s = this.work(10_000);
      if (s) return s;
    }
  }

  private describe(s: CursorStop): Stop {
    if (s.kind === "control") {
      this.cpu = s.cpu;
      return { cpu: s.cpu, text: s.why ? `${s.why}\n${this.where(s.cpu)}` : this.where(s.cpu) };
    }
    if (s.kind === "time") return { cpu: this.cpu, text: `virtual time ${formatTime(this.machine.time)}\n${this.where()}` };
    const stop: StopReason = s.stop;
    if ("cpu" in stop) this.cpu = stop.cpu;
    const text = this.target.stopped(stop);
    // After the program's end there is no instruction to show.
    return { cpu: this.cpu, text: stop.kind === "exited" ? text : `${text}\n${this.where()}`, machine: stop };
  }

  private control(plan: Plan): Control {
    const quiet = plan.quiet ?? false, probe = plan.probe ?? false;
    const stop = (at: StopPoint, why: string | null, own = false) => {
      if (why !== null) { this.stopPoint = at; this.planStopped = own; }
      return why;
    };
    return {
      before: (c) => {
        if (this.interruptRequested) { this.interruptRequested = false; return stop("before", "Interrupted."); }
        return stop("before", plan.before?.(c) ?? null, true);
      },
      budget: (c) => {
        let b = plan.budget?.(c) ?? FOREVER;
        if (!quiet && this.watching) { const s = stepBudget(c); if (s < b) b = s; }
        return b > 0n ? b : 1n;
      },
      beforeRun: (c) => {
        if (this.skip?.cpu === c.index) { this.core.skipBreakpoint(c.index, this.skip.rip); this.skip = null; }
        this.pendingReads = [];
        if (!quiet && c.get("halted") === 0 && this.armed().some((b) => b.kind === "rwatch" || b.kind === "awatch")) {
          const bytes = this.read(c.rip, 15, c.index) ?? this.read(c.rip, 4096 - Number(c.rip & 0xfffn), c.index);
          if (bytes) this.pendingReads = accessesOf(c, bytes, this.machine.cpuVendor).filter((a) => a.read);
        }
        plan.beforeRun?.(c);
      },
      after: (c, bp) => {
        // The core stopped before the instruction at a breakpoint: a "before" stop point.
        if (bp) { const why = this.onBreakpoint(c, probe); if (why !== null) return stop("before", why, this.lastHit?.internal); }
        if (!quiet) {
          const why = this.checkWatchpoints(c, probe) ?? this.checkEvents(probe);
          if (why !== null) { this.cpu = c.index; return stop("after", why); }
        }
        return stop("after", plan.after?.(c) ?? null, true);
      },
      afterRound: () => (quiet ? null : stop("round", this.checkGpStates(probe))) ?? stop("round", plan.afterRound?.() ?? null, true),
    };
  }

  /** The core stopped `c` before an instruction with a breakpoint: stop, or step past it. */
  private onBreakpoint(c: CpuState, probe: boolean): string | null {
    const rip = c.rip;
    for (const b of this.armed("break")) {
      if (b.addr !== rip || (b.cpu !== undefined && b.cpu !== c.index)) continue;
      if (b.cond) {
        let v: bigint;
        try { v = this.eval(b.cond, c.index); } catch (e) {
          return `Error in testing condition for breakpoint ${b.id}: ${(e as Error).message}`;
        }
        if (v === 0n) continue;
      }
      this.lastHit = b;
      this.cpu = c.index;
      // gdb's "Breakpoint 1, work_leaf () at firmware/work.c:17", when the image has lines.
      const line = this.target.sourceLine(rip);
      const title = `${stopTitle(b)}, ${b.what}${line ? ` at ${line}` : ""}`;
      if (probe) return b.internal ? b.what : title;
      b.hits++;
      if (b.temporary || b.internal) this.removeBreakpoint(b);
      return b.internal ? b.what : title;
    }
    this.skip = { cpu: c.index, rip };
    return null;
  }

  /** A watched value changed, or the instruction just run read one (probe: do not count it). */
  private checkWatchpoints(c: CpuState, probe: boolean): string | null {
    for (const b of this.armed()) {
      if (b.kind === "watch" || b.kind === "awatch") {
        const v = this.readU64(b.addr!, b.size!);
        if (v !== b.last) {
          const old = b.last;
          b.last = v;
          this.hit(b, probe);
          return `${stopTitle(b)}: ${b.what}\n\nOld value = ${valueText(old)}\nNew value = ${valueText(v)}`;
        }
      }
      if ((b.kind === "rwatch" || b.kind === "awatch") && this.pendingReads.some((a) => overlaps(a, b.addr!, b.size!))) {
        this.hit(b, probe);
        this.pendingReads = [];
        return `${stopTitle(b)}: ${b.what}\n\nValue = ${valueText(this.readU64(b.addr!, b.size!))} (read by cpu${c.index})`;
      }
    }
    return null;
  }

  /** New events since the run started: text pokes, grace periods starting or ending, hazards. */
  private checkEvents(probe: boolean): string | null {
    const wanted = this.armed().filter((b) => b.kind === "poke" || b.kind === "hazard" || (b.kind === "gp" && !b.state));
    if (wanted.length === 0) return null;
    this.machine.events.drain();
    const evs = this.machine.events.events;
    let i = evs.length;
    while (i > 0 && evs[i - 1] !== this.lastEvent) i--;
    const fresh = evs.slice(i);
    this.lastEvent = evs.at(-1);
    for (const ev of fresh) {
      for (const b of wanted) {
        if (b.kind === "poke" && ev.kind === EventKind.POKE) {
          return this.eventStop(b, probe, `text poke batch ${ev.a}: ${ev.b} site(s) from ${this.symbols.format(ev.d)}`);
        }
        if (b.kind === "hazard" && ev.kind === EventKind.HAZARD) {
          return this.eventStop(b, probe, `cross-modifying-code hazard on cpu${ev.cpu} at ${this.symbols.format(ev.a)}`);
        }
        if (b.kind === "gp" && ev.kind === EventKind.GP) {
          const f = this.kernel.rcu.flavours[Number(ev.a)];
          if (b.flavour && f?.name !== b.flavour) continue;
          return this.eventStop(b, probe, `${f?.name ?? "flavour " + ev.a}: grace period ${ev.b} ${ev.c === 0n ? "started" : "ended"}`);
        }
      }
    }
    return null;
  }

  private eventStop(b: Breakpoint, probe: boolean, what: string): string {
    this.hit(b, probe);
    return `${stopTitle(b)}, ${what}`;
  }

  /** Counts a hit (a temporary one is used up); a probe only notes which it was. */
  private hit(b: Breakpoint, probe: boolean): void {
    this.lastHit = b;
    if (probe) return;
    b.hits++;
    if (b.temporary) this.removeBreakpoint(b);
  }

  private inGpState(b: Breakpoint): boolean {
    return this.kernel.rcu.flavours.some((f) => (!b.flavour || f.name === b.flavour) && f.state === b.state);
  }

  private checkGpStates(probe: boolean): string | null {
    for (const b of this.armed("gp")) {
      if (!b.state) continue;
      const now = this.inGpState(b);
      const entered = now && !b.wasIn;
      b.wasIn = now;
      if (entered) return this.eventStop(b, probe, `${b.flavour ?? "a flavour"} entered state ${b.state}`);
    }
    return null;
  }

  // ---- checkpoints and snapshots ----

  private maybeCheckpoint(): void {
    const last = this.history.at(-1)!;
    if (positionOf(this.machine) >= last.position + CHECKPOINT_EVERY) this.addCheckpoint();
  }

  /** Records the current stop point in this timeline's history. */
  addCheckpoint(): void {
    const now = positionOf(this.machine);
    if (this.history.some((c) => c.position === now)) return;
    this.history.push(this.store.take(this.cursor.save()));
    this.history.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    if (this.history.length > MAX_CHECKPOINTS) this.history.splice(1, 1); // keep the first: it bounds rc
  }

  /**
   * The user (or a kernel operation the user asked for) changed state outside the recorded
   * run: later checkpoints belong to a future that will not happen any more.
   */
  changed(kernelRan = false): void {
    if (kernelRan) this.cursor.reset();
    const now = positionOf(this.machine);
    this.history = this.history.filter((c) => c.position < now);
    this.history.push(this.store.take(this.cursor.save()));
  }

  snapshot(name: string): Checkpoint {
    if (!this.snapshots.has(name) && this.snapshots.size >= MAX_SNAPSHOTS) {
      throw new DebugError(`there are already ${MAX_SNAPSHOTS} snapshots, the most kept: reuse a name to replace one`);
    }
    const c = this.store.take(this.cursor.save());
    this.snapshots.set(name, c);
    return c;
  }

  restoreSnapshot(name: string): void {
    const c = this.snapshots.get(name);
    if (!c) throw new DebugError(`no snapshot named ${name}`);
    this.cursor.load(this.store.restore(c));
    // History starts again here: earlier checkpoints may belong to another timeline.
    this.history = [c];
  }

  /** Restores checkpoint `c` (for reverse execution). */
  restoreCheckpoint(c: Checkpoint): void {
    this.cursor.load(this.store.restore(c));
  }
}

/** Ticks a vCPU may run while being watched: one instruction, or a halt up to its timer. */
export function stepBudget(c: CpuState): bigint {
  if (c.get("halted") === 0 || [0, 1, 2, 3].some((i) => c.get("irr", i) !== 0n)) return 1n;
  const deadline = c.get("timerDeadline"), clock = c.get("clock");
  return deadline > clock ? deadline - clock : FOREVER;
}

function valueText(v: bigint | null | undefined): string {
  return v === null || v === undefined ? "<unreadable>" : `${v} (${hex(v)})`;
}

const REG32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/** $name of a register of vCPU c. */
export function registerValue(c: CpuState, name: string): bigint | undefined {
  const i = REG_NAMES.indexOf(name as (typeof REG_NAMES)[number]);
  if (i >= 0) return c.reg(i);
  const j = REG32.indexOf(name);
  if (j >= 0) return c.reg(j) & 0xffff_ffffn;
  const r = /^r(\d+)d$/.exec(name);
  if (r && Number(r[1]) >= 8 && Number(r[1]) <= 15) return c.reg(Number(r[1])) & 0xffff_ffffn;
  switch (name) {
    case "rip": case "pc": return c.rip;
    case "sp": return c.reg(4);
    case "fp": return c.reg(5);
    case "eflags": case "rflags": return c.rflags;
    case "cr0": case "cr2": case "cr3": case "cr4": case "efer": return BigInt(c.get(name));
    case "cs": case "ss": case "cpl": return BigInt(c.get(name));
    case "fs_base": return c.get("fsBase");
    case "gs_base": return c.get("gsBase");
    case "clock": return c.get("clock");
    case "insns": return c.get("insns");
  }
  return undefined;
}

export { ExprError };
