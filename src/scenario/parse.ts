// The scenario file format (docs/scenarios.md): YAML with four sections, read strictly. Unknown
// keys, wrong types and unknown step or expectation kinds are errors with their position.
import { isMap, isScalar, type Node } from "yaml";
import type { TaskSpec } from "../kernel/config.js";
import { libraryDefault, MACHINE_OPTIONS, option, type KconfigRule, type Option, type PreemptModel } from "../kernel/options.js";
import { checkKernelVersion, KernelVersionError, versionRule, type KernelVersion } from "../kernel/versions.js";
import { USER_DEMAND_START, USER_DEMAND_END } from "../kernel/memory.js";
import { PAGE } from "../machine/paging.js";
import { formatHz, formatTime } from "../machine/units.js";
import { checkReleasePolicy } from "../kernel/ftrace/release.js";
import { Reader, ScenarioErrors, type Field } from "./schema.js";
import { locateInput } from "./golden.js";
import { anyOpsName, kindOf, opsName, probeName, FLAVOURS, SYNCHRONIZE_UNREGISTER, type StepContext } from "./context.js";
import type { MachineSpec, OpsKind, OpsSpec, Pos, Scenario, Step } from "./types.js";
import { readExpectation, parseBytes, EXPECTATION_KINDS } from "./parse-expect.js";
import { readInsmod, readRmmod, type ModuleFile } from "./parse-module.js";

type Item = { value: Node | null; at: Pos };

const TOP = ["name", "machine", "ops", "steps", "expect"];
/** The machine section's keys: the options table's (src/kernel/options.ts). */
const MACHINE = MACHINE_OPTIONS.map((o) => o.key);
const OPS_KINDS: readonly OpsKind[] = ["function", "counter", "slow", "host", "recursing", "faulting", "warning"];
export const STEP_KINDS = ["boot", "run", "register", "unregister", "filter", "synchronize", "interrupt", "until", "corrupt-site",
  "register-probe", "unregister-probe", "mark", "expect", "insmod", "rmmod"];
/** Pages of the user region the probes read (SysEnterTracepoint.register takes them in turn). */
const USER_PAGES = Number((USER_DEMAND_END - USER_DEMAND_START) / BigInt(PAGE));
const ERRNOS = ["EBUSY", "ENODEV", "EINVAL"] as const;
/** The most tasks a workload and ops a scenario may declare (the shipped ones have a handful; npm run bench goes to 1000 ops). */
const MAX_TASKS = 1000, MAX_OPS = 1000;
const DEFAULT_WITHIN = 1_000_000_000n;

/** Reads and checks a scenario's text; throws ScenarioErrors listing every problem found. */
export function parseScenario(file: string, text: string): Scenario {
  const r = new Reader(file, text);
  const origin = { line: 1, col: 1 };
  const top = r.errors.length ? undefined : r.fields(r.doc.contents as Node | null, origin, "the scenario", TOP, ["machine", "steps"]);
  if (!top) throw new ScenarioErrors(r.errors);
  const name = top.has("name") ? r.str(top.get("name")!, "name") ?? "" : "";
  // A missing machine or steps was reported by fields(); the rest of the file is still read.
  const machine = top.has("machine") ? readMachine(r, top.get("machine")!, file) : undefined;
  const jiffy = machine?.tickPeriod ?? (option("tickPeriod").default as number);
  const ops = top.has("ops") ? readOps(r, top.get("ops")!) : [];
  const known = new Set(ops.map((o) => o.name));
  const x: StepContext = { r, jiffy, ops: known, probes: new Map(), modules: new Map() };
  // Module files by real path: a file insmodded by several steps is read once.
  const modules = new Map<string, ModuleFile>();
  const steps = top.has("steps")
    ? (r.items(top.get("steps")!, "steps") ?? []).map((s) => readStep(x, s, file, modules)).filter((s): s is Step => s !== undefined)
    : [];
  const expectations = top.has("expect")
    ? (r.items(top.get("expect")!, "expect") ?? []).map((e) => readExpectation(x, e)).filter((e) => e !== undefined)
    : [];
  if (top.has("steps")) checkOrder(r, steps, top.get("steps")!.at);
  if (r.errors.length || !machine) throw new ScenarioErrors(r.errors);
  return { file, name, machine, ops, steps, expectations };
}

