// Writing where it should not: `scenario --update-golden` writes only golden files in or under
// the scenario file's own folder, after resolving symbolic links. An absolute path, a path
// with `..` out of the folder, a symbolic link inside that points outside (to a file, a
// folder, or nothing yet), and the scenario file itself are refused at the golden file's
// LINE:COL when the file is checked, before anything runs or is written, also without
// --update-golden (nothing outside the folder is read either). A golden path that is a
// directory, or whose folder does not exist, is one line and exit 2. Needs dist/ built.
import { describe, it, beforeAll, afterAll, expect } from "vitest";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadScenario } from "../../src/scenario/scenario.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { runCli } from "../cli-child.js";

const tramplab = (...args: string[]) => runCli(args, { timeout: 120_000 });

let root: string;
/** Outside every scenario's folder: nothing may appear or change here. */
let outside: string;
const BEFORE = "what was there before\n";

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tramplab-hostile-writes-"));
  outside = join(root, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "victim.log"), BEFORE);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A scenario in a new folder of its own (root/NAME/scenario/s.yaml) whose patch log is compared with `golden`. */
function scenarioWith(name: string, golden: string, prepare: (folder: string) => void = () => {}): string {
  const folder = join(root, name, "scenario");
  mkdirSync(folder, { recursive: true });
  prepare(folder);
  const file = join(folder, "s.yaml");
  writeFileSync(file, `# golden: ${name}\nmachine: { cpus: 1, workload: [] }\nsteps:\n  - boot\n  - mark: hello\n` +
    `expect:\n  - patch-log: ${JSON.stringify(golden)}\n`);
  return file;
}

/** The patch-log line is line 7, its value at column 5. */
const AT = "7:5";

/** Every file under root/outside, with its text: what a refused write must leave as it was. */
function outsideFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[relative(outside, p)] = readFileSync(p, "utf8");
    }
  };
  walk(outside);
  return out;
}

