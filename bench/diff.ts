// The golden-file diff of a failing scenario (src/scenario/diff.ts) on a 30,000-line function
// trace: how long it takes to report a few changed lines, and the case with too many changes
// to align. Run by `npm run bench` after the RCU benchmark, or alone: node dist/bench/diff.js
import { pathToFileURL } from "node:url";
import { unifiedDiff, MAX_EDITS } from "../src/scenario/diff.js";

const LINES = 30_000;
const REPEATS = 5;

/** A trace file's body: one line per traced call, like tracefs prints them. */
function traceText(n: number): string[] {
  const fns = ["work_top <-kthread_busy", "work_middle <-work_top", "work_leaf <-work_middle", "work_leaf <-work_top"];
  return Array.from({ length: n }, (_, i) => {
    const us = 6700 + i * 3;
    return `            busy-${4 + (i % 4)}       [00${i % 4}] .....     0.${String(us).padStart(6, "0")}: ${fns[i % fns.length]}`;
  });
}

const joined = (lines: string[]) => lines.map((l) => l + "\n").join("");

export function diffBench(): void {
  const golden = traceText(LINES);
  const expected = joined(golden);
  const edit = (f: (l: string[]) => void) => { const l = [...golden]; f(l); return joined(l); };
  const cases: [string, string][] = [
    ["one changed line", edit((l) => { l[LINES / 2] = "changed"; })],
    ["one inserted line", edit((l) => { l.splice(LINES / 3, 0, "inserted"); })],
    ["one deleted line", edit((l) => { l.splice(100, 1); })],
    ["last line changed", edit((l) => { l[LINES - 1] = "changed"; })],
    ["100 changed lines", edit((l) => { for (let i = 0; i < 100; i++) l[i * 300 + 7] = `changed ${i}`; })],
    ["every line changed", edit((l) => { for (let i = 0; i < l.length; i++) l[i] += " x"; })],
  ];
  const rows = [["change", "changed lines", "hunks", "best ms"]];
  for (const [what, actual] of cases) {
    let best = Infinity;
    let d = unifiedDiff(expected, actual, ["golden", "actual"]);
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      d = unifiedDiff(expected, actual, ["golden", "actual"], 3, Infinity);
      best = Math.min(best, performance.now() - t0);
    }
    const hunks = d.lines.filter((l) => l.startsWith("@@")).length;
    rows.push([what, `${d.removed + d.added}${d.aligned ? "" : " (not aligned)"}`, String(hunks), best.toFixed(1)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`\nscenario golden diff: a ${LINES.toLocaleString("en-US")}-line function trace ` +
    `against a changed copy (unifiedDiff, best of ${REPEATS})`);
  for (const r of rows) console.log("  " + r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join("   "));
  console.log(`  Myers' algorithm (the diff package): time grows with the text's length times the changes; past ${MAX_EDITS} changed`);
  console.log("  lines it stops aligning and shows the part between the common start and end as one block.");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) diffBench();
