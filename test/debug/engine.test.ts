import { describe, it, expect } from "vitest";
import { createHash } from "node:crypto";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { stepPlan, runTimePlan } from "../../src/debug/stepping.js";
import { reverseStep } from "../../src/debug/reverse.js";
import { fullState } from "./state.js";

const small = { cpus: 2 };

describe("debugger engine", () => {
  it("running 300us under the debugger reaches exactly the state Kernel.run(300us) reaches", () => {
    const plain = Kernel.boot(small);
    plain.run(300_000n);
    const k = Kernel.boot(small);
    const e = new Engine(k);
    e.run(runTimePlan(e, 300_000n));
    expect(fullState(k)).toBe(fullState(plain));
  });

  it("rsi lands on exactly the state the forward run had before each instruction", () => {
    const k = Kernel.boot(small);
    const e = new Engine(k);
    e.run(runTimePlan(e, 200_000n));
    const forward = [fullState(k)];
    for (let i = 0; i < 6; i++) { e.run(stepPlan(e, 1)); forward.push(fullState(k)); }
    for (let i = 5; i >= 0; i--) {
      reverseStep(e);
      expect(fullState(k)).toBe(forward[i]);
    }
    // And forward again from there: the same future.
    e.run(stepPlan(e, 6));
    expect(fullState(k)).toBe(forward[6]);
  });

  it("a breakpoint stops before the instruction runs and leaves guest text byte-exact", () => {
    const k = Kernel.boot(small);
    const s = new Session(new Engine(k));
    const site = k.symbols.get("work_top")!.addr;
    const textBefore = createHash("sha256").update(s.engine.read(site, 64)!).digest("hex");
    expect(s.execute("b work_top").text).toMatch(/^Breakpoint 1 at 0x[0-9a-f]+ <work_top>$/);
    const stop = s.execute("c").text;
    expect(stop).toMatch(/^Continuing.\nBreakpoint 1, work_top at firmware\/work\.c:\d+\n\[cpu\d\] => 0x[0-9a-f]+ <work_top>:/);
    expect(s.engine.current.rip).toBe(site);
    expect(createHash("sha256").update(s.engine.read(site, 64)!).digest("hex")).toBe(textBefore);
    // Continuing steps over it once; the next stop is the next call, with the count shown.
    s.execute("c");
    expect(s.engine.current.rip).toBe(site);
    expect(s.execute("info breakpoints").text).toContain("breakpoint already hit 2 times");
  });

  it("bad commands and expressions give one error line and change nothing", () => {
    const k = Kernel.boot(small);
    const s = new Session(new Engine(k));
    s.execute("run 50us");
    const before = fullState(k);
    const bad = ["frobnicate", "p 1 +", "p $nosuch", "p *0x10", "p nosuchsymbol", "b nosuchsymbol", "b work_top if $rax +",
      "si -1", "si x", "x/3q $pc", "set $rax 5", "set $foo = 1", "cpu 9", "delete 42", "watch *0x10", "run soon", "restore nope",
      "ftrace sideways", "ftrace off", "ftrace filter [", "info nothing", "p 1/0", "source /nonexistent", "rsi 3", "page"];
    for (const cmd of bad) {
      const out = s.execute(cmd).text;
      expect(out, cmd).toMatch(/^error: [^\n]+$/);
    }
    expect(fullState(k)).toBe(before);
    expect(s.execute("info breakpoints").text).toBe("No breakpoints or watchpoints.");
  });

  it("p evaluates registers, symbols, memory and C arithmetic", () => {
    const k = Kernel.boot(small);
    const s = new Session(new Engine(k));
    s.execute("run 20us");
    const rsp = s.engine.current.reg(4);
    expect(s.execute("p/x $rsp + 8*2").text).toBe(`$1 = 0x${(rsp + 16n).toString(16).padStart(16, "0")}`);
    expect(s.execute("p ((1 << 4) | 3) == 19").text).toBe("$2 = 1");
    // uint64_t arithmetic, as C's: -7 is 2^64 - 7, and / is unsigned.
    expect(s.execute("p -7 / 2").text).toBe(`$3 = ${(2n ** 64n - 7n) / 2n}`);
    const top = k.symbols.get("work_top")!.addr;
    expect(s.execute("p work_top + 5").text).toBe(`$4 = 0x${(top + 5n).toString(16)} <work_top+0x5>`);
    const word = s.engine.readU64(rsp)!;
    expect(s.execute("p/x *$rsp").text).toBe(`$5 = 0x${word.toString(16).padStart(16, "0")}`);
  });
});
