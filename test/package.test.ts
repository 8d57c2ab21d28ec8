// The package as another project gets it: `npm pack`, the tarball installed into a fresh
// project without the network, and the worked example of docs/api.md (taken from the markdown,
// so the page cannot drift from what is tested) run there with vitest and type-checked with tsc
// against the published declarations.
//
// Installing offline: the project's lockfile is cut from this repository's, so it pins the same
// versions of vitest, typescript and tramplab's dependencies that `npm ci` put in the npm cache
// here, and `npm ci --offline` finds every tarball there. (Without a lockfile npm would ask the
// registry which versions exist.) Needs dist/ and build/ built (`npm test` builds first); the
// pack skips the prepack build so that it never rewrites dist/ while other tests run it.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../src/paths.js";

const MARKER = "<!-- test/package.test.ts extracts the next block: keep it runnable -->";

/** The fenced TypeScript block right after MARKER in docs/api.md. */
function docExample(): string {
  const text = readFileSync(join(projectRoot, "docs", "api.md"), "utf8");
  const at = text.indexOf(MARKER);
  if (at < 0) throw new Error(`docs/api.md has no "${MARKER}"`);
  const m = /^\s*```ts\n([\s\S]*?)\n```/.exec(text.slice(at + MARKER.length));
  if (!m) throw new Error("docs/api.md: no ```ts block after the marker");
  return m[1] + "\n";
}

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Where node finds `name` from the package at lockfile path `from` (nested node_modules first). */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const path = (dir ? dir + "/" : "") + "node_modules/" + name;
    if (packages[path]) return path;
    if (!dir) return undefined;
    const up = dir.lastIndexOf("/node_modules/");
    dir = up < 0 ? "" : dir.slice(0, up);
  }
}

/** The lockfile paths of `names` and everything they need (optional peers only if needed otherwise). */
function closure(packages: Record<string, LockEntry>, names: string[]): string[] {
  const keep = new Set<string>();
  const visit = (path: string) => {
    if (keep.has(path)) return;
    keep.add(path);
    const e = packages[path];
    const optionalPeer = (n: string) => e.peerDependenciesMeta?.[n]?.optional === true;
    const deps = [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {}),
      ...Object.keys(e.peerDependencies ?? {}).filter((n) => !optionalPeer(n))];
    for (const n of deps) {
      const at = locate(packages, path, n);
      if (at) visit(at);
    }
  };
  for (const n of names) visit(`node_modules/${n}`);
  return [...keep].sort();
}

interface Packed {
  filename: string;
  integrity: string;
  files: { path: string }[];
}

/** package.json and package-lock.json of a project that depends on the tarball, plus vitest and typescript. */
function consumerProject(packed: Packed): { pkg: object; lock: object } {
  const ours = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
  const ourLock = JSON.parse(readFileSync(join(projectRoot, "package-lock.json"), "utf8"));
  const tarball = `file:../${packed.filename}`;
  const dependencies = { tramplab: tarball };
  const devDependencies = { vitest: ours.devDependencies.vitest, typescript: ours.devDependencies.typescript };
  const packages: Record<string, object> = {
    "": { name: "consumer", dependencies, devDependencies },
    "node_modules/tramplab": {
      version: ours.version, resolved: tarball, integrity: packed.integrity, license: ours.license,
      dependencies: ours.dependencies, bin: ours.bin, engines: ours.engines,
    },
  };
  for (const path of closure(ourLock.packages, [...Object.keys(ours.dependencies), ...Object.keys(devDependencies)])) {
    packages[path] = ourLock.packages[path];
  }
  return {
    pkg: { name: "consumer", private: true, type: "module", dependencies, devDependencies },
    lock: { name: "consumer", lockfileVersion: 3, requires: true, packages },
  };
}

function run(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, output: `$ ${cmd} ${args.join(" ")}\n${r.stdout}${r.stderr}${r.error ?? ""}` };
}

const json = (v: object) => JSON.stringify(v, null, 2) + "\n";

let dir = "", project = "";
let packed: Packed;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-package-"));
  project = join(dir, "project");
  mkdirSync(join(project, "test"), { recursive: true });
  const pack = run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], projectRoot);
  expect(pack.status, pack.output).toBe(0);
  packed = JSON.parse(pack.stdout)[0];
  const { pkg, lock } = consumerProject(packed);
  writeFileSync(join(project, "package.json"), json(pkg));
  writeFileSync(join(project, "package-lock.json"), json(lock));
  writeFileSync(join(project, "tsconfig.json"), json({
    compilerOptions: {
      target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: [],
    },
    include: ["test"],
  }));
  writeFileSync(join(project, "test", "example.test.ts"), docExample());
  const install = run("npm", ["ci", "--offline", "--no-audit", "--no-fund"], project);
  expect(install.status, install.output).toBe(0);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed package, installed into another project without the network", () => {
  it("holds the compiled library with its declarations, the core, the firmware and what build-module needs, and nothing else", () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ["package.json", "bin/tramplab.js", "dist/src/index.js", "dist/src/index.d.ts",
      "build/core.wasm", "build/firmware.elf", "firmware/module/include/linux/module.h", "firmware/include/gen/constants.h",
      "tools/firmware-flags.json"]) {
      expect(files).toContain(f);
    }
    for (const js of files.filter((f) => f.endsWith(".js") && f.startsWith("dist/"))) expect(files).toContain(js.replace(/\.js$/, ".d.ts"));
    const buildModule = (f: string) => f.startsWith("firmware/module/include/") || f === "firmware/include/gen/constants.h" ||
      f === "tools/firmware-flags.json";
    expect(files.filter((f) => !/^(bin|dist\/src|build)\//.test(f) && !buildModule(f) && f !== "package.json" && f !== "README.md"))
      .toEqual([]);
  });

  it("runs the worked example of docs/api.md with vitest", () => {
    const r = run(join(project, "node_modules", ".bin", "vitest"),
      ["run", "--reporter=default", "--reporter=json", "--outputFile.json=report.json"], project);
    expect(r.status, r.output).toBe(0);
    const report = JSON.parse(readFileSync(join(project, "report.json"), "utf8"));
    expect(report.numTotalTests, r.output).toBeGreaterThan(0);
    expect(report.numPassedTests, r.output).toBe(report.numTotalTests);
  });

  it("type-checks the example against the published declarations (the `types` export)", () => {
    const r = run(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], project);
    expect(r.status, r.output).toBe(0);
  });

  it("reads the firmware and the core from the installed package, whatever the working directory", () => {
    const where = run(process.execPath,
      ["--input-type=module", "-e", 'import { firmwarePath } from "tramplab"; console.log(firmwarePath)'], project);
    expect(where.status, where.output).toBe(0);
    expect(where.stdout.trim()).toBe(join(project, "node_modules", "tramplab", "build", "firmware.elf"));
    const cli = run(join(project, "node_modules", ".bin", "tramplab"), ["run", "--cpus", "1", "--time", "1ms"], dir);
    expect(cli.status, cli.output).toBe(0);
    expect(cli.stdout).toMatch(/^tramplab: kernel 6\.13 model, 1 vCPUs/m);
  });
});
