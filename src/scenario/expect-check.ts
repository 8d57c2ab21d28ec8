// What every kind's `check` uses: the failure it returns, ranges described in words, and golden
// text compared (or rewritten with --update-golden).
import { existsSync } from "node:fs";
import { INPUT_LIMITS, InputError, formatSize, readInputText } from "../io.js";
import { writeGolden, type Golden } from "./golden.js";
import { unifiedDiff, MAX_EDITS, type LineDiff } from "./diff.js";
import { formatTime } from "../machine/units.js";
import type { ScenarioRun } from "./run.js";
import type { Kernel } from "../kernel/kernel.js";
import type { Pos, Range } from "./types.js";

export interface Failure {
  at: Pos;
  what: string;
  expected: string;
  actual: string;
  diff?: string[];
}

export type Fail = (expected: string, actual: string, diff?: string[]) => Failure;

/** What one expectation is checked against, and the failure it reports. */
export interface CheckContext {
  run: ScenarioRun;
  k: Kernel;
  golden: Golden;
  fail: Fail;
  /** Holds when `items` is empty; else says how many `what` there were and shows the first. */
  none<T>(items: T[], what: string, show: (t: T) => string): Failure | undefined;
}

export function checkContext(run: ScenarioRun, at: Pos, what: string, golden: Golden): CheckContext {
  const fail: Fail = (expected, actual, diff) => ({ at, what, expected, actual, diff });
  const none = <T>(items: T[], what: string, show: (t: T) => string) => items.length === 0 ? undefined
    : fail(`no ${what}`, `${items.length} ${what}: ${show(items[0])}${items.length > 1 ? " (and more)" : ""}`);
  return { run, k: run.kernel, golden, fail, none };
}

/** The first line of a report that says something (not blank, not a ==== rule). */
export const firstLine = (s: string) => s.split("\n").find((l) => /\w/.test(l) && !/^=+$/.test(l)) ?? s;

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

export function compareGolden(actual: string, name: string, golden: Golden, fail: Fail): Failure | undefined {
  // Checked before the run; checked again here in case the file system changed since.
  const where = golden.locate(name);
  if ("problem" in where) throw new InputError(where.problem);
  const path = where.path;
  if (golden.update) {
    const limit = INPUT_LIMITS.golden.bytes;
    const bytes = Buffer.byteLength(actual);
    if (bytes > limit) return fail(`a golden file of at most ${formatSize(limit)}`, `${bytes} bytes of text: not written`);
    if (!existsSync(path) || readInputText(path, "golden") !== actual) { writeGolden(path, actual); golden.written.push(name); }
    return undefined;
  }
  const expected = readInputText(path, "golden");
  if (expected === actual) return undefined;
  const diff = unifiedDiff(expected, actual, [`${name} (golden)`, "actual"]);
  return fail(`the text of ${name} (${expected.split("\n").length - 1} lines)`,
    `${describeChanges(diff)} (diff below; --update-golden rewrites it, review the diff)`, diff.lines);
}

/** "2 changed lines: 1 removed, 1 added": what differs, not how long either text is. */
function describeChanges(d: LineDiff): string {
  if (!d.aligned) {
    return `more than ${MAX_EDITS} changed lines, too many to align: everything between the common start and end as one block, ` +
      `${d.removed} removed, ${d.added} added`;
  }
  const n = d.removed + d.added;
  return `${n} changed line${n === 1 ? "" : "s"}: ${d.removed} removed, ${d.added} added`;
}
