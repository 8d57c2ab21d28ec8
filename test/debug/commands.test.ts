// ni N, set on memory, symbolized disassembly, info stacks, recursion, and c in batch mode.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { FunctionCounter } from "../../src/kernel/ftrace/tracers.js";
import { fullState } from "./state.js";

const hex = (v: bigint) => "0x" + v.toString(16);

function session(o = { cpus: 2 }): { k: Kernel; s: Session } {
  const k = Kernel.boot(o);
  return { k, s: new Session(new Engine(k)) };
}

describe("ni N", () => {
  it("ni 4 ends in the state four ni commands reach, stepping over work_top's call", () => {
    const states: string[] = [];
    for (const cmds of [["ni 4"], ["ni", "ni", "ni", "ni"]]) {
      const { k, s } = session();
      s.execute("tbreak *kthread_busy+0x18");
      s.execute("c");
      for (const c of cmds) s.execute(c);
      expect(s.engine.current.rip).toBe(k.symbols.get("kthread_busy")!.addr + 0x2an); // past the call to work_top, at the call to long_work
      states.push(fullState(k));
    }
    expect(states[0]).toBe(states[1]);
  });

  it("a breakpoint inside a stepped-over call ends ni N there", () => {
    const { k, s } = session();
    s.execute("tbreak *kthread_busy+0x18");
    s.execute("c");
    s.execute("b work_middle");
    expect(s.execute("ni 5").text).toMatch(/^Breakpoint 2, work_middle at firmware\/work\.c:\d+\n/);
    expect(s.engine.current.rip).toBe(k.symbols.get("work_middle")!.addr);
  });
});

describe("set on memory", () => {
  it("{u8}, {u16}, {u32}, {u64} and set var *(u64*) store little-endian, truncated to the type", () => {
    const { s } = session();
    s.execute("run 20us");
    const sp = s.engine.current.reg(4);
    expect(s.execute("set {u64}$rsp = 0x1122334455667788").text).toBe(`{u64} ${hex(sp)} = 0x1122334455667788`);
    s.execute("set {u8}$rsp = 0x1ff");
    expect(s.engine.readU64(sp)).toBe(0x11223344556677ffn);
    s.execute("set {u16}$rsp+2 = 0xabcd");
    expect(s.engine.readU64(sp)).toBe(0x11223344abcd77ffn);
    s.execute("set {u32}$rsp+4 = 0");
    expect(s.engine.readU64(sp)).toBe(0xabcd77ffn);
    expect(s.execute("set var *(u64*)($rsp) = -2").text).toBe(`{u64} ${hex(sp)} = 0xfffffffffffffffe`);
    expect(s.execute("set *(u32*)$rsp = 7 == 7").text).toBe(`{u32} ${hex(sp)} = 0x1`);
    expect(s.engine.readU64(sp)).toBe(0xffffffff00000001n);
  });

  it("a write to code goes through the host write path: the next fetch runs the new byte", () => {
    const { k, s } = session();
    s.execute("b work_top");
    s.execute("c");
    s.execute("c"); // work_top has run before: its decoded block is cached
    s.execute("delete");
    // work_top+5 is push %rbp; 0x53 is push %rbx.
    s.execute("set {u8}work_top+5 = 0x53");
    s.execute("si 2");
    const c = s.engine.current;
    expect(c.reg(3)).not.toBe(c.reg(5));
    expect(s.engine.readU64(c.reg(4))).toBe(c.reg(3));
    expect(k.machine.events.events.length).toBeGreaterThan(0);
  });

  it("writes to unmapped memory and bad spellings are refused with one line and change nothing", () => {
    const { k, s } = session();
    s.execute("run 20us");
    const before = fullState(k);
    const bad = ["set {u64}0x10 = 1", "set {u64}0x7ffffffff000 = 1", "set {u128}$rsp = 1", "set {u64}$rsp == 1", "set {u64}$rsp =",
      "set var *(long*)$rsp = 1", "set *$rsp = 1", "set {u64}nosuch = 1", "set {u64}$rsp = nosuch"];
    for (const cmd of bad) expect(s.execute(cmd).text, cmd).toMatch(/^error: [^\n]+$/);
    expect(s.execute("set {u64}0x10 = 1").text).toBe("error: cannot access memory at address 0x10");
    expect(fullState(k)).toBe(before);
  });
});

