// ftrace_init's two boot lines (kernel/trace/ftrace.c: ftrace_init, ftrace_allocate_pages,
// ftrace_allocate_records) and __schedule_bug's line (kernel/sched/core.c), in the kernel's
// formats, with the arithmetic behind the numbers.
import { beforeAll, describe, it, expect } from "vitest";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import { ENTRIES_PER_PAGE, ftraceGroups, ftraceInitLines } from "../../src/kernel/ftrace/pages.js";
import { buildModules, FIXTURES } from "../module/build.js";
import { cformat } from "./cformat.js";

describe("ftrace: allocating N entries in P pages / allocated P pages with G groups", () => {
  it("P is the entries over ENTRIES_PER_PAGE rounded up; each group is the largest power of two of pages the rest fills", () => {
    // struct dyn_ftrace on x86-64 is 16 bytes (ip, flags): 4096 / 16 records a page.
    expect(ENTRIES_PER_PAGE).toBe(256);
    expect(ftraceGroups(1)).toEqual([0]);
    expect(ftraceGroups(256)).toEqual([0]);
    // 257 records want 2 pages: one group of order 1 (512 records).
    expect(ftraceGroups(257)).toEqual([1]);
    // 1300 want 6 pages: order 2 (4 pages, 1024 records), then 276 want 2 pages: order 1.
    expect(ftraceGroups(1300)).toEqual([2, 1]);
    // 38462 want 151 pages: 128 (32768 records), then 5694 want 23: 16 (4096), then 1598 want 7:
    // 4 (1024), then 574 want 3: 2 (512), then 62 want 1. Booted kernels print these numbers.
    expect(ftraceGroups(38462)).toEqual([7, 4, 2, 1, 0]);
    expect(ftraceInitLines(38462)).toEqual([
      cformat("ftrace: allocating %ld entries in %ld pages", 38462, 151),
      cformat("ftrace: allocated %ld pages with %ld groups", 151, 5),
    ]);
    expect(ftraceInitLines(0)).toEqual(["ftrace: No functions to be traced?"]);
  });

  it("the boot log starts with them, for the firmware's __mcount_loc (less the sites the release builds noinstr)", () => {
    // 5.15 traces tick_check_broadcast_expired; 6.13 builds it noinstr, so its site is no entry.
    for (const [kernel, noinstr] of [["5.15", 0], ["6.13", 1]] as const) {
      const k = Kernel.boot({ cpus: 1, workload: [], kernel });
      const start = k.symbols.get("__start_mcount_loc")!.addr, stop = k.symbols.get("__stop_mcount_loc")!.addr;
      const n = Number(stop - start) / 8 - noinstr;
      const pages = Math.ceil(n / ENTRIES_PER_PAGE);
      expect(k.console.slice(0, 2), kernel).toEqual([
        cformat("ftrace: allocating %ld entries in %ld pages\n", n, pages),
        cformat("ftrace: allocated %ld pages with %ld groups\n", ftraceGroups(n).reduce((a, o) => a + (1 << o), 0), ftraceGroups(n).length),
      ]);
    }
  });
});

describe("BUG: scheduling while atomic", () => {
  let ko: Map<string, Uint8Array>;
  beforeAll(async () => { ko = await buildModules([join(FIXTURES, "atomic_sleep.c")]); });

  it("a module that calls schedule() with preemption disabled gets __schedule_bug's comm/pid/0x%08x line", () => {
    const k = Kernel.boot({ cpus: 2 });
    expect(k.runUntil(() => k.online.size === 2, 100_000_000n)).toBe(true);
    k.insmod(ko.get("atomic_sleep")!, "atomic_sleep.ko", []);
    const log = k.console.join("");
    const m = /BUG: scheduling while atomic: (.+)\/(\d+)\/(0x[0-9a-f]{8})\n/.exec(log);
    expect(m, log).not.toBeNull();
    const task = k.sched.tasks.find((t) => t.pid === Number(m![2]))!;
    // The task's own preempt_disable() plus the one schedule() takes before it checks.
    expect(m![0]).toBe(cformat("BUG: scheduling while atomic: %s/%d/0x%08x\n", task.name, task.pid, 2));
  });
});
