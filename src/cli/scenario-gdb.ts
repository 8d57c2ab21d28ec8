// tramplab scenario FILE --gdb [HOST:]PORT [--gdb-wait] [--gdb-step N|KIND]: the scenario's
// steps up to (not including) step N, then the machine served to gdb as `debug --gdb` does.
// gdb owns the machine from there: the remaining steps run only when gdb asks for them with
// `monitor scenario next`, and expectations are not checked (gdb may have changed anything).
import { UsageError } from "./args.js";
import { serveGdb } from "./debug.js";
import { INTERRUPTED, interruptedNote, withInterrupts } from "./interrupt.js";
import { STEP_KINDS } from "../scenario/parse.js";
import { StepFailure } from "../scenario/run.js";
import { ScenarioStepper } from "../scenario/stepper.js";
import { DebugError, type Engine } from "../debug/engine.js";
import type { MonitorExtension, MonitorJob } from "../debug/gdbstub/monitor.js";
import type { Slices } from "../machine/slices.js";
import { formatTime } from "../machine/units.js";
import type { Scenario } from "../scenario/types.js";

export interface ScenarioGdbOptions {
  host: string;
  port: number;
  wait: boolean;
  /** --gdb-step as given; undefined: right after the boot step. */
  step?: string;
  seed?: bigint;
  verbose: boolean;
}

/**
 * The index of the first step not carried out before gdb attaches, from --gdb-step: a number
 * as the report counts steps (1 is the first), or a step's kind (the first such step after
 * boot). The machine exists only after boot, so the earliest stop is right after it; one past
 * the last step stops after every step.
 */
export function gdbStepIndex(s: Scenario, text: string | undefined): number {
  const boot = s.steps.findIndex((x) => x.kind === "boot");
  const first = boot + 2, last = s.steps.length + 1;
  if (text === undefined) return boot + 1;
  const range = `${s.file} has steps 1 to ${s.steps.length}, step ${boot + 1} boots: --gdb-step is ${first} to ${last}` +
    ` (${last}: after the last step)`;
  if (/^\d{1,9}$/.test(text)) {
    const n = Number(text);
    if (n < first || n > last) throw new UsageError(`--gdb-step ${n}: ${range}`);
    return n - 1;
  }
  if ((STEP_KINDS as readonly string[]).includes(text)) {
    const i = s.steps.findIndex((x, j) => j > boot && x.kind === text);
    if (i < 0) {
      const kinds = [...new Set(s.steps.slice(boot + 1).map((x) => x.kind))].join(", ") || "none";
      throw new UsageError(`--gdb-step ${text}: ${s.file} has no ${text} step after boot (its steps after boot: ${kinds})`);
    }
    return i;
  }
  throw new UsageError(`--gdb-step needs a step number or a step's kind (${STEP_KINDS.join(", ")}), ` +
    `got ${JSON.stringify(text.slice(0, 80))}`);
}

/** Runs the steps before the chosen one, then serves the machine to gdb until the session ends. */
export async function scenarioGdb(s: Scenario, o: ScenarioGdbOptions): Promise<number> {
  const end = gdbStepIndex(s, o.step);
  const stepper = new ScenarioStepper(s, { seed: o.seed });
  const ran = await withInterrupts(async (i) => {
    try {
      return await i.run(stepper.upTo(end));
    } catch (e) {
      if (!(e instanceof StepFailure)) throw e;
      return e;
    }
  });
  if (o.verbose) process.stdout.write(stepper.run.log.join("\n") + "\n");
  if (ran instanceof StepFailure) {
    process.stderr.write(`${s.file}:${ran.at.line}:${ran.at.col}: step failed: ${ran.message}\n`);
    process.stderr.write(`tramplab scenario: ${stepper.describe(stepper.next - 1)} failed before gdb could attach; nothing is served\n`);
    return 1;
  }
  if (stepper.next < end) {
    process.stderr.write(interruptedNote("scenario", `while running ${s.file}, before its step ${end + 1}`));
    return INTERRUPTED;
  }
  if (!stepper.run.k) throw new Error("the scenario ran to its gdb step without booting");
  process.stderr.write(banner(stepper) + "\n");
  return serveGdb(stepper.run.k, o, scenarioMonitor(stepper));
}

