// gdb's spellings the debugger understands: x's letters and continuation, p &sym, sym[i],
// sizeof, echo, printf, output, define/document, help all, info break, info registers' columns,
// and break-on gp's state check.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { quoteC } from "../../src/debug/views.js";
import { Session } from "../../src/debug/commands.js";
import { USER_LIMITS } from "../../src/debug/usercmds.js";
import { batch } from "../../src/debug/repl.js";
import { PassThrough } from "node:stream";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const hex = (v: bigint) => "0x" + v.toString(16);
const hex16 = (v: bigint) => "0x" + v.toString(16).padStart(16, "0");

function session(): { k: Kernel; s: Session } {
  const k = Kernel.boot({ cpus: 2 });
  const s = new Session(new Engine(k));
  s.execute("run 1ms");
  return { k, s };
}

describe("x", () => {
  it("x/4gx and x/4xg are the same: count, then size and format letters in either order", () => {
    const { s } = session();
    const sp = s.engine.current.reg(4);
    const a = s.execute("x/4gx $sp").text;
    expect(s.execute("x/4xg $sp").text).toBe(a);
    const words = [0n, 8n, 16n, 24n].map((o) => hex16(s.engine.readU64(sp + o)!));
    expect(a).toBe(`${hex(sp)}:\t${words[0]}\t${words[1]}\n${hex(sp + 16n)}:\t${words[2]}\t${words[3]}`);
    expect(s.execute("x/2gxb $sp").text).toMatch(/^error: bad format/);
    expect(s.execute("x/4q $sp").text).toMatch(/^error: bad format/);
  });

  it("x/2a prints 8-byte values symbolized", () => {
    const { s } = session();
    const e = s.engine;
    s.execute("set {u64}$sp-16 = work_leaf + 4");
    s.execute("set {u64}$sp-8 = 7");
    const sp = e.current.reg(4);
    expect(s.execute("x/2a $sp-16").text).toBe(`${hex(sp - 16n)}:\t${hex(e.symbols.get("work_leaf")!.addr + 4n)} <work_leaf+0x4>\t0x7`);
  });

  it("an empty line after x, and a bare x, go on from the next address in the same format", () => {
    const { s } = session();
    const sp = s.engine.current.reg(4);
    s.execute("x/2gx $sp");
    expect(s.execute("").text).toBe(s.execute(`x/2gx ${hex(sp + 16n)}`).text);
    expect(s.execute("").text.startsWith(`${hex(sp + 32n)}:`)).toBe(true);
    expect(s.execute("x").text).toBe(`${hex(sp + 48n)}:\t${hex16(s.engine.readU64(sp + 48n)!)}`);
    s.execute("x/2i $pc");
    const third = s.execute("x/3i $pc").text.split("\n")[2];
    s.execute("x/2i $pc");
    expect(s.execute("").text.split("\n")[0]).toBe(third);
  });
});

describe("expressions", () => {
  it("p &sym is the symbol's address, p sym[i] the u64 at sym + i * 8, ((u32*)sym)[i] the u32 at sym + i * 4", () => {
    const { s } = session();
    const e = s.engine;
    const sink = e.symbols.get("work_calls")!.addr;
    expect(s.execute("p &work_calls").text).toBe(`$1 = ${hex(sink)} <work_calls>`);
    expect(s.execute("p work_calls[1]").text).toBe(`$2 = ${e.readU64(sink + 8n)}`);
    expect(s.execute("p ((u32*)work_calls)[1]").text).toBe(`$3 = ${e.readU64(sink + 4n, 4)}`);
    expect(s.execute("p/x &work_calls[1]").text).toBe(`$4 = ${hex16(sink + 8n)}`);
    expect(s.execute("p &(1 + 2)").text).toBe("error: Attempt to take address of value not located in memory.");
    expect(s.execute("p work_calls[1").text).toBe("error: missing ] to close [");
  });

  it("sizeof gives C's sizes on x86-64 for the basic types", () => {
    const { s } = session();
    const sizes: [string, number][] = [
      ["char", 1], ["short", 2], ["int", 4], ["unsigned", 4], ["long", 8], ["unsigned long long", 8], ["long double", 16],
      ["float", 4], ["double", 8], ["void *", 8], ["char **", 8], ["u16", 2], ["size_t", 8],
    ];
    for (const [t, n] of sizes) expect(s.execute(`p sizeof(${t})`).text).toMatch(new RegExp(`^\\$\\d+ = ${n}$`));
    expect(s.execute("p sizeof(long) * 2").text).toMatch(/ = 16$/);
    expect(s.execute("p sizeof *(u32*)$sp").text).toMatch(/ = 4$/);
    expect(s.execute("p sizeof(long short)").text).toMatch(/^error: No type "long short"/);
  });
});

