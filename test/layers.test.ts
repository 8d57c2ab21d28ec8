import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Runs tools/layers.mjs (on a scratch tree when `root` is given): its exit status and output. */
function layers(root?: string): { status: number; out: string } {
  try {
    const args = ["tools/layers.mjs", ...(root ? ["--root", root] : [])];
    return { status: 0, out: execFileSync(process.execPath, args, { encoding: "utf8", stdio: "pipe" }) };
  } catch (e) {
    const x = e as { status: number; stdout: string };
    return { status: x.status, out: x.stdout };
  }
}

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "layers-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("import layers", () => {
  it("src/, assembly/ and firmware/ have no import circle and no upward import (besides the known ones)", () => {
    const { status, out } = layers();
    expect(out, out).toMatch(/^layers: no import circle, no upward import/m);
    expect(status).toBe(0);
  });

  it("names a circle's files in import order, type-only imports included", () => {
    const root = tree({
      "src/kernel/a.ts": 'import { b } from "./b.js";\nexport const a = b;\n',
      "src/kernel/b.ts": 'import type { C } from "./c/index.js";\nexport const b = 1;\n',
      "src/kernel/c/index.ts": 'import { a } from "../a.js";\nexport type C = typeof a;\n',
      "assembly/x.ts": 'import { y } from "./y";\nexport const x = y;\n',
      "assembly/y.ts": 'import { x } from "./x";\nexport const y = x;\n',
      "firmware/include/p.h": '#include "q.h"\n',
      "firmware/include/q.h": '#include "p.h"\n',
    });
    try {
      const { status, out } = layers(root);
      expect(status).toBe(1);
      expect(out).toContain("import circle: src/kernel/a.ts -> src/kernel/b.ts -> src/kernel/c/index.ts -> src/kernel/a.ts");
      expect(out).toContain("import circle: assembly/x.ts -> assembly/y.ts -> assembly/x.ts");
      expect(out).toContain("import circle: firmware/include/p.h -> firmware/include/q.h -> firmware/include/p.h");
      expect(out).toContain("layers: 3 problem(s)");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses an import from a lower layer up to a higher one, and allows the other way", () => {
    const root = tree({
      "src/machine/m.ts": 'export { k } from "../kernel/k.js";\n',
      "src/kernel/k.ts": 'import { n } from "../numbers.js";\nexport const k = n;\n',
      "src/numbers.ts": "export const n = 1;\n",
      "src/cli/main.ts": 'const s = await import("../scenario/s.js");\n',
      "src/scenario/s.ts": 'import "../kernel/k.js";\n',
    });
    try {
      const { status, out } = layers(root);
      expect(status).toBe(1);
      expect(out).toContain("upward import: src/machine/m.ts -> src/kernel/k.ts (layer machine imports the higher layer kernel)");
      expect(out).toContain("layers: 1 problem(s)");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses a top-level part of src/ that no layer holds", () => {
    const root = tree({ "src/plugins/p.ts": "export const p = 1;\n" });
    try {
      const { status, out } = layers(root);
      expect(status).toBe(1);
      expect(out).toContain("src/plugins is in no layer: add it to a row of LAYERS in tools/layers.mjs");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
