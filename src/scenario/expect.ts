// Checking expectations against what the run did. A failed one says what was expected and what
// happened instead, with a diff for golden text.
import { existsSync } from "node:fs";
import { INPUT_LIMITS, InputError, formatSize, readInputText } from "../io.js";
import { writeGolden, type Golden } from "./golden.js";
import { EventKind, SchedReason } from "../gen/layout.js";
import { traceFile } from "../kernel/ftrace/tracefs.js";
import { describeEvent } from "../kernel/timeline.js";
import { stackStates } from "../kernel/traps/recursion.js";
import { unifiedDiff, MAX_EDITS, type LineDiff } from "./diff.js";
import { formatTime } from "../machine/units.js";
import type { ScenarioRun } from "./run.js";
import type { Kernel } from "../kernel/kernel.js";
import type { CountRef, Expectation, Pos, Range } from "./types.js";

export interface Failure {
  at: Pos;
  what: string;
  expected: string;
  actual: string;
  diff?: string[];
}


export function inRange(v: bigint, r: Range): boolean {
  return (r.min === undefined || v >= r.min) && (r.max === undefined || v <= r.max);
}

/** "at least 3", "1 ms to 2.5 ms" (`time`: the bounds are virtual time, in ns). */
export function describeRange(r: Range, time = false): string {
  const u = (v: bigint, bound: "min" | "max") => `${time ? formatTime(v) : v}${r.refs?.[bound] ? ` (${r.refs[bound]!.text})` : ""}`;
  if (r.min !== undefined && r.min === r.max) return `exactly ${u(r.min, "min")}`;
  if (r.min !== undefined && r.max !== undefined) return `${u(r.min, "min")} to ${u(r.max, "max")}`;
  return r.min !== undefined ? `at least ${u(r.min, "min")}` : `at most ${u(r.max!, "max")}`;
}

/** ftrace's recursion counters (all zero when ftrace_init stopped at an ftrace bug). */
export function recursionsOf(k: Kernel): ReturnType<Kernel["ftrace"]["recursions"]> | undefined {
  return k.ftrace.recursions();
}

/** The value of a count of the run, or why it has none. */
function countOf(run: ScenarioRun, ref: CountRef): bigint | string {
  const k = run.kernel;
  let q: bigint;
  if (ref.of.kind === "calls") {
    const ops = run.live(ref.of.ops).ops;
    // op->calls lives in the registered ftrace_ops; unregistering hands that memory back.
    if (!ops.enabled) return `ops ${ops.name} is not registered now, so its calls cannot be read`;
    q = k.ftrace.calls(ops);
  } else q = k.readGlobal(ref.of.symbol, ref.of.index);
  if (q % ref.per !== 0n) return `${q} is not divisible by ${ref.per}`;
  return q / ref.per;
}

/** The expectation with every count of the run read now, or a failure naming the one that cannot be. */
function resolveCounts(run: ScenarioRun, e: Expectation): Expectation | Failure {
  let out: Expectation | undefined;
  for (const [key, value] of Object.entries(e)) {
    const refs = (value as Range | undefined)?.refs;
    if (!refs) continue;
    const r: Range = { ...(value as Range) };
    for (const bound of ["min", "max"] as const) {
      const ref = refs[bound];
      if (!ref) continue;
      const v = countOf(run, ref);
      if (typeof v === "string") return { at: ref.at, what: e.kind, expected: `a count for "${ref.text}"`, actual: v };
      r[bound] = v;
    }
    out = { ...(out ?? e), [key]: r } as Expectation;
  }
  return out ?? e;
}

