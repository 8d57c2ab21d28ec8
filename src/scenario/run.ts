// Carrying a scenario's steps out on the library API: the same calls the tests make.
import { Kernel } from "../kernel/kernel.js";
import { configFields, kernelConfig, type KernelConfig } from "../kernel/config.js";
import { FtraceOps } from "../kernel/ftrace/ops.js";
import { FtraceError } from "../kernel/ftrace/ftrace.js";
import { GlobError } from "../kernel/ftrace/glob.js";
import { FunctionTracer, FunctionCounter, type TraceRecord } from "../kernel/ftrace/tracers.js";
import { parseElf } from "../machine/elf.js";
import type { Release } from "../kernel/ftrace/release.js";
import type { OpsState } from "../kernel/ftrace/ops.js";
import { insmodStep, moduleOps, moduleOpsReleases, rmmodStep } from "./run-module.js";
import type { Flavour } from "../kernel/rcu/flavour.js";
import { PAGE } from "../machine/paging.js";
import { formatTime } from "../machine/units.js";
import { finish, type Slices } from "../machine/slices.js";
import { DEMAND_START } from "../kernel/memory.js";
import { outsideCallbacks, runningProbe, blockedIn } from "./conditions.js";
import { synchronizeUnregisterOrder, TracepointError, type Probe } from "../kernel/tracepoint.js";
import { SYNCHRONIZE_UNREGISTER } from "./context.js";
import type { MachineSpec, OpsSpec, Pos, Scenario, Step, Until } from "./types.js";
import { VEC_TIMER, VEC_CALL_FUNCTION, VEC_RESCHED } from "../gen/constants.js";

/** An ops of the scenario, alive once the machine booted. */
export interface LiveOps {
  spec: OpsSpec;
  ops: FtraceOps;
  tracer?: FunctionTracer;
  counter?: FunctionCounter;
  /** Host callback: calls per traced function's address. */
  hostCalls?: Map<bigint, bigint>;
  /** Function tracer: every record read so far (the rings are drained after each step). */
  records: TraceRecord[];
  releases: Release[];
}

/** A step that could not be carried out: the scenario stops there. */
export class StepFailure extends Error {
  constructor(readonly at: Pos, message: string) {
    super(message);
  }
}

export const VECTORS = { timer: VEC_TIMER, "call-function": VEC_CALL_FUNCTION, reschedule: VEC_RESCHED } as const;

/** The KernelConfig of a scenario's machine (its other keys are set on the booted kernel). */
export function kernelConfigOf(m: MachineSpec, seed: bigint | undefined): KernelConfig {
  return kernelConfig({ ...configFields(m), seed, workload: m.workload?.map(({ at: _at, ...t }) => t) });
}

export class ScenarioRun {
  k?: Kernel;
  readonly ops = new Map<string, LiveOps>();
  /** sys_enter probes, by the name their register-probe step gave, and when each was unregistered. */
  readonly probes = new Map<string, Probe>();
  readonly probeUnregisteredAt = new Map<string, bigint>();
  /** What happened, one line per step, with the virtual time (printed with failures). */
  readonly log: string[] = [];
  /** Latencies of synchronize steps. */
  readonly syncs: { flavour: string; ticks: bigint }[] = [];
  /** Runs that ended early (lockup, every vCPU halted). */
  readonly stops: string[] = [];
  private image: Uint8Array;

  constructor(readonly scenario: Scenario, readonly seed: bigint | undefined, firmware: Uint8Array) {
    this.image = new Uint8Array(firmware);
  }

  get kernel(): Kernel {
    if (!this.k) throw new Error("the machine has not booted");
    return this.k;
  }

  /** Carries out one step; throws StepFailure when it cannot. */
  step(s: Step): void {
    finish(this.stepSlices(s));
  }

