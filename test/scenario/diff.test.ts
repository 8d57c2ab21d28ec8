import { describe, it, expect } from "vitest";
import { unifiedDiff, MAX_EDITS } from "../../src/scenario/diff.js";

/** A golden-sized text: `n` numbered lines, each ending in a newline. */
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`);
const text = (lines: string[]) => lines.map((l) => l + "\n").join("");
const LABELS: [string, string] = ["trace.golden (golden)", "actual"];

describe("golden diffs of a 30,000-line text: exact hunks", () => {
  const golden = numbered(30_000);

  it("one changed line: one hunk, the old line removed before the new one, 3 lines of context", () => {
    const actual = [...golden];
    actual[15_000] = "changed 15000";
    expect(unifiedDiff(text(golden), text(actual), LABELS)).toEqual({
      lines: [
        "--- trace.golden (golden)", "+++ actual",
        "@@ -14998,7 +14998,7 @@",
        " line 14997", " line 14998", " line 14999", "-line 15000", "+changed 15000", " line 15001", " line 15002", " line 15003",
      ],
      removed: 1, added: 1, aligned: true,
    });
  });

  it("an inserted line", () => {
    const actual = [...golden];
    actual.splice(20_000, 0, "inserted");
    expect(unifiedDiff(text(golden), text(actual), LABELS).lines).toEqual([
      "--- trace.golden (golden)", "+++ actual",
      "@@ -19998,6 +19998,7 @@",
      " line 19997", " line 19998", " line 19999", "+inserted", " line 20000", " line 20001", " line 20002",
    ]);
  });

  it("a deleted line", () => {
    const actual = [...golden];
    actual.splice(100, 1);
    expect(unifiedDiff(text(golden), text(actual), LABELS)).toEqual({
      lines: [
        "--- trace.golden (golden)", "+++ actual", "@@ -98,7 +98,6 @@",
        " line 97", " line 98", " line 99", "-line 100", " line 101", " line 102", " line 103",
      ],
      removed: 1, added: 0, aligned: true,
    });
  });

  it("a change at the end of the file: context before it only", () => {
    const actual = [...golden];
    actual[29_999] = "the end";
    expect(unifiedDiff(text(golden), text(actual), LABELS).lines).toEqual([
      "--- trace.golden (golden)", "+++ actual",
      "@@ -29997,4 +29997,4 @@", " line 29996", " line 29997", " line 29998", "-line 29999", "+the end",
    ]);
  });

  it("changes near each other share a hunk; far apart they get their own", () => {
    const actual = [...golden];
    actual[10] = "a"; actual[16] = "b"; // 5 lines between them: within 2 x 3 lines of context
    actual[5000] = "c";
    expect(unifiedDiff(text(golden), text(actual), LABELS).lines).toEqual([
      "--- trace.golden (golden)", "+++ actual",
      "@@ -8,13 +8,13 @@", " line 7", " line 8", " line 9", "-line 10", "+a",
      " line 11", " line 12", " line 13", " line 14", " line 15", "-line 16", "+b", " line 17", " line 18", " line 19",
      "@@ -4998,7 +4998,7 @@", " line 4997", " line 4998", " line 4999", "-line 5000", "+c", " line 5001", " line 5002", " line 5003",
    ]);
  });
});

describe("golden diffs: edges", () => {
  it("a missing final newline is a difference, marked as diff -u marks it", () => {
    expect(unifiedDiff("a\nb\n", "a\nb", ["g", "a"]).lines).toEqual([
      "--- g", "+++ a", "@@ -1,2 +1,2 @@", " a", "-b", "+b", "\\ No newline at end of file",
    ]);
  });

  it("an empty side is numbered 0,0", () => {
    expect(unifiedDiff("", "x\ny\n", ["g", "a"]).lines).toEqual(["--- g", "+++ a", "@@ -0,0 +1,2 @@", "+x", "+y"]);
    expect(unifiedDiff("x\n", "", ["g", "a"]).lines).toEqual(["--- g", "+++ a", "@@ -1,1 +0,0 @@", "-x"]);
  });

  it("a long diff is cut at maxLines, the rest counted", () => {
    const golden = numbered(1000);
    const actual = golden.map((l, i) => (i % 100 === 50 ? "x" : l));
    const d = unifiedDiff(text(golden), text(actual), ["g", "a"], 3, 20);
    // 10 hunks of 1 header + 3 + 2 + 3 lines, after the 2 labels: 92 lines.
    expect(d.lines).toHaveLength(21);
    expect(d.lines[20]).toBe("... 72 more diff lines");
    expect([d.removed, d.added]).toEqual([10, 10]);
  });

  it(`more than ${MAX_EDITS} changed lines: not aligned line by line, the middle shown as one block`, () => {
    const golden = numbered(30_000);
    const actual = golden.map((l, i) => (i >= 2 && i < 29_998 ? `${l} moved` : l));
    const d = unifiedDiff(text(golden), text(actual), ["g", "a"]);
    expect([d.aligned, d.removed, d.added]).toEqual([false, 29_996, 29_996]);
    expect(d.lines.slice(0, 6)).toEqual(["--- g", "+++ a", "@@ -1,30000 +1,30000 @@", " line 0", " line 1", "-line 2"]);
  });
});
