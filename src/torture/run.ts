// One torture iteration: boot, carry the plan out, and check after every step that nothing
// went wrong that the configuration should have prevented — and that everything the unsafe
// configurations let happen was caught.
import { Kernel } from "../kernel/kernel.js";
import { FtraceOps } from "../kernel/ftrace/ops.js";
import { releaseSteps } from "../kernel/ftrace/release.js";
import { EventKind } from "../gen/layout.js";
import { describeConfig, describeStep, TICK, TORTURE_KERNEL, type Plan } from "./plan.js";
import { releaseSafe } from "./safety.js";
import { formatHz, formatTime } from "../machine/units.js";
import { finish, type Slices } from "../machine/slices.js";

export interface IterationResult {
  plan: Plan;
  safe: boolean;
  why: string;
  /** Trampolines freed while a task's IP or return address still pointed into them. */
  prematureFrees: number;
  /** Executions of freed memory reported. */
  caught: number;
  /** The first failure: the step it was found after (-1: at the end) and what. */
  failure?: { step: number; what: string };
  log: string[];
  ticks: bigint;
}

/** How long the last releases may take before it counts as a stall. */
const RELEASE_LIMIT = 20_000 * TICK;
/** Time given afterwards to any task still holding freed memory to come back to it... */
const DRAIN = 10_000 * TICK;
/** ...and then to anything else to go wrong. */
const DRAIN_AFTER = 100 * TICK;

export function runIteration(plan: Plan): IterationResult {
  return finish(iterationSlices(plan));
}