function readMachine(r: Reader, f: Field, file: string): MachineSpec | undefined {
  const m = r.fields(f.value, f.at, "machine", MACHINE);
  if (!m) return undefined;
  // The timer period comes first: the durations of the other keys may count in its jiffies.
  const tick = option("tickPeriod");
  const given = m.has(tick.key) ? (readOption(r, tick, m.get(tick.key)!, 0) as number | undefined) : undefined;
  const jiffy = given ?? (tick.default as number);
  // A key left out, or refused (which fails the file), takes the table's default.
  const spec: Record<string, unknown> = {};
  for (const o of MACHINE_OPTIONS) {
    const v = m.has(o.key) ? (o === tick ? jiffy : readOption(r, o, m.get(o.key)!, jiffy)) : undefined;
    spec[o.name] = v === undefined ? libraryDefault(o) : o.toLibrary ? o.toLibrary(v) : v;
  }
  // A scheme's own switch set under another scheme would be silently ignored by the guard.
  const scheme = spec.recursion as string;
  if (m.has("ist-link") && scheme !== "per-stack") {
    r.fail(m.get("ist-link")!.keyAt, `machine.ist-link applies to the per-stack scheme only (machine.recursion is ${scheme})`);
  }
  if (m.has("transition-bit") && scheme !== "per-task") {
    r.fail(m.get("transition-bit")!.keyAt, `machine.transition-bit applies to the per-task scheme only (machine.recursion is ${scheme})`);
  }
  // A preemption model or Kconfig rule the version does not have.
  try {
    versionRule(spec.kernel as KernelVersion, spec.preempt as PreemptModel, spec.kconfig as KconfigRule | undefined);
  } catch (e) {
    if (!(e instanceof KernelVersionError)) throw e;
    const key = ["kconfig", "preempt", "kernel"].find((k) => m.has(k));
    r.fail(key ? m.get(key)!.keyAt : f.at, `machine: ${e.message}`);
  }
  // An image is a file in or under the scenario's folder, as golden files are.
  if (typeof spec.image === "string") {
    const name = spec.image;
    const at = m.get("image")!.at;
    const found = locateInput(file, name, "machine.image", "elf");
    if ("problem" in found) {
      r.fail(at, found.problem);
      spec.image = undefined;
    } else {
      spec.image = found.path;
      spec.imageAt = { at, name };
    }
  }
  // Every MACHINE_OPTIONS name is a MachineSpec field, and each one was set above.
  return spec as MachineSpec;
}

/** A machine key's value, read by its kind with the error at its position; undefined if it is bad. */
function readOption(r: Reader, o: Option, f: Field, jiffy: number): unknown {
  const what = `machine.${o.key}`;
  const t = o.type;
  switch (t.kind) {
    case "int": return r.int(f, what, t.min, t.max);
    case "enum": return r.oneOf(f, what, t.choices);
    case "bool": return r.bool(f, what);
    case "seed": return r.seed(f, what);
    case "duration": return t.wholeJiffies ? readJiffies(r, f, what, jiffy) : r.duration(f, what, jiffy);
    case "release": {
      const p = r.str(f, what);
      if (p === undefined) return undefined;
      try { checkReleasePolicy(p); return p; } catch (e) { return r.fail(f.at, `${what}: ${(e as Error).message}`); }
    }
    case "kernel": {
      // Unquoted, YAML reads 6.10 as the number 6.1: a version must be a string.
      if (isScalar(f.value) && typeof f.value.value === "number") {
        return r.fail(f.at, `${what} must be quoted ("${String(f.value.source ?? f.value.value)}"): YAML reads it as a number`);
      }
      const v = r.str(f, what);
      if (v === undefined) return undefined;
      try { return checkKernelVersion(v); } catch (e) { return r.fail(f.at, `${what}: ${(e as Error).message}`); }
    }
    case "text": return r.str(f, what);
    case "workload": return readWorkload(r, f);
    default: throw new Error(`${what}: a ${t.kind} option has no scenario spelling`);
  }
}

