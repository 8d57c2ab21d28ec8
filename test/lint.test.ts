import { describe, it, expect } from "vitest";
import { ESLint } from "eslint";

// Off until the one reformat commit (`npm run format`, then the long lines wrapped by hand) has
// landed; then true, and every finding fails CI.
const ENFORCED = false;

describe("lint and format (eslint.config.mjs)", () => {
  const results = new ESLint().lintFiles(["."]);
  const show = (r: ESLint.LintResult[], keep: (m: ESLint.LintResult["messages"][number]) => boolean) =>
    r.flatMap((f) => f.messages.filter(keep).map((m) => `${f.filePath}:${m.line}:${m.column} ${m.ruleId ?? ""} ${m.message}`));

  it("parses every source file, the AssemblyScript core included", async () => {
    const fatal = show(await results, (m) => m.fatal === true);
    expect(fatal, fatal.join("\n")).toEqual([]);
  });

  it.skipIf(!ENFORCED)("finds nothing to fix", async () => {
    const all = show(await results, () => true);
    expect(all.length, all.slice(0, 50).join("\n")).toBe(0);
  });
});
