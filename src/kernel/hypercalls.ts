// The guest kernel's calls into the control plane (vmcall; firmware/include/kernel.h numbers
// them): console output, boot progress, the scheduler's policy, host ftrace callbacks, demand
// paging, recursion events, and the WARN and oops reports.
import { Hypercall as Nr, EventKind } from "../gen/layout.js";
import { readGuest, rightsOf } from "../machine/paging.js";
import type { Hypercall } from "../machine/interleave.js";
import type { Machine, CpuState } from "../machine/machine.js";
import type { SymbolTable } from "../machine/symbols.js";
import type { SchedPolicy } from "./sched.js";
import type { Ftrace } from "./ftrace/ftrace.js";
import type { DemandPager } from "./traps/demand.js";
import type { KernelStacks } from "./stacks.js";
import type { TimelineContext } from "./timeline.js";
import { printk, type Reports } from "./state.js";
import type { OopsDialect } from "./versions.js";
import type { Task } from "./sched.js";
import { makeOops } from "./oops.js";
import { makeWarning, readBugEntry, bugLines } from "./traps/warn.js";
import { makeUseAfterFree, type FreedObject } from "./uaf.js";

export interface HypercallDeps {
  machine: Machine;
  /** The kernel's page tables. */
  cr3: number;
  sched: SchedPolicy;
  ftrace: Ftrace;
  demand: DemandPager;
  stacks: KernelStacks;
  reports: () => Reports;
  online: () => Set<number>;
  symbols: () => SymbolTable;
  /** The freed trampoline or guarded object an address lies in, if any. */
  freedAt: (addr: bigint) => FreedObject | undefined;
  timelineContext: () => TimelineContext;
  /** A tick at virtual time `now`: jiffies follows. */
  jiffies: (now: bigint) => void;
  /** A task exited: its struct says so (kthread_stop waits for that). */
  exited: (t: Task) => void;
  /** CONFIG_PREEMPTION, which an oops's header names. */
  preemption: boolean;
  /** The modelled version's oops wording (utsname, prefix, UID). */
  dialect: OopsDialect;
}

const ret = (cpu: CpuState, v: bigint) => cpu.setReg(0, v);

/** Fills the interleaver's hypercall table. Arguments come in rdi (7), rsi (6), rdx (2), r10 (10). */
export function installHypercalls(table: Map<number, Hypercall>, d: HypercallDeps): void {
  const { machine, sched } = d;
  table.set(Nr.CONSOLE, (cpu) => {
    // The guest kernel's buffer, read with the calling vCPU's rights (the checked path).
    const bytes = readGuest(machine, d.cr3, cpu.reg(7), Number(cpu.reg(6) & 0xffffn), rightsOf(cpu));
    // A level header (KERN_SOH and a digit, or "c" to continue a line) is not part of the text.
    const text = bytes instanceof Uint8Array ? Buffer.from(bytes).toString("latin1").replace(/^(\x01[0-7c])+/, "")
      : "<unreadable console write>";
    printk(d.reports(), text, cpu.get("clock"));
  });
  table.set(Nr.BOOT_DONE, (cpu) => { d.online().add(cpu.index); });
  table.set(Nr.SCHED_TICK, (cpu) => {
    d.jiffies(cpu.get("clock"));
    sched.tick(cpu.index, cpu.reg(6) !== 0n, cpu.get("clock"));
  });
  table.set(Nr.SLEEP, (cpu) => sched.sleep(cpu.index, cpu.reg(7), cpu.get("clock")));
  table.set(Nr.TASK_EXIT, (cpu) => {
    const t = sched.task(cpu.reg(7));
    sched.exit(t);
    d.exited(t);
  });
  table.set(Nr.SCHEDULE, (cpu) => {
    ret(cpu, sched.schedule(cpu.index, cpu.reg(7), Number(cpu.reg(6)), cpu.get("clock"), cpu.reg(2)));
  });
  table.set(Nr.FTRACE_CALLBACK, (cpu) => {
    const ops = d.ftrace.opsByGuestAddr(cpu.reg(7));
    const fn = ops && ops.callback.kind === "host" ? d.ftrace.hostCallback(ops.id) : undefined;
    if (!fn) throw new Error(`FTRACE_CALLBACK for an unknown ops 0x${cpu.reg(7).toString(16)}`);
    fn({ cpu: cpu.index, ip: cpu.reg(6), parentIp: cpu.reg(2), op: cpu.reg(7), caller: cpu.reg(10) });
  });
  table.set(Nr.MAP_PAGE, (cpu) => ret(cpu, d.demand.fault(cpu.index, cpu.reg(7), cpu.get("clock"))));
  table.set(Nr.RECURSION, (cpu) => {
    const pid = sched.current[cpu.index]?.pid ?? -1;
    machine.events.record(EventKind.RECURSION, cpu.index, cpu.get("clock"), cpu.reg(7), cpu.reg(6), cpu.reg(2), cpu.reg(10), BigInt(pid));
  });
  table.set(Nr.WARN, (cpu) => {
    const bug = readBugEntry(machine, d.cr3, cpu.reg(6));
    if (bug && !bug.warning) {
      printk(d.reports(), bugLines(bug) + "\n", cpu.get("clock"));
      return;
    }
    const task = sched.current[cpu.index];
    const w = makeWarning(machine, d.cr3, d.symbols(), task, cpu.index, cpu.reg(7));
    d.reports().warnings.push(w);
    machine.events.record(EventKind.WARN, cpu.index, cpu.get("clock"), BigInt(task.pid), w.rip);
    printk(d.reports(), w.text + "\n", cpu.get("clock"));
  });
  table.set(Nr.OOPS, (cpu) => oops(d, cpu));
}

/** HYPERCALL_OOPS: the report, named a stack overflow or a use-after-free when it is one. */
function oops(d: HypercallDeps, cpu: CpuState): void {
  const { machine } = d;
  const reports = d.reports();
  const task = d.sched.current[cpu.index];
  const clock = cpu.get("clock");
  const vector = Number(cpu.reg(6)), cr2 = cpu.get("cr2");
  // handle_stack_overflow: a double fault on a guard page dies under the overflow's name.
  const guard = vector === 8 ? d.stacks.guardOf(cr2) : undefined;
  const words = { preemption: d.preemption, dialect: d.dialect, counter: reports.oopses.length,
    die: guard && "kernel stack overflow (double-fault)" };
  const oops = makeOops(machine, d.cr3, d.symbols(), task, cpu.index, cpu.reg(7), vector, cpu.reg(2), cr2, words);
  if (guard) {
    oops.overflow = guard.name;
    const stack = `0x${guard.base.toString(16)}..0x${guard.top.toString(16)}, ${guard.name}`;
    oops.text = `BUG: stack guard page was hit at 0x${cr2.toString(16)} (stack is ${stack})\n${oops.text}`;
  }
  reports.oopses.push(oops);
  machine.events.record(EventKind.OOPS, cpu.index, clock, BigInt(task.pid), BigInt(oops.vector), oops.rip);
  // The kernel's oops first, then tramplab's own account of the freed memory it ran into.
  printk(reports, oops.text + "\n", clock);
  const freed = d.freedAt(oops.rip) ?? (oops.vector === 14 ? d.freedAt(oops.cr2) : undefined);
  if (freed) {
    const uaf = makeUseAfterFree(oops, freed, clock, machine.events.events, d.timelineContext());
    reports.useAfterFrees.push(uaf);
    printk(reports, uaf.text + "\n", clock);
  }
}
