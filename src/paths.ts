// Where the project's files are, whether running from src/ (vitest) or dist/ (the CLI).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inputProblem, readInputText } from "./io.js";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (!inputProblem(pkg, "project") && JSON.parse(readInputText(pkg, "project")).name === "tramplab") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("tramplab: cannot find the project root (package.json)");
    dir = up;
  }
}

export const projectRoot = findRoot();
export const buildDir = join(projectRoot, "build");
export const coreWasmPath = join(buildDir, "core.wasm");
