// A line diff of expected and actual text, in unified form, for failing golden comparisons.
// Longest common subsequence over lines: golden files are a few hundred lines at most.

type Op = { op: " " | "-" | "+"; line: string; a: number; b: number };

function lcsOps(a: string[], b: string[]): Op[] {
  const n = a.length, m = b.length;
  // suffix[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const suffix = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      suffix[at(i, j)] = a[i] === b[j] ? suffix[at(i + 1, j + 1)] + 1 : Math.max(suffix[at(i + 1, j)], suffix[at(i, j + 1)]);
    }
  }
  const ops: Op[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { ops.push({ op: " ", line: a[i], a: i++, b: j++ }); }
    // On a tie the removal goes first, so a changed line reads "-old" then "+new".
    else if (i < n && (j === m || suffix[at(i + 1, j)] >= suffix[at(i, j + 1)])) ops.push({ op: "-", line: a[i], a: i++, b: j });
    else ops.push({ op: "+", line: b[j], a: i, b: j++ });
  }
  return ops;
}

/**
 * Unified diff of `expected` (---) against `actual` (+++), with `context` lines around each
 * change; at most `maxLines` lines, the rest counted. Empty when the texts are equal.
 */
export function unifiedDiff(expected: string, actual: string, labels: [string, string], context = 3, maxLines = 80): string[] {
  if (expected === actual) return [];
  const ops = lcsOps(expected.split("\n"), actual.split("\n"));
  const changed = ops.map((o, k) => (o.op !== " " ? k : -1)).filter((k) => k >= 0);
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  let k = 0;
  while (k < changed.length) {
    let start = Math.max(0, changed[k] - context), end = Math.min(ops.length, changed[k] + context + 1);
    while (k + 1 < changed.length && changed[k + 1] - context <= end) end = Math.min(ops.length, changed[++k] + context + 1);
    k++;
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.op !== "+").length, bLen = hunk.filter((o) => o.op !== "-").length;
    out.push(`@@ -${hunk[0].a + 1},${aLen} +${hunk[0].b + 1},${bLen} @@`);
    for (const o of hunk) out.push(o.op + o.line);
    start = end;
  }
  if (out.length > maxLines) return [...out.slice(0, maxLines), `... ${out.length - maxLines} more diff lines`];
  return out;
}