  /** step in slices (src/machine/slices.ts): the steps that run the machine yield between slices. */
  *stepSlices(s: Step): Slices<void> {
    const at = this.k ? formatTime(this.k.machine.time).padStart(13) : "  before boot";
    this.log.push(`${at}  line ${s.at.line}: ${describeStep(s)}`);
    switch (s.kind) {
      case "boot":
        try {
          return this.boot();
        } catch (e) {
          // What the machine section asks for does not fit in the guest's memory.
          if (e instanceof RangeError) throw new StepFailure(s.at, `boot: ${e.message}`);
          throw e;
        }
      case "run": return yield* this.run(s.at, s.ticks);
      case "register": return this.ftraceCall(s.at, s.fails, () => this.kernel.ftrace.register(this.live(s.ops).ops));
      case "unregister": return this.ftraceCall(s.at, s.fails, () => {
        const l = this.live(s.ops);
        const r = this.kernel.ftrace.unregister(l.ops, s.policy);
        if (r) l.releases.push(r);
      });
      case "filter": return this.ftraceCall(s.at, s.fails, () => {
        const o = this.live(s.ops).ops;
        this.kernel.ftrace.setFilter(o, s.filter ?? o.filter, s.notrace ?? o.notrace);
      });
      case "synchronize": return yield* this.synchronize(s.at, s.flavour, s.within);
      case "interrupt": return yield* this.interrupt(s);
      case "until": return yield* this.until(s.at, s.until, s.within);
      case "corrupt-site": return this.corrupt(s.at, s.function, s.bytes);
      case "register-probe": return this.registerProbe(s);
      case "unregister-probe": {
        this.probeUnregisteredAt.set(s.probe, this.kernel.machine.time);
        const tp = this.kernel.sysEnter;
        const names = s.flavour === SYNCHRONIZE_UNREGISTER ? synchronizeUnregisterOrder(tp.faultable) : [s.flavour];
        return tp.unregisterAfter(this.probes.get(s.probe)!, names.map((n) => this.flavour(n)));
      }
      case "mark": this.kernel.poke.log.push(`# ${s.text}`); return;
      case "insmod": return this.logLines(insmodStep(this.kernel, s, (m) => { throw new StepFailure(s.at, m); }));
      case "rmmod": return this.logLines(rmmodStep(this.kernel, s, (m) => { throw new StepFailure(s.at, m); }));
      case "expect": return; // evaluated by the caller, which holds the expectations' logic
    }
  }

  private boot(): void {
    const k = new Kernel(kernelConfigOf(this.scenario.machine, this.seed), this.image);
    k.ftrace.useTrampolines = this.scenario.machine.trampolines;
    k.demand.sleepJiffies = this.scenario.machine.faultSleep;
    this.k = k;
    for (const spec of this.scenario.ops) this.ops.set(spec.name, this.makeOps(k, spec));
    if (k.ftrace.bugs.length) this.log.push(`               ftrace_bug at boot: ftrace is disabled`);
  }

  private makeOps(k: Kernel, spec: OpsSpec): LiveOps {
    const common = {
      name: spec.name, filter: spec.filter, notrace: spec.notrace,
      saveRegs: spec.saveRegs, recursion: spec.recursion, dynamic: spec.dynamic, permanent: spec.permanent,
    };
    const live = (ops: FtraceOps, extra: Partial<LiveOps> = {}): LiveOps => ({ spec, ops, records: [], releases: [], ...extra });
    switch (spec.kind) {
      case "function": {
        // The tracer's rings, under an ops named as the scenario names it (trampolines and logs show it).
        const tracer = new FunctionTracer(k.machine, k.heap, spec.ring);
        return live(new FtraceOps({
          ...common, callback: { kind: "guest", symbol: "function_trace_call" }, private: tracer.ops.private, dynamic: false,
        }), { tracer });
      }
      case "counter": {
        const counter = new FunctionCounter(k.machine, k.heap, k.ftrace.records.length);
        return live(new FtraceOps({
          ...common, callback: { kind: "guest", symbol: "function_count_call" }, private: counter.ops.private,
        }), { counter });
      }
      case "slow":
        return live(new FtraceOps({ ...common, callback: { kind: "guest", symbol: "function_slow_call" }, private: BigInt(spec.spin) }));
      case "host": {
        const hostCalls = new Map<bigint, bigint>();
        const fn = (c: { ip: bigint }) => { hostCalls.set(c.ip, (hostCalls.get(c.ip) ?? 0n) + 1n); };
        return live(new FtraceOps({ ...common, callback: { kind: "host", fn } }), { hostCalls });
      }
      // The callbacks that misbehave on purpose (firmware/callbacks.c), with the op->private each reads.
      case "recursing":
        return live(new FtraceOps({ ...common, callback: { kind: "guest", symbol: "function_recursing_call" } }));
      case "faulting": // a new page of the kernel's demand region per call
        return live(new FtraceOps({ ...common, callback: { kind: "guest", symbol: "function_faulting_call" }, private: DEMAND_START }));
      case "warning": // WARN_ON(ip == op->private): the callback's ip is the traced function's site
        return live(new FtraceOps({
          ...common, callback: { kind: "guest", symbol: "function_warning_call" }, private: k.ftrace.record(spec.warnAt!)!.ip,
        }));
    }
  }

