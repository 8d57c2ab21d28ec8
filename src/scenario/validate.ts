// Checks a parsed scenario against the firmware before anything runs: the workload's entry
// points, the tasks, functions and symbols named, the filters, the golden files. A probe kernel
// is built for it (booted, never run) so the checks see the same records a run will.
import { Kernel } from "../kernel/kernel.js";
import { defaultWorkload } from "../kernel/config.js";
import { selectFunctions, GlobError } from "../kernel/ftrace/glob.js";
import { FunctionCounter, FunctionTracer } from "../kernel/ftrace/tracers.js";
import { ScenarioError } from "./schema.js";
import { kernelConfigOf } from "./run.js";
import type { Golden } from "./golden.js";
import type { Expectation, Pos, Range, Scenario, Step } from "./types.js";

export function validate(s: Scenario, firmware: Uint8Array, golden: Golden): ScenarioError[] {
  const errors: ScenarioError[] = [];
  const fail = (at: Pos, msg: string) => errors.push(new ScenarioError(s.file, at, msg));
  const m = s.machine;
  const probe = new Kernel(kernelConfigOf({ ...m, workload: [] }, undefined), firmware);
  const names = probe.ftrace.records.map((r) => r.name);
  const isRecord = new Set(names);
  const workload = m.workload ?? defaultWorkload(m.cpus);
  const tasks = new Set([...workload.map((t) => t.name), ...Array.from({ length: m.cpus }, (_, c) => `swapper/${c}`)]);
  const ops = new Map(s.ops.map((o) => [o.name, o]));
  // Kernel stacks by name: every task's, and per vCPU the IRQ and IST stacks (the probe has them all but the tasks').
  const stacks = new Set([...probe.stacks.all.map((x) => x.name), ...workload.map((t) => `task ${t.name}`)]);

  for (const t of m.workload ?? []) {
    if (!probe.symbols.get(t.entry)) fail(t.at, `task ${t.name}: the firmware has no ${t.entry}`);
    if (t.cpu !== undefined && t.cpu >= m.cpus) fail(t.at, `task ${t.name}: cpu ${t.cpu}, but the machine has ${m.cpus} vCPUs`);
  }
  const globs = (at: Pos, what: string, filter: string | undefined, mustMatch: boolean) => {
    if (filter === undefined) return;
    try {
      if (mustMatch && filter.trim() !== "" && selectFunctions(filter, names).size === 0) {
        fail(at, `${what} "${filter}" matches no traceable function${probe.ftrace.noinstrNote(filter)}`);
      } else {
        selectFunctions(filter, names);
      }
    } catch (e) {
      if (e instanceof GlobError) fail(at, `${what}: ${e.message}`);
      else throw e;
    }
  };
  const fn = (at: Pos, f: string, what: string) => {
    if (!isRecord.has(f)) { fail(at, `${what}: ${f} is not a traceable function of the firmware`); return false; }
    return true;
  };
  // The tracers' memory comes from the guest heap, as the run will allocate it: a ring too big
  // for the machine is refused here rather than when the run boots.
  for (const o of s.ops) {
    try {
      if (o.kind === "function") new FunctionTracer(probe.machine, probe.heap, o.ring);
      if (o.kind === "counter") new FunctionCounter(probe.machine, probe.heap, probe.ftrace.records.length);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      const buffers = o.kind === "function" ? `rings (${o.ring} entries on each of ${m.cpus} vCPUs)` : "counters";
      fail(o.at, `ops ${o.name}: its ${buffers} do not fit in the guest's memory (${e.message})`);
    }
  }
  for (const o of s.ops) {
    globs(o.filterAt, `ops ${o.name}: filter`, o.filter, true);
    globs(o.filterAt, `ops ${o.name}: notrace`, o.notrace, false);
    if (o.warnAt !== undefined && fn(o.warnAtAt, o.warnAt, `ops ${o.name}: warn-at`) && !tracedBy(o.filter, o.notrace, o.warnAt)) {
      fail(o.warnAtAt, `ops ${o.name}: warn-at ${o.warnAt} is not traced by the ops' filter, so the callback never sees its site`);
    }
  }
  // A module may make kernel threads of its own (kthread_run): with an insmod step, a name that
  // is not in the workload may be one of them, and is looked for when the scenario runs.
  const modulesMakeTasks = s.steps.some((st) => st.kind === "insmod");
  const task = (at: Pos, t: string | undefined, what: string) => {
    if (t !== undefined && !tasks.has(t) && !modulesMakeTasks) fail(at, `${what}: no task ${t} (tasks: ${[...tasks].join(", ")})`);
  };
  const stack = (at: Pos, name: string | undefined, what: string) => {
    if (name !== undefined && !stacks.has(name)) fail(at, `${what}: no kernel stack "${name}" (stacks: ${[...stacks].join(", ")})`);
  };
  /** set_ftrace_filter / notrace semantics: an empty filter traces everything. */
  function tracedBy(filter: string, notrace: string, f: string): boolean {
    try {
      return (filter.trim() === "" || selectFunctions(filter, names).has(f)) &&
        !(notrace.trim() !== "" && selectFunctions(notrace, names).has(f));
    } catch { return true; } // a bad glob is reported on its own
  }

  const step = (st: Step) => {
    switch (st.kind) {
      case "filter":
        globs(st.filterAt, "filter", st.filter, st.fails === undefined); // a refusal may be the point
        globs(st.filterAt, "notrace", st.notrace, false);
        break;
      case "interrupt": if (st.cpu >= m.cpus) fail(st.at, `interrupt: cpu ${st.cpu}, but the machine has ${m.cpus} vCPUs`); break;
      case "corrupt-site": fn(st.at, st.function, "corrupt-site"); break;
      case "until":
        if (st.until.kind === "inside") {
          task(st.at, st.until.task, "until");
          if (!m.trampolines) fail(st.at, "until inside: the machine has trampolines: false, so no ops has a trampoline");
        }
        if (st.until.kind === "freed" && !isDynamic(st.until.ops)) {
          fail(st.at, `until freed: ops ${st.until.ops} is static; unregistering it frees nothing`);
        }
        break;
      case "expect": st.expectations.forEach(expectation); break;
    }
  };
  /** A module's ops (not in the scenario's table) is always dynamic: it lives in the module's memory. */
  const isDynamic = (name: string) => { const o = ops.get(name); return !o || (o.kind !== "function" && o.dynamic !== false); };
  const expectation = (e: Expectation) => {
    // An exact count is one ref standing for both bounds: check each ref once.
    const refs = new Set(Object.values(e).flatMap((v) => Object.values((v as Range | undefined)?.refs ?? {})));
    for (const ref of refs) {
      if (ref.of.kind === "global") global(ref.at, ref.of.symbol, ref.of.index, `"${ref.text}"`);
    }
    switch (e.kind) {
      case "use-after-free": task(e.at, e.task, "use-after-free"); break;
      case "trace":
        if (ops.get(e.ops)!.kind !== "function") fail(e.at, `trace: ops ${e.ops} is not a function tracer`);
        for (const f of [...(e.functions ?? []), ...e.includes, ...e.excludes]) fn(e.at, f, "trace");
        if (e.golden) goldenFile(e.at, e.golden);
        break;
      case "patch-log": goldenFile(e.at, e.golden); break;
      case "release":
        if (!isDynamic(e.ops)) fail(e.at, `release: ops ${e.ops} is static; unregistering it frees nothing`);
        task(e.at, e.afterVoluntarySwitch, "release.after-voluntary-switch");
        break;
      case "counter":
        if (ops.get(e.ops)!.kind === "slow") {
          fail(e.at, `counter: ops ${e.ops} (tracer slow) counts nothing; use a counter, function or host tracer`);
        }
        fn(e.at, e.function, "counter");
        break;
      case "global": global(e.at, e.symbol, e.index, "global"); break;
      case "task": task(e.at, e.name, "task"); break;
      case "recursion": if (e.site !== undefined) fn(e.at, e.site, "recursion.site"); break;
      case "stack": stack(e.at, e.name, "stack"); break;
      case "oops": task(e.at, e.task, "oops"); stack(e.at, e.overflow, "oops.overflow"); break;
      case "warning":
        task(e.at, e.task, "warning");
        if (e.function !== undefined && !probe.symbols.get(e.function)) {
          fail(e.at, `warning.function: the firmware has no function ${e.function}`);
        }
        break;
      case "ftrace-bug": if (e.function !== undefined) fn(e.at, e.function, "ftrace-bug"); break;
      case "site": {
        fn(e.at, e.function, "site");
        // A dynamic trampoline's name exists once its ops registered: ftrace_trampoline[OPS].
        const tramp = e.calls && /^ftrace_trampoline\[([^\]]+)\]$/.exec(e.calls);
        if (tramp && !ops.has(tramp[1]) && !tramp[1].includes(":")) fail(e.at, `site.calls: no ops "${tramp[1]}" is declared`);
        if (e.calls && !tramp && !probe.symbols.get(e.calls)) fail(e.at, `site.calls: the firmware has no symbol ${e.calls}`);
        break;
      }
    }
  };
  /** A u64 global of the firmware, element `index`: inside the symbol (when its size is known) and mapped. */
  const global = (at: Pos, symbol: string, index: number, what: string) => {
    const sym = probe.symbols.get(symbol);
    if (!sym) { fail(at, `${what}: the firmware has no symbol ${symbol}`); return; }
    if (sym.size > 0n && BigInt(index) * 8n + 8n > sym.size) {
      fail(at, `${what}: ${symbol}[${index}] is past the end of ${symbol} (${sym.size} bytes: ${sym.size / 8n} u64 element(s))`);
      return;
    }
    try { probe.readGlobal(symbol, index); } catch (e) { fail(at, `${what}: ${(e as Error).message}`); }
  };
  const goldenFile = (at: Pos, name: string) => {
    const where = golden.locate(name);
    if ("problem" in where) fail(at, where.problem);
  };
  s.steps.forEach(step);
  s.expectations.forEach(expectation);
  return errors;
}
