import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { EXPECTATIONS } from "../../src/scenario/expectations.js";

/** The rows of docs/scenarios.md's expectations table. */
function documented(): string[] {
  const lines = readFileSync("docs/scenarios.md", "utf8").split("\n");
  const start = lines.indexOf("| expectation | holds when |") + 2;
  const end = lines.findIndex((l, i) => i >= start && !l.startsWith("|"));
  return lines.slice(start, end);
}

describe("expectation kinds", () => {
  it("docs/scenarios.md lists every kind, in order, as the table's doc says", () => {
    const rows = Object.entries(EXPECTATIONS).map(([kind, spec]) => `| ${spec.doc[0] || `\`${kind}\``} | ${spec.doc[1]} |`);
    // On a mismatch the message is the table to paste into docs/scenarios.md.
    expect(documented(), rows.join("\n")).toEqual(rows);
  });
});
