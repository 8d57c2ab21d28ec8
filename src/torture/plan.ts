// What one torture iteration does, drawn from (seed, iteration): a machine configuration, a
// workload, some ftrace ops, and a sequence of register / unregister / filter changes with
// runs of random length between them. Any dimension can be pinned with --config.
import {
  PREEMPT_MODELS, RECURSION_SCHEMES, type KconfigRule, type PreemptModel, type RecursionSchemeName, type TaskSpec,
} from "../kernel/config.js";
import { Rng } from "./rng.js";
import { checkReleasePolicy } from "../kernel/ftrace/release.js";
import { formatTime } from "../machine/units.js";
import { parseSmallInt, rangeText, shown } from "../numbers.js";
import { choicePhrase, tortureRange, TORTURE_OPTIONS, type Option } from "../kernel/options.js";

export interface TortureConfig {
  cpus: number;
  preempt: PreemptModel;
  kconfig: KconfigRule;
  release: string;
  /** The interleaving's seed (Kernel quanta). */
  interleave: number;
  timeslice: number;
  /** ftrace's recursion guard (the per-task one keeps callbacks from being preempted). */
  recursion: RecursionSchemeName;
}

export interface OpsPlan {
  name: string;
  /** function_slow_call's busy-loop length (op->private): 0 makes it a plain counter. */
  spin: number;
  saveRegs: boolean;
}

export type Step =
  | { kind: "register"; ops: number; filter: string }
  | { kind: "unregister"; ops: number }
  | { kind: "filter"; ops: number; filter: string }
  | { kind: "run"; ticks: number };

export interface Plan {
  /** 0 to 2^64 - 1, as every seed (src/numbers.ts). */
  seed: bigint;
  /** 0 to 2^64 - 1. */
  iteration: bigint;
  /** The --config pins it was drawn under (part of what replays it). */
  pins: ConfigPins;
  config: TortureConfig;
  workload: TaskSpec[];
  ops: OpsPlan[];
  steps: Step[];
}

/** Release policies drawn by default: the kernel's, the safe alternatives and the unsafe ones. */
export const TORTURE_RELEASES = ["kernel", "tasks", "stack-scan", "rcu", "immediate", "ip-check", "rcu_tasks", "rcu_tasks_rude"];

export const FILTERS = [
  "victim_traced", "work_*", "work_leaf work_middle", "long_work", "victim_traced work_top",
  "arch_cpu_idle_enter", "victim_traced arch_cpu_idle_enter", "*_traced", "work_* !work_top",
];

/**
 * The version torture machines model: the PREEMPT_AUTO RFC, the one configuration where both
 * TASKS_RCU rules build and lazy preemption does not set PREEMPTION, so that the `kconfig`
 * and `preempt` it draws still make the difference they were drawn for (docs/versions.md).
 */
export const TORTURE_KERNEL = "preempt-auto-rfc";

/** The timer period of torture machines, in ns (HZ=50000). */
export const TICK = 20_000;

export type ConfigPins = Partial<Record<keyof TortureConfig, string>>;

export class PlanError extends Error {}

/**
 * Parses "preempt=lazy,kconfig=old,release=kernel,cpus=2": the options table's torture
 * dimensions (src/kernel/options.ts). Each key once; numbers are plain decimal integers
 * (src/numbers.ts) and are kept in their shortest spelling, so the replay command prints them
 * back the same.
 */
export function parsePins(text: string): ConfigPins {
  const pins: ConfigPins = {};
  let seenKernel = false;
  for (const part of text.split(",").filter(Boolean)) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq), value = eq < 0 ? "" : part.slice(eq + 1);
    if (!value) throw new PlanError(`--config: ${JSON.stringify(part)} is not key=value`);
    if (Object.hasOwn(pins, key) || (key === "kernel" && seenKernel)) throw new PlanError(`--config: ${key} is given twice`);
    // A report's config line names the kernel modelled; pasted back, it must name the same one.
    if (key === "kernel") {
      if (value !== TORTURE_KERNEL) {
        throw new PlanError(`--config kernel: torture machines model ${TORTURE_KERNEL} only, got ${shown(value)}`);
      }
      seenKernel = true;
      continue;
    }
    const o = TORTURE_OPTIONS.find((x) => x.key === key);
    if (!o) throw new PlanError(`--config: unknown key "${key}" (${TORTURE_OPTIONS.map((x) => x.key).join(", ")})`);
    pins[o.name as keyof TortureConfig] = pinValue(o, value);
  }
  return pins;
}