  live(name: string): LiveOps {
    return this.ops.get(name)!;
  }

  /** An ops by the name a scenario gives it: its own, or one a module registered (MODULE:SYMBOL). */
  opsState(name: string): OpsState | undefined {
    const l = this.ops.get(name);
    return l ? l.ops.data : moduleOps(this.kernel, name);
  }

  /** The releases of an ops named so, oldest first. */
  releasesOf(name: string): Release[] {
    return this.ops.get(name)?.releases ?? moduleOpsReleases(this.kernel, name);
  }

  private logLines(lines: string[]): void {
    for (const l of lines) this.log.push(`               ${l}`);
  }

  /** Drains the function tracers' rings (after each step, so they never overrun between). */
  drain(): void {
    for (const l of this.ops.values()) if (l.tracer) l.records.push(...l.tracer.consume());
  }

  private *run(at: Pos, ticks: bigint): Slices<void> {
    const stop = yield* this.kernel.runSlices(ticks);
    if (stop.kind === "time") return;
    const what = this.kernel.describe(stop);
    if (stop.kind === "lockup" || stop.kind === "all-halted") { this.stops.push(what); return; }
    throw new StepFailure(at, `the machine stopped: ${what}`);
  }

  private ftraceCall(at: Pos, fails: string | undefined, f: () => void): void {
    try {
      f();
    } catch (e) {
      if (!(e instanceof FtraceError || e instanceof GlobError)) throw e;
      const errno = e instanceof FtraceError ? e.errno : "EINVAL";
      if (fails === errno) { this.log.push(`               refused as expected: ${errno}: ${e.message}`); return; }
      throw new StepFailure(at, fails ? `expected ${fails}, got ${errno}: ${e.message}` : `${errno}: ${e.message}`);
    }
    if (fails) throw new StepFailure(at, `expected the call to fail with ${fails}, but it succeeded`);
  }

  /** tracepoint_probe_register, expected to succeed or (`fails`) to be refused with that errno. */
  private registerProbe(s: Extract<Step, { kind: "register-probe" }>): void {
    let probe: Probe;
    try {
      probe = this.kernel.sysEnter.register(s.probe, s.pages, s.mayFault);
    } catch (e) {
      if (!(e instanceof TracepointError)) throw new StepFailure(s.at, `tracepoint_probe_register: ${(e as Error).message}`);
      if (s.fails === e.errno) {
        this.log.push(`               refused as expected (${e.errno}): ${e.message}`);
        return;
      }
      throw new StepFailure(s.at, `tracepoint_probe_register: ${e.errno}: ${e.message}`);
    }
    if (s.fails) throw new StepFailure(s.at, `tracepoint_probe_register succeeded; expected ${s.fails}`);
    this.probes.set(s.probe, probe);
  }

  private flavour(name: string): Flavour {
    return this.kernel.rcu.flavours.find((f) => f.name === name)!;
  }

