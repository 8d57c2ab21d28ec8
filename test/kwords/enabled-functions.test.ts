// enabled_functions and ftrace_bug's lines, compared with lines built from the kernel's format
// strings (kernel/trace/ftrace.c: t_show, ftrace_bug; arch/x86/kernel/ftrace.c:
// arch_ftrace_trampoline_func, static_tramp_func; include/linux/kallsyms.h: print_ip_sym).
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { FunctionTracer } from "../../src/kernel/ftrace/tracers.js";
import { enabledFunctions } from "../../src/kernel/ftrace/tracefs.js";
import { cformat } from "./cformat.js";

const quiet = () => Kernel.boot({ cpus: 2, workload: [] });

describe("enabled_functions in t_show's format", () => {
  it("a site on its ops' trampoline shows tramp and ops->func; a shared site shows what ftrace_call calls; nothing is padded", () => {
    const k = quiet();
    const host = (name: string, filter: string, saveRegs = false) =>
      new FtraceOps({ name, filter, saveRegs, callback: { kind: "host", fn: () => undefined } });
    const a = host("a", "work_top work_middle"), b = host("b", "work_middle work_leaf", true);
    k.ftrace.register(a);
    k.ftrace.register(b);
    // %pS of a function: name+0xoff/0xsize. Of a dynamic trampoline: 0x%lx, as kallsyms_lookup()
    // does not look in ftrace's trampoline list (only /proc/kallsyms lists them).
    const pS = (name: string) => `${name}+0x0/0x${k.symbols.get(name)!.size.toString(16)}`;
    const cb = pS("ftrace_host_callback");
    // seq_printf(m, " (%ld)%s%s%s%s%s", count, R, I, D, O, M): blank columns are spaces.
    const counts = (n: number, r: boolean) => cformat(" (%ld)%s%s%s%s%s", n, r ? " R" : "  ", "  ", "  ", "  ", "   ");
    const tramp = (o: FtraceOps) => cformat("\ttramp: %s (%s)", `0x${o.trampoline!.addr.toString(16)}`, cb);
    const lines = enabledFunctions(k.ftrace, k.trampolines, k.symbols).split("\n");
    expect(lines).toEqual([
      ...["work_leaf", "work_middle", "work_top"].map((f) => {
        if (f === "work_middle") return f + counts(2, true) + ` ->${pS("ftrace_ops_list_func")}`;
        const o = f === "work_top" ? a : b;
        return f + counts(1, o === b) + tramp(o) + ` ->${cb}`;
      }).sort((x, y) => k.ftrace.record(x.split(" ")[0])!.ip < k.ftrace.record(y.split(" ")[0])!.ip ? -1 : 1),
      "",
    ]);
    // One ops left: the static caller's call goes to that ops' callback, and the site shows it.
    k.ftrace.unregister(a);
    k.ftrace.unregister(b);
    const t = new FunctionTracer(k.machine, k.heap, 64, "long_work");
    k.ftrace.register(t.ops);
    const only = enabledFunctions(k.ftrace, k.trampolines, k.symbols);
    expect(only).toBe("long_work" + counts(1, false) +
      (t.ops.trampoline ? cformat("\ttramp: %s (%s)", `0x${t.ops.trampoline.addr.toString(16)}`, pS("function_trace_call")) : "") +
      ` ->${pS("function_trace_call")}\n`);
  });
});

describe("ftrace_bug's lines", () => {
  it("print_ip_sym starts its own line, the count line has the R and O columns, and expected tramp is ftrace_caller for a NOP", () => {
    const k = quiet();
    const rec = k.ftrace.record("work_top")!;
    k.machine.writePhys(k.phys(rec.ip), Uint8Array.of(0xe8, 0x12, 0x34, 0x56, 0x78));
    k.ftrace.register(new FunctionTracer(k.machine, k.heap, 64, "work_top").ops);
    const size = k.symbols.get("work_top")!.size.toString(16);
    expect(k.ftrace.bugs[0].split("\n")).toEqual([
      "------------[ ftrace bug ]------------",
      "ftrace failed to modify ",
      cformat("%s[<%016lx>] %s", "", rec.ip, `work_top+0x0/0x${size}`),
      " actual:   e8:12:34:56:78",
      " expected: 0f:1f:44:00:00",
      "Setting ftrace call site to call ftrace function",
      cformat("ftrace record flags: %lx", rec.flags >>> 0),
      cformat(" (%ld)%s%s", 1, "  ", "  "),
      cformat(" expected tramp: %lx", k.symbols.get("ftrace_caller")!.addr),
    ]);
    // ftrace_bug printk's them: the kernel log has the report, as dmesg would.
    expect(k.console.join("")).toContain(k.ftrace.bugs[0] + "\n");
  });
});