/** A pin's value checked against the option and torture's bounds, in its shortest spelling. */
function pinValue(o: Option, value: string): string {
  const t = o.type;
  switch (t.kind) {
    case "int": {
      const { min, max } = tortureRange(o);
      const n = parseSmallInt(value, min, max);
      const unit = o.unit ? ` (${o.unit})` : "";
      if (n === undefined) throw new PlanError(`--config ${o.key} must be ${rangeText(min, max)}${unit}, got ${shown(value)}`);
      return String(n);
    }
    case "enum":
      if (!t.choices.includes(value)) throw new PlanError(`--config ${o.key} must be ${choicePhrase(t)}, got ${shown(value)}`);
      return value;
    case "release":
      try { checkReleasePolicy(value); } catch (e) { throw new PlanError(`--config ${(e as Error).message}`); }
      return value;
    default: throw new Error(`--config ${o.key}: torture cannot pin a ${t.kind} option`);
  }
}

export function makePlan(seed: bigint, iteration: bigint, pins: ConfigPins = {}): Plan {
  const r = new Rng(seed, iteration);
  const config: TortureConfig = {
    cpus: pins.cpus ? Number(pins.cpus) : r.int(1, 4),
    preempt: (pins.preempt as PreemptModel) ?? r.pick(PREEMPT_MODELS),
    kconfig: (pins.kconfig as KconfigRule) ?? r.pick(["old", "new"] as const),
    release: pins.release ?? r.pick(TORTURE_RELEASES),
    interleave: r.int(1, 1_000_000),
    timeslice: pins.timeslice ? Number(pins.timeslice) : r.int(2, 12),
    recursion: "per-stack", // drawn last (below), so earlier campaigns' plans stay the same
  };
  const workload: TaskSpec[] = [];
  for (let c = 0; c < config.cpus; c++) {
    workload.push({ name: `victim/${c}`, kind: "kthread", entry: "kthread_victim", arg: r.int(2, 40), cpu: c });
    workload.push({ name: `busy/${c}`, kind: "kthread", entry: "kthread_busy", arg: r.int(500, 5_000), cpu: c });
  }
  if (r.chance(0.5)) workload.push({ name: "user-worker", kind: "user", entry: "user_worker", cpu: r.int(0, config.cpus - 1) });
  if (r.chance(0.5)) {
    workload.push({
      name: "burst", kind: "kthread", entry: "kthread_burst", arg: r.int(1, 20) | (r.int(1, 4) << 16), cpu: r.int(0, config.cpus - 1),
    });
  }

  const ops: OpsPlan[] = Array.from({ length: r.int(1, 3) }, (_, i) => ({
    name: `ops${i}`, spin: r.pick([0, 200, 2000, 20_000, 50_000]), saveRegs: r.chance(0.3),
  }));
  const steps: Step[] = [{ kind: "run", ticks: r.int(1, 10) * TICK }];
  const registered = new Set<number>();
  const n = r.int(4, 12);
  for (let i = 0; i < n; i++) {
    const o = r.int(0, ops.length - 1);
    const roll = r.next() % 10;
    if (!registered.has(o)) { steps.push({ kind: "register", ops: o, filter: r.pick(FILTERS) }); registered.add(o); }
    else if (roll < 5) { steps.push({ kind: "unregister", ops: o }); registered.delete(o); }
    else steps.push({ kind: "filter", ops: o, filter: r.pick(FILTERS) });
    steps.push({ kind: "run", ticks: r.int(0, 20) * TICK + r.int(0, TICK) });
  }
  for (const o of registered) steps.push({ kind: "unregister", ops: o });
  // Drawn among the first three schemes, so earlier campaigns' plans stay the same; pin mainline to test it.
  config.recursion = (pins.recursion as RecursionSchemeName) ?? r.pick(RECURSION_SCHEMES.slice(0, 3));
  return { seed, iteration, pins, config, workload, ops, steps };
}

export function describeStep(s: Step, ops: OpsPlan[]): string {
  switch (s.kind) {
    case "register":
      return `register ${ops[s.ops].name} (spin ${ops[s.ops].spin}${ops[s.ops].saveRegs ? ", SAVE_REGS" : ""}) filter "${s.filter}"`;
    case "unregister": return `unregister ${ops[s.ops].name}`;
    case "filter": return `set ${ops[s.ops].name}'s filter to "${s.filter}"`;
    case "run": return `run ${formatTime(s.ticks)}`;
  }
}

export function describeConfig(c: TortureConfig): string {
  return `kernel=${TORTURE_KERNEL},cpus=${c.cpus},preempt=${c.preempt},kconfig=${c.kconfig},release=${c.release},` +
    `timeslice=${c.timeslice},recursion=${c.recursion} (interleaving ${c.interleave})`;
}