describe("symbolized disassembly", () => {
  it("x/i, disassemble and display/i name call targets and RIP-relative operands", () => {
    const { k, s } = session();
    const sink = k.symbols.get("work_sink")!.addr;
    const x = s.execute("x/14i kthread_busy").text;
    expect(x).toMatch(new RegExp(`\\tcall ${hex(k.symbols.get("work_top")!.addr)} <work_top>$`, "m"));
    expect(x).toMatch(new RegExp(`\\tmov %rax,0x[0-9a-f]+\\(%rip\\) {8}# ${hex(sink)} <work_sink>$`, "m"));
    const d = s.execute("disassemble work_top").text;
    expect(d).toMatch(new RegExp(`<\\+\\d+>:\\tcall ${hex(k.symbols.get("work_middle")!.addr)} <work_middle>$`, "m"));
    expect(d).toMatch(/\(%rip\) {8}# 0x[0-9a-f]+ <work_calls(\+0x[0-9a-f]+)?>$/m);
    s.execute("tbreak *kthread_busy+0x1b");
    s.execute("display/i $pc");
    expect(s.execute("c").text).toMatch(/\n1: x\/i \$pc\n=> 0x[0-9a-f]+ <kthread_busy\+0x1b>:\t[0-9a-f ]+\tcall 0x[0-9a-f]+ <work_top>$/);
  });
});

describe("the recursion guard's views", () => {
  it("per-stack: info stacks shows each stack's counts and, in report_bug on the #UD stack, the flag it shares; " +
    "recursion shows the totals", () => {
    const k = Kernel.boot({ cpus: 1, workload: [{ name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 0 }] });
    k.run(60_000n);
    const leaf = k.ftrace.record("work_leaf")!;
    k.ftrace.register(new FtraceOps({
      name: "warning", callback: { kind: "guest", symbol: "function_warning_call" }, filter: "work_leaf", private: leaf.ip,
    }));
    // A tracer on report_bug: the guard skips it while the warning callback holds the flag.
    k.ftrace.register(new FunctionCounter(k.machine, k.heap, k.ftrace.records.length, "report_bug", "", "counter").ops);
    const s = new Session(new Engine(k));
    s.execute("b report_bug");
    s.execute("c");
    s.execute("c"); // the second warning: the first one's skip is counted by now
    const stacks = s.execute("info stacks").text.split("\n");
    expect(stacks[0]).toMatch(/^stack +range +in_tracing +entered +skipped +rsp of$/);
    expect(stacks.find((l) => l.startsWith("ist #UD cpu0"))).toMatch(/ +\d+ +\d+  \(shares task busy's flag\)  cpu0$/);
    const task = stacks.find((l) => l.startsWith("task busy "))!;
    const [entered, skipped] = task.trim().split(/\s+/).slice(-2).map(BigInt);
    expect(entered).toBeGreaterThan(0n);
    expect(skipped).toBeGreaterThan(0n);
    const r = s.execute("recursion").text;
    const { total, sites } = k.ftrace.recursions();
    expect(r).toBe(["recursion guard: per-stack (IST link on)", `callback calls skipped: ${total}`,
      "in_tracing set on: task busy (info stacks has each stack's counts)",
      `most skipped at (${sites.size} of ${sites.size} sites):`,
      ...[...sites].map(([n, c]) => `  ${String(c).padStart(8)}  ${n}`)].join("\n"));
    expect(sites.get("report_bug")).toBeGreaterThan(0n);
  });
});

describe("c in batch mode", () => {
  it("with nothing that can stop it, c is refused with one line; a disabled breakpoint does not count", () => {
    const { k, s } = session();
    const before = fullState(k);
    const refused = "error: c: nothing to stop at in batch mode (no breakpoint, watchpoint or event breakpoint is enabled); use run TIME";
    expect(s.execute("c").text).toBe(refused);
    s.execute("b work_top");
    s.execute("disable 1");
    expect(s.execute("c").text).toBe(refused);
    expect(fullState(k)).toBe(before);
    s.execute("enable 1");
    expect(s.execute("c").text).toMatch(/^Continuing.\nBreakpoint 1, work_top at firmware\/work\.c:\d+\n/);
  });
});
