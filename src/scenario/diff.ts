// A line diff of expected and actual text, in unified form, for failing golden comparisons.
// Golden traces run to tens of thousands of lines, so the edit script comes from Myers'
// O((N+M)D) algorithm (the `diff` package's diffArrays): a few changed lines cost a pass over
// the text, not a table of N x M. Myers slows down with the square of the number of changes, so
// past MAX_EDITS of them it stops aligning lines, and everything between the common start and
// the common end is shown as one block removed and one block added.
import { diffArrays } from "diff";

type Op = { op: " " | "-" | "+"; line: string; a: number; b: number };

/** Most removed plus added lines that are aligned line by line. */
export const MAX_EDITS = 1000;

export interface LineDiff {
  /**
   * The unified diff: the two labels, then hunks ("@@ -a,n +b,m @@" and their " same", "-old",
   * "+new" lines); at most `maxLines` lines, the rest counted. Empty when the texts are equal.
   */
  lines: string[];
  /** Lines only in the expected text, and lines only in the actual text. */
  removed: number;
  added: number;
  /** False when more than MAX_EDITS lines changed: the middle is one block, and the counts are an upper bound. */
  aligned: boolean;
}

/** The lines of a text, each with its "\n" (only the last may lack one), so a missing final newline is a difference. */
function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** The edit script turning `a` into `b`, one op per line; in a change the removed lines come first. */
function editScript(a: string[], b: string[]): { ops: Op[]; aligned: boolean } {
  const ops: Op[] = [];
  let i = 0, j = 0;
  const keep = (n: number) => { for (let k = 0; k < n; k++) ops.push({ op: " ", line: a[i], a: i++, b: j++ }); };
  const remove = (n: number) => { for (let k = 0; k < n; k++) ops.push({ op: "-", line: a[i], a: i++, b: j }); };
  const add = (n: number) => { for (let k = 0; k < n; k++) ops.push({ op: "+", line: b[j], a: i, b: j++ }); };
  const changes = diffArrays(a, b, { maxEditLength: MAX_EDITS });
  if (!changes) {
    let start = 0, end = 0;
    while (start < a.length && start < b.length && a[start] === b[start]) start++;
    while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
    keep(start);
    remove(a.length - start - end);
    add(b.length - start - end);
    keep(end);
    return { ops, aligned: false };
  }
  // Between two runs of equal lines, removals and additions may come in any order: gather them.
  let removed = 0, added = 0;
  for (const c of changes) {
    if (c.removed) removed += c.value.length;
    else if (c.added) added += c.value.length;
    else {
      remove(removed);
      add(added);
      removed = added = 0;
      keep(c.value.length);
    }
  }
  remove(removed);
  add(added);
  return { ops, aligned: true };
}

/**
 * Unified diff of `expected` (---) against `actual` (+++), with `context` lines around each
 * change, and how many lines each side has that the other does not.
 */
export function unifiedDiff(expected: string, actual: string, labels: [string, string], context = 3, maxLines = 80): LineDiff {
  if (expected === actual) return { lines: [], removed: 0, added: 0, aligned: true };
  const { ops, aligned } = editScript(linesOf(expected), linesOf(actual));
  const changed: number[] = [];
  ops.forEach((o, k) => { if (o.op !== " ") changed.push(k); });
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k] - context);
    let end = Math.min(ops.length, changed[k] + context + 1);
    while (k + 1 < changed.length && changed[k + 1] - context <= end) end = Math.min(ops.length, changed[++k] + context + 1);
    k++;
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.op !== "+").length, bLen = hunk.filter((o) => o.op !== "-").length;
    // A side with no lines in the hunk is numbered by the line before it, as diff -u does.
    out.push(`@@ -${hunk[0].a + (aLen ? 1 : 0)},${aLen} +${hunk[0].b + (bLen ? 1 : 0)},${bLen} @@`);
    for (const o of hunk) {
      if (o.line.endsWith("\n")) out.push(o.op + o.line.slice(0, -1));
      else out.push(o.op + o.line, "\\ No newline at end of file");
    }
  }
  const removed = ops.filter((o) => o.op === "-").length, added = ops.filter((o) => o.op === "+").length;
  const lines = out.length > maxLines ? [...out.slice(0, maxLines), `... ${out.length - maxLines} more diff lines`] : out;
  return { lines, removed, added, aligned };
}
