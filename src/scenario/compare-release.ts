// Seed 000's question on one command: how should a dynamic ops' trampoline be released, once
// a task can be preempted inside it? Every alternative runs the same victim (a kernel thread
// calling victim_traced, traced by a slow callback, sharing its vCPU with a busy thread) on a
// machine of its own, and the ops is unregistered while the victim is inside: preempted in the
// callback where the preemption model allows it, running in it otherwise. For each one: when
// the trampoline (or the per-ops code) was freed, who still held it then, and whether the
// victim came back into freed memory.
//
// The rows are scenarios (src/scenario), written here as text so that they read like the
// shipped ones; `tramplab compare-release` prints the table, test/scenario/compare-release.test.ts
// checks its outcomes.
import { formatTime } from "../machine/units.js";
import { describeWait } from "../kernel/ftrace/release.js";
import { loadScenario, passed, report, runScenario, type ScenarioOptions } from "./scenario.js";

export interface Alternative {
  name: string;
  /** What it is: the kernel's, or which proposal. */
  what: string;
  preempt: "full" | "none";
  release: string;
  permanent?: boolean;
}

/** The alternatives, in the order the table shows them. */
export const ALTERNATIVES: Alternative[] = [
  { name: "kernel", what: "the modelled release's ftrace_shutdown (Tasks RCU)", preempt: "full", release: "kernel" },
  { name: "rcu", what: "plain RCU only (what non-preemptible kernels rely on)", preempt: "full", release: "rcu" },
  { name: "ip-check", what: "proposal: wait while a task's IP is in the trampoline", preempt: "full", release: "ip-check" },
  {
    name: "preempt-check", what: "proposal: the scheduler marks tasks preempted outside text", preempt: "full", release: "preempt-check",
  },
  { name: "stack-scan", what: "proposal: scan IPs and stacks for the trampoline", preempt: "full", release: "stack-scan" },
  { name: "permanent", what: "proposal: permanent trampolines, per-ops code in a reader", preempt: "full", release: "rcu",
    permanent: true },
  { name: "none+rcu", what: "non-preemptible kernel, plain RCU", preempt: "none", release: "rcu" },
  { name: "none+kernel", what: "non-preemptible kernel, the modelled release's rule", preempt: "none", release: "kernel" },
  { name: "none+tasks", what: "non-preemptible kernel, always Tasks RCU (NEED_TASKS_RCU)", preempt: "none", release: "tasks" },
];

export interface Outcome {
  alt: Alternative;
  /** How the victim was when the ops was unregistered. */
  victim: "preempted" | "running";
  /** Virtual time from unregister to free; undefined if never freed. */
  latency?: bigint;
  /** What the release waited for ("rcu_tasks_rude gp 1 (..), rcu_tasks gp 1 (..)"). */
  waited: string;
  heldAtFree: number;
  useAfterFree: boolean;
  /** The scenario's own report when one of its steps could not be carried out. */
  failure?: string;
}

/** The scenario text of one alternative. */
export function scenarioText(a: Alternative): string {
  // Without preemption nobody is preempted inside; on permanent trampolines not in the per-ops code.
  const as = a.preempt === "full" && !a.permanent ? "preempted" : "running";
  return [
    `name: compare-release ${a.name}`,
    "machine:",
    "  cpus: 2",
    `  preempt: ${a.preempt}`,
    `  release: ${a.release}`,
    "  tick-period: 20000",
    "  timeslice: 10",
    "  workload:",
    "    - { name: victim, entry: kthread_victim, arg: 20, cpu: 0 }",
    "    - { name: long, entry: kthread_busy, arg: 100000, cpu: 0 }",
    "    - { name: busy1, entry: kthread_busy, arg: 100000, cpu: 1 }",
    "ops:",
    `  slow: { tracer: slow, spin: 3000, filter: victim_traced${a.permanent ? ", permanent: true" : ""} }`,
    "steps:",
    "  - boot",
    "  - run: 5 jiffies",
    "  - register: slow",
    `  - until: { task: victim, inside: slow, as: ${as}, within: 2000 jiffies }`,
    "  - unregister: slow",
    "  - until: { freed: slow, within: 20000 jiffies }",
    "  - run: 100 jiffies",
    "",
  ].join("\n");
}

export function runAlternative(a: Alternative, opts: ScenarioOptions = {}): Outcome {
  const s = loadScenario(`compare-release:${a.name}`, scenarioText(a), opts);
  const r = runScenario(s, opts);
  const k = r.run.k!;
  const rel = k.releases.all[0];
  const victim = a.preempt === "full" && !a.permanent ? "preempted" : "running";
  return {
    alt: a, victim,
    latency: rel?.freedAt !== undefined ? rel.freedAt - rel.unregisteredAt : undefined,
    waited: rel ? describeWait(rel).replace(/^ftrace_shutdown\([^)]*\), policy [^:]*: /, "") : "not released",
    heldAtFree: rel?.trampoline?.heldAtFree?.length ?? 0,
    useAfterFree: k.useAfterFrees.length > 0,
    failure: passed(r) ? undefined : report(r),
  };
}

export function compareRelease(opts: ScenarioOptions = {}, alts = ALTERNATIVES): Outcome[] {
  return alts.map((a) => runAlternative(a, opts));
}

/** The table `tramplab compare-release` prints. */
export function formatComparison(rows: Outcome[]): string {
  const head = ["alternative", "preempt", "release", "victim at unregister", "freed after", "held at free", "use-after-free"];
  const cells = rows.map((o) => [
    o.alt.name, o.alt.preempt, o.alt.release + (o.alt.permanent ? " (permanent)" : ""), `${o.victim} inside`,
    o.latency === undefined ? "never" : formatTime(o.latency), String(o.heldAtFree), o.useAfterFree ? "YES" : "no",
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(width[i])).join("  ").trimEnd();
  const out = [line(head), ...cells.map(line), "", "what each waited for:"];
  for (const o of rows) out.push(`  ${o.alt.name}: ${o.alt.what}; ${o.waited}`);
  for (const o of rows.filter((x) => x.failure)) out.push("", `${o.alt.name} did not run as planned:`, o.failure!);
  return out.join("\n");
}
