// Where the project's files are, whether running from src/ (vitest) or dist/ (the CLI).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "tramplab") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("tramplab: cannot find the project root (package.json)");
    dir = up;
  }
}

export const projectRoot = findRoot();
export const buildDir = join(projectRoot, "build");
export const coreWasmPath = join(buildDir, "core.wasm");