/** A duration kept in whole jiffies (fault-sleep: the guest msleep()s whole timer periods). */
function readJiffies(r: Reader, f: Field, what: string, jiffy: number): number | undefined {
  const d = r.duration(f, what, jiffy);
  if (d === undefined) return undefined;
  if (d % BigInt(jiffy) !== 0n) {
    return r.fail(f.at, `${what} must be whole jiffies ` +
      `(the fault sleeps for whole timer periods of ${formatTime(jiffy)}, ${formatHz(jiffy)}), got ${formatTime(d)}`);
  }
  return Number(d / BigInt(jiffy));
}

function readWorkload(r: Reader, f: Field): MachineSpec["workload"] {
  const out: (TaskSpec & { at: Pos })[] = [];
  const items = r.items(f, "machine.workload") ?? [];
  if (items.length > MAX_TASKS) { r.fail(f.at, `machine.workload: at most ${MAX_TASKS} tasks, got ${items.length}`); return out; }
  for (const item of items) {
    const t = r.fields(item.value, item.at, "a workload task", ["name", "entry", "arg", "cpu", "kind"], ["name", "entry"]);
    if (!t) continue;
    // A missing name or entry was reported by fields().
    const name = t.has("name") ? r.str(t.get("name")!, "task name") : undefined;
    const entry = t.has("entry") ? r.str(t.get("entry")!, "task entry") ?? "" : "";
    const kind = t.has("kind") ? r.oneOf(t.get("kind")!, "task kind", ["kthread", "user"] as const) : "kthread";
    const arg = t.has("arg") ? r.int(t.get("arg")!, "task arg", 0, 2 ** 31) : undefined;
    const cpu = t.has("cpu") ? r.int(t.get("cpu")!, "task cpu", 0, 63) : undefined;
    if (name && kind) out.push({ name, entry, kind, arg, cpu, at: item.at });
  }
  return out;
}

function readOps(r: Reader, f: Field): OpsSpec[] {
  const all = r.fields(f.value, f.at, "ops", allKeys(f));
  const out: OpsSpec[] = [];
  if (all && all.size > MAX_OPS) { r.fail(f.at, `ops: at most ${MAX_OPS} ops, got ${all.size}`); return out; }
  for (const [name, o] of all ?? []) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) { r.fail(o.keyAt, `ops: "${name}" is not a plain name (letters, digits, _ and -)`); continue; }
    const m = r.fields(o.value, o.at, `ops ${name}`,
      ["tracer", "filter", "notrace", "save-regs", "recursion", "dynamic", "permanent", "ring", "spin", "warn-at"], ["tracer"]);
    if (!m) continue;
    const kind = r.oneOf(m.get("tracer") ?? o, `ops ${name}: tracer`, OPS_KINDS);
    const flag = (k: string) => (m.has(k) ? r.bool(m.get(k)!, `ops ${name}: ${k}`) : undefined);
    const ring = m.has("ring") ? r.int(m.get("ring")!, `ops ${name}: ring`, 1, 1 << 20) : 1 << 14;
    if (ring !== undefined && (ring & (ring - 1)) !== 0) r.fail(m.get("ring")!.at, `ops ${name}: ring must be a power of two`);
    if (m.has("ring") && kind !== "function") r.fail(m.get("ring")!.keyAt, `ops ${name}: ring applies to the function tracer only`);
    if (m.has("spin") && kind !== "slow") r.fail(m.get("spin")!.keyAt, `ops ${name}: spin applies to the slow tracer only`);
    if (m.has("permanent") && (kind === "function" || flag("save-regs") || flag("dynamic") === false)) {
      r.fail(m.get("permanent")!.keyAt, `ops ${name}: permanent trampolines are for dynamic ops without save-regs`);
    }
    if (m.has("dynamic") && kind === "function") r.fail(m.get("dynamic")!.keyAt, `ops ${name}: the function tracer's ops is static`);
    if (m.has("warn-at") && kind !== "warning") r.fail(m.get("warn-at")!.keyAt, `ops ${name}: warn-at applies to the warning tracer only`);
    if (kind === "warning" && !m.has("warn-at")) {
      r.fail(o.keyAt, `ops ${name}: the warning tracer needs warn-at (the function whose calls hit WARN_ON())`);
    }
    if (!kind) continue;
    out.push({
      name, kind, at: o.keyAt, filterAt: m.get("filter")?.at ?? o.keyAt,
      filter: m.has("filter") ? r.str(m.get("filter")!, `ops ${name}: filter`) ?? "" : "",
      notrace: m.has("notrace") ? r.str(m.get("notrace")!, `ops ${name}: notrace`) ?? "" : "",
      saveRegs: flag("save-regs") ?? false, recursion: flag("recursion") ?? false, dynamic: flag("dynamic"),
      permanent: flag("permanent") ?? false,
      ring: ring ?? 1 << 14, spin: m.has("spin") ? r.int(m.get("spin")!, `ops ${name}: spin`, 0, 10_000_000) ?? 0 : 3000,
      warnAt: m.has("warn-at") ? r.str(m.get("warn-at")!, `ops ${name}: warn-at`) : undefined, warnAtAt: m.get("warn-at")?.at ?? o.keyAt,
    });
  }
  return out;
}