/** runIteration in slices (src/machine/slices.ts): `tramplab torture` drives it so that Ctrl-C can stop it. */
export function* iterationSlices(plan: Plan): Slices<IterationResult> {
  const c = plan.config;
  const k = Kernel.boot({
    cpus: c.cpus, preempt: c.preempt, kernel: TORTURE_KERNEL, kconfig: c.kconfig, release: c.release, seed: c.interleave,
    timeslice: c.timeslice, tickPeriod: TICK, workload: plan.workload, softLockupTicks: 50_000_000, recursion: c.recursion,
  });
  const flavours = releaseSteps(c.release, k.kconfig, k.rcu).filter((s) => s.skipped === undefined).map((s) => s.flavour.name);
  const ops = plan.ops.map((p) => new FtraceOps({
    name: p.name, callback: { kind: "guest", symbol: "function_slow_call" }, private: BigInt(p.spin), saveRegs: p.saveRegs,
  }));
  const log: string[] = [
    `config ${describeConfig(c)}, timeslice in jiffies at ${formatHz(TICK)}; release waits for ${flavours.join(" + ") || "nothing"}`,
  ];
  const result: IterationResult = { plan, safe: true, why: "", prematureFrees: 0, caught: 0, log, ticks: 0n };

  const check = (): string | undefined => {
    const { safe, why } = releaseSafe(flavours, c.preempt);
    result.safe = safe;
    result.why = why;
    const hazards = k.machine.events.ofKind(EventKind.HAZARD).length;
    if (hazards > 0) return `${hazards} cross-modifying-code hazard(s)`;
    if (k.ftrace.bugs.length > 0) return `ftrace bug:\n${k.ftrace.bugs[0]}`;
    if (k.lockups.length > 0) return k.lockups[0].text;
    const unexplained = k.oopses.filter((o) => !k.useAfterFrees.some((u) => u.pid === o.pid && u.rip === o.rip));
    if (unexplained.length > 0) return `oops that is not a use-after-free:\n${unexplained[0].text}`;
    for (const u of k.useAfterFrees) {
      // A fetch from a freed trampoline must come from a task the free saw inside it. Reads of a
      // freed ops or hash come from tasks that were inside its callbacks (the list function
      // has preemption off, so only unsafe policies get there).
      const t = u.trampoline;
      if (t && !t.heldAtFree?.some((h) => h.pid === u.pid)) {
        return `use-after-free by a task the free did not see holding the trampoline:\n${u.text}`;
      }
    }
    if (safe) {
      if (k.useAfterFrees.length > 0) return `use-after-free in a safe configuration:\n${k.useAfterFrees[0].text}`;
      const early = k.trampolines.all.find((t) => t.heldAtFree?.some((h) => h.live));
      if (early) {
        const holders = early.heldAtFree!.filter((h) => h.live).map((h) => h.text).join("; ");
        return `trampoline of ${early.ops.name} freed while in use, in a safe configuration: ${holders}`;
      }
    }
    return undefined;
  };

  const fail = (step: number, what: string) => { result.failure = { step, what }; };
  /** Live holders at some free that have neither been reported nor died. */
  const uncaught = () => k.trampolines.all.flatMap((t) => (t.heldAtFree ?? []).filter((h) => h.live &&
    !k.useAfterFrees.some((u) => u.pid === h.pid) && k.sched.tasks.find((x) => x.pid === h.pid)!.state !== "dead"));
  for (let i = 0; i < plan.steps.length && !result.failure; i++) {
    if (i > 0) yield; // every step ends a slice too
    const s = plan.steps[i];
    log.push(`${formatTime(k.machine.time).padStart(13)}  step ${i}: ${describeStep(s, plan.ops)}`);
    try {
      switch (s.kind) {
        case "register": ops[s.ops].filter = s.filter; k.ftrace.register(ops[s.ops]); break;
        case "unregister": k.ftrace.unregister(ops[s.ops]); break;
        case "filter": k.ftrace.setFilter(ops[s.ops], s.filter); break;
        case "run": yield* k.runSlices(s.ticks); break;
      }
    } catch (e) {
      fail(i, `step threw: ${(e as Error).message}`);
      break;
    }
    const f = check();
    if (f) fail(i, f);
    // An unsafe configuration has shown what it does; a vCPU may be lost (an idle task cannot
    // die), so the plan stops here and only the catching is checked.
    if (!result.safe && k.useAfterFrees.length > 0) {
      log.push(`${formatTime(k.machine.time).padStart(13)}  use-after-free caught; the rest of the plan is skipped`);
      break;
    }
  }
  const stopped = k.useAfterFrees.length > 0;
  if (!result.failure && !stopped) {
    const done = yield* k.runUntilSlices(() => k.releases.pending().length === 0, RELEASE_LIMIT);
    if (!done) {
      fail(-1, `releases did not finish within ${formatTime(RELEASE_LIMIT)}:\n` +
        `${k.releases.describe(k.machine.time)}\n${k.rcu.describe(k.machine.time)}`);
    }
  }
  if (!result.failure) {
    // Give every task still holding freed memory time to come back to it (or die of another).
    yield* k.runUntilSlices(() => uncaught().length === 0, DRAIN);
    yield* k.runSlices(DRAIN_AFTER);
    const f = check();
    if (f) fail(-1, f);
  }
  // Every task that still had a freed trampoline's address live on its stack came back to it
  // and was caught (or was already dead of an earlier one).
  result.prematureFrees = k.trampolines.all.reduce((n, t) => n + (t.heldAtFree ?? []).filter((h) => h.live).length, 0);
  const missed = uncaught();
  if (missed.length > 0 && !result.failure) {
    fail(-1, `premature free not caught within ${formatTime(DRAIN)}: ${missed.map((h) => h.text).join("; ")}`);
  }
  result.caught = k.useAfterFrees.length;
  result.ticks = k.machine.time;
  log.push(`${formatTime(k.machine.time).padStart(13)}  end: ${k.releases.all.length} release(s), ` +
    `${result.prematureFrees} premature free(s), ${result.caught} use-after-free(s) caught`);
  if (result.failure) log.push(...k.useAfterFrees.map((u) => u.text));
  return result;
}
