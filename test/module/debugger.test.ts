// Modules in the debugger: insmod, lsmod and rmmod act at the current point of the run, in a
// batch session as a person types them, and a refused load says why in insmod's words.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { runCli } from "../cli-child.js";
import { buildModule, scratch, TMOD_SOURCE } from "./tools.js";

let dir: string, ko: string;

beforeAll(async () => {
  dir = scratch();
  ko = await buildModule(dir, "tmod", TMOD_SOURCE);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("debugger insmod, lsmod, rmmod", () => {
  it("a batch session loads the module, lists it, unloads it and lists nothing", async () => {
    const r = await runCli(["debug", "--cpus", "2"], { stdin: `insmod ${ko} hits=3\nlsmod\nrun 1ms\nrmmod tmod\nlsmod\n` });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.stdout.split("(tramplab) ").slice(1);
    expect(out[0]).toMatch(new RegExp(`^insmod ${ko} hits=3\ntmod: loaded, hits=3\n` +
      "module tmod loaded: text at 0xffffffffc0000000, virtual time [\\d.]+ [mu]?s\n$"));
    expect(out[1]).toBe("lsmod\nModule                  Size  Used by\ntmod                   16384  0\n");
    expect(out[3]).toMatch(/^rmmod tmod\ntmod: unloaded after [1-9]\d* calls\n/);
    expect(out[3]).toMatch(/\nmodule tmod freed at virtual time [\d.]+ [mu]?s \(rmmod, after synchronize_rcu\(\)\)\n$/);
    expect(out[4]).toBe("lsmod\nModule                  Size  Used by\n");
  });

  it("the module's ops shows among the trampolines while it is loaded", () => {
    const s = new Session(new Engine(Kernel.boot({ cpus: 2 })));
    expect(s.execute(`insmod ${ko}`).text).toContain("module tmod loaded");
    expect(s.execute("tramp").text).toMatch(/^0x[0-9a-f]+ ops tmod:tmod_ops: live, 1 sites,/);
    // A module's symbol under %pS carries its module's name.
    const cb = "tmod_callback\\+0x0\\/0x[0-9a-f]+ \\[tmod\\]";
    const ef = s.execute("ftrace enabled_functions").text;
    expect(ef).toMatch(new RegExp(`^work_top \\(1\\) {11}\\ttramp: 0x[0-9a-f]+ \\(${cb}\\) ->${cb}$`));
  });

  it("restoring a snapshot taken before insmod leaves no module loaded, and it loads again from there", () => {
    const s = new Session(new Engine(Kernel.boot({ cpus: 2 })));
    s.execute("run 100us");
    s.execute("snapshot before");
    const first = s.execute(`insmod ${ko}`).text;
    s.execute("run 200us");
    s.execute("restore before");
    expect(s.execute("lsmod").text).toBe("Module                  Size  Used by");
    expect(s.execute(`insmod ${ko}`).text).toBe(first);
    expect(s.execute("lsmod").text).toMatch(/\ntmod +16384  0$/);
    expect(s.errors).toBe(0);
  });

  it("refusals are one error line in insmod's and rmmod's words, with the kernel's reason, and change nothing", () => {
    const s = new Session(new Engine(Kernel.boot({ cpus: 2 })));
    expect(s.execute(`insmod ${ko} hits=lots`).text).toBe(
      `error: insmod: ERROR: could not insert module ${ko}: Invalid parameters (bad value for hits)\n` +
      "tmod: 'lots' invalid for parameter 'hits' (int)");
    expect(s.execute(`insmod ${join(dir, "missing.ko")}`).text).toBe(`error: insmod: ${join(dir, "missing.ko")}: cannot read (ENOENT)`);
    expect(s.execute("insmod").text).toBe("error: insmod: insmod needs a module file (usage: insmod FILE [PARAM=VALUE]...)");
    expect(s.execute("rmmod tmod").text).toBe("error: rmmod: ERROR: Module tmod is not currently loaded");
    expect(s.execute("rmmod").text).toBe("error: usage: rmmod NAME");
    expect(s.execute("lsmod x").text).toBe("error: lsmod takes no argument, got \"x\"");
    expect(s.execute("lsmod").text).toBe("Module                  Size  Used by");
    expect(s.errors).toBe(6);
  });
});