/** Checks one expectation now; undefined when it holds. */
export function check(run: ScenarioRun, expectation: Expectation, golden: Golden): Failure | undefined {
  const k = run.kernel;
  const e = resolveCounts(run, expectation);
  if ("what" in e) return e;
  const fail = (expected: string, actual: string, diff?: string[]): Failure => ({ at: e.at, what: e.kind, expected, actual, diff });
  const none = <T>(items: T[], what: string, show: (t: T) => string) =>
    items.length === 0 ? undefined : fail(`no ${what}`, `${items.length} ${what}: ${show(items[0])}${items.length > 1 ? " (and more)" : ""}`);
  const firstLine = (s: string) => s.split("\n").find((l) => /\w/.test(l) && !/^=+$/.test(l)) ?? s;
  switch (e.kind) {
    case "no-hazard": {
      const x = k.timelineContext;
      return none(k.machine.events.ofKind(EventKind.HAZARD), "cross-modifying-code hazard(s)", (h) => describeEvent(h, x).trim());
    }
    case "no-use-after-free": return none(k.useAfterFrees, "use-after-free(s)", (u) => firstLine(u.text));
    case "no-oops": return none(k.oopses, "oops(es)", (o) => firstLine(o.text));
    case "no-lockup": return none(k.lockups, "soft lockup(s)", (l) => firstLine(l.text));
    case "no-ftrace-bug": return none(k.ftrace.bugs, "ftrace bug(s)", (b) => b.split("\n")[1]);
    case "no-warning": return none(k.warnings, "warning(s)", (w) => firstLine(w.text));
    case "use-after-free": {
      const match = k.useAfterFrees.filter((u) => (e.ops === undefined || u.trampoline?.ops.name === e.ops) &&
        (e.probe === undefined || u.object.what === `probe_data of probe "${e.probe}"`) &&
        (e.task === undefined || u.task === e.task) && (e.returned === undefined || u.returned === e.returned));
      if (inRange(BigInt(match.length), e.count)) return undefined;
      const want = [e.ops && `in the trampoline of ${e.ops}`, e.probe && `of the data of probe ${e.probe}`, e.task && `by ${e.task}`, e.returned !== undefined && (e.returned ? "returning into it" : "not by a return")].filter(Boolean).join(" ");
      const seen = k.useAfterFrees.map((u) => `${firstLine(u.text).replace(/^BUG: use-after-free in /, "")} by ${u.task}/${u.pid}${u.returned ? " (returned)" : ""}`);
      return fail(`${describeRange(e.count)} use-after-free(s)${want ? " " + want : ""}`, seen.length ? `${match.length} matching; caught: ${seen.join("; ")}` : "none caught");
    }
    case "ftrace-bug": {
      const bug = k.ftrace.bugs[0];
      if (!bug) return fail("an ftrace bug report", "none (ftrace is " + (k.ftrace.disabled ? "disabled" : "enabled") + ")");
      const lines = bug.split("\n");
      const site = /\] (\S+)\+0x/.exec(lines[1])?.[1];
      const bytes = (label: string) => lines.find((l) => l.trimStart().startsWith(label))?.split(":").slice(1).join(":").trim().replace(/:/g, " ");
      const norm = (s: string) => s.toLowerCase().split(/[\s:]+/).join(" ");
      const wrong = [
        e.function !== undefined && site !== e.function && `site ${e.function}, got ${site}`,
        e.actual !== undefined && bytes("actual:") !== norm(e.actual) && `actual bytes ${norm(e.actual)}, got ${bytes("actual:")}`,
        e.expected !== undefined && bytes("expected:") !== norm(e.expected) && `expected bytes ${norm(e.expected)}, got ${bytes("expected:")}`,
        !k.ftrace.disabled && "ftrace disabled, but it is enabled",
      ].filter(Boolean);
      return wrong.length ? fail(wrong.join("; "), bug) : undefined;
    }
    case "trace": return checkTrace(run, e, golden, fail);
    case "patch-log": return compareGolden(k.poke.log.join("\n") + "\n", e.golden, golden, fail);
    case "release": {
      const r = run.live(e.ops).releases.at(-1);
      if (!r) return fail(`ops ${e.ops} released`, "it was never unregistered (or it is static: nothing to free)");
      const names = r.steps.map((s) => s.flavour.name);
      const waited = `waited for ${names.join(" + ") || "nothing"}`;
      if ((r.freedAt !== undefined) !== e.freed) return fail(e.freed ? "freed" : "not freed yet", `${r.freedAt !== undefined ? `freed at ${formatTime(r.freedAt)}` : `not freed (${k.releases.describe(k.machine.time)})`}; ${waited}`);
      if (e.steps && names.join(" ") !== e.steps.join(" ")) return fail(`waits for ${e.steps.join(" + ")}`, waited);
      const delay = r.freedAt !== undefined ? r.freedAt - r.unregisteredAt : undefined;
      if (e.delay && (delay === undefined || !inRange(delay, e.delay))) return fail(`freed ${describeRange(e.delay, true)} after unregistering`, delay === undefined ? "not freed" : formatTime(delay));
      const held = (r.trampoline?.heldAtFree ?? []).filter((h) => h.live);
      if (e.heldAtFree && !inRange(BigInt(held.length), e.heldAtFree)) {
        return fail(`${describeRange(e.heldAtFree)} task(s) inside the trampoline when it was freed`, held.length ? held.map((h) => h.text).join("; ") : "none");
      }
      if (e.afterVoluntarySwitch) {
        const task = k.sched.tasks.find((t) => t.name === e.afterVoluntarySwitch)!;
        const sw = k.machine.events.ofKind(EventKind.SWITCH).find((ev) => ev.clock > r.unregisteredAt && Number(ev.a) === task.pid && Number(ev.c) === SchedReason.VOLUNTARY);
        if (!sw || r.freedAt === undefined || r.freedAt <= sw.clock) {
          return fail(`freed after ${task.name} switched out voluntarily`, sw ? `${task.name} switched voluntarily at ${formatTime(sw.clock)}, freed ${r.freedAt === undefined ? "never" : `at ${formatTime(r.freedAt)}`}` : `${task.name} never switched voluntarily after the unregister`);
        }
      }
      return undefined;
    }
    case "grace-period": {
      const f = k.rcu.flavours.find((x) => x.name === e.flavour)!;
      if (e.completed && !inRange(BigInt(f.completed), e.completed)) return fail(`${describeRange(e.completed)} ${f.name} grace periods completed`, String(f.completed));
      const lat = f.latencies();
      const out = lat.filter((l) => e.latency && !inRange(l, e.latency));
      if (e.latency && out.length) return fail(`every ${f.name} grace period ${describeRange(e.latency, true)}`, `${out.length} of ${lat.length} outside: ${out.slice(0, 5).map(formatTime).join(", ")}`);
      const last = f.history.at(-1);
      if (e.holdouts && !(last && inRange(BigInt(last.holdouts), e.holdouts))) {
        return fail(`${describeRange(e.holdouts)} holdout(s) in the last ${f.name} grace period`, last ? `${last.holdouts} in grace period ${last.seq}` : "no grace period completed");
      }
      return undefined;
    }
    case "counter": {
      const l = run.live(e.ops), rec = k.ftrace.record(e.function)!;
      const v = l.counter ? l.counter.hits(rec.index) : l.hostCalls ? l.hostCalls.get(rec.ip) ?? 0n : BigInt(l.records.filter((x) => x.ip === rec.ip).length);
      return inRange(v, e.value) ? undefined : fail(`${e.function} counted by ${e.ops}: ${describeRange(e.value)}`, String(v));
    }
    case "global": {
      const v = k.readGlobal(e.symbol, e.index);
      return inRange(v, e.value) ? undefined : fail(`${e.symbol}[${e.index}]: ${describeRange(e.value)}`, String(v));
    }
    case "task": {
      const t = k.sched.tasks.find((x) => x.name === e.name)!;
      if (e.state && t.state !== e.state) return fail(`${e.name} ${e.state}`, `${e.name} ${t.state}`);
      // Preempted by an interrupt (not at cond_resched() or preempt_enable()): it may have been anywhere.
      const irq = k.machine.events.ofKind(EventKind.SWITCH).filter((ev) => Number(ev.a) === t.pid && Number(ev.c) === SchedReason.IRQ_PREEMPT);
      if (e.irqPreemptions && !inRange(BigInt(irq.length), e.irqPreemptions)) {
        return fail(`${e.name} preempted by an interrupt ${describeRange(e.irqPreemptions)} time(s)`, `${irq.length}${irq.length ? `, first at ${k.symbols.format(irq[0].d)}` : ""}`);
      }
      return undefined;
    }
    case "console": {
      const text = k.console.join("");
      const missing = e.includes.filter((s) => !text.includes(s)), present = e.excludes.filter((s) => text.includes(s));
      if (!missing.length && !present.length) return undefined;
      return fail([...missing.map((s) => `"${s}" on the console`), ...present.map((s) => `no "${s}" on the console`)].join("; "),
        text.trim() ? text.trim().split("\n").slice(-20).join("\n") : "(the console is empty)");
    }
    case "site": {
      const rec = k.ftrace.record(e.function)!;
      const b = k.machine.readPhys(k.phys(rec.ip), 5);
      const hex = (x: Uint8Array) => [...x].map((v) => v.toString(16).padStart(2, "0")).join(" ");
      const target = b[0] === 0xe8 ? rec.ip + 5n + BigInt(new DataView(b.buffer, b.byteOffset).getInt32(1, true)) : undefined;
      const holds = `${hex(b)}${target !== undefined ? ` (call ${k.symbols.format(target)})` : ""}`;
      if (e.bytes && hex(b) !== hex(e.bytes)) return fail(`${e.function}'s site holds ${hex(e.bytes)}`, holds);
      const callee = target !== undefined ? k.symbols.find(target) : undefined;
      if (e.calls && (callee?.name !== e.calls || callee.addr !== target)) return fail(`${e.function}'s site calls ${e.calls}`, holds);
      return undefined;
    }
    case "calls": {
      const ops = run.live(e.ops).ops;
      if (!ops.enabled) return fail(`${e.ops}'s callback called ${describeRange(e.value)} time(s)`, "the ops is not registered now, so its calls cannot be read");
      const v = k.ftrace.calls(ops);
      return inRange(v, e.value) ? undefined : fail(`${e.ops}'s callback called ${describeRange(e.value)} time(s)`, String(v));
    }
    case "recursion": {
      const counted = recursionsOf(k);
      if (!counted) return fail("ftrace's recursion counters", "none: ftrace stopped at an ftrace bug during boot, before it allocated them");
      const { total, sites } = counted;
      const seen = () => `${total} in all${sites.size ? `: ${[...sites].map(([f, n]) => `${f} ${n}`).join(", ")}` : ""}`;
      if (e.total && !inRange(total, e.total)) return fail(`${describeRange(e.total)} recursion(s) skipped in all`, seen());
      const at = e.site !== undefined ? sites.get(e.site) ?? 0n : 0n;
      if (e.site !== undefined && !inRange(at, e.count!)) return fail(`${describeRange(e.count!)} recursion(s) skipped at ${e.site}`, `${at} at ${e.site}; ${seen()}`);
      return undefined;
    }
    case "stack": {
      const s = stackStates(k.stacks).find((x) => x.stack.name === e.name);
      if (!s) return fail(`a kernel stack named "${e.name}"`, `none (stacks: ${k.stacks.all.map((x) => x.name).join(", ")})`);
      const wrong = [
        e.entered && !inRange(s.entered, e.entered) && [`entered ${describeRange(e.entered)}`, `entered ${s.entered}`],
        e.skipped && !inRange(s.recursions, e.skipped) && [`skipped ${describeRange(e.skipped)}`, `skipped ${s.recursions}`],
        e.inTracing !== undefined && s.inTracing !== e.inTracing && [`in_tracing ${e.inTracing ? "set" : "clear"}`, `in_tracing ${s.inTracing ? "set" : "clear"}`],
        e.corrupt !== undefined && s.corrupt !== e.corrupt && [e.corrupt ? "header overwritten" : "header intact", s.corrupt ? "header overwritten" : "header intact"],
      ].filter((w): w is string[] => Array.isArray(w));
      return wrong.length ? fail(`${e.name}: ${wrong.map((w) => w[0]).join("; ")}`, `${e.name}: ${wrong.map((w) => w[1]).join("; ")}`) : undefined;
    }
    case "warning": {
      const match = k.warnings.filter((w) => (e.function === undefined || k.symbols.find(w.rip)?.name === e.function) && (e.task === undefined || w.task === e.task));
      if (inRange(BigInt(match.length), e.count)) return undefined;
      const want = [e.function && `at ${e.function}`, e.task && `in ${e.task}`].filter(Boolean).join(" ");
      return fail(`${describeRange(e.count)} warning(s)${want ? " " + want : ""}`, `${match.length} matching of ${k.warnings.length}${k.warnings.length ? `; the first: ${firstLine(k.warnings[0].text)}` : ""}`);
    }
    case "oops": {
      const match = k.oopses.filter((o) => (e.task === undefined || o.task === e.task) && (e.overflow === undefined || o.overflow === e.overflow) &&
        e.includes.every((t) => o.text.includes(t)));
      if (inRange(BigInt(match.length), e.count)) return undefined;
      const want = [e.task && `in ${e.task}`, e.overflow && `overflowing ${e.overflow}`, ...e.includes.map((t) => `saying "${t}"`)].filter(Boolean).join(", ");
      return fail(`${describeRange(e.count)} oops(es)${want ? " " + want : ""}`, `${match.length} matching of ${k.oopses.length}${k.oopses.length ? `; the first: ${k.oopses[0].text.split("\n").slice(0, 2).join(" / ")}` : ""}`);
    }
    case "poke": {
      const s = k.poke.stats;
      const wrong = ([["int3 hits", e.int3Hits, s.int3Hits], ["batches", e.batches, BigInt(s.batches)], ["sites changed", e.sitesChanged, BigInt(s.sitesChanged)]] as const)
        .filter(([, r, v]) => r && !inRange(v, r));
      return wrong.length ? fail(wrong.map(([n, r]) => `${n} ${describeRange(r!)}`).join("; "), wrong.map(([n, , v]) => `${n} ${v}`).join("; ")) : undefined;
    }
  }
  return undefined;
}