describe("echo, printf, output", () => {
  it("echo understands C escapes; one trailing \\n is the line's end", () => {
    const { s } = session();
    expect(s.execute("echo a\\tb\\\\c \\101\\n").text).toBe("a\tb\\c A");
    expect(s.execute("echo   two  spaces\\n").text).toBe("two  spaces");
  });

  it("printf formats like C's, with the argument count checked before anything is printed", () => {
    const { s } = session();
    expect(s.execute('printf "%d %u %5x|%-4d|%c|%#x|%05d|%lu|%%\\n", -1, -1, 255, 7, 65, 255, 42, -1').text)
      .toBe("-1 4294967295    ff|7   |A|0xff|00042|18446744073709551615|%");
    expect(s.execute('printf "%s!\\n", work_leaf').text).toMatch(/^error: |!$/);
    expect(s.execute('printf "%d %d\\n", 1').text).toBe("error: Bad format string, missing arguments");
    expect(s.execute('printf "%d\\n", 1, 2').text).toBe("error: Wrong number of arguments for specified format-string");
    expect(s.execute('printf "%d\\n, 1').text).toBe("error: Bad format string, missing '\"'");
    expect(s.execute('printf "%q", 1').text).toMatch(/^error: Bad format string: unsupported conversion/);
    expect(s.execute('printf "%2000d", 1').text).toMatch(/^error: printf: a width or precision is at most 1000/);
    expect(s.execute("printf").text).toMatch(/^error: usage: printf/);
  });

  it("output prints the value as p does, without $N =", () => {
    const { s } = session();
    expect(s.execute("output 6*7").text).toBe("42");
    expect(s.execute("output/x 255").text).toBe(hex16(255n));
    expect(s.execute("p 1").text).toBe("$1 = 1"); // output takes no value number
  });
});

