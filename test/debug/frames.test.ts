// frame N, up, down, info frame, bt's marker and its end at an entry from user mode; info threads and thread N.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";

const hex = (v: bigint) => "0x" + v.toString(16);

function session(): { k: Kernel; s: Session } {
  const k = Kernel.boot({ cpus: 2 });
  return { k, s: new Session(new Engine(k)) };
}

/** Stopped at work_leaf+0xc, inside its frame (push %rbp, mov %rdi,%rax, mov %rsp,%rbp done), called from work_middle. */
function inWorkLeaf(): { k: Kernel; s: Session } {
  const r = session();
  r.s.execute("b work_leaf");
  r.s.execute("c");
  r.s.execute("delete");
  r.s.execute("si 4");
  return r;
}

describe("frames", () => {
  it("up, down and frame N select frames of bt, and bt marks the selected one", () => {
    const { s } = inWorkLeaf();
    const bt = s.execute("bt").text.split("\n");
    // Each frame with its source line (the firmware has DWARF lines).
    expect(bt[0]).toMatch(/^#0  0x[0-9a-f]+ <work_leaf\+0x[0-9a-f]+> at firmware\/work\.c:\d+  <- selected$/);
    expect(bt[1]).toMatch(/^#1  0x[0-9a-f]+ <work_middle\+0x[0-9a-f]+> at firmware\/work\.c:\d+$/);
    expect(bt[2]).toMatch(/^#2  0x[0-9a-f]+ <work_top\+0x[0-9a-f]+> at firmware\/work\.c:\d+$/);
    expect(s.execute("up").text).toBe(bt[1]);
    expect(s.execute("bt").text.split("\n")[1]).toBe(`${bt[1]}  <- selected`);
    expect(s.execute("up 2").text).toBe(bt[3]);
    expect(s.execute("down").text).toBe(bt[2]);
    expect(s.execute("frame").text).toBe(bt[2]);
    expect(s.execute("frame 0").text).toBe(bt[0].replace("  <- selected", ""));
    expect(s.execute("down").text).toBe("error: Bottom (innermost) frame selected; you cannot go down.");
    expect(s.execute(`frame ${bt.length}`).text).toBe(`error: No frame at level ${bt.length}.`);
    expect(s.execute("up 1000").text).toBe(bt.at(-1));
    expect(s.execute("up").text).toBe("error: Initial frame selected; you cannot go up.");
  });

  it("info frame gives the selected frame's pc, caller and where it saved rbp and rip, read from the stack", () => {
    const { s } = inWorkLeaf();
    const e = s.engine;
    const rbp = e.current.reg(5);
    const ret = e.readU64(rbp + 8n)!;
    const text = s.execute("info frame").text;
    expect(text).toContain(`Stack level 0, frame at ${hex(rbp + 16n)}:`);
    expect(text).toContain(`in work_leaf; saved rip = ${hex(ret)}`);
    expect(text).toContain(`rbp at ${hex(rbp)}, rip at ${hex(rbp + 8n)}`);
    s.execute("up");
    const callerRbp = e.readU64(rbp)!;
    const up = s.execute("info frame").text;
    expect(up).toContain(`Stack level 1, frame at ${hex(callerRbp + 16n)}:`);
    expect(up).toContain(` rip = ${hex(ret)} in work_middle; saved rip = ${hex(e.readU64(callerRbp + 8n)!)}`);
    expect(up).toContain(` caller of frame at ${hex(rbp + 16n)}`);
    expect(up).toContain(`rbp at ${hex(callerRbp)}, rip at ${hex(callerRbp + 8n)}`);
  });

  it("disassemble shows the selected frame's function, => still at $pc", () => {
    const { s } = inWorkLeaf();
    s.execute("up");
    const text = s.execute("disas").text;
    expect(text.split("\n")[0]).toBe("Dump of assembler code for function work_middle:");
    expect(text).not.toContain("=>");
    s.execute("down");
    expect(s.execute("disassemble").text).toContain(`=> ${hex(s.engine.current.rip)} <+12>:`);
  });

  it("in a selected frame $pc, $sp and $rbp are that frame's, as gdb unwinds them; other registers the vCPU's", () => {
    const { s } = inWorkLeaf();
    const e = s.engine;
    const rbp = e.current.reg(5);
    const ret = e.readU64(rbp + 8n)!;
    s.execute("up");
    expect(s.execute("p/x $pc").text).toBe(`$1 = 0x${ret.toString(16).padStart(16, "0")}`);
    expect(s.execute("output $sp == " + hex(rbp + 16n)).text).toBe("1");
    expect(s.execute("output $rbp == " + hex(e.readU64(rbp)!)).text).toBe("1");
    expect(s.execute("output $rax == " + hex(e.current.reg(0))).text).toBe("1");
    expect(s.execute("x/i $pc").text).toMatch(/^ {3}0x[0-9a-f]+ <work_middle\+0x[0-9a-f]+>:/);
    expect(s.execute('printf "%p\\n", $pc').text).toBe(hex(ret));
    s.execute("down");
    expect(s.execute("output $pc == $rip").text).toBe("1");
    expect(s.execute("output $pc").text).toBe(`${hex(e.current.rip)} <work_leaf+0xc>`);
  });

  it("a step goes back to frame 0", () => {
    const { s } = inWorkLeaf();
    s.execute("up 2");
    s.execute("si");
    expect(s.execute("frame").text).toMatch(/^#0  /);
  });

  it("bt from a syscall ends at entry_SYSCALL_64, which came from user mode, instead of reading user stack words", () => {
    const { s } = session();
    s.execute("b do_syscall_64");
    expect(s.execute("c").text).toContain("Breakpoint 1, do_syscall_64");
    const bt = s.execute("bt").text.split("\n");
    expect(bt).toHaveLength(3);
    expect(bt[1]).toMatch(/^#1  0x[0-9a-f]+ <entry_SYSCALL_64\+0x[0-9a-f]+> at firmware\/entry\.S:\d+  \[interrupt entry\]$/);
    const rip = s.engine.current.reg(1); // syscall left the user's rip in rcx
    expect(bt[2]).toMatch(new RegExp("^Backtrace stopped: " +
      `entry_SYSCALL_64 was entered from user mode \\(pt_regs at 0x[0-9a-f]+: rip ${hex(rip)}, rsp 0x`));
    expect(s.execute("up").text).toBe(bt[1]);
    expect(s.execute("up").text).toBe("error: Initial frame selected; you cannot go up.");
  });
});

describe("threads", () => {
  it("info threads lists every vCPU as CPU#N [task] with where it is, * on the selected; thread N selects one", () => {
    const { k, s } = session();
    s.execute("run 2ms");
    const lines = s.execute("info threads").text.split("\n");
    expect(lines[0]).toMatch(/^ {2}Id {3}Target Id +Frame$/);
    expect(lines).toHaveLength(3);
    for (const c of k.machine.cpus) {
      const name = `CPU#${c.index} [${k.sched.current[c.index].name}]`;
      const mark = c.index === s.engine.cpu ? "*" : " ";
      expect(lines[c.index + 1]).toMatch(new RegExp(`^\\${mark} ${c.index + 1} +${name.replace(/[[\]/]/g, "\\$&")} +${hex(c.rip)}`));
    }
    const other = 1 - s.engine.cpu;
    expect(s.execute(`thread ${other + 1}`).text.split("\n")[0])
      .toBe(`[Switching to thread ${other + 1} (CPU#${other} [${k.sched.current[other].name}])]`);
    expect(s.engine.cpu).toBe(other);
    expect(s.execute("info threads").text.split("\n")[other + 1]).toMatch(/^\* /);
    expect(s.execute("thread").text).toBe(`[Current thread is ${other + 1} (CPU#${other} [${k.sched.current[other].name}])]`);
    expect(s.execute("thread 3").text).toBe('error: thread takes an integer from 1 to 2, got "3"');
    expect(s.execute("thread 0").text).toMatch(/^error: /);
  });
});
