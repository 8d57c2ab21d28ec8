import { describe, it, expect } from "vitest";
import { ESLint } from "eslint";

// Every ESLint finding (a correctness rule or the house style) fails CI; `npm run lint` shows
// them, `npm run format` fixes the ones that can be fixed mechanically.
describe("lint and format (eslint.config.mjs)", () => {
  const results = new ESLint().lintFiles(["."]);
  const show = (r: ESLint.LintResult[], keep: (m: ESLint.LintResult["messages"][number]) => boolean) =>
    r.flatMap((f) => f.messages.filter(keep).map((m) => `${f.filePath}:${m.line}:${m.column} ${m.ruleId ?? ""} ${m.message}`));

  it("parses every source file, the AssemblyScript core included", async () => {
    const fatal = show(await results, (m) => m.fatal === true);
    expect(fatal, fatal.join("\n")).toEqual([]);
  });

  it("finds nothing to fix", async () => {
    const all = show(await results, () => true);
    expect(all.length, all.slice(0, 50).join("\n")).toBe(0);
  });
});
