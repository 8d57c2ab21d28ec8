// Oops reports: what the kernel prints when it dies in a task — the fault, the task, the vCPU,
// the faulting instruction symbolized, the registers, and a backtrace from the frame-pointer
// chain, in the words of arch/x86/mm/fault.c and arch/x86/kernel/dumpstack.c.
import type { Machine } from "../machine/machine.js";
import type { SymbolTable } from "../machine/symbols.js";
import { readVirt, walk } from "../machine/paging.js";
import { pB, pS } from "./ftrace/kallsyms.js";
import { VectorName } from "../gen/layout.js";
import type { Task } from "./task.js";
import { NEWEST_KERNEL, VERSIONS, type OopsDialect } from "./versions.js";

export interface Oops {
  task: string;
  pid: number;
  cpu: number;
  vector: number;
  error: bigint;
  rip: bigint;
  cr2: bigint;
  backtrace: string[];
  text: string;
  /** A double fault on a stack's guard page: which stack overflowed. */
  overflow?: string;
}

const PT_REGS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
  "orig_rax", "rip", "cs", "eflags", "rsp", "ss"];

function readU64s(m: Machine, cr3: number, va: bigint, n: number): bigint[] | null {
  const b = readVirt(m, cr3, va, n * 8);
  if (!b) return null;
  const v = new DataView(b.buffer);
  return Array.from({ length: n }, (_, i) => v.getBigUint64(i * 8, true));
}

/** Walks saved-RBP frames: [rbp] = caller's rbp, [rbp + 8] = return address. */
function returnAddresses(m: Machine, cr3: number, rbp: bigint, max = 16): bigint[] {
  const out: bigint[] = [];
  const seen = new Set<bigint>();
  for (let i = 0; i < max && rbp !== 0n && !seen.has(rbp); i++) {
    seen.add(rbp);
    const f = readU64s(m, cr3, rbp, 2);
    if (!f || f[1] === 0n) break;
    out.push(f[1]);
    rbp = f[0];
  }
  return out;
}

/** RIP, then the return addresses of the frame-pointer chain, symbolized. */
export function backtrace(m: Machine, cr3: number, symbols: SymbolTable, rip: bigint, rbp: bigint, max = 16): string[] {
  return [rip, ...returnAddresses(m, cr3, rbp, max)].map((a) => symbols.format(a));
}

/** What the oops header and the task line say beyond the registers (kernel configuration, count). */
export interface OopsWords {
  /** CONFIG_PREEMPTION: __die_header's " PREEMPT". */
  preemption: boolean;
  /** Oopses before this one (die_counter): this one is [#counter + 1]. */
  counter: number;
  /** die()'s words when not the vector's own (a stack overflow). */
  die?: string;
  /** The modelled version's wording (default: 6.13's). */
  dialect?: OopsDialect;
}

/** do_error_trap's and friends' names for die(), by vector; a page fault dies as "Oops". */
const DIE_STR: Record<number, string> = {
  0: "divide error", 4: "overflow", 5: "bounds", 6: "invalid opcode", 8: "double fault", 10: "invalid TSS",
  11: "segment not present", 12: "stack segment", 13: "general protection fault", 14: "Oops", 17: "alignment check",
};

const hex16 = (v: bigint) => v.toString(16).padStart(16, "0");
const hex4 = (v: bigint) => (v & 0xffffn).toString(16).padStart(4, "0");
const PF = { PROT: 1n, WRITE: 2n, USER: 4n, RSVD: 8n, INSTR: 0x10n, PK: 0x20n };

/**
 * show_fault_oops (arch/x86/mm/fault.c): what the page fault was. The page-table dump that
 * follows it in the kernel (dump_pagetable) is left out.
 */
function faultLines(m: Machine, cr3: number, cr2: bigint, error: bigint, userMode: boolean): string[] {
  const out: string[] = [];
  const pte = error & PF.INSTR ? walk(m, cr3, cr2) : null;
  if (pte && !pte.exec) out.push("kernel tried to execute NX-protected page - exploit attempt? (uid: 0)");
  out.push(cr2 < 4096n && !userMode ? `BUG: kernel NULL pointer dereference, address: ${hex16(cr2)}`
    : `BUG: unable to handle page fault for address: ${hex16(cr2)}`);
  const access = error & PF.INSTR ? "instruction fetch" : error & PF.WRITE ? "write access" : "read access";
  out.push(`#PF: ${error & PF.USER ? "user" : "supervisor"} ${access} in ${userMode ? "user" : "kernel"} mode`);
  const why = !(error & PF.PROT) ? "not-present page" : error & PF.RSVD ? "reserved bit violation"
    : error & PF.PK ? "protection keys violation" : "permissions violation";
  out.push(`#PF: error_code(0x${error.toString(16).padStart(4, "0")}) - ${why}`);
  return out;
}

