// Reading expectations: `- kind` for the yes/no ones, `- kind: { ... }` for the rest.
import { isMap, isScalar, type Node } from "yaml";
import { suggest, type Field } from "./schema.js";
import type { CountRef, Expectation, Pos, Range } from "./types.js";
import { kindOf, opsName, probeName, FLAVOURS, type StepContext } from "./context.js";

type Item = { value: Node | null; at: Pos };

const FLAGS = ["no-hazard", "no-use-after-free", "no-oops", "no-lockup", "no-ftrace-bug", "no-warning"] as const;
export const EXPECTATION_KINDS = [...FLAGS, "use-after-free", "ftrace-bug", "trace", "patch-log", "release", "grace-period",
  "counter", "global", "task", "console", "poke", "site", "calls", "recursion", "stack", "warning", "oops"];
const TASK_STATES = ["running", "runnable", "sleeping", "dead"];
/** The largest element index of a global (`global: { index }`, `global SYMBOL[i]`). */
const MAX_INDEX = 1 << 20;

/** "nop" (the 5-byte NOP) or 5 hex bytes separated by spaces or colons. */
export function parseBytes(text: string): Uint8Array | undefined {
  if (text.trim() === "nop") return Uint8Array.of(0x0f, 0x1f, 0x44, 0x00, 0x00);
  const hex = text.trim().split(/[\s:]+/);
  if (hex.length !== 5 || !hex.every((h) => /^[0-9a-fA-F]{2}$/.test(h))) return undefined;
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}

const COUNT_REF = /^(?:calls of ([\w-]+)|global ([A-Za-z_]\w*)(?:\[(\d+)\])?)(?:\s*\/\s*(\d+))?$/;

/** A count: an integer, or a count of the run ("calls of OPS", "global SYMBOL[i]", each optionally "/ N"). */
function countOrRef(x: StepContext, f: Field | Item, what: string): bigint | CountRef | undefined {
  const { r } = x;
  const v = f.value && isScalar(f.value) ? f.value.value : undefined;
  if (typeof v !== "string" || /^\d[\d_]*$/.test(v)) return r.count(f, what);
  const m = COUNT_REF.exec(v.trim().replace(/\s+/g, " "));
  if (!m) return r.fail(f.at, `${what} must be a count, or "calls of OPS" or "global SYMBOL", optionally followed by "/ N", got "${v}"`);
  const per = BigInt(m[4] ?? "1");
  if (per === 0n) return r.fail(f.at, `${what}: "/ 0" divides by zero`);
  if (m[1] !== undefined && !x.ops.has(m[1])) return r.fail(f.at, `${what}: no ops "${m[1]}" is declared${suggest(m[1], [...x.ops])}`);
  if (m[3] !== undefined && Number(m[3]) > MAX_INDEX) return r.fail(f.at, `${what}: the index of global ${m[2]} must be from 0 to ${MAX_INDEX}`);
  const of: CountRef["of"] = m[1] !== undefined ? { kind: "calls", ops: m[1] } : { kind: "global", symbol: m[2], index: Number(m[3] ?? 0) };
  return { text: v.trim(), of, per, at: f.at };
}

