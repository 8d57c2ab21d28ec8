// Builds everything the tests, benchmarks and CLI need, skipping steps whose inputs did not
// change: generated sources, the wasm core (asc), the TypeScript (tsc -> dist/), firmware.
// Each step that runs prints one line to stderr with its time, and a total at the end; nothing
// is printed when everything is up to date. --quiet hides the tools' own output unless a tool
// fails.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const force = process.argv.includes("--force");
const started = performance.now();
let stepsRun = 0;
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function newest(paths) {
  let t = 0;
  for (const p of paths) {
    const full = join(root, p);
    if (!existsSync(full)) continue;
    const st = statSync(full);
    if (st.isDirectory()) {
      for (const f of readdirSync(full)) t = Math.max(t, newest([join(p, f)]));
    } else t = Math.max(t, st.mtimeMs);
  }
  return t;
}

function stale(outputs, inputs) {
  if (force) return true;
  const outs = outputs.map((o) => join(root, o));
  if (outs.some((o) => !existsSync(o))) return true;
  return Math.min(...outs.map((o) => statSync(o).mtimeMs)) < newest(inputs);
}

function step(name, outputs, inputs, cmd, args) {
  if (!stale(outputs, inputs)) return;
  // The line is finished when the step is; the tool's output is held until then so that it
  // does not land in the middle of it.
  process.stderr.write(`build: ${name} ... `);
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", maxBuffer: 64 << 20 });
  const output = (r.stdout ?? "") + (r.stderr ?? "");
  if (r.status !== 0) {
    process.stderr.write(`failed after ${seconds(t0)}\n`);
    process.stderr.write(r.error ? `${cmd}: ${r.error.message}\n` : output);
    process.exit(1);
  }
  process.stderr.write(`${seconds(t0)}\n`);
  if (!quiet) process.stderr.write(output);
  stepsRun++;
  for (const o of outputs) if (o.endsWith(".built")) writeFileSync(join(root, o), "");
}

const bin = (name) => join(root, "node_modules", ".bin", name);
mkdirSync(join(root, "build"), { recursive: true });

step("generate layout, constants and opcode tables", ["build/gen.built"],
  ["tools/gen.mjs", "tools/gen-constants.mjs", "tools/layout.mjs", "tools/constants.mjs", "tools/opcodes.mjs", "asconfig.json"],
  process.execPath, [join(root, "tools/gen.mjs")]);
step("core (asc)", ["build/core.wasm"], ["assembly", "asconfig.json"], bin("asc"), ["assembly/index.ts", "--target", "release"]);
// The guest firmware: compiled like a kernel, so every traceable function starts with a real
// `call __fentry__` and __mcount_loc lists them.
const FW_CFLAGS = JSON.parse(readFileSync(join(root, "tools", "firmware-flags.json"), "utf8")).cflags;
function buildFirmware() {
  const dir = join(root, "build", "firmware");
  mkdirSync(dir, { recursive: true });
  const sources = readdirSync(join(root, "firmware")).filter((f) => f.endsWith(".c") || f.endsWith(".S")).sort();
  const objs = [];
  for (const f of sources) {
    const obj = join("build", "firmware", f.replace(/\.[cS]$/, ".o"));
    const args = f.endsWith(".c")
      ? [...FW_CFLAGS, "-c", `firmware/${f}`, "-o", obj]
      : ["-Ifirmware/include", "-D__ASSEMBLER__", "-g", "-c", `firmware/${f}`, "-o", obj];
    step(`firmware ${f}`, [obj], [`firmware/${f}`, "firmware/include", "tools/firmware-flags.json"], "gcc", args);
    objs.push(obj);
  }
  step("firmware (ld)", ["build/firmware.elf"], ["firmware"], "ld",
    ["-T", "firmware/kernel.lds", "-nostdlib", "-static", "-z", "max-page-size=4096", "-o", "build/firmware.elf", ...objs]);
}
buildFirmware();
step("typescript (tsc)", ["dist/.built"], ["src", "test", "bench", "tsconfig.json"], bin("tsc"), ["-p", "tsconfig.json"]);
// The example modules, built as a person builds them (tramplab build-module), into
// scenarios/modules/ where the shipped scenarios that load them find them (not committed).
mkdirSync(join(root, "scenarios", "modules"), { recursive: true });
for (const f of readdirSync(join(root, "examples", "modules")).filter((x) => x.endsWith(".c")).sort()) {
  const ko = `scenarios/modules/${f.replace(/\.c$/, ".ko")}`;
  step(`example module ${f}`, [ko], [`examples/modules/${f}`, "examples/modules", "firmware/module/include", "build/firmware.elf"],
    process.execPath, [join(root, "bin", "tramplab.js"), "build-module", "-o", ko, `examples/modules/${f}`]);
}
if (stepsRun > 0) process.stderr.write(`build: done in ${seconds(started)}\n`);