  private *synchronize(at: Pos, name: string, within: bigint): Slices<void> {
    try {
      const ticks = yield* this.kernel.synchronizeSlices(this.flavour(name), within);
      this.syncs.push({ flavour: name, ticks });
      this.log.push(`               synchronize_${name}() took ${formatTime(ticks)}`);
    } catch (e) {
      throw new StepFailure(at, (e as Error).message);
    }
  }

  /** Runs until vCPU `cpu` has retired exactly the instruction count asked for, then raises the interrupt. */
  private *interrupt(s: Extract<Step, { kind: "interrupt" }>): Slices<void> {
    const k = this.kernel;
    if (s.cpu >= k.machine.ncpus) throw new StepFailure(s.at, `there is no cpu ${s.cpu}`);
    const cpu = k.machine.cpus[s.cpu];
    const target = s.atInsn ?? cpu.get("insns") + (s.afterInsns ?? 0n);
    if (cpu.get("insns") > target) {
      throw new StepFailure(s.at, `cpu${s.cpu} already retired ${cpu.get("insns")} instructions, past ${target}`);
    }
    const end = k.machine.time + s.within;
    // No vCPU's clock is behind machine time and an instruction takes a tick, so running `left`
    // ticks retires at most `left` instructions on this one: the loop lands on the count
    // exactly, never past it (time spent halted just makes it go round again).
    while (cpu.get("insns") < target) {
      const budget = end - k.machine.time;
      if (budget <= 0n) {
        const retired = cpu.get("insns");
        throw new StepFailure(s.at, `cpu${s.cpu} retired only ${retired} of ${target} instructions within ${formatTime(s.within)}`);
      }
      const left = target - cpu.get("insns");
      yield* this.run(s.at, left < budget ? left : budget);
    }
    const where = k.symbols.format(cpu.rip);
    if (s.vector === "reschedule") {
      // resched_curr(): set need_resched, then the IPI (setResched sends it itself to an idle vCPU).
      k.sched.setResched(s.cpu, false);
      if (k.sched.current[s.cpu].kind !== "idle") k.machine.interrupt(s.cpu, VECTORS.reschedule);
    } else k.machine.interrupt(s.cpu, VECTORS[s.vector]);
    const past = cpu.get("insns") - target;
    this.log.push(`               ${s.vector} interrupt raised on cpu${s.cpu} after instruction ${cpu.get("insns")}` +
      `${past ? ` (${past} past the ${target} asked for)` : ""}, at ${where} (${k.sched.current[s.cpu].name})`);
  }

  private *until(at: Pos, u: Until, within: bigint): Slices<void> {
    const k = this.kernel;
    let done: () => boolean;
    switch (u.kind) {
      case "all-idle": done = () => k.allIdle(); break;
      case "outside-callbacks": done = () => outsideCallbacks(k); break;
      case "probe-running": done = () => runningProbe(k) !== undefined; break;
      case "probe-blocked": { const p = this.probes.get(u.probe)!; done = () => blockedIn(k, p) !== undefined; break; }
      case "probe-freed": { const p = this.probes.get(u.probe)!; done = () => p.state === "freed"; break; }
      case "freed": {
        done = () => {
          const releases = this.releasesOf(u.ops);
          return releases.length > 0 && releases.every((r) => r.freedAt !== undefined);
        };
        break;
      }
      case "inside": {
        done = () => {
          // Looked up as the run goes: a module's kthread exists only once the module made it.
          const task = k.sched.tasks.find((x) => x.name === u.task);
          const t = this.opsState(u.ops)?.trampoline;
          if (!t || !task) return false;
          const held = k.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE)).some((h) => h.task === task);
          if (!held) return false;
          return u.as === "any" || (u.as === "running" ? task.state === "running" : task.state === "runnable" && task.preempted);
        };
      }
    }
    if (!(yield* k.runUntilSlices(done, within))) {
      throw new StepFailure(at, `the condition did not hold within ${formatTime(within)} (${describeUntil(u)})`);
    }
    if (u.kind === "inside") {
      const t = this.opsState(u.ops)!.trampoline!;
      for (const h of k.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE))) {
        this.log.push(`               holds the trampoline: ${h.text}`);
      }
    }
    if (u.kind === "probe-blocked") {
      this.log.push(`               ${blockedIn(k, this.probes.get(u.probe)!)!.name} sleeps in a page fault of probe ${u.probe}`);
    }
    if (u.kind === "probe-running") this.log.push(`               ${runningProbe(k)!.name} runs probe_user_read`);
  }

  private corrupt(at: Pos, fn: string, bytes: Uint8Array): void {
    if (this.k) {
      const rec = this.k.ftrace.record(fn)!;
      this.k.machine.writePhys(this.k.phys(rec.ip), bytes);
      return;
    }
    // Before boot: the site in the image file, so boot's conversion finds it.
    const elf = parseElf(this.image, "kernel");
    const sym = elf.symbols.find((s) => s.name === fn);
    const seg = sym && elf.segments.find((s) => sym.value >= s.vaddr && sym.value < s.vaddr + BigInt(s.data.length));
    if (!sym || !seg) throw new StepFailure(at, `the image has no code for ${fn}`);
    this.image.set(bytes, seg.data.byteOffset + Number(sym.value - seg.vaddr));
  }
}

