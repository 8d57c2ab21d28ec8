// A scenario carried out step by step, for `scenario --gdb`: the steps up to the one asked for
// run before gdb attaches, and gdb's `monitor scenario next` carries out the following ones on
// the stopped machine. Expectations are not checked: gdb may have changed anything.
import { formatTime } from "../machine/units.js";
import { finish, type Slices } from "../machine/slices.js";
import { describeStep, StepFailure, type ScenarioRun } from "./run.js";
import { startRun, type ScenarioOptions } from "./scenario.js";
import type { Scenario } from "./types.js";

export class ScenarioStepper {
  readonly run: ScenarioRun;
  /** The index of the next step to carry out (steps.length: every step ran). */
  next = 0;
  /** The step that could not be carried out: no step runs after it, as in `tramplab scenario`. */
  failure?: { index: number; error: StepFailure };

  constructor(readonly scenario: Scenario, opts: ScenarioOptions = {}) {
    this.run = startRun(scenario, opts);
  }

  get steps(): Scenario["steps"] { return this.scenario.steps; }

  /** The 0-based index of the boot step (validation made sure there is one). */
  get bootIndex(): number { return this.steps.findIndex((s) => s.kind === "boot"); }

  /** Carries out the steps before index `end`, in slices; throws StepFailure as the step did. */
  *upTo(end: number): Slices<void> {
    while (this.next < end) yield* this.stepSlices();
  }

  /** Carries out the next step (its lines go to the run's log); throws StepFailure as the step did. */
  step(): void {
    finish(this.stepSlices());
  }

  /** The step being carried out by stepSlices, until it ends. */
  private current?: number;

  /**
   * Stops the step in progress between two of its slices (Ctrl-C): it counts as failed, as
   * no step after it can be carried out on a machine the step left half way.
   */
  abandon(): void {
    const i = this.current;
    if (i === undefined) return;
    this.failure = { index: i, error: new StepFailure(this.steps[i].at, "interrupted part way") };
    this.next = i + 1;
    this.current = undefined;
  }

  /** step in slices (src/machine/slices.ts). */
  *stepSlices(): Slices<void> {
    if (this.failure) throw this.failure.error;
    const index = this.next;
    const step = this.steps[index];
    if (!step) throw new RangeError("every step has run");
    this.current = index;
    try {
      yield* this.run.stepSlices(step);
    } catch (e) {
      if (e instanceof StepFailure) this.failure = { index, error: e };
      throw e;
    } finally {
      // A failed step is not carried out again: the next one is never reached.
      this.next = index + 1;
      this.current = undefined;
    }
    if (this.run.k) this.run.drain();
    if (step.kind === "expect") this.run.log.push("               (expectations are not checked in a --gdb session)");
  }

  /** "step N of M, line L: what" for step index `i` (numbered from 1, as the report counts). */
  describe(i: number): string {
    const s = this.steps[i];
    return `step ${i + 1} of ${this.steps.length}, line ${s.at.line}: ${describeStep(s)}`;
  }

  /** Every step, with those that ran, the one that failed and the next marked. */
  list(): string {
    const mark = (i: number) =>
      this.failure?.index === i ? "failed" : i < this.next ? "done  " : i === this.next && !this.failure ? "next  " : "      ";
    const rows = this.steps.map((s, i) => `${mark(i)} ${String(i + 1).padStart(3)}  line ${s.at.line}: ${describeStep(s)}`);
    const k = this.run.k;
    const head = `${this.scenario.file}: ${this.next} of ${this.steps.length} steps carried out` +
      (k ? `, virtual time ${formatTime(k.machine.time)}` : "");
    return [head, ...rows].join("\n");
  }
}
