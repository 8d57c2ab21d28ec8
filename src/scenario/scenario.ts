// Loading, running and reporting a scenario file: the library entry points that
// `tramplab scenario` and the tests use.
import { modelTitle, VERSIONS } from "../kernel/versions.js";
import { firmwarePath } from "../kernel/kernel.js";
import { readInput } from "../io.js";
import { describeEvent } from "../kernel/timeline.js";
import { parseScenario } from "./parse.js";
import { validate } from "./validate.js";
import { ScenarioError, ScenarioErrors } from "./schema.js";
import { ElfError } from "../machine/elf.js";
import { ScenarioRun, StepFailure } from "./run.js";
import { check, recursionsOf, type Failure } from "./expect.js";
import { goldenOf } from "./golden.js";
import { formatTime } from "../machine/units.js";
import { finish, type Slices } from "../machine/slices.js";
import { describeWait } from "../kernel/ftrace/release.js";
import { bugHeadline } from "../kernel/ftrace/ftrace.js";
import { EventKind } from "../gen/layout.js";
import type { Scenario } from "./types.js";
import { seedValue } from "../numbers.js";

/** Events shown after a failure; interrupts, IRETs and hypercalls would drown them. */
const NOTABLE = new Set<number>([EventKind.SWITCH, EventKind.HAZARD, EventKind.TRIPLE_FAULT, EventKind.OOPS, EventKind.LOCKUP,
  EventKind.POKE, EventKind.GP, EventKind.FREE, EventKind.OPS, EventKind.TLB_FLUSH, EventKind.WARN]);

export interface ScenarioOptions {
  /** Interleaving seed instead of the file's (replaying or exploring): 0 to 2^64 - 1. */
  seed?: number | bigint;
  /** Rewrite the golden files the scenario compares with. */
  updateGolden?: boolean;
  firmware?: Uint8Array;
}

export interface ScenarioResult {
  scenario: Scenario;
  seed?: bigint;
  /** Expectations that did not hold. */
  failures: Failure[];
  /** The step that could not be carried out (the run stopped there). */
  stepFailure?: StepFailure;
  run: ScenarioRun;
  goldenWritten: string[];
  expectationsChecked: number;
}

/** Reads, parses and checks a scenario file; throws ScenarioErrors (every problem, with positions). */
export function loadScenario(file: string, text: string, opts: ScenarioOptions = {}): Scenario {
  const s = parseScenario(file, text);
  let errors;
  try {
    errors = validate(s, firmwareOf(s, opts), goldenOf(file, opts.updateGolden ?? false));
  } catch (e) {
    // An image of the scenario's own that cannot be booted: one error at its machine.image key.
    const given = s.machine.imageAt;
    if (!(e instanceof ElfError) || !given) throw e;
    throw new ScenarioErrors([new ScenarioError(file, given.at, `machine.image ${given.name}: ${e.message}`)]);
  }
  if (errors.length) throw new ScenarioErrors(errors);
  return s;
}

/** The firmware a scenario boots: its machine.image, else the one given, else the built-in one. */
function firmwareOf(s: Scenario, opts: ScenarioOptions): Uint8Array {
  if (s.machine.image) return readInput(s.machine.image, "elf");
  return opts.firmware ?? readInput(firmwarePath, "elf");
}

/** A run of the scenario, not booted yet: its steps are carried out one by one (ScenarioRun.stepSlices). */
export function startRun(s: Scenario, opts: ScenarioOptions = {}): ScenarioRun {
  const seed = opts.seed !== undefined ? seedValue(opts.seed) : s.machine.seed;
  return new ScenarioRun(s, seed, firmwareOf(s, opts));
}

export function runScenario(s: Scenario, opts: ScenarioOptions = {}): ScenarioResult {
  return finish(runScenarioSlices(s, opts));
}

/** runScenario in slices (src/machine/slices.ts): `tramplab scenario` drives it so that Ctrl-C can stop it. */
export function* runScenarioSlices(s: Scenario, opts: ScenarioOptions = {}): Slices<ScenarioResult> {
  const run = startRun(s, opts);
  const seed = run.seed;
  const golden = goldenOf(s.file, opts.updateGolden ?? false);
  const result: ScenarioResult = { scenario: s, seed, failures: [], run, goldenWritten: golden.written, expectationsChecked: 0 };
  const expect = (list: Scenario["expectations"]) => {
    for (const e of list) {
      result.expectationsChecked++;
      const f = check(run, e, golden);
      if (f) result.failures.push(f);
    }
  };
  for (const step of s.steps) {
    try {
      yield* run.stepSlices(step);
    } catch (e) {
      if (!(e instanceof StepFailure)) throw e;
      result.stepFailure = e;
      return result;
    }
    if (run.k) run.drain();
    if (step.kind === "expect") expect(step.expectations);
    yield; // every step ends a slice too: many short steps (registering 1000 ops) are no long run
  }
  expect(s.expectations);
  return result;
}

export function passed(r: ScenarioResult): boolean {
  return !r.stepFailure && r.failures.length === 0;
}