function checkTrace(run: ScenarioRun, e: Extract<Expectation, { kind: "trace" }>, golden: Golden,
  fail: (expected: string, actual: string, diff?: string[]) => Failure): Failure | undefined {
  const k = run.kernel;
  const l = run.live(e.ops);
  const name = (ip: bigint) => k.symbols.find(ip)?.name ?? `0x${ip.toString(16)}`;
  const seen = [...new Set(l.records.map((r) => name(r.ip)))].sort();
  if (e.functions && seen.join(" ") !== [...e.functions].sort().join(" ")) return fail(`exactly these functions traced: ${[...e.functions].sort().join(" ")}`, seen.join(" ") || "nothing traced");
  const missing = e.includes.filter((f) => !seen.includes(f)), extra = e.excludes.filter((f) => seen.includes(f));
  if (missing.length || extra.length) {
    return fail([...missing.map((f) => `${f} traced`), ...extra.map((f) => `${f} not traced`)].join("; "), `traced: ${seen.join(" ") || "nothing"}`);
  }
  if (e.records && !inRange(BigInt(l.records.length), e.records)) return fail(`${describeRange(e.records)} trace records`, String(l.records.length));
  if (e.lost && !inRange(l.tracer!.lost, e.lost)) return fail(`${describeRange(e.lost)} records lost to ring overruns`, String(l.tracer!.lost));
  const text = traceFile(l.tracer!, l.records, k.sched.tasks, k.symbols, k.machine.ncpus);
  const body = text.split("\n").filter((x) => x && !x.startsWith("#"));
  const unmatched = e.lines.filter((re) => !body.some((x) => re.test(x)));
  if (unmatched.length) return fail(`trace lines matching ${unmatched.map((re) => `/${re.source}/`).join(", ")}`, `${body.length} lines, none matching; the first: ${body.slice(0, 3).map((x) => x.trim()).join(" | ") || "none"}`);
  if (e.golden) return compareGolden(text, e.golden, golden, fail);
  return undefined;
}