/** Steps not run that the banner names (a scenario may register a thousand ops, one step each). */
const BANNER_STEPS = 20;

/** What gdb is given, and what will not happen unless gdb asks. */
function banner(st: ScenarioStepper): string {
  const k = st.run.k!;
  const at = `virtual time ${formatTime(k.machine.time)}`;
  const lines = [st.next < st.steps.length
    ? `tramplab scenario: ${st.scenario.file} stopped before ${st.describe(st.next)}, at ${at}`
    : `tramplab scenario: ${st.scenario.file} stopped after its last step, at ${at}`];
  const rest = st.steps.map((_, i) => i).slice(st.next);
  if (rest.length) {
    lines.push(`  gdb owns the machine from here; these steps run only on "monitor scenario next", one at a time:`,
      ...rest.slice(0, BANNER_STEPS).map((i) => `    ${st.describe(i)}`));
    if (rest.length > BANNER_STEPS) lines.push(`    and ${rest.length - BANNER_STEPS} more ("monitor scenario steps" lists them)`);
  }
  lines.push("  expectations are not checked in a --gdb session");
  return lines.join("\n");
}

/** `monitor scenario [steps | next]`. */
export function scenarioMonitor(st: ScenarioStepper): MonitorExtension {
  return {
    name: "scenario",
    help: [
      "  scenario [steps]  the scenario's steps: those carried out, the next",
      "  scenario next     carry out the next step on the machine as it is (gdb's breakpoints do not stop it)",
    ],
    run: (e, args) => {
      const [sub = "steps", ...more] = args;
      if (more.length) throw new DebugError("usage: scenario [steps | next]");
      if (sub === "steps") return st.list();
      if (sub !== "next") throw new DebugError(`unknown scenario command "${sub.slice(0, 40)}" (steps, next)`);
      return next(st, e);
    },
  };
}

/**
 * The next step, as a job the stub carries out in slices (a step may run the machine for
 * seconds of host time: gdb's Ctrl-C stops it part way, and gdb hears how far it got).
 */
function next(st: ScenarioStepper, e: Engine): MonitorJob {
  if (st.failure) throw new DebugError(`${st.describe(st.failure.index)} failed; the scenario stops there`);
  if (st.next >= st.steps.length) throw new DebugError("every step of the scenario has been carried out");
  const index = st.next;
  const from = st.run.log.length;
  const report = (failed?: string): string => {
    const out = [`carried out ${st.describe(index)}`, ...st.run.log.slice(from)];
    if (failed) out.push(`step failed: ${failed}`);
    out.push(failed ? "no further step runs (as in tramplab scenario)"
      : st.next < st.steps.length ? `next: ${st.describe(st.next)}` : "that was the last step");
    out.push(`now at virtual time ${formatTime(e.machine.time)}; ${e.where()}`,
      "(gdb keeps the registers it read: \"maintenance flush register-cache\" before reading them again)");
    return out.join("\n");
  };
  function* slices(): Slices<string> {
    let failed: string | undefined;
    try {
      yield* st.stepSlices();
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      failed = err.message;
    } finally {
      restart(e);
    }
    return report(failed);
  }
  return {
    slices: slices(),
    progress: () => `  step ${index + 1} running, at virtual time ${formatTime(e.machine.time)}`,
    interrupt: () => {
      st.abandon();
      restart(e);
      return report("interrupted part way");
    },
  };
}

/**
 * A step ran the kernel outside gdb's run: the timeline restarts here. Reverse execution must
 * not go back across it either: the scenario's own state (its ops, releases, which step comes
 * next) is not in the checkpoints, so only the kernel would go back.
 */
function restart(e: Engine): void {
  e.changed(true);
  e.history = e.history.slice(-1);
}
