// A user-built kernel image: `tramplab run --image FILE` and a scenario's machine.image boot it
// instead of the built-in build/firmware.elf, through the same checked reader and loader as
// `tramplab debug IMAGE`; an image that cannot be used is refused with one line (exit 2), and a
// scenario's image lives in or under the scenario's folder, as its golden files do.
// Needs the TypeScript built to dist/ (`npm test` builds first).
import { describe, it, beforeAll, afterAll } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firmwarePath } from "../src/kernel/kernel.js";
import { loadScenario, passed, runScenario } from "../src/scenario/scenario.js";
import { ScenarioErrors } from "../src/scenario/schema.js";
import { runCli } from "./cli-child.js";

const tramplab = (...args: string[]) => runCli(args);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-image-"));
  mkdirSync(join(dir, "images"));
  copyFileSync(firmwarePath, join(dir, "images", "mine.elf"));
  writeFileSync(join(dir, "notelf.elf"), "not an image\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.concurrent("tramplab run --image FILE", () => {
  it("run --image build/firmware.elf gives the same summary as run (same seed)", async ({ expect }) => {
    const args = ["run", "--time=5ms", "--seed=7"];
    const [plain, image] = await Promise.all([tramplab(...args), tramplab(...args, "--image", firmwarePath)]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^stopped: ran for the requested time$/m);
    expect(image).toEqual(plain);
  });

  it("a copy of the firmware elsewhere boots the same", async ({ expect }) => {
    const [plain, copy] = await Promise.all([
      tramplab("run", "--time=2ms"), tramplab("run", "--time=2ms", `--image=${dir}/images/mine.elf`),
    ]);
    expect(copy).toEqual(plain);
  });

  describe("an image that cannot be used: one line, exit 2, as debug says it", () => {
    const cases = [
      { name: "a missing image is refused", file: () => join(dir, "missing.elf"), message: "cannot read (ENOENT)" },
      { name: "a non-ELF image is refused", file: () => join(dir, "notelf.elf"), message: "not an ELF file (bad magic number)" },
      { name: "a directory is refused", file: () => dir, message: "not a regular file (a directory)" },
    ];
    for (const c of cases) {
      it(c.name, async ({ expect }) => {
        const [run, debug] = await Promise.all([tramplab("run", "--image", c.file()), tramplab("debug", c.file(), "--batch")]);
        expect(run).toEqual({ status: 2, signal: null, stdout: "", stderr: `tramplab: ${c.file()}: ${c.message}\n` });
        expect(debug.status).toBe(2);
        expect(debug.stderr).toBe(run.stderr);
      });
    }
  });

  it("--image without a file, or with a program, is a usage error", async ({ expect }) => {
    const [empty, program] = await Promise.all([tramplab("run", "--image="), tramplab("run", "--image", firmwarePath, "/bin/true")]);
    expect(empty).toEqual({
      status: 2, signal: null, stdout: "", stderr: "tramplab run: --image needs an ELF file (see 'tramplab run --help')\n",
    });
    expect(program.status).toBe(2);
    expect(program.stderr).toMatch(/^tramplab run: --image boots a kernel image; a program runs without one/);
  });
});

describe("a scenario's machine.image", () => {
  const scenario = (image: string | undefined) => `name: boots ${image ?? "the built-in firmware"}
machine:
  cpus: 2
  seed: 3
${image === undefined ? "" : `  image: ${image}\n`}steps:
  - boot
  - run: 20 jiffies
expect:
  - no-oops
`;
  /** Writes the scenario into the temporary folder and loads it; the error lines if it is refused. */
  const load = (name: string, image: string | undefined) => {
    const file = join(dir, name);
    writeFileSync(file, scenario(image));
    try {
      return { s: loadScenario(file, scenario(image)) };
    } catch (e) {
      if (!(e instanceof ScenarioErrors)) throw e;
      return { errors: e.errors.map((x) => x.line) };
    }
  };

  it("a scenario with image: pointing to a copy of the firmware runs as with the built-in one", ({ expect }) => {
    const mine = load("mine.yaml", "images/mine.elf");
    const builtIn = load("builtin.yaml", undefined);
    expect(mine.errors).toBeUndefined();
    expect(mine.s!.machine.image).toBe(join(dir, "images", "mine.elf"));
    const [a, b] = [runScenario(mine.s!), runScenario(builtIn.s!)];
    expect(passed(a)).toBe(true);
    const steps = (log: string[]) => log.map((l) => l.replace(/line \d+: /, ""));
    expect(steps(a.run.log)).toEqual(steps(b.run.log));
    expect(a.run.k!.console).toEqual(b.run.k!.console);
    expect(a.run.k!.machine.time).toBe(b.run.k!.machine.time);
  });

  it("a missing image is refused at its key", ({ expect }) => {
    expect(load("missing.yaml", "images/nothing.elf").errors)
      .toEqual([`${join(dir, "missing.yaml")}:5:10: machine.image images/nothing.elf does not exist`]);
  });

  it("a non-ELF image is refused at its key", ({ expect }) => {
    expect(load("notelf.yaml", "notelf.elf").errors)
      .toEqual([`${join(dir, "notelf.yaml")}:5:10: machine.image notelf.elf: not an ELF file (bad magic number)`]);
  });

  it("an image outside the scenario's folder is refused, as a golden file would be", ({ expect }) => {
    const errors = load("outside.yaml", firmwarePath).errors ?? [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`machine.image ${firmwarePath} is outside the scenario's folder`);
  });

  it("tramplab scenario runs a file with an image and refuses one with a bad image (exit 2)", async ({ expect }) => {
    load("cli-mine.yaml", "images/mine.elf");
    load("cli-bad.yaml", "notelf.elf");
    const [good, bad] = await Promise.all([
      tramplab("scenario", join(dir, "cli-mine.yaml")), tramplab("scenario", join(dir, "cli-bad.yaml")),
    ]);
    expect(good.status).toBe(0);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("machine.image notelf.elf: not an ELF file (bad magic number)");
  });
});