/** Ops are named by the user: every key of the map is an ops name. */
function allKeys(f: Field): string[] {
  const n = f.value;
  if (!n || !isMap(n)) return [];
  return n.items.map((p) => (isScalar(p.key) && typeof p.key.value === "string" ? p.key.value : "")).filter(Boolean);
}

function readStep(x: StepContext, item: Item, file: string, modules: Map<string, ModuleFile>): Step | undefined {
  const { r } = x;
  const k = kindOf(r, item, "step", STEP_KINDS);
  if (!k) return undefined;
  const { kind, arg } = k;
  const at = item.at;
  const need = (ok: boolean) => (ok ? true : r.fail(arg.at, `step ${kind} needs an argument`));
  /** A bare ops name, or a map with `ops` and the extra keys given. */
  const opsArg = (extra: string[]) => {
    if (!arg.value || !isMap(arg.value)) return { ops: opsName(x, arg, `${kind}`), m: new Map<string, Field>() };
    const m = r.fields(arg.value, arg.at, `step ${kind}`, ["ops", ...extra], ["ops"]) ?? new Map<string, Field>();
    return { ops: m.has("ops") ? opsName(x, m.get("ops")!, `${kind}.ops`) : undefined, m };
  };
  const fails = (m: Map<string, Field>) => (m.has("fails") ? r.oneOf(m.get("fails")!, `${kind}.fails`, ERRNOS) : undefined);
  switch (kind) {
    case "boot":
      if (arg.value && !(isScalar(arg.value) && arg.value.value === null)) {
        return r.fail(arg.at, "boot takes no argument (the machine section configures it)");
      }
      return { at, kind };
    case "run": {
      const ticks = need(arg.value !== null) ? r.duration(arg, "run", x.jiffy) : undefined;
      return ticks === undefined ? undefined : { at, kind, ticks };
    }
    case "register": {
      const { ops, m } = opsArg(["fails"]);
      return ops ? { at, kind, ops, fails: fails(m) } : undefined;
    }
    case "unregister": {
      const { ops, m } = opsArg(["policy", "fails"]);
      let policy: string | undefined;
      if (m.has("policy")) {
        policy = r.str(m.get("policy")!, "unregister.policy");
        try { if (policy !== undefined) checkReleasePolicy(policy); } catch (e) {
          r.fail(m.get("policy")!.at, `unregister.policy: ${(e as Error).message}`);
        }
      }
      return ops ? { at, kind, ops, policy, fails: fails(m) } : undefined;
    }
    case "filter": {
      const m = r.fields(arg.value, arg.at, "step filter", ["ops", "filter", "notrace", "fails"], ["ops"]);
      if (!m) return undefined;
      const ops = m.has("ops") ? opsName(x, m.get("ops")!, "filter.ops") : undefined;
      if (!m.has("filter") && !m.has("notrace")) return r.fail(arg.at, "step filter: give filter, notrace or both");
      const filter = m.has("filter") ? r.str(m.get("filter")!, "filter.filter") : undefined;
      const notrace = m.has("notrace") ? r.str(m.get("notrace")!, "filter.notrace") : undefined;
      return ops ? { at, kind, ops, filter, notrace, fails: fails(m), filterAt: (m.get("filter") ?? m.get("notrace"))!.at } : undefined;
    }
    case "synchronize": {
      if (arg.value && isMap(arg.value)) {
        const m = r.fields(arg.value, arg.at, "step synchronize", ["flavour", "within"], ["flavour"]);
        const flavour = m?.has("flavour") ? r.oneOf(m.get("flavour")!, "synchronize.flavour", FLAVOURS) : undefined;
        const within = m?.has("within") ? r.duration(m.get("within")!, "synchronize.within", x.jiffy) : DEFAULT_WITHIN;
        return flavour && within !== undefined ? { at, kind, flavour, within } : undefined;
      }
      const flavour = need(arg.value !== null) && r.oneOf(arg, "synchronize", FLAVOURS);
      return flavour ? { at, kind, flavour, within: DEFAULT_WITHIN } : undefined;
    }
    case "interrupt": return readInterrupt(x, arg, at);
    case "until": return readUntil(x, arg, at);
    case "corrupt-site": {
      const m = r.fields(arg.value, arg.at, "step corrupt-site", ["function", "bytes"], ["function", "bytes"]);
      const fn = m?.has("function") ? r.str(m.get("function")!, "corrupt-site.function") : undefined;
      const text = m?.has("bytes") ? r.str(m.get("bytes")!, "corrupt-site.bytes") : undefined;
      const bytes = text === undefined ? undefined : parseBytes(text);
      if (text !== undefined && !bytes) {
        return r.fail(m!.get("bytes")!.at, "corrupt-site.bytes must be nop or 5 hex bytes, like \"e8 12 34 56 78\"");
      }
      return fn && bytes ? { at, kind, function: fn, bytes } : undefined;
    }
    case "register-probe": return readRegisterProbe(x, arg, at);
    case "unregister-probe": {
      const m = r.fields(arg.value, arg.at, "step unregister-probe", ["probe", "flavour"], ["probe", "flavour"]);
      const probe = m?.has("probe") ? probeName(x, m.get("probe")!, "unregister-probe.probe") : undefined;
      const flavour = m?.has("flavour")
        ? r.oneOf(m.get("flavour")!, "unregister-probe.flavour", [...FLAVOURS, SYNCHRONIZE_UNREGISTER]) : undefined;
      if (!probe || !flavour) return undefined;
      const p = x.probes.get(probe)!;
      if (p.unregistered) {
        return r.fail(m!.get("probe")!.at, `unregister-probe: probe "${probe}" was already unregistered at line ${p.unregistered.line}`);
      }
      p.unregistered = at;
      return { at, kind, probe, flavour };
    }
    case "mark": {
      const text = need(arg.value !== null) && r.str(arg, "mark");
      return text ? { at, kind, text } : undefined;
    }
    case "insmod": return readInsmod(x, arg, at, file, modules);
    case "rmmod": return readRmmod(x, arg, at);
    case "expect": {
      const list = r.items(arg, "step expect");
      const expectations = (list ?? []).map((e) => readExpectation(x, e)).filter((e) => e !== undefined);
      return list ? { at, kind, expectations } : undefined;
    }
  }
  return undefined;
}

