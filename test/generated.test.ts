import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { Machine } from "../src/machine/machine.js";
import { checkLayout } from "../src/machine/core.js";
import { LAYOUT_HASH } from "../src/gen/layout.js";

describe("generated sources", () => {
  it("layout, constants and opcode tables are current with tools/layout.mjs, tools/constants.mjs and tools/opcodes.mjs", () => {
    // gen.mjs --check exits non-zero naming any stale file.
    expect(() => execFileSync(process.execPath, ["tools/gen.mjs", "--check"], { stdio: "pipe" })).not.toThrow();
  });

  it("the core reports the layout hash the driver was generated with", () => {
    const m = new Machine();
    expect(m.core.layoutHash() >>> 0).toBe(LAYOUT_HASH);
  });

  it("a core built from another layout is refused with a clear error", () => {
    expect(() => checkLayout((LAYOUT_HASH ^ 1) >>> 0)).toThrow(/layout hash .* does not match .*rebuild/);
  });
});