function describeUntil(u: Until): string {
  switch (u.kind) {
    case "inside": return `${u.task} inside the trampoline of ${u.ops}${u.as === "any" ? "" : `, ${u.as}`}`;
    case "freed": return `every release of ${u.ops} freed`;
    case "all-idle": return "every vCPU idle";
    case "outside-callbacks": return "no callback half done";
    case "probe-running": return `a task running probe_user_read (probe ${u.probe})`;
    case "probe-blocked": return `a task blocked in a page fault of probe ${u.probe}`;
    case "probe-freed": return `probe ${u.probe}'s data freed`;
  }
}

export function describeStep(s: Step): string {
  switch (s.kind) {
    case "boot": return "boot";
    case "run": return `run ${formatTime(s.ticks)}`;
    case "register": return `register ${s.ops}${s.fails ? ` (must fail: ${s.fails})` : ""}`;
    case "unregister":
      return `unregister ${s.ops}${s.policy ? ` (policy ${s.policy})` : ""}${s.fails ? ` (must fail: ${s.fails})` : ""}`;
    case "filter":
      return `set ${s.ops}'s${s.filter !== undefined ? ` filter "${s.filter}"` : ""}` +
        `${s.notrace !== undefined ? ` notrace "${s.notrace}"` : ""}`;
    case "synchronize": return `synchronize_${s.flavour}()`;
    case "interrupt":
      return `${s.vector} interrupt on cpu${s.cpu} ` +
        (s.atInsn !== undefined ? `at instruction ${s.atInsn}` : `after ${s.afterInsns ?? 0n} instructions`);
    case "until": return `run until ${describeUntil(s.until)} (at most ${formatTime(s.within)})`;
    case "corrupt-site": return `corrupt ${s.function}'s site: ${[...s.bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`;
    case "register-probe": {
      const flags = s.mayFault === undefined ? "" : s.mayFault ? ", TRACEPOINT_MAY_FAULT" : ", without TRACEPOINT_MAY_FAULT";
      return `register probe ${s.probe} on sys_enter${s.pages !== undefined ? ` (${s.pages} user pages)` : ""}${flags}` +
        (s.fails ? `, expected to fail with ${s.fails}` : "");
    }
    case "unregister-probe": return `unregister probe ${s.probe}, its data freed after ${s.flavour}`;
    case "mark": return `mark "${s.text}"`;
    case "expect": return `check ${s.expectations.length} expectation(s)`;
    case "insmod": return `insmod ${s.line}${s.fails ? ` (must fail: ${s.fails})` : ""}`;
    case "rmmod": return `rmmod ${s.module}${s.fails ? ` (must fail: ${s.fails})` : ""}`;
  }
}