describe("define and document", () => {
  it("a user command runs its body with $argc and $argN; document gives it help", () => {
    const { s } = session();
    expect(s.execute("define add1").text).toBe('Type commands for definition of "add1".\nEnd with a line saying just "end".');
    s.execute("p $argc");
    s.execute("p $arg0 + 1");
    s.execute("end");
    expect(s.execute("add1 41").text).toBe("$1 = 1\n$2 = 42");
    expect(s.execute("add1").text).toBe('$3 = 0\nerror: Missing argument 0 in user function "add1".');
    s.execute("document add1");
    s.execute("Prints its argument plus one.");
    s.execute("end");
    expect(s.execute("help add1").text).toBe("Prints its argument plus one.");
    expect(s.execute("help user-defined").text).toBe("add1 -- Prints its argument plus one.");
    expect(s.execute("help all").text).toContain("\nUser-defined commands:\nadd1 -- Prints its argument plus one.");
  });

  it("in batch mode the lines of a definition are echoed after gdb's > prompt", async () => {
    const { s } = session();
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => { text += d.toString(); });
    await batch(s, ["define two", "echo 2\\n", "end", "two"], out);
    expect(text).toBe('(tramplab) define two\nType commands for definition of "two".\nEnd with a line saying just "end".\n' +
      ">echo 2\\n\n>end\n(tramplab) two\n2\n");
  });

  it("a sourced file that ends inside a definition drops it with an error", () => {
    const { s } = session();
    const file = join(mkdtempSync(join(tmpdir(), "tramplab-define-")), "cmds");
    writeFileSync(file, "define half\np 1\n");
    expect(s.execute(`source ${file}`).text).toMatch(/error: .* ended inside the definition of "half" \(no "end"\); it was dropped$/);
    expect(s.collecting).toBeNull();
    expect(s.execute("half").text).toBe('error: undefined command "half"; try "help"');
  });

  it("recursion stops at the call depth limit with one error, and the session goes on", () => {
    const { s } = session();
    s.execute("define again");
    s.execute("again");
    s.execute("end");
    const before = s.errors;
    expect(s.execute("again").text).toBe(`error: user command "again" nested more than ${USER_LIMITS.depth} deep (recursion?)`);
    expect(s.errors).toBe(before + 1);
    expect(s.execute("p 2").text).toBe("$1 = 2");
  });

  it("one typed command runs at most the line budget of user-command bodies, then stops with one error", () => {
    const { s } = session();
    s.execute("define inner");
    for (let i = 0; i < 500; i++) s.execute("output 1");
    s.execute("end");
    s.execute("define outer");
    for (let i = 0; i < 1000; i++) s.execute("inner");
    s.execute("end");
    const before = s.errors;
    const lines = s.execute("outer").text.split("\n");
    expect(lines.at(-1)).toBe(`error: user commands ran more than ${USER_LIMITS.run} lines for one command`);
    expect(lines.length).toBeLessThanOrEqual(USER_LIMITS.run + 1);
    expect(s.errors).toBe(before + 1);
  });

  it("built-in commands cannot be redefined or documented; document needs a defined command", () => {
    const { s } = session();
    expect(s.execute("define c").text).toBe('error: "c" is a built-in command; user commands cannot replace or document it');
    expect(s.execute("document nosuch").text).toBe('error: Undefined command: "nosuch".');
    expect(s.execute("define 9x").text).toMatch(/^error: usage: define NAME/);
    expect(s.collecting).toBeNull();
  });

  it("a define block nested too deep is abandoned with one error", () => {
    const { s } = session();
    s.execute("define outer");
    for (let i = 0; i < USER_LIMITS.nesting; i++) expect(s.execute(`define inner${i}`).text).toBe("");
    expect(s.execute("define toomany").text).toBe("error: " +
      `definition of "outer" abandoned: more than ${USER_LIMITS.nesting} nested define blocks`);
    expect(s.collecting).toBeNull();
    expect(s.execute("outer").text).toBe('error: undefined command "outer"; try "help"');
  });
});

describe("help and info", () => {
  it("help all lists every command with its aliases", () => {
    const { s } = session();
    const text = s.execute("help all").text;
    expect(text).toContain("backtrace, bt, where -- ");
    expect(text).toContain("disassemble, disas -- ");
    expect(text).toContain("frame, f -- ");
  });

  it("info break is info breakpoints", () => {
    const { s } = session();
    s.execute("b work_leaf");
    expect(s.execute("info break").text).toBe(s.execute("info breakpoints").text);
    expect(s.execute("info break").text).toContain("<work_leaf>");
  });

  it("info registers keeps its columns: every value starts in column 16, k_gs_base included", () => {
    const { s } = session();
    const lines = s.execute("info registers").text.split("\n");
    for (const l of lines) expect(l).toMatch(/^[a-z0-9_]{1,14} +0x[0-9a-f]+ /);
    for (const l of lines) expect(l.indexOf("0x")).toBe(15);
    expect(lines.some((l) => l.startsWith("k_gs_base      0x"))).toBe(true);
  });
});

describe("break-on gp", () => {
  it("a state the flavour never waits in is refused with the valid ones listed", () => {
    const { s } = session();
    expect(s.execute("break-on gp rcu_tasks bogusstate").text)
      .toBe('error: rcu_tasks has no state "bogusstate" (the states it waits in: idle, wait_pregp, wait_scan_holdouts, post_gp)');
    expect(s.execute("info breakpoints").text).toBe("No breakpoints or watchpoints.");
    expect(s.execute("break-on gp rcu_tasks wait_pregp").text).toBe("Breakpoint 1: rcu_tasks enters state wait_pregp");
  });
});

describe("x/s quotes as gdb does", () => {
  it("C's escapes for control characters, quotes and backslashes; octal for bytes outside printable ASCII", () => {
    expect(quoteC([...Buffer.from('a"b\\c\n\t')])).toBe('"a\\"b\\\\c\\n\\t"');
    expect(quoteC([0x30, 0xef, 0xff, 0x7f, 0x01, 0x1b])).toBe('"0\\357\\377\\177\\001\\033"');
  });
});
