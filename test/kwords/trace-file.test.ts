// The `trace` file and trace_pipe, compared with lines built from the kernel's format strings
// (kernel/trace/trace.c: s_show, print_event_info, print_func_help_header_irq,
// get_total_entries_cpu; kernel/trace/trace_output.c: trace_print_context,
// trace_print_lat_fmt, trace_print_time; print_trace_line's lost-events line).
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FunctionTracer, flagColumns, type TraceRecord } from "../../src/kernel/ftrace/tracers.js";
import { traceFile, tracePipe } from "../../src/kernel/ftrace/tracefs.js";
import { TraceFlag } from "../../src/gen/layout.js";
import { cformat } from "./cformat.js";

function busy(seed = 1) {
  return Kernel.boot({
    cpus: 2, seed, quantum: 400, tickPeriod: 20_000,
    workload: [0, 1].map((cpu) => ({ name: `burst/${cpu}`, kind: "kthread" as const, entry: "kthread_burst", arg: 10 | (4 << 16), cpu })),
  });
}

/** print_func_help_header_irq without the TGID column: prec 2 of its padding strings. */
function kernelHeader(entries: number | bigint, total: number | bigint, ncpus: number): string[] {
  const space = "            ", prec = 2;
  return [
    cformat("# tracer: %s", "function"),
    "#",
    cformat("# entries-in-buffer/entries-written: %lu/%lu   #P:%d", entries, total, ncpus),
    "#",
    cformat("#                            %.*s  _-----=> irqs-off/BH-disabled", prec, space),
    cformat("#                            %.*s / _----=> need-resched", prec, space),
    cformat("#                            %.*s| / _---=> hardirq/softirq", prec, space),
    cformat("#                            %.*s|| / _--=> preempt-depth", prec, space),
    cformat("#                            %.*s||| / _-=> migrate-disable", prec, space),
    cformat("#                            %.*s|||| /     delay", prec, space),
    cformat("#           TASK-PID  %.*s CPU#  |||||  TIMESTAMP  FUNCTION", prec, "     TGID   "),
    cformat("#              | |    %.*s   |   |||||     |         |", prec, "       |    "),
  ];
}

const rec = (flags: number, preemptDepth = 0): TraceRecord => ({ ip: 0n, parentIp: 0n, ts: 0n, pid: 1, cpu: 0, flags, preemptDepth });

describe("the trace file's flag columns, as trace_print_lat_fmt prints them", () => {
  const { IRQS_OFF, NEED_RESCHED, NEED_RESCHED_LAZY, HARDIRQ, SOFTIRQ, NMI } = TraceFlag;
  it.each([
    [0, 0, "....."],
    [IRQS_OFF, 0, "d...."],
    // The model's RESCHED_NEED is TIF_NEED_RESCHED with PREEMPT_NEED_RESCHED folded in: 'N'.
    [NEED_RESCHED, 1, ".N.1."],
    // TIF_NEED_RESCHED_LAZY alone is never folded: 'l'; with the other: 'B'.
    [NEED_RESCHED_LAZY, 0, ".l..."],
    [NEED_RESCHED | NEED_RESCHED_LAZY, 0, ".B..."],
    [HARDIRQ | IRQS_OFF, 1, "d.h1."],
    [SOFTIRQ, 2, "..s2."],
    [HARDIRQ | SOFTIRQ, 1, "..H1."],
    [NMI, 0, "..z.."],
    [NMI | HARDIRQ, 0, "..Z.."],
    [0, 0x1f, "...f."],
  ])("flags %i, depth %i: %s", (flags, depth, want) => {
    expect(flagColumns(rec(flags, depth))).toBe(want);
  });
});

describe("the trace file", () => {
  it("its header is print_func_help_header_irq's, entries-written is entries plus overruns, every line parses back", () => {
    const k = busy();
    k.run(500_000);
    const t = new FunctionTracer(k.machine, k.heap, 64, "work_*");
    k.ftrace.register(t.ops);
    k.run(3_000_000);
    const records = t.consume();
    expect(t.lost, "the 64-entry rings overran").toBeGreaterThan(0n);
    const lines = traceFile(t, records, k.sched.tasks, k.symbols, 2).split("\n");
    expect(lines.slice(0, 12)).toEqual(kernelHeader(records.length, BigInt(records.length) + t.lost, 2));
    const body = lines.slice(12, -1);
    expect(body.length).toBe(records.length);
    expect(lines.at(-1)).toBe("");
    // trace_print_context: "%16s-%-7d " "[%03d] ", the five columns, " %5lu.%06lu", ": ", then
    // "%ps <-%ps" (print_fn_trace).
    body.forEach((line, i) => {
      const r = records[i];
      const comm = k.sched.tasks.find((x) => x.pid === r.pid)?.name ?? "<...>";
      const ns = r.ts;
      const want = cformat("%16s-%-7d ", comm, r.pid) + cformat("[%03d] ", r.cpu) + flagColumns(r) +
        cformat(" %5lu.%06lu", ns / 1_000_000_000n, (ns / 1000n) % 1_000_000n) + ": " +
        cformat("%s <-%s", k.symbols.find(r.ip)!.name, k.symbols.find(r.parentIp)?.name ?? `0x${r.parentIp.toString(16)}`);
      expect(line).toBe(want);
    });
  });

  it("trace_pipe says which vCPU lost how many events, once, before that vCPU's next record", () => {
    const k = busy(2);
    k.run(500_000);
    const t = new FunctionTracer(k.machine, k.heap, 64, "work_*");
    k.ftrace.register(t.ops);
    k.run(3_000_000);
    const heads = [0, 1].map((c) => t.head(c));
    const text = tracePipe(t, k.sched.tasks, k.symbols);
    const lost = text.split("\n").filter((l) => l.startsWith("CPU:"));
    expect(lost.length).toBeGreaterThan(0);
    for (const l of lost) {
      const m = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/.exec(l)!;
      expect(m, l).not.toBeNull();
      const c = Number(m[1]);
      expect(BigInt(m[2]), "lost = written - what the ring holds").toBe(heads[c] - 64n);
    }
    expect(new Set(lost).size).toBe(lost.length);
  });
});
