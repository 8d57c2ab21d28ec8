// Every kind of expectation in one table: how it is written and when it holds (`doc`, the rows
// of the table in docs/scenarios.md), how its argument is read, and how it is checked after the
// run. The order is the order error messages list the kinds in.
import { stepName } from "../kernel/ftrace/release.js";
import { isMap } from "yaml";
import { EventKind, SchedReason } from "../gen/layout.js";
import { traceFile } from "../kernel/ftrace/tracefs.js";
import { bugHeadline } from "../kernel/ftrace/ftrace.js";
import { describeEvent } from "../kernel/timeline.js";
import { stackStates } from "../kernel/ftrace/recursion.js";
import { formatTime } from "../machine/units.js";
import { suggest } from "./schema.js";
import { anyOpsName, opsName, probeName, FLAVOURS } from "./context.js";
import { checkModule, moduleDoc, readModule } from "./expect-module.js";
import { MAX_GLOBAL_INDEX, parseBytes, type ExpectArg } from "./expect-read.js";
import { compareGolden, describeRange, firstLine, inRange, recursionsOf, type CheckContext, type Failure } from "./expect-check.js";
import type { Expectation } from "./types.js";

export type ExpectationKind = Expectation["kind"];
type Of<K extends ExpectationKind> = Extract<Expectation, { kind: K }>;

export interface KindSpec<K extends ExpectationKind> {
  /** How it is written (empty for a yes/no kind: `- KIND`), and when it holds; markdown. */
  doc: readonly [usage: string, holds: string];
  /** The expectation's fields from its argument, or undefined when the argument was reported. */
  read(a: ExpectArg): Omit<Of<K>, "at" | "kind"> | undefined;
  /** Undefined when it holds. */
  check(e: Of<K>, c: CheckContext): Failure | undefined;
}

/** A yes/no kind, written bare (`- no-hazard`). */
function yesNo<K extends ExpectationKind>(holds: string, check: (c: CheckContext) => Failure | undefined): KindSpec<K> {
  return { doc: ["", holds], read: (a) => (a.bare() ? ({} as Omit<Of<K>, "at" | "kind">) : undefined), check: (_, c) => check(c) };
}

const TASK_STATES = ["running", "runnable", "sleeping", "dead"];