export function readExpectation(x: StepContext, item: Item): Expectation | undefined {
  const { r } = x;
  const k = kindOf(r, item, "expectation", EXPECTATION_KINDS);
  if (!k) return undefined;
  const { kind, arg } = k;
  const at = item.at;
  const isFlag = (FLAGS as readonly string[]).includes(kind);
  if (isFlag) {
    if (arg.value !== null && !(isScalar(arg.value) && arg.value.value === null)) return r.fail(arg.at, `${kind} takes no argument`);
    return { at, kind } as Expectation;
  }
  /** The map argument with `keys`; kinds that may be bare accept a missing argument. */
  const map = (keys: string[], required: string[] = [], bare = false) => {
    if (arg.value === null || (isScalar(arg.value) && arg.value.value === null)) {
      return bare ? new Map<string, Field>() : r.fail(arg.at, `${kind} needs ${required.length ? required.join(" and ") : "an argument"}`);
    }
    return r.fields(arg.value, arg.at, kind, keys, required);
  };
  const count = (f: Field | undefined, what: string): Range | undefined => (f ? r.range(f, what, (g, w) => countOrRef(x, g, w)) : undefined);
  const flag = (m: Map<string, Field>, key: string) => (m.has(key) ? r.bool(m.get(key)!, `${kind}.${key}`) : undefined);
  const str = (m: Map<string, Field>, key: string) => (m.has(key) ? r.str(m.get(key)!, `${kind}.${key}`) : undefined);
  const time = (f: Field | undefined, what: string): Range | undefined => (f ? r.range(f, what, (g, w) => r.duration(g, w, x.jiffy)) : undefined);
  const list = (m: Map<string, Field>, key: string) => (m.has(key) ? r.strings(m.get(key)!, `${kind}.${key}`) : undefined);
  /** trace.lines: regular expressions, each to match some line of the trace file. */
  const regexps = (m: Map<string, Field>): RegExp[] => {
    const out: RegExp[] = [];
    for (const [i, src] of (list(m, "lines") ?? []).entries()) {
      try { out.push(new RegExp(src)); } catch (e) { r.fail(m.get("lines")!.at, `trace.lines[${i}]: ${(e as Error).message}`); }
    }
    return out;
  };
  switch (kind) {
    case "use-after-free": {
      const m = map(["trampoline", "probe", "task", "returned", "count"], [], true);
      if (!m) return undefined;
      if (m.has("trampoline") && m.has("probe")) return r.fail(arg.at, "use-after-free: give trampoline or probe, not both (one object was used after it was freed)");
      const ops = m.has("trampoline") ? opsName(x, m.get("trampoline")!, "use-after-free.trampoline") : undefined;
      const probe = m.has("probe") ? probeName(x, m.get("probe")!, "use-after-free.probe") : undefined;
      const task = m.has("task") ? r.str(m.get("task")!, "use-after-free.task") : undefined;
      const returned = m.has("returned") ? r.bool(m.get("returned")!, "use-after-free.returned") : undefined;
      return { at, kind, ops, probe, task, returned, count: count(m.get("count"), "use-after-free.count") ?? { min: 1n } };
    }
    case "ftrace-bug": {
      const m = map(["function", "actual", "expected"], [], true);
      if (!m) return undefined;
      const s = (key: string) => (m.has(key) ? r.str(m.get(key)!, `ftrace-bug.${key}`) : undefined);
      return { at, kind, function: s("function"), actual: s("actual"), expected: s("expected") };
    }
    case "trace": {
      const m = map(["ops", "functions", "includes", "excludes", "lines", "records", "lost", "golden"], ["ops"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "trace.ops") : undefined;
      if (!m || !ops) return undefined;
      return {
        at, kind, ops, functions: list(m, "functions"), includes: list(m, "includes") ?? [], excludes: list(m, "excludes") ?? [], lines: regexps(m),
        records: count(m.get("records"), "trace.records"), lost: count(m.get("lost"), "trace.lost") ?? { min: 0n, max: 0n },
        golden: m.has("golden") ? r.str(m.get("golden")!, "trace.golden") : undefined,
      };
    }
    case "patch-log": {
      if (arg.value && isMap(arg.value)) {
        const m = map(["golden"], ["golden"]);
        const golden = m?.has("golden") ? r.str(m.get("golden")!, "patch-log.golden") : undefined;
        return golden ? { at, kind, golden } : undefined;
      }
      const golden = r.str(arg, "patch-log (the golden file, relative to the scenario)");
      return golden ? { at, kind, golden } : undefined;
    }
    case "release": {
      const m = map(["ops", "freed", "steps", "delay", "after-voluntary-switch", "held-at-free"], ["ops"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "release.ops") : undefined;
      if (!m || !ops) return undefined;
      const steps = list(m, "steps");
      return {
        at, kind, ops, freed: m.has("freed") ? r.bool(m.get("freed")!, "release.freed") ?? true : true, steps,
        delay: time(m.get("delay"), "release.delay"),
        afterVoluntarySwitch: m.has("after-voluntary-switch") ? r.str(m.get("after-voluntary-switch")!, "release.after-voluntary-switch") : undefined,
        heldAtFree: count(m.get("held-at-free"), "release.held-at-free"),
      };
    }
    case "grace-period": {
      const m = map(["flavour", "completed", "latency", "holdouts"], ["flavour"]);
      const flavour = m?.has("flavour") ? r.oneOf(m.get("flavour")!, "grace-period.flavour", FLAVOURS) : undefined;
      if (!m || !flavour) return undefined;
      return { at, kind, flavour, completed: count(m.get("completed"), "grace-period.completed"), latency: time(m.get("latency"), "grace-period.latency"),
        holdouts: count(m.get("holdouts"), "grace-period.holdouts") };
    }
    case "counter": {
      const m = map(["ops", "function", "value"], ["ops", "function", "value"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "counter.ops") : undefined;
      const fn = m?.has("function") ? r.str(m.get("function")!, "counter.function") : undefined;
      const value = count(m?.get("value"), "counter.value");
      return ops && fn && value ? { at, kind, ops, function: fn, value } : undefined;
    }
    case "global": {
      const m = map(["symbol", "index", "value"], ["symbol", "value"]);
      const symbol = m?.has("symbol") ? r.str(m.get("symbol")!, "global.symbol") : undefined;
      const index = m?.has("index") ? r.int(m.get("index")!, "global.index", 0, MAX_INDEX) : 0;
      const value = count(m?.get("value"), "global.value");
      return symbol && index !== undefined && value ? { at, kind, symbol, index, value } : undefined;
    }
    case "task": {
      const m = map(["name", "state", "irq-preemptions"], ["name"]);
      const name = m?.has("name") ? r.str(m.get("name")!, "task.name") : undefined;
      const state = m?.has("state") ? r.oneOf(m.get("state")!, "task.state", TASK_STATES) : undefined;
      if (m && m.size === 1) return r.fail(arg.at, "task needs state, irq-preemptions or both");
      return name ? { at, kind, name, state, irqPreemptions: count(m!.get("irq-preemptions"), "task.irq-preemptions") } : undefined;
    }
    case "console": {
      const m = map(["includes", "excludes"]);
      if (!m) return undefined;
      return { at, kind, includes: list(m, "includes") ?? [], excludes: list(m, "excludes") ?? [] };
    }
    case "site": {
      const m = map(["function", "bytes", "calls"], ["function"]);
      const fn = m?.has("function") ? r.str(m.get("function")!, "site.function") : undefined;
      if (!m || !fn) return undefined;
      if (m.has("bytes") === m.has("calls")) return r.fail(arg.at, "site needs bytes or calls (one of them)");
      const calls = m.has("calls") ? r.str(m.get("calls")!, "site.calls") : undefined;
      const text = m.has("bytes") ? r.str(m.get("bytes")!, "site.bytes") : undefined;
      const bytes = text === undefined ? undefined : parseBytes(text);
      if (text !== undefined && !bytes) return r.fail(m.get("bytes")!.at, "site.bytes must be nop or 5 hex bytes, like \"e8 12 34 56 78\"");
      return { at, kind, function: fn, bytes, calls };
    }
    case "calls": {
      const m = map(["ops", "value"], ["ops", "value"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "calls.ops") : undefined;
      const value = count(m?.get("value"), "calls.value");
      return ops && value ? { at, kind, ops, value } : undefined;
    }
    case "recursion": {
      const m = map(["total", "site", "count"]);
      if (!m) return undefined;
      if (m.has("site") !== m.has("count")) return r.fail(arg.at, "recursion: site and count go together (the skips at that function's site)");
      if (!m.has("total") && !m.has("site")) return r.fail(arg.at, "recursion needs total, or site with count, or both");
      return { at, kind, total: count(m.get("total"), "recursion.total"), site: str(m, "site"), count: count(m.get("count"), "recursion.count") };
    }
    case "stack": {
      const m = map(["name", "entered", "skipped", "in-tracing", "corrupt"], ["name"]);
      const name = m?.has("name") ? r.str(m.get("name")!, "stack.name") : undefined;
      if (m && m.size === 1) return r.fail(arg.at, "stack needs entered, skipped, in-tracing or corrupt");
      return m && name ? { at, kind, name, entered: count(m.get("entered"), "stack.entered"), skipped: count(m.get("skipped"), "stack.skipped"),
        inTracing: flag(m, "in-tracing"), corrupt: flag(m, "corrupt") } : undefined;
    }
    case "warning": {
      const m = map(["function", "task", "count"], [], true);
      if (!m) return undefined;
      return { at, kind, function: str(m, "function"), task: str(m, "task"), count: count(m.get("count"), "warning.count") ?? { min: 1n } };
    }
    case "oops": {
      const m = map(["task", "overflow", "includes", "count"], [], true);
      if (!m) return undefined;
      return { at, kind, task: str(m, "task"), overflow: str(m, "overflow"), includes: list(m, "includes") ?? [], count: count(m.get("count"), "oops.count") ?? { min: 1n } };
    }
    case "poke": {
      const m = map(["int3-hits", "batches", "sites-changed"]);
      if (!m) return undefined;
      if (m.size === 0) return r.fail(arg.at, "poke needs int3-hits, batches or sites-changed");
      return { at, kind, int3Hits: count(m.get("int3-hits"), "poke.int3-hits"), batches: count(m.get("batches"), "poke.batches"),
        sitesChanged: count(m.get("sites-changed"), "poke.sites-changed") };
    }
  }
  return undefined;
}
