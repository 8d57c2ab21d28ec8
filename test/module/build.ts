// Modules for the tests: the examples (examples/modules) and fixtures built once per test file
// with `tramplab build-module`, as a person builds them.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { runCli } from "../cli-child.js";

export const EXAMPLES = join(projectRoot, "examples", "modules");
export const FIXTURES = join(projectRoot, "test", "module", "fixtures");

/** Builds each source into DIR/NAME.ko; the module objects by name. Throws with gcc's words on failure. */
export async function buildModules(sources: string[]): Promise<Map<string, Uint8Array>> {
  const dir = mkdtempSync(join(tmpdir(), "tramplab-modules-"));
  const built = await Promise.all(sources.map(async (src) => {
    const name = src.replace(/^.*\//, "").replace(/\.c$/, "");
    const out = join(dir, `${name}.ko`);
    const r = await runCli(["build-module", "-o", out, src]);
    if (r.status !== 0) throw new Error(`build-module ${src}: ${r.stderr}`);
    return [name, new Uint8Array(readFileSync(out))] as const;
  }));
  return new Map(built);
}