function compareGolden(actual: string, name: string, golden: Golden, fail: (expected: string, actual: string, diff?: string[]) => Failure): Failure | undefined {
  // Checked before the run; checked again here in case the file system changed since.
  const where = golden.locate(name);
  if ("problem" in where) throw new InputError(where.problem);
  const path = where.path;
  if (golden.update) {
    const limit = INPUT_LIMITS.golden.bytes;
    if (Buffer.byteLength(actual) > limit) return fail(`a golden file of at most ${formatSize(limit)}`, `${Buffer.byteLength(actual)} bytes of text: not written`);
    if (!existsSync(path) || readInputText(path, "golden") !== actual) { writeGolden(path, actual); golden.written.push(name); }
    return undefined;
  }
  const expected = readInputText(path, "golden");
  if (expected === actual) return undefined;
  const diff = unifiedDiff(expected, actual, [`${name} (golden)`, "actual"]);
  return fail(`the text of ${name} (${expected.split("\n").length - 1} lines)`, `${describeChanges(diff)} (diff below; --update-golden rewrites it, review the diff)`, diff.lines);
}

/** "2 changed lines: 1 removed, 1 added": what differs, not how long either text is. */
function describeChanges(d: LineDiff): string {
  if (!d.aligned) return `more than ${MAX_EDITS} changed lines, too many to align: everything between the common start and end as one block, ${d.removed} removed, ${d.added} added`;
  const n = d.removed + d.added;
  return `${n} changed line${n === 1 ? "" : "s"}: ${d.removed} removed, ${d.added} added`;
}
