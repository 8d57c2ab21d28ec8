// Executing a freed trampoline: the oops in the kernel's words (arch/x86/mm/fault.c:
// page_fault_oops, show_fault_oops; arch/x86/kernel/dumpstack.c: __die_header, show_regs,
// show_opcodes, show_trace_log_lvl, oops_end; lib/dump_stack.c: dump_stack_print_info), then
// tramplab's account of the free.
import { describe, it, expect } from "vitest";
import { victimRun } from "../rcu/victim.js";
import { cformat } from "./cformat.js";
import { GDT_KERNEL_CS, GDT_KERNEL_DS } from "../../src/gen/constants.js";
import type { KernelVersion } from "../../src/kernel/versions.js";

describe("the page-fault oops of a task that returns into a freed trampoline", () => {
  it("is x86's instruction-fetch oops for a not-present page, then the use-after-free report", () => {
    const { k } = victimRun({ preempt: "full", release: "rcu" });
    expect(k.oopses).toHaveLength(1);
    const oops = k.oopses[0], uaf = k.useAfterFrees[0];
    const lines = oops.text.split("\n");
    const addr = uaf.address;
    expect(oops.error, "P=0, fetch, supervisor").toBe(0x10n);
    expect(lines.slice(0, 6)).toEqual([
      cformat("BUG: unable to handle page fault for address: %016lx", addr),
      cformat("#PF: %s %s in %s mode", "supervisor", "instruction fetch", "kernel"),
      cformat("#PF: error_code(0x%04lx) - %s", 0x10, "not-present page"),
      // 6.10 added the "Oops: " prefix to die()'s words; CONFIG_PREEMPTION adds " PREEMPT".
      cformat("Oops: %s: %04lx [#%d]%s%s", "Oops", 0x10, 1, " PREEMPT", " SMP"),
      cformat("CPU: %d UID: %u PID: %d Comm: %.20s %s%s %s %.*s", oops.cpu, 0, oops.pid, oops.task, "", "Not tainted", "6.13.0", 2, "#1"),
      // %pS of a freed trampoline: kallsyms knows no such address. The selector is the
      // firmware's own kernel CS (the kernel's __KERNEL_CS is 0x10; the registers are the model's).
      cformat("RIP: %04x:%s", GDT_KERNEL_CS, `0x${oops.rip.toString(16)}`),
    ]);
    // The code around RIP cannot be read: its page is unmapped.
    expect(lines[6]).toBe(cformat("Code: Unable to access opcode bytes at 0x%lx.", oops.rip - 42n));
    expect(lines[7]).toMatch(new RegExp(`^RSP: ${cformat("%04x", GDT_KERNEL_DS)}:[0-9a-f]{16} EFLAGS: [0-9a-f]{8}$`));
    const rows = [["RAX", "RBX", "RCX"], ["RDX", "RSI", "RDI"], ["RBP", "R08", "R09"], ["R10", "R11", "R12"], ["R13", "R14", "R15"]];
    for (const [i, names] of rows.entries()) {
      expect(lines[8 + i]).toMatch(new RegExp(`^${names.map((n) => `${n}: [0-9a-f]{16}`).join(" ")}$`));
    }
    const trace = lines.slice(lines.indexOf("Call Trace:"));
    expect(trace[1]).toBe(" <TASK>");
    // %pB: the return addresses, named by the call before them, with module and size.
    expect(trace[2]).toMatch(/^ victim_traced\+0x5\/0x[0-9a-f]+$/);
    expect(trace).toContain(" </TASK>");
    expect(lines.slice(-2)).toEqual([cformat("CR2: %016lx", addr), "---[ end trace 0000000000000000 ]---"]);
    // In the log: the oops, then the explanation of who freed the memory and when.
    const log = k.console.join("");
    expect(log.indexOf(oops.text)).toBeGreaterThanOrEqual(0);
    expect(log.indexOf(uaf.text)).toBeGreaterThan(log.indexOf(oops.text));
  });

  // Older releases word the same two lines differently: 6.10 added the "Oops: " prefix, 6.11
  // the UID; utsname names the release modelled.
  const cases: [KernelVersion, string, string][] = [
    ["6.6", "%s: %04lx [#%d]%s%s", "CPU: %d PID: %d Comm: %.20s %s%s %s %.*s"],
    ["6.10", "Oops: %s: %04lx [#%d]%s%s", "CPU: %d PID: %d Comm: %.20s %s%s %s %.*s"],
    ["6.12", "Oops: %s: %04lx [#%d]%s%s", "CPU: %d UID: %u PID: %d Comm: %.20s %s%s %s %.*s"],
  ];
  for (const [kernel, header, task] of cases) {
    it(`reads as kernel ${kernel} prints it`, () => {
      const { k } = victimRun({ preempt: "full", release: "rcu", kernel });
      const oops = k.oopses[0];
      const lines = oops.text.split("\n");
      const uid = task.includes("UID") ? [0] : [];
      expect(lines[3]).toBe(cformat(header, "Oops", 0x10, 1, " PREEMPT", " SMP"));
      expect(lines[4]).toBe(cformat(task, oops.cpu, ...uid, oops.pid, oops.task, "", "Not tainted", `${kernel}.0`, 2, "#1"));
    });
  }
});