describe.concurrent("golden files live in or under the scenario's folder: anything else is refused before anything runs", () => {
  const refused = [
    { name: "absolute", golden: () => join(outside, "victim.log") },
    { name: "absolute-new", golden: () => join(outside, "new.log") },
    { name: "dotdot", golden: () => "../../outside/victim.log" },
    { name: "dotdot-deep", golden: () => "golden/../../../../../../../../../../../../../../../../tmp/tramplab-must-not-exist.log" },
    { name: "dotdot-new", golden: () => "../new.log" },
    {
      name: "link-to-file", golden: () => "golden/victim.log",
      prepare: (f: string) => { mkdirSync(join(f, "golden")); symlinkSync(join(outside, "victim.log"), join(f, "golden/victim.log")); },
    },
    { name: "link-to-folder", golden: () => "elsewhere/new.log", prepare: (f: string) => symlinkSync(outside, join(f, "elsewhere")) },
    { name: "link-to-nothing", golden: () => "dangling.log",
      prepare: (f: string) => symlinkSync(join(outside, "not-yet.log"), join(f, "dangling.log")) },
    { name: "link-relative-out", golden: () => "up/outside/victim.log", prepare: (f: string) => symlinkSync("../..", join(f, "up")) },
    { name: "the-folder-itself", golden: () => "." },
    { name: "the-scenario-itself", golden: () => "s.yaml" },
  ];
  for (const c of refused) {
    it(`${c.name}: refused at LINE:COL with and without --update-golden, exit 2, nothing written`, async () => {
      const file = scenarioWith(c.name, c.golden(), c.prepare);
      const before = outsideFiles();
      const scenarioText = readFileSync(file, "utf8");
      for (const args of [["--update-golden", file], [file]]) {
        const r = await tramplab("scenario", ...args);
        expect(r.signal).toBe(null);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n")).toEqual([expect.stringMatching(new RegExp(`^${file}:${AT}: golden file `)), ""]);
        expect(r.status).toBe(2);
      }
      expect(outsideFiles()).toEqual(before);
      expect(existsSync("/tmp/tramplab-must-not-exist.log")).toBe(false);
      expect(readFileSync(file, "utf8")).toBe(scenarioText);
    });
  }

  it("the messages say what is wrong", async () => {
    const file = scenarioWith("message-outside", "../../outside/victim.log");
    const r = await tramplab("scenario", "--update-golden", file);
    expect(r.stderr).toMatch(new RegExp(": golden file \\.\\./\\.\\./outside/victim\\.log is outside the scenario's folder " +
      "\\(.*/outside/victim\\.log\\); golden files live in or under .*/message-outside/scenario\\n$"));
    const itself = await tramplab("scenario", "--update-golden", scenarioWith("message-itself", "./s.yaml"));
    expect(itself.stderr).toMatch(/: golden file \.\/s\.yaml is the scenario file itself\n$/);
    const folder = await tramplab("scenario", "--update-golden", scenarioWith("message-folder", "golden/.."));
    expect(folder.stderr).toMatch(/: golden file golden\/\.\. is the scenario's folder itself, not a file in it\n$/);
    const dangling = await tramplab("scenario", "--update-golden",
      scenarioWith("message-dangling", "d.log", (f) => symlinkSync(join(outside, "nothing.log"), join(f, "d.log"))));
    expect(dangling.stderr).toMatch(/: golden file d\.log is a symbolic link to nothing\n$/);
  });

  it("a golden path that is a directory is one line and exit 2, with and without --update-golden", async () => {
    const file = scenarioWith("directory", "golden", (f) => mkdirSync(join(f, "golden")));
    for (const args of [["--update-golden", file], [file]]) {
      const r = await tramplab("scenario", ...args);
      expect(r.stderr).toBe(`${file}:${AT}: golden file golden: not a regular file (a directory)\n`);
      expect(r.status).toBe(2);
    }
  });

  it("a golden file in a folder that does not exist is one line and exit 2 (nothing is created)", async () => {
    const file = scenarioWith("no-folder", "missing/deeper/log");
    const r = await tramplab("scenario", "--update-golden", file);
    expect(r.stderr).toBe(`${file}:${AT}: golden file missing/deeper/log: its folder missing/deeper does not exist\n`);
    expect(r.status).toBe(2);
    expect(existsSync(join(root, "no-folder", "scenario", "missing"))).toBe(false);
  });

  it("a golden file that is a hard link to a file outside is replaced, not written through", async () => {
    const file = scenarioWith("hard-link", "log", (f) => linkSync(join(outside, "victim.log"), join(f, "log")));
    const r = await tramplab("scenario", "--update-golden", file);
    expect(r.stdout).toContain("golden file(s) written: log");
    expect(r.status).toBe(0);
    expect(readFileSync(join(root, "hard-link", "scenario", "log"), "utf8")).toBe("# hello\n");
    expect(readFileSync(join(outside, "victim.log"), "utf8")).toBe(BEFORE);
    expect(readdirSync(join(root, "hard-link", "scenario")).sort()).toEqual(["log", "s.yaml"]); // no temporary file left
  });

  it("in or under the folder is written, also through a symbolic link that stays inside", async () => {
    const file = scenarioWith("inside", "via-link/log", (f) => {
      mkdirSync(join(f, "golden", "sub"), { recursive: true });
      symlinkSync("golden/sub", join(f, "via-link"));
    });
    const r = await tramplab("scenario", "--update-golden", file);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("golden file(s) written: via-link/log");
    expect(r.status).toBe(0);
    expect(readFileSync(join(root, "inside", "scenario", "golden", "sub", "log"), "utf8")).toBe("# hello\n");
    expect((await tramplab("scenario", file)).status).toBe(0);
  });

  it("a trace golden file is held to the same rule, and one bad file stops every file from running", async () => {
    const folder = join(root, "trace", "scenario");
    mkdirSync(folder, { recursive: true });
    const bad = join(folder, "trace.yaml");
    writeFileSync(bad, "machine: { cpus: 1, workload: [] }\nops:\n  t: { tracer: function }\nsteps:\n  - boot\nexpect:\n" +
      "  - trace: { ops: t, golden: /tmp/tramplab-must-not-exist.log }\n");
    const good = scenarioWith("trace-good", "log");
    const r = await tramplab("scenario", "--update-golden", good, bad);
    expect(r.stderr).toMatch(new RegExp(`^${bad}:7:5: golden file /tmp/tramplab-must-not-exist\\.log is outside the scenario's folder`));
    expect(r.stdout).toBe("");
    expect(r.status).toBe(2);
    expect(existsSync(join(root, "trace-good", "scenario", "log"))).toBe(false);
    expect(existsSync("/tmp/tramplab-must-not-exist.log")).toBe(false);
  });
});

describe("the library refuses the same paths (loadScenario)", () => {
  it("an escaping golden path is a ScenarioError at its position, with or without updateGolden", () => {
    const file = scenarioWith("library", "../../outside/victim.log");
    for (const updateGolden of [true, false]) {
      let thrown: unknown;
      try { loadScenario(file, readFileSync(file, "utf8"), { updateGolden }); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(ScenarioErrors);
      expect((thrown as ScenarioErrors).errors.map((e) => `${e.pos.line}:${e.pos.col}`)).toEqual([AT]);
    }
  });
});