/** show_opcodes: 42 bytes before RIP, RIP's own in <>, 21 after; or why it could not read them. */
function codeLine(m: Machine, cr3: number, rip: bigint): string {
  const prologue = rip - 42n;
  const b = readVirt(m, cr3, prologue, 64);
  if (!b) return `Code: Unable to access opcode bytes at 0x${prologue.toString(16)}.`;
  const h = (x: number) => x.toString(16).padStart(2, "0");
  return `Code: ${[...b.subarray(0, 42)].map(h).join(" ")} <${h(b[42])}> ${[...b.subarray(43)].map(h).join(" ")}`;
}

/**
 * The oops as x86 prints it for an exception in the kernel (6.13): page_fault_oops's
 * show_fault_oops lines for a #PF, __die_header's "Oops: %s: %04lx [#%d]" with the
 * configuration words, dump_stack_print_info's task line, __show_regs (the RIP, Code, RSP and
 * general-register lines; the FS/GS, CS and CR lines are left out), show_trace_log_lvl's call
 * trace of return addresses between <TASK> and </TASK>, the CR2 summary of a #PF and
 * oops_end's end marker. Not printed: Modules linked in (print_modules) and the taint letters
 * (always "Not tainted" here).
 */
export function makeOops(m: Machine, cr3: number, symbols: SymbolTable, task: Task, cpu: number,
  regsVa: bigint, vector: number, error: bigint, cr2: bigint, words: OopsWords = { preemption: true, counter: 0 }): Oops {
  const r = readU64s(m, cr3, regsVa, PT_REGS.length) ?? new Array(PT_REGS.length).fill(0n);
  const reg = (name: string) => r[PT_REGS.indexOf(name)];
  const rip = reg("rip");
  const bt = backtrace(m, cr3, symbols, rip, reg("rbp"));
  const userMode = (reg("cs") & 3n) !== 0n;
  const str = words.die ?? DIE_STR[vector] ?? VectorName[vector] ?? `vector ${vector}`;
  const dialect = words.dialect ?? VERSIONS[NEWEST_KERNEL].oops;
  const [release, version] = dialect.uts.split(" ");
  const regLine = (names: string[]) => names.map((n) => `${n}: ${hex16(reg(n.toLowerCase().replace(/^r0/, "r")))}`).join(" ");
  const lines = [
    ...(vector === 14 ? faultLines(m, cr3, cr2, error, userMode) : []),
    `${dialect.oopsPrefix ? "Oops: " : ""}${str}: ${(error & 0xffffn).toString(16).padStart(4, "0")} [#${words.counter + 1}]` +
      `${words.preemption ? " PREEMPT" : ""} SMP`,
    `CPU: ${cpu}${dialect.uid ? " UID: 0" : ""} PID: ${task.pid} Comm: ${task.name.slice(0, 20)} Not tainted ${release} ${version}`,
    `RIP: ${hex4(reg("cs"))}:${pS(symbols, rip)}`,
    codeLine(m, cr3, rip),
    `RSP: ${hex4(reg("ss"))}:${hex16(reg("rsp"))} EFLAGS: ${reg("eflags").toString(16).padStart(8, "0")}`,
    regLine(["RAX", "RBX", "RCX"]), regLine(["RDX", "RSI", "RDI"]), regLine(["RBP", "R08", "R09"]),
    regLine(["R10", "R11", "R12"]), regLine(["R13", "R14", "R15"]),
    "Call Trace:",
    " <TASK>",
    ...returnAddresses(m, cr3, reg("rbp")).map((a) => ` ${pB(symbols, a)}`),
    " </TASK>",
    ...(vector === 14 ? [`CR2: ${hex16(cr2)}`] : []),
    "---[ end trace 0000000000000000 ]---",
  ];
  return { task: task.name, pid: task.pid, cpu, vector, error, rip, cr2, backtrace: bt, text: lines.join("\n") };
}
