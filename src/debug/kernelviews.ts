// The kernel's own views in the debugger: ftrace (filter, on/off, enabled_functions, trace),
// the text-poke log, dynamic trampolines, the RCU flavours and the recursion guard.
import { FunctionTracer } from "../kernel/ftrace/tracers.js";
import { FtraceError, GlobError } from "../kernel/ftrace/ftrace.js";
import { enabledFunctions, traceFile } from "../kernel/ftrace/tracefs.js";
import { selectFunctions } from "../kernel/ftrace/glob.js";
import { stackStates } from "../kernel/ftrace/recursion.js";
import { DebugError, type Engine } from "./engine.js";
import { LIMITS, numberArg } from "./arguments.js";
import { hex } from "./format.js";
import { formatTime } from "../machine/units.js";

/** The filter the next `ftrace on` uses (kept per session, like set_ftrace_filter before echo function). */
export interface FtraceSettings {
  filter: string;
}

export function ftraceCommand(e: Engine, s: FtraceSettings, args: string[]): string {
  const k = e.kernel;
  const [sub, ...rest] = args;
  switch (sub) {
    case "filter": {
      const globs = rest.join(" ");
      guard(() => selectFunctions(globs, k.ftrace.records.map((r) => r.name))); // refuse bad globs even while off
      const t = e.host.tracer;
      if (t) {
        guard(() => k.ftrace.setFilter(t.ops, globs));
        e.changed(true);
      }
      s.filter = globs;
      return globs ? `set_ftrace_filter: ${globs}` : "set_ftrace_filter: every function";
    }
    case "on": {
      if (e.host.tracer) throw new DebugError("the function tracer is already on");
      const t = new FunctionTracer(k.machine, k.heap, 1 << 14, s.filter);
      const before = { ...k.poke.stats };
      guard(() => k.ftrace.register(t.ops));
      e.host.tracer = t;
      e.changed(true);
      const st = k.poke.stats;
      return `function tracer on: ${st.sitesChanged - before.sitesChanged} sites patched in ${st.batches - before.batches} batches, ` +
        `${st.ipis - before.ipis} IPIs, ${st.int3Hits - before.int3Hits} int3 hits emulated`;
    }
    case "off": {
      const t = e.host.tracer;
      if (!t) throw new DebugError("the function tracer is not on");
      guard(() => k.ftrace.unregister(t.ops));
      e.host.tracer = undefined;
      e.changed(true);
      return "function tracer off";
    }
    case "enabled_functions":
      return enabledFunctions(k.ftrace, k.trampolines, k.symbols)
        .trimEnd() || "(no function is traced)";
    case "trace": {
      if (rest.length > 1) throw new DebugError("usage: ftrace trace [N]");
      const n = numberArg(rest[0] ?? "", "ftrace trace takes", 0, LIMITS.lines, 20);
      const t = e.host.tracer;
      if (!t) throw new DebugError("the function tracer is not on (ftrace on)");
      const text = traceFile(t, t.consume(), k.sched.tasks, k.symbols, k.machine.ncpus).split("\n").filter((l) => l !== "");
      const body = text.filter((l) => !l.startsWith("#"));
      return [...text.filter((l) => l.startsWith("#")), ...body.slice(-n)].join("\n");
    }
    default:
      throw new DebugError(`ftrace: expected filter GLOBS, on, off, enabled_functions or trace [N], got ${sub ?? "nothing"}`);
  }
}

function guard(f: () => void): void {
  try { f(); } catch (err) {
    if (err instanceof FtraceError || err instanceof GlobError) throw new DebugError(err.message);
    throw err;
  }
}

export function pokeLog(e: Engine, n: number): string {
  const log = e.kernel.poke.log;
  if (log.length === 0) return "(no text has been poked)";
  const st = e.kernel.poke.stats;
  const totals = `${st.batches} batches, ${st.sitesChanged} sites, ${st.syncs} syncs, ${st.ipis} IPIs, ${st.int3Hits} int3 hits`;
  return [...log.slice(-n), totals].join("\n");
}

export function trampolines(e: Engine): string {
  const all = e.kernel.trampolines.all;
  if (all.length === 0) return "(no dynamic trampolines)";
  const now = e.machine.time;
  return all.map((t) => {
    const state = t.state === "freed" ? `freed at ${formatTime(t.freedAt ?? 0n)} (${t.freedBy})` : t.state;
    const holders = e.kernel.holders(t.addr, t.addr + BigInt(t.pages.length * 4096)).map((h) => `\n    held: ${h.text}`).join("");
    const allocated = `allocated at ${formatTime(t.allocatedAt)} (${formatTime(now - t.allocatedAt)} ago)`;
    return `${hex(t.addr)} ops ${t.ops.name}: ${state}, ${t.sites.size} sites, ${allocated}${holders}`;
  }).join("\n");
}

export function rcuView(e: Engine): string {
  const k = e.kernel;
  const now = k.machine.time;
  const lines = k.rcu.flavours.map((f) => f.describe(now));
  const releases = k.releases.describe(now).trim();
  if (releases) lines.push("releases:", ...releases.split("\n").map((l) => "  " + l));
  return lines.join("\n");
}

/** recursion: the guard's scheme, the callback calls it skipped in all, and the sites that skipped most. */
export function recursionView(e: Engine, top: number): string {
  const c = e.kernel.config;
  const options = {
    "per-stack": ` (IST link ${c.istLink ? "on" : "off"})`,
    "per-task": ` (TRANSITION bit ${c.transitionBit ? "on" : "off"})`,
    "mainline": " (no guard in the trampolines: LIST bits in the list and assist functions, FTRACE bits in callbacks)",
    "none": "",
  }[c.recursion];
  const { total, sites } = e.kernel.ftrace.recursions();
  const lines = [`recursion guard: ${c.recursion}${options}`, `callback calls skipped: ${total}`];
  if (c.recursion === "mainline") {
    lines.push(`FTRACE_OPS_FL_RCU callback calls skipped where RCU was not watching: ${e.kernel.ftrace.rcuSkips()}`);
  }
  if (c.recursion === "per-stack") {
    const held = stackStates(e.kernel.stacks).filter((s) => s.inTracing).map((s) => s.stack.name);
    lines.push(`in_tracing set on: ${held.length ? held.join(", ") : "no stack"} (info stacks has each stack's counts)`);
  }
  const ranked = [...sites].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1));
  if (ranked.length === 0) return lines.join("\n");
  lines.push(`most skipped at (${Math.min(top, ranked.length)} of ${ranked.length} sites):`);
  for (const [name, n] of ranked.slice(0, top)) lines.push(`  ${String(n).padStart(8)}  ${name}`);
  return lines.join("\n");
}
