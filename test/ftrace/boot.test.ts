import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { Kernel, firmwarePath } from "../../src/kernel/kernel.js";
import { kernelConfig } from "../../src/kernel/config.js";
import { parseElf } from "../../src/machine/elf.js";
import { NOP5 } from "../../src/kernel/ftrace/records.js";
import { FunctionTracer } from "../../src/kernel/ftrace/tracers.js";
import { FtraceError } from "../../src/kernel/ftrace/ftrace.js";
import { selectFunctions } from "../../src/kernel/ftrace/glob.js";
import { availableFilterFunctions } from "../../src/kernel/ftrace/tracefs.js";

const quiet = () => Kernel.boot({ cpus: 2, workload: [] });

describe("ftrace records and boot conversion", () => {
  it("every __mcount_loc site becomes the 5-byte NOP at boot, sorted, one record per traceable function", () => {
    const k = quiet();
    const recs = k.ftrace.records;
    expect(recs.length).toBeGreaterThan(20);
    for (let i = 1; i < recs.length; i++) expect(recs[i].ip > recs[i - 1].ip).toBe(true);
    for (const r of recs) {
      expect([...k.machine.readPhys(k.phys(r.ip), 5)], r.name).toEqual([...NOP5]);
      expect(k.symbols.get(r.name)!.addr, "the site is the function's first byte").toBe(r.ip);
    }
    expect(recs.map((r) => r.name)).toEqual(expect.arrayContaining(["work_top", "work_middle", "work_leaf", "long_work", "schedule"]));
  });

  it("code in .noinstr.text and notrace code is never recorded", () => {
    const k = quiet();
    const start = k.symbols.get("__noinstr_text_start")!.addr, end = k.symbols.get("__noinstr_text_end")!.addr;
    expect(end > start).toBe(true);
    expect(k.ftrace.records.filter((r) => r.ip >= start && r.ip < end)).toEqual([]);
    const names = availableFilterFunctions(k.ftrace).split("\n");
    for (const fn of ["poke_int3_handler", "default_idle_call", "ftrace_ops_list_func", "function_trace_call", "memcpy"]) {
      expect(names).not.toContain(fn);
    }
  });

  it("a site that does not hold the expected bytes is never written: ftrace_bug reports it and ftrace turns itself off", () => {
    const k = quiet();
    const rec = k.ftrace.record("work_top")!;
    const bogus = Uint8Array.of(0xe8, 0x12, 0x34, 0x56, 0x78);
    k.machine.writePhys(k.phys(rec.ip), bogus);
    const tr = new FunctionTracer(k.machine, k.heap, 64, "work_*");
    k.ftrace.register(tr.ops);
    expect(k.ftrace.disabled).toBe(true);
    const report = k.ftrace.bugs[0];
    expect(report).toContain("------------[ ftrace bug ]------------");
    expect(report).toMatch(/ftrace failed to modify \n\[<[0-9a-f]{16}>\] work_top\+0x0\/0x/);
    expect(report).toContain(" actual:   e8:12:34:56:78");
    expect(report).toContain(" expected: 0f:1f:44:00:00");
    expect(report).toContain("Setting ftrace call site to call ftrace function");
    // Nothing was written: not the bad site, not its neighbours.
    expect([...k.machine.readPhys(k.phys(rec.ip), 5)]).toEqual([...bogus]);
    for (const name of ["work_leaf", "work_middle"]) {
      expect([...k.machine.readPhys(k.phys(k.ftrace.record(name)!.ip), 5)]).toEqual([...NOP5]);
    }
    const again = new FunctionTracer(k.machine, k.heap, 64, "long_work");
    expect(() => k.ftrace.register(again.ops)).toThrowError(FtraceError);
  });

  it("a boot image whose site does not call __fentry__ stops the conversion with an ftrace bug", () => {
    // Corrupt work_top's `call __fentry__` in a copy of the firmware file.
    const image = new Uint8Array(readFileSync(firmwarePath));
    const elf = parseElf(image, "kernel");
    const at = elf.symbols.find((s) => s.name === "work_top")!.value;
    const seg = elf.segments.find((s) => at >= s.vaddr && at < s.vaddr + BigInt(s.data.length))!;
    const fileOffset = seg.data.byteOffset + Number(at - seg.vaddr);
    image.set([0x66, 0x66, 0x90, 0x66, 0x90], fileOffset);
    const k = new Kernel(kernelConfig({ cpus: 1, workload: [] }), image);
    expect(k.ftrace.disabled).toBe(true);
    expect(k.ftrace.bugs[0]).toContain("Initializing ftrace call sites");
    expect(k.ftrace.bugs[0]).toContain(" actual:   66:66:90:66:90");
    expect(k.ftrace.bugs[0]).toMatch(/ expected: e8:/);
  });
});

describe("set_ftrace_filter globs", () => {
  const names = ["schedule", "schedule_tail", "sched_tick", "work_top", "work_leaf", "long_work", "SyS_read", "sys_write"];
  it.each([
    ["work_*", ["work_top", "work_leaf"]],
    ["*_work", ["long_work"]],
    ["*work*", ["work_top", "work_leaf", "long_work"]],
    ["sch*ule", ["schedule"]],
    ["sch?d_tick", ["sched_tick"]],
    ["[Ss]y[Ss]_*", ["SyS_read", "sys_write"]],
    ["sched* !schedule_tail", ["schedule", "sched_tick"]],
    ["work_top long_work", ["work_top", "long_work"]],
  ])("%s selects exactly %j", (glob, want) => {
    expect([...selectFunctions(glob, names)].sort()).toEqual([...want].sort());
  });
});