export const EXPECTATIONS: { [K in ExpectationKind]: KindSpec<K> } = {
  "no-hazard": yesNo("no cross-modifying-code hazard was reported", ({ k, none }) =>
    none(k.machine.events.ofKind(EventKind.HAZARD), "cross-modifying-code hazard(s)", (h) => describeEvent(h, k.timelineContext).trim())),
  "no-use-after-free": yesNo("no use-after-free was caught", ({ k, none }) =>
    none(k.useAfterFrees, "use-after-free(s)", (u) => firstLine(u.text))),
  "no-oops": yesNo("no oops was reported", ({ k, none }) => none(k.oopses, "oops(es)", (o) => firstLine(o.text))),
  "no-lockup": yesNo("no soft lockup was reported", ({ k, none }) => none(k.lockups, "soft lockup(s)", (l) => firstLine(l.text))),
  "no-ftrace-bug": yesNo("ftrace reported no bug", ({ k, none }) => none(k.ftrace.bugs, "ftrace bug(s)", bugHeadline)),
  "no-warning": yesNo("no WARN_ON() fired", ({ k, none }) => none(k.warnings, "warning(s)", (w) => firstLine(w.text))),

  "use-after-free": {
    doc: ["`use-after-free: { trampoline or probe or module, task, returned, count }`",
      "the number of use-after-frees matching all the keys given is in `count` (default at least 1); `trampoline: OPS` is of its " +
      "trampoline, `probe: NAME` of the probe's data (`probe_data of probe \"NAME\"`), `module: NAME` of an unloaded module's " +
      "memory; `returned: true` means the task came back into the trampoline from its callback"],
    read: ({ x, r, arg, map, count }) => {
      const m = map(["trampoline", "probe", "module", "task", "returned", "count"], [], true);
      if (!m) return undefined;
      if (["trampoline", "probe", "module"].filter((key) => m.has(key)).length > 1) {
        return r.fail(arg.at, "use-after-free: give one of trampoline, probe and module (one object was used after it was freed)");
      }
      const ops = m.has("trampoline") ? anyOpsName(x, m.get("trampoline")!, "use-after-free.trampoline") : undefined;
      const probe = m.has("probe") ? probeName(x, m.get("probe")!, "use-after-free.probe") : undefined;
      const module = m.has("module") ? r.str(m.get("module")!, "use-after-free.module") : undefined;
      if (module !== undefined && !x.modules.has(module)) {
        return r.fail(m.get("module")!.at, `use-after-free.module: no module "${module}" is loaded by an insmod step` +
          suggest(module, [...x.modules.keys()]));
      }
      const task = m.has("task") ? r.str(m.get("task")!, "use-after-free.task") : undefined;
      const returned = m.has("returned") ? r.bool(m.get("returned")!, "use-after-free.returned") : undefined;
      return { ops, probe, module, task, returned, count: count(m.get("count"), "use-after-free.count") ?? { min: 1n } };
    },
    check: (e, { k, fail }) => {
      const match = k.useAfterFrees.filter((u) => (e.ops === undefined || u.trampoline?.ops.name === e.ops) &&
        (e.probe === undefined || u.object.what === `probe_data of probe "${e.probe}"`) &&
        (e.module === undefined || u.object.what === `module ${e.module}`) &&
        (e.task === undefined || u.task === e.task) && (e.returned === undefined || u.returned === e.returned));
      if (inRange(BigInt(match.length), e.count)) return undefined;
      const want = [e.ops && `in the trampoline of ${e.ops}`, e.probe && `of the data of probe ${e.probe}`,
        e.module && `of module ${e.module}'s memory`, e.task && `by ${e.task}`,
        e.returned !== undefined && (e.returned ? "returning into it" : "not by a return")].filter(Boolean).join(" ");
      const seen = k.useAfterFrees.map((u) =>
        `${firstLine(u.text).replace(/^BUG: use-after-free in /, "")} by ${u.task}/${u.pid}${u.returned ? " (returned)" : ""}`);
      return fail(`${describeRange(e.count)} use-after-free(s)${want ? " " + want : ""}`,
        seen.length ? `${match.length} matching; caught: ${seen.join("; ")}` : "none caught");
    },
  },

  "ftrace-bug": {
    doc: ["`ftrace-bug: { function, actual, expected }`", "ftrace reported a bug at that site with those bytes, and is disabled"],
    read: ({ map, str }) => {
      const m = map(["function", "actual", "expected"], [], true);
      if (!m) return undefined;
      return { function: str(m, "function"), actual: str(m, "actual"), expected: str(m, "expected") };
    },
    check: (e, { k, fail }) => {
      const bug = k.ftrace.bugs[0];
      if (!bug) return fail("an ftrace bug report", "none (ftrace is " + (k.ftrace.disabled ? "disabled" : "enabled") + ")");
      const lines = bug.split("\n");
      const site = /\] (\S+)\+0x/.exec(bugHeadline(bug))?.[1];
      const bytes = (label: string) =>
        lines.find((l) => l.trimStart().startsWith(label))?.split(":").slice(1).join(":").trim().replace(/:/g, " ");
      const norm = (s: string) => s.toLowerCase().split(/[\s:]+/).join(" ");
      const wrong = [
        e.function !== undefined && site !== e.function && `site ${e.function}, got ${site}`,
        e.actual !== undefined && bytes("actual:") !== norm(e.actual) && `actual bytes ${norm(e.actual)}, got ${bytes("actual:")}`,
        e.expected !== undefined && bytes("expected:") !== norm(e.expected) &&
          `expected bytes ${norm(e.expected)}, got ${bytes("expected:")}`,
        !k.ftrace.disabled && "ftrace disabled, but it is enabled",
      ].filter(Boolean);
      return wrong.length ? fail(wrong.join("; "), bug) : undefined;
    },
  },

  "trace": {
    doc: ["`trace: { ops, functions, includes, excludes, lines, records, lost, golden }`",
      "the function tracer recorded exactly `functions` (or at least `includes`, none of `excludes`), `records` records, `lost` lost " +
      "to overruns (default 0); each of `lines` (regular expressions, best single-quoted) matches some line of the `trace` file; " +
      "`golden` compares the whole file"],
    read: ({ x, r, map, count, list, regexps }) => {
      const m = map(["ops", "functions", "includes", "excludes", "lines", "records", "lost", "golden"], ["ops"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "trace.ops") : undefined;
      if (!m || !ops) return undefined;
      return {
        ops, functions: list(m, "functions"), includes: list(m, "includes") ?? [], excludes: list(m, "excludes") ?? [], lines: regexps(m),
        records: count(m.get("records"), "trace.records"), lost: count(m.get("lost"), "trace.lost") ?? { min: 0n, max: 0n },
        golden: m.has("golden") ? r.str(m.get("golden")!, "trace.golden") : undefined,
      };
    },
    check: (e, c) => checkTrace(e, c),
  },

  "patch-log": {
    doc: ["`patch-log: FILE`", "the text-poke patch log equals the golden file (path relative to the scenario)"],
    read: ({ r, arg, map }) => {
      if (arg.value && isMap(arg.value)) {
        const m = map(["golden"], ["golden"]);
        const golden = m?.has("golden") ? r.str(m.get("golden")!, "patch-log.golden") : undefined;
        return golden ? { golden } : undefined;
      }
      const golden = r.str(arg, "patch-log (the golden file, relative to the scenario)");
      return golden ? { golden } : undefined;
    },
    check: (e, { k, golden, fail }) => compareGolden(k.poke.log.join("\n") + "\n", e.golden, golden, fail),
  },

  "release": {
    doc: ["`release: { ops, freed, steps, delay, after-voluntary-switch, held-at-free }`",
      "the ops' last release freed (or not), waited for `steps` in order, took `delay` from unregister to free, freed after that " +
      "task switched out voluntarily, with `held-at-free` tasks still inside"],
    read: ({ x, r, map, count, time, str, list }) => {
      const m = map(["ops", "freed", "steps", "delay", "after-voluntary-switch", "held-at-free"], ["ops"]);
      const ops = m?.has("ops") ? anyOpsName(x, m.get("ops")!, "release.ops") : undefined;
      if (!m || !ops) return undefined;
      const steps = list(m, "steps");
      return {
        ops, freed: m.has("freed") ? r.bool(m.get("freed")!, "release.freed") ?? true : true, steps,
        delay: time(m.get("delay"), "release.delay"),
        afterVoluntarySwitch: str(m, "after-voluntary-switch"),
        heldAtFree: count(m.get("held-at-free"), "release.held-at-free"),
      };
    },
    check: (e, { run, k, fail }) => {
      const r = run.releasesOf(e.ops).at(-1);
      if (!r) return fail(`ops ${e.ops} released`, "it was never unregistered (or it is static: nothing to free)");
      const names = r.steps.map(stepName);
      const waited = `waited for ${names.join(" + ") || "nothing"}`;
      if ((r.freedAt !== undefined) !== e.freed) {
        const now = r.freedAt !== undefined ? `freed at ${formatTime(r.freedAt)}` : `not freed (${k.releases.describe(k.machine.time)})`;
        return fail(e.freed ? "freed" : "not freed yet", `${now}; ${waited}`);
      }
      if (e.steps && names.join(" ") !== e.steps.join(" ")) return fail(`waits for ${e.steps.join(" + ")}`, waited);
      const delay = r.freedAt !== undefined ? r.freedAt - r.unregisteredAt : undefined;
      if (e.delay && (delay === undefined || !inRange(delay, e.delay))) {
        return fail(`freed ${describeRange(e.delay, true)} after unregistering`, delay === undefined ? "not freed" : formatTime(delay));
      }
      const held = (r.trampoline?.heldAtFree ?? []).filter((h) => h.live);
      if (e.heldAtFree && !inRange(BigInt(held.length), e.heldAtFree)) {
        return fail(`${describeRange(e.heldAtFree)} task(s) inside the trampoline when it was freed`,
          held.length ? held.map((h) => h.text).join("; ") : "none");
      }
      if (e.afterVoluntarySwitch) {
        const task = k.sched.tasks.find((t) => t.name === e.afterVoluntarySwitch)!;
        const sw = k.machine.events.ofKind(EventKind.SWITCH)
          .find((ev) => ev.clock > r.unregisteredAt && Number(ev.a) === task.pid && Number(ev.c) === SchedReason.VOLUNTARY);
        if (!sw || r.freedAt === undefined || r.freedAt <= sw.clock) {
          const freed = r.freedAt === undefined ? "never" : `at ${formatTime(r.freedAt)}`;
          return fail(`freed after ${task.name} switched out voluntarily`, sw
            ? `${task.name} switched voluntarily at ${formatTime(sw.clock)}, freed ${freed}`
            : `${task.name} never switched voluntarily after the unregister`);
        }
      }
      return undefined;
    },
  },

  "grace-period": {
    doc: ["`grace-period: { flavour, completed, latency, holdouts }`",
      "the flavour completed that many grace periods, each within `latency` (request to end); its last one had `holdouts` tasks it " +
      "waited for"],
    read: ({ r, map, count, time }) => {
      const m = map(["flavour", "completed", "latency", "holdouts"], ["flavour"]);
      const flavour = m?.has("flavour") ? r.oneOf(m.get("flavour")!, "grace-period.flavour", FLAVOURS) : undefined;
      if (!m || !flavour) return undefined;
      return {
        flavour, completed: count(m.get("completed"), "grace-period.completed"), latency: time(m.get("latency"), "grace-period.latency"),
        holdouts: count(m.get("holdouts"), "grace-period.holdouts"),
      };
    },
    check: (e, { k, fail }) => {
      const f = k.rcu.flavours.find((x) => x.name === e.flavour)!;
      if (e.completed && !inRange(BigInt(f.completed), e.completed)) {
        return fail(`${describeRange(e.completed)} ${f.name} grace periods completed`, String(f.completed));
      }
      const lat = f.latencies();
      const out = lat.filter((l) => e.latency && !inRange(l, e.latency));
      if (e.latency && out.length) {
        return fail(`every ${f.name} grace period ${describeRange(e.latency, true)}`,
          `${out.length} of ${lat.length} outside: ${out.slice(0, 5).map(formatTime).join(", ")}`);
      }
      const last = f.history.at(-1);
      if (e.holdouts && !(last && inRange(BigInt(last.holdouts), e.holdouts))) {
        return fail(`${describeRange(e.holdouts)} holdout(s) in the last ${f.name} grace period`,
          last ? `${last.holdouts} in grace period ${last.seq}` : "no grace period completed");
      }
      return undefined;
    },
  },

  "counter": {
    doc: ["`counter: { ops, function, value }`", "hits of a counter or host ops, or records of a function tracer, for that function"],
    read: ({ x, r, map, count }) => {
      const m = map(["ops", "function", "value"], ["ops", "function", "value"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "counter.ops") : undefined;
      const fn = m?.has("function") ? r.str(m.get("function")!, "counter.function") : undefined;
      const value = count(m?.get("value"), "counter.value");
      return ops && fn && value ? { ops, function: fn, value } : undefined;
    },
    check: (e, { run, k, fail }) => {
      const l = run.live(e.ops), rec = k.ftrace.record(e.function)!;
      const v = l.counter ? l.counter.hits(rec.index)
        : l.hostCalls ? l.hostCalls.get(rec.ip) ?? 0n
          : BigInt(l.records.filter((x) => x.ip === rec.ip).length);
      return inRange(v, e.value) ? undefined : fail(`${e.function} counted by ${e.ops}: ${describeRange(e.value)}`, String(v));
    },
  },

  "global": {
    doc: ["`global: { symbol, index, value }`", "a u64 firmware global (or element `index` of an array)"],
    read: ({ r, map, count }) => {
      const m = map(["symbol", "index", "value"], ["symbol", "value"]);
      const symbol = m?.has("symbol") ? r.str(m.get("symbol")!, "global.symbol") : undefined;
      const index = m?.has("index") ? r.int(m.get("index")!, "global.index", 0, MAX_GLOBAL_INDEX) : 0;
      const value = count(m?.get("value"), "global.value");
      return symbol && index !== undefined && value ? { symbol, index, value } : undefined;
    },
    check: (e, { k, fail }) => {
      const v = k.readGlobal(e.symbol, e.index);
      return inRange(v, e.value) ? undefined : fail(`${e.symbol}[${e.index}]: ${describeRange(e.value)}`, String(v));
    },
  },

  "task": {
    doc: ["`task: { name, state, irq-preemptions }`",
      "the task's state (`running`, `runnable`, `sleeping`, `dead`) and how often an interrupt preempted it"],
    read: ({ r, arg, map, count }) => {
      const m = map(["name", "state", "irq-preemptions"], ["name"]);
      const name = m?.has("name") ? r.str(m.get("name")!, "task.name") : undefined;
      const state = m?.has("state") ? r.oneOf(m.get("state")!, "task.state", TASK_STATES) : undefined;
      if (m && m.size === 1) return r.fail(arg.at, "task needs state, irq-preemptions or both");
      return name ? { name, state, irqPreemptions: count(m!.get("irq-preemptions"), "task.irq-preemptions") } : undefined;
    },
    check: (e, { k, fail }) => {
      const t = k.sched.tasks.find((x) => x.name === e.name)!;
      if (e.state && t.state !== e.state) return fail(`${e.name} ${e.state}`, `${e.name} ${t.state}`);
      // Preempted by an interrupt (not at cond_resched() or preempt_enable()): it may have been anywhere.
      const irq = k.machine.events.ofKind(EventKind.SWITCH)
        .filter((ev) => Number(ev.a) === t.pid && Number(ev.c) === SchedReason.IRQ_PREEMPT);
      if (e.irqPreemptions && !inRange(BigInt(irq.length), e.irqPreemptions)) {
        return fail(`${e.name} preempted by an interrupt ${describeRange(e.irqPreemptions)} time(s)`,
          `${irq.length}${irq.length ? `, first at ${k.symbols.format(irq[0].d)}` : ""}`);
      }
      return undefined;
    },
  },

  "console": {
    doc: ["`console: { includes, excludes }`", "kernel console text"],
    read: ({ map, list }) => {
      const m = map(["includes", "excludes"]);
      if (!m) return undefined;
      return { includes: list(m, "includes") ?? [], excludes: list(m, "excludes") ?? [] };
    },
    check: (e, { k, fail }) => {
      const text = k.console.join("");
      const missing = e.includes.filter((s) => !text.includes(s)), present = e.excludes.filter((s) => text.includes(s));
      if (!missing.length && !present.length) return undefined;
      return fail([...missing.map((s) => `"${s}" on the console`), ...present.map((s) => `no "${s}" on the console`)].join("; "),
        text.trim() ? text.trim().split("\n").slice(-20).join("\n") : "(the console is empty)");
    },
  },

  "poke": {
    doc: ["`poke: { int3-hits, batches, sites-changed }`", "text-poke statistics"],
    read: ({ r, arg, map, count }) => {
      const m = map(["int3-hits", "batches", "sites-changed"]);
      if (!m) return undefined;
      if (m.size === 0) return r.fail(arg.at, "poke needs int3-hits, batches or sites-changed");
      return { int3Hits: count(m.get("int3-hits"), "poke.int3-hits"), batches: count(m.get("batches"), "poke.batches"),
        sitesChanged: count(m.get("sites-changed"), "poke.sites-changed") };
    },
    check: (e, { k, fail }) => {
      const s = k.poke.stats;
      const all = [["int3 hits", e.int3Hits, s.int3Hits], ["batches", e.batches, BigInt(s.batches)],
        ["sites changed", e.sitesChanged, BigInt(s.sitesChanged)]] as const;
      const wrong = all.filter(([, r, v]) => r && !inRange(v, r));
      if (!wrong.length) return undefined;
      return fail(wrong.map(([n, r]) => `${n} ${describeRange(r!)}`).join("; "), wrong.map(([n, , v]) => `${n} ${v}`).join("; "));
    },
  },

  "site": {
    doc: ["`site: { function, bytes }` or `{ function, calls }`",
      "the site holds those bytes (`nop` or 5 hex bytes), or calls that symbol (`ftrace_caller`, `ftrace_trampoline[OPS]`, ...)"],
    read: ({ r, arg, map }) => {
      const m = map(["function", "bytes", "calls"], ["function"]);
      const fn = m?.has("function") ? r.str(m.get("function")!, "site.function") : undefined;
      if (!m || !fn) return undefined;
      if (m.has("bytes") === m.has("calls")) return r.fail(arg.at, "site needs bytes or calls (one of them)");
      const calls = m.has("calls") ? r.str(m.get("calls")!, "site.calls") : undefined;
      const text = m.has("bytes") ? r.str(m.get("bytes")!, "site.bytes") : undefined;
      const bytes = text === undefined ? undefined : parseBytes(text);
      if (text !== undefined && !bytes) return r.fail(m.get("bytes")!.at, "site.bytes must be nop or 5 hex bytes, like \"e8 12 34 56 78\"");
      return { function: fn, bytes, calls };
    },
    check: (e, { k, fail }) => {
      const rec = k.ftrace.record(e.function)!;
      const b = k.machine.readPhys(k.phys(rec.ip), 5);
      const hex = (x: Uint8Array) => [...x].map((v) => v.toString(16).padStart(2, "0")).join(" ");
      const target = b[0] === 0xe8 ? rec.ip + 5n + BigInt(new DataView(b.buffer, b.byteOffset).getInt32(1, true)) : undefined;
      const holds = `${hex(b)}${target !== undefined ? ` (call ${k.symbols.format(target)})` : ""}`;
      if (e.bytes && hex(b) !== hex(e.bytes)) return fail(`${e.function}'s site holds ${hex(e.bytes)}`, holds);
      const callee = target !== undefined ? k.symbols.find(target) : undefined;
      if (e.calls && (callee?.name !== e.calls || callee.addr !== target)) return fail(`${e.function}'s site calls ${e.calls}`, holds);
      return undefined;
    },
  },

  "calls": {
    doc: ["`calls: { ops, value }`", "the ops' callback ran that many times (op->calls; the ops must still be registered)"],
    read: ({ x, map, count }) => {
      const m = map(["ops", "value"], ["ops", "value"]);
      const ops = m?.has("ops") ? opsName(x, m.get("ops")!, "calls.ops") : undefined;
      const value = count(m?.get("value"), "calls.value");
      return ops && value ? { ops, value } : undefined;
    },
    check: (e, { run, k, fail }) => {
      const ops = run.live(e.ops).ops;
      const expected = `${e.ops}'s callback called ${describeRange(e.value)} time(s)`;
      if (!ops.enabled) return fail(expected, "the ops is not registered now, so its calls cannot be read");
      const v = k.ftrace.calls(ops);
      return inRange(v, e.value) ? undefined : fail(expected, String(v));
    },
  },

  "recursion": {
    doc: ["`recursion: { total, site, count }`",
      "ftrace's recursion guard skipped `total` callback calls in all, and `count` at `site` (a traceable function)"],
    read: ({ r, arg, map, count, str }) => {
      const m = map(["total", "site", "count"]);
      if (!m) return undefined;
      if (m.has("site") !== m.has("count")) {
        return r.fail(arg.at, "recursion: site and count go together (the skips at that function's site)");
      }
      if (!m.has("total") && !m.has("site")) return r.fail(arg.at, "recursion needs total, or site with count, or both");
      return { total: count(m.get("total"), "recursion.total"), site: str(m, "site"), count: count(m.get("count"), "recursion.count") };
    },
    check: (e, { k, fail }) => {
      const counted = recursionsOf(k);
      if (!counted) {
        return fail("ftrace's recursion counters", "none: ftrace stopped at an ftrace bug during boot, before it allocated them");
      }
      const { total, sites } = counted;
      const seen = () => `${total} in all${sites.size ? `: ${[...sites].map(([f, n]) => `${f} ${n}`).join(", ")}` : ""}`;
      if (e.total && !inRange(total, e.total)) return fail(`${describeRange(e.total)} recursion(s) skipped in all`, seen());
      const at = e.site !== undefined ? sites.get(e.site) ?? 0n : 0n;
      if (e.site !== undefined && !inRange(at, e.count!)) {
        return fail(`${describeRange(e.count!)} recursion(s) skipped at ${e.site}`, `${at} at ${e.site}; ${seen()}`);
      }
      return undefined;
    },
  },

  "stack": {
    doc: ["`stack: { name, entered, skipped, in-tracing, corrupt }`",
      "a kernel stack's header (`task NAME`, `irq cpuN`, `ist #DF cpuN`, `ist #UD cpuN`; quote the IST ones, `#` starts a YAML " +
      "comment): callbacks entered and skipped on it, its in_tracing flag, its magic overwritten"],
    read: ({ r, arg, map, count, flag }) => {
      const m = map(["name", "entered", "skipped", "in-tracing", "corrupt"], ["name"]);
      const name = m?.has("name") ? r.str(m.get("name")!, "stack.name") : undefined;
      if (m && m.size === 1) return r.fail(arg.at, "stack needs entered, skipped, in-tracing or corrupt");
      return m && name ? { name, entered: count(m.get("entered"), "stack.entered"), skipped: count(m.get("skipped"), "stack.skipped"),
        inTracing: flag(m, "in-tracing"), corrupt: flag(m, "corrupt") } : undefined;
    },
    check: (e, { k, fail }) => {
      const s = stackStates(k.stacks).find((x) => x.stack.name === e.name);
      if (!s) return fail(`a kernel stack named "${e.name}"`, `none (stacks: ${k.stacks.all.map((x) => x.name).join(", ")})`);
      const setOrClear = (b: boolean) => `in_tracing ${b ? "set" : "clear"}`;
      const header = (corrupt: boolean) => (corrupt ? "header overwritten" : "header intact");
      const wrong = [
        e.entered && !inRange(s.entered, e.entered) && [`entered ${describeRange(e.entered)}`, `entered ${s.entered}`],
        e.skipped && !inRange(s.recursions, e.skipped) && [`skipped ${describeRange(e.skipped)}`, `skipped ${s.recursions}`],
        e.inTracing !== undefined && s.inTracing !== e.inTracing && [setOrClear(e.inTracing), setOrClear(s.inTracing)],
        e.corrupt !== undefined && s.corrupt !== e.corrupt && [header(e.corrupt), header(s.corrupt)],
      ].filter((w): w is string[] => Array.isArray(w));
      if (!wrong.length) return undefined;
      return fail(`${e.name}: ${wrong.map((w) => w[0]).join("; ")}`, `${e.name}: ${wrong.map((w) => w[1]).join("; ")}`);
    },
  },

  "warning": {
    doc: ["`warning: { function, task, count }`", "WARN_ON() reports at that function in that task: `count` (default at least 1)"],
    read: ({ map, count, str }) => {
      const m = map(["function", "task", "count"], [], true);
      if (!m) return undefined;
      return { function: str(m, "function"), task: str(m, "task"), count: count(m.get("count"), "warning.count") ?? { min: 1n } };
    },
    check: (e, { k, fail }) => {
      const match = k.warnings.filter((w) =>
        (e.function === undefined || k.symbols.find(w.rip)?.name === e.function) && (e.task === undefined || w.task === e.task));
      if (inRange(BigInt(match.length), e.count)) return undefined;
      const want = [e.function && `at ${e.function}`, e.task && `in ${e.task}`].filter(Boolean).join(" ");
      const first = k.warnings.length ? `; the first: ${firstLine(k.warnings[0].text)}` : "";
      return fail(`${describeRange(e.count)} warning(s)${want ? " " + want : ""}`,
        `${match.length} matching of ${k.warnings.length}${first}`);
    },
  },

  "oops": {
    doc: ["`oops: { task, overflow, includes, count }`",
      "oopses in that task, a stack overflow of the stack `overflow` names (a double fault on its guard gap), whose text includes " +
      "each string: `count` (default at least 1)"],
    read: ({ map, count, str, list }) => {
      const m = map(["task", "overflow", "includes", "count"], [], true);
      if (!m) return undefined;
      return {
        task: str(m, "task"), overflow: str(m, "overflow"), includes: list(m, "includes") ?? [],
        count: count(m.get("count"), "oops.count") ?? { min: 1n },
      };
    },
    check: (e, { k, fail }) => {
      const match = k.oopses.filter((o) => (e.task === undefined || o.task === e.task) &&
        (e.overflow === undefined || o.overflow === e.overflow) && e.includes.every((t) => o.text.includes(t)));
      if (inRange(BigInt(match.length), e.count)) return undefined;
      const want = [e.task && `in ${e.task}`, e.overflow && `overflowing ${e.overflow}`, ...e.includes.map((t) => `saying "${t}"`)]
        .filter(Boolean).join(", ");
      const first = k.oopses.length ? `; the first: ${k.oopses[0].text.split("\n").slice(0, 2).join(" / ")}` : "";
      return fail(`${describeRange(e.count)} oops(es)${want ? " " + want : ""}`, `${match.length} matching of ${k.oopses.length}${first}`);
    },
  },

  "module": { doc: moduleDoc, read: readModule, check: checkModule },
};

function checkTrace(e: Of<"trace">, { run, k, golden, fail }: CheckContext): Failure | undefined {
  const l = run.live(e.ops);
  const name = (ip: bigint) => k.symbols.find(ip)?.name ?? `0x${ip.toString(16)}`;
  const seen = [...new Set(l.records.map((r) => name(r.ip)))].sort();
  if (e.functions && seen.join(" ") !== [...e.functions].sort().join(" ")) {
    return fail(`exactly these functions traced: ${[...e.functions].sort().join(" ")}`, seen.join(" ") || "nothing traced");
  }
  const missing = e.includes.filter((f) => !seen.includes(f)), extra = e.excludes.filter((f) => seen.includes(f));
  if (missing.length || extra.length) {
    return fail([...missing.map((f) => `${f} traced`), ...extra.map((f) => `${f} not traced`)].join("; "),
      `traced: ${seen.join(" ") || "nothing"}`);
  }
  if (e.records && !inRange(BigInt(l.records.length), e.records)) {
    return fail(`${describeRange(e.records)} trace records`, String(l.records.length));
  }
  const lost = l.tracer!.lost;
  if (e.lost && !inRange(lost, e.lost)) return fail(`${describeRange(e.lost)} records lost to ring overruns`, String(lost));
  const text = traceFile(l.tracer!, l.records, k.sched.tasks, k.symbols, k.machine.ncpus);
  const body = text.split("\n").filter((x) => x && !x.startsWith("#"));
  const unmatched = e.lines.filter((re) => !body.some((x) => re.test(x)));
  if (unmatched.length) {
    const first = body.slice(0, 3).map((x) => x.trim()).join(" | ") || "none";
    return fail(`trace lines matching ${unmatched.map((re) => `/${re.source}/`).join(", ")}`,
      `${body.length} lines, none matching; the first: ${first}`);
  }
  if (e.golden) return compareGolden(text, e.golden, golden, fail);
  return undefined;
}
