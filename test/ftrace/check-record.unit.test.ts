// ftrace_check_record() from a record's flags alone: no machine, no firmware.
import { describe, it, expect } from "vitest";
import { checkRecord } from "../../src/kernel/ftrace/ftrace.js";
import { FTRACE_FL_ENABLED, FTRACE_FL_REGS, FTRACE_FL_TRAMP, type DynFtrace } from "../../src/kernel/ftrace/records.js";

const CALLER = 0xffff_ffff_8100_1000n, TRAMP = 0xffff_ffff_c000_0000n;

function rec(flags: number, installed = 0n): DynFtrace {
  return { ip: 0xffff_ffff_8100_2000n, name: "work_top", index: 0, flags, installed };
}

describe("ftrace_check_record with bare flags", () => {
  it("a site nobody traces stays a NOP, or becomes one again when it was on", () => {
    expect(checkRecord(rec(0), () => CALLER)).toBe("ignore");
    expect(checkRecord(rec(FTRACE_FL_ENABLED, CALLER), () => CALLER)).toBe("make_nop");
  });

  it("a traced site that is off gets a call, whatever it will call", () => {
    expect(checkRecord(rec(1), () => CALLER)).toBe("make_call");
    expect(checkRecord(rec(1 | FTRACE_FL_TRAMP), () => TRAMP)).toBe("make_call");
  });

  it("a traced site that is on is left alone unless its target changed (one ops with a trampoline, then two)", () => {
    expect(checkRecord(rec(1 | FTRACE_FL_ENABLED | FTRACE_FL_TRAMP, TRAMP), () => TRAMP)).toBe("ignore");
    expect(checkRecord(rec(2 | FTRACE_FL_ENABLED | FTRACE_FL_REGS, TRAMP), () => CALLER)).toBe("modify_call");
  });

  it("the new target is only asked for a site that is on and stays on", () => {
    let asked = 0;
    const addrNew = () => { asked++; return CALLER; };
    checkRecord(rec(0), addrNew);
    checkRecord(rec(FTRACE_FL_ENABLED, CALLER), addrNew);
    checkRecord(rec(1), addrNew);
    expect(asked).toBe(0);
    checkRecord(rec(1 | FTRACE_FL_ENABLED, CALLER), addrNew);
    expect(asked).toBe(1);
  });
});