/** A probe name, or { probe, pages }: tracepoint_probe_register on sys_enter. */
function readRegisterProbe(x: StepContext, arg: Field, at: Pos): Step | undefined {
  const { r } = x;
  const m = arg.value && isMap(arg.value)
    ? r.fields(arg.value, arg.at, "step register-probe", ["probe", "pages", "may-fault", "fails"], ["probe"]) : undefined;
  if (arg.value && isMap(arg.value) && !m) return undefined;
  const nameField = m ? m.get("probe") : arg;
  if (!nameField) return undefined;
  const probe = r.str(nameField, "register-probe (a probe name)");
  const pages = m?.has("pages") ? r.int(m.get("pages")!, "register-probe.pages", 1, USER_PAGES) : undefined;
  const mayFault = m?.has("may-fault") ? r.bool(m.get("may-fault")!, "register-probe.may-fault") : undefined;
  const fails = m?.has("fails") ? r.oneOf(m.get("fails")!, "register-probe.fails", ["EINVAL"] as const) : undefined;
  if (probe === undefined || (m?.has("pages") && pages === undefined)) return undefined;
  if ((m?.has("may-fault") && mayFault === undefined) || (m?.has("fails") && fails === undefined)) return undefined;
  if (!/^[A-Za-z_][\w-]*$/.test(probe)) {
    return r.fail(nameField.at, `register-probe: "${probe}" is not a plain name (letters, digits, _ and -)`);
  }
  const before = x.probes.get(probe);
  if (before) return r.fail(nameField.at, `register-probe: probe "${probe}" is already registered at line ${before.at.line}`);
  // A refused registration leaves no probe to unregister or wait for.
  if (!fails) x.probes.set(probe, { at });
  return { at, kind: "register-probe", probe, pages, mayFault, fails };
}