/** The command that runs exactly this again. */
export function replayCommand(r: ScenarioResult): string {
  return `tramplab scenario ${r.scenario.file}${r.seed !== undefined ? ` --seed ${r.seed}` : ""}`;
}

function seedText(r: ScenarioResult): string {
  return r.seed !== undefined ? `seed ${r.seed}` : "no seed (plain round-robin quanta)";
}

/** What happened to each released ops, use-after-frees caught and synchronize latencies. */
function facts(r: ScenarioResult): string[] {
  const k = r.run.k;
  if (!k) return [];
  const out: string[] = [];
  for (const rel of k.releases.all) {
    out.push(rel.freedAt !== undefined
      ? `${rel.ops.name}: freed ${formatTime(rel.freedAt - rel.unregisteredAt)} after unregister; ` +
        `${describeWait(rel).replace(/^ftrace_shutdown\([^)]*\), /, "")}`
      : `${rel.ops.name}: not freed; ` +
        `${k.releases.describe(k.machine.time).split("\n").find((l) => l.startsWith(rel.ops.name + ":"))}`);
  }
  for (const [name, p] of r.run.probes) {
    const at = r.run.probeUnregisteredAt.get(name);
    if (at === undefined) continue;
    out.push(p.freedAt !== undefined
      ? `probe ${name}: data freed ${formatTime(p.freedAt - at)} after unregister, after ` +
        (p.releasedAfter?.includes(", then ") ? `grace periods of ${p.releasedAfter}` : `a ${p.releasedAfter} grace period`)
      : `probe ${name}: data not freed yet (waiting for ${p.releasedAfter})`);
  }
  const rec = recursionsOf(k);
  if (rec?.total) {
    out.push(`recursion guard: ${rec.total} callback call(s) skipped (${[...rec.sites].map(([f, n]) => `${f} ${n}`).join(", ")})`);
  }
  if (k.warnings.length) out.push(`${k.warnings.length} warning(s), the first: ${k.warnings[0].text.split("\n")[0]}`);
  for (const o of k.oopses.filter((x) => x.overflow)) {
    out.push(`caught: stack overflow of ${o.overflow} (double fault) in ${o.task}/${o.pid} on CPU ${o.cpu}`);
  }
  for (const u of k.useAfterFrees) {
    out.push(`caught: ${u.text.split("\n")[1]} by ${u.task}/${u.pid} on CPU ${u.cpu}${u.returned ? ", returning into it" : ""}`);
  }
  for (const b of k.ftrace.bugs) out.push(`ftrace bug: ${bugHeadline(b)}`);
  for (const s of r.run.syncs) out.push(`synchronize_${s.flavour}(): ${formatTime(s.ticks)}`);
  for (const s of r.run.stops) out.push(`a run ended early: ${s}`);
  if (r.goldenWritten.length) out.push(`golden file(s) written: ${r.goldenWritten.join(", ")}`);
  return out;
}

/** The report printed for a run: a short summary when it passed, the differences when not. */
export function report(r: ScenarioResult, verbose = false): string {
  const s = r.scenario;
  const k = r.run.k;
  const head = `${passed(r) ? "PASS" : "FAIL"} ${s.file}${s.name ? `: ${s.name}` : ""}`;
  const model = k ? modelTitle(k.kconfig.version, k.kconfig.rule) : `${VERSIONS[s.machine.kernel].title} model`;
  const stats = `  ${model}, ${s.steps.length} steps, ${r.expectationsChecked} expectations checked, ` +
    `${formatTime(k ? k.machine.time : 0n)} of virtual time, ${seedText(r)}`;
  const lines = [head, stats, ...facts(r).map((f) => `  ${f}`)];
  if (verbose || !passed(r)) lines.push("steps:", ...r.run.log.map((l) => `  ${l}`));
  if (r.stepFailure) lines.push(`${s.file}:${r.stepFailure.at.line}:${r.stepFailure.at.col}: step failed: ${r.stepFailure.message}`);
  for (const f of r.failures) {
    lines.push(`${s.file}:${f.at.line}:${f.at.col}: expectation ${f.what} failed`);
    lines.push(...indent("expected: ", f.expected), ...indent("actual:   ", f.actual));
    if (f.diff) lines.push(...f.diff.map((l) => `    ${l}`));
  }
  if (!passed(r) && k) {
    const x = k.timelineContext;
    const events = k.machine.events.events.filter((e) => NOTABLE.has(e.kind)).slice(-15).map((e) => describeEvent(e, x));
    lines.push("last notable events (switches, patching, grace periods, frees, faults):", ...events.map((e) => `  ${e}`));
  }
  if (!passed(r)) lines.push(`${seedText(r)}; replay: ${replayCommand(r)}`);
  if (verbose && k) lines.push(...k.useAfterFrees.map((u) => u.text), ...k.ftrace.bugs);
  return lines.join("\n");
}

function indent(label: string, text: string): string[] {
  return text.split("\n").map((l, i) => `  ${i === 0 ? label : " ".repeat(label.length)}${l}`);
}