function readInterrupt(x: StepContext, arg: Field, at: Pos): Step | undefined {
  const { r } = x;
  const m = r.fields(arg.value, arg.at, "step interrupt", ["cpu", "vector", "at-insn", "after-insns", "within"], ["cpu", "vector"]);
  if (!m) return undefined;
  const cpu = m.has("cpu") ? r.int(m.get("cpu")!, "interrupt.cpu", 0, 63) : undefined;
  const vector = m.has("vector")
    ? r.oneOf(m.get("vector")!, "interrupt.vector", ["timer", "reschedule", "call-function"] as const)
    : undefined;
  if (m.has("at-insn") && m.has("after-insns")) return r.fail(arg.at, "step interrupt: give at-insn or after-insns, not both");
  const atInsn = m.has("at-insn") ? r.count(m.get("at-insn")!, "interrupt.at-insn") : undefined;
  const afterInsns = m.has("after-insns") ? r.count(m.get("after-insns")!, "interrupt.after-insns") : undefined;
  const within = m.has("within") ? r.duration(m.get("within")!, "interrupt.within", x.jiffy) : DEFAULT_WITHIN;
  return cpu !== undefined && vector && within !== undefined
    ? { at, kind: "interrupt", cpu, vector, atInsn, afterInsns, within }
    : undefined;
}

function readUntil(x: StepContext, arg: Field, at: Pos): Step | undefined {
  const { r } = x;
  const flags = ["all-idle", "outside-callbacks"], probes = ["probe-running", "probe-blocked", "probe-freed"];
  const all = ["inside", "freed", ...flags, ...probes];
  const m = r.fields(arg.value, arg.at, "step until", ["task", "as", "within", ...all], ["within"]);
  if (!m) return undefined;
  const within = m.has("within") ? r.duration(m.get("within")!, "until.within", x.jiffy) : undefined;
  const conditions = all.filter((c) => m.has(c));
  if (conditions.length !== 1) return r.fail(arg.at, `step until: give exactly one of inside (with task), ${all.slice(1).join(", ")}`);
  if (within === undefined) return undefined;
  switch (conditions[0]) {
    case "inside": {
      if (!m.has("task")) return r.fail(arg.at, "step until: inside needs the task that should be inside");
      const task = r.str(m.get("task")!, "until.task"), ops = anyOpsName(x, m.get("inside")!, "until.inside");
      const as = m.has("as") ? r.oneOf(m.get("as")!, "until.as", ["preempted", "running", "any"] as const) : "any";
      return task && ops && as ? { at, kind: "until", within, until: { kind: "inside", task, ops, as } } : undefined;
    }
    case "freed": {
      const ops = anyOpsName(x, m.get("freed")!, "until.freed");
      return ops ? { at, kind: "until", within, until: { kind: "freed", ops } } : undefined;
    }
    case "probe-running":
    case "probe-blocked":
    case "probe-freed": {
      const kind = conditions[0] as "probe-running" | "probe-blocked" | "probe-freed";
      const probe = probeName(x, m.get(kind)!, `until.${kind}`);
      return probe ? { at, kind: "until", within, until: { kind, probe } } : undefined;
    }
    default: {
      const kind = conditions[0] as "all-idle" | "outside-callbacks";
      if (r.bool(m.get(kind)!, `until.${kind}`) !== true) return r.fail(m.get(kind)!.at, `until.${kind} must be true`);
      return { at, kind: "until", within, until: { kind } };
    }
  }
}

/** boot comes once; before it only the image may be changed (corrupt-site), and expect needs a machine. */
function checkOrder(r: Reader, steps: Step[], at: Pos): void {
  const boot = steps.findIndex((s) => s.kind === "boot");
  if (boot < 0) { r.fail(at, "steps: there is no boot step"); return; }
  steps.forEach((s, i) => {
    if (s.kind === "boot" && i !== boot) r.fail(s.at, "boot comes once");
    else if (i < boot && s.kind !== "corrupt-site") r.fail(s.at, `${s.kind} needs a booted machine: put it after boot`);
  });
}

export { EXPECTATION_KINDS, DEFAULT_WITHIN };
