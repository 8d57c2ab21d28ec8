// The machine's and the kernel's state as the debugger prints it: backtraces, vCPUs, tasks,
// kernel stacks, page walks, memory dumps, disassembly.
import { describeStacks, stackStates } from "../kernel/ftrace/recursion.js";
import { canonical, walk, PTE_P, PTE_RW, PTE_US, PTE_NX, PTE_PS } from "../machine/paging.js";
import { DebugError, type Engine } from "./engine.js";
import { unwind, backtraceText } from "./frames.js";
import { addrText, hex, readUpTo } from "./format.js";
import { hex as hexBytes } from "../machine/disasm.js";
import { decodeOne } from "./disasm.js";
import { formatTime } from "../machine/units.js";

/** bt as text, no frame marked (the REPL's bt marks the selected one: framecmds.ts). */
export function backtrace(e: Engine): string {
  return backtraceText(e, unwind(e), -1);
}

export function infoCpus(e: Engine): string {
  const k = e.target.kernel;
  const lines = ["  cpu  state    clock          insns        task              where"];
  for (const c of e.machine.cpus) {
    const t = k?.sched.current[c.index];
    const task = t ?? { name: e.target.threadName(c.index), pid: 1 };
    const state = c.get("halted") !== 0 ? "halted" : "running";
    lines.push(`${c.index === e.cpu ? "*" : " "} ${String(c.index).padStart(3)}  ${state.padEnd(8)} ` +
      `${formatTime(c.get("clock")).padEnd(14)} ${String(c.get("insns")).padEnd(12)} ${`${task.name}/${task.pid}`.padEnd(17)} ` +
      `${addrText(e.symbols, c.rip)}`);
  }
  return lines.join("\n");
}

export function infoTasks(e: Engine): string {
  const running = e.kernel.running();
  const lines = ["  pid  name               kind     state     cpu  nvcsw  nivcsw"];
  for (const t of e.kernel.sched.tasks) {
    const on = running.get(t);
    lines.push(`${on !== undefined ? "*" : " "} ${String(t.pid).padStart(3)}  ${t.name.padEnd(18)} ${t.kind.padEnd(8)} ` +
      `${t.state.padEnd(9)} ${String(on ?? t.cpu).padStart(3)} ${String(t.nvcsw).padStart(6)} ${String(t.nivcsw).padStart(7)}`);
  }
  return lines.join("\n");
}

/**
 * info stacks: the kernel's table of stacks (in_tracing flag, callback calls entered and
 * skipped, the flag an IST handler shares), plus which vCPUs' stack pointers are on each.
 */
export function infoStacks(e: Engine): string {
  const stacks = e.kernel.stacks;
  const [header, ...rows] = describeStacks(stacks).split("\n");
  const states = stackStates(stacks);
  const width = Math.max(header.length, ...rows.map((r) => r.length));
  return [`${header.padEnd(width)}  rsp of`, ...rows.map((row, i) => {
    const s = states[i].stack;
    const on = e.machine.cpus.filter((c) => c.get("cpl") === 0 && c.reg(4) >= s.base && c.reg(4) < s.top).map((c) => `cpu${c.index}`);
    return on.length ? `${row.padEnd(width)}  ${on.join(" ")}` : row;
  })].join("\n");
}

/** page VA: the four-level walk with each entry and what it allows. */
export function pageWalk(e: Engine, va: bigint): string {
  const cr3 = Number(e.current.get("cr3") & ~0xfffn);
  const t = walk(e.machine, cr3, va);
  const lines = [`page walk for ${hex(va)} from cr3 ${hex(cr3)} (cpu${e.cpu})`];
  if (!canonical(va)) return [...lines, "  not a canonical address (bits 63 to 47 differ): the CPU faults (#GP) on it"].join("\n");
  const names = { 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" } as const;
  const steps = t?.steps ?? partialSteps(e, cr3, va);
  for (const s of steps) {
    const f = s.entry;
    const bits = [
      (f & PTE_P) ? "P" : "not present", (f & PTE_RW) ? "RW" : "RO", (f & PTE_US) ? "US" : "S", (f & PTE_NX) ? "NX" : "X",
      (f & PTE_PS) ? "PS" : "",
    ].filter(Boolean).join(" ");
    lines.push(`  ${names[s.level].padEnd(5)} [${String(s.index).padStart(3)}] at pa ${hex(s.entryAddr)} = ` +
      `${hex(f).padEnd(18)} ${(f & PTE_P) ? bits : "not present"}`);
  }
  if (!t) lines.push("  not mapped");
  else {
    lines.push(`  -> pa ${hex(t.pa)} (${t.pageSize / 1024} KiB page) ${t.writable ? "writable" : "read-only"}, ` +
      `${t.user ? "user" : "kernel"}, ${t.exec ? "executable" : "no-execute"}`);
  }
  return lines.join("\n");
}

/** The entries walked before the walk failed (walk() returns null without them). */
function partialSteps(e: Engine, cr3: number, va: bigint): { level: 4 | 3 | 2 | 1; index: number; entryAddr: number; entry: bigint }[] {
  const out: { level: 4 | 3 | 2 | 1; index: number; entryAddr: number; entry: bigint }[] = [];
  const view = new DataView(e.machine.ram.buffer, e.machine.ram.byteOffset, e.machine.ram.byteLength);
  let table = cr3;
  for (let level = 4 as 4 | 3 | 2 | 1; level >= 1; level--) {
    const index = Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
    const entryAddr = table + index * 8;
    if (entryAddr + 8 > e.machine.ramBytes) break;
    const entry = view.getBigUint64(entryAddr, true);
    out.push({ level, index, entryAddr, entry });
    if ((entry & PTE_P) === 0n || (entry & PTE_PS) !== 0n) break;
    table = Number(entry & 0x000f_ffff_ffff_f000n);
    if (level === 1) break;
  }
  return out;
}

const UNIT = { b: 1, h: 2, w: 4, g: 8 } as const;
export type Unit = keyof typeof UNIT;

/**
 * x/Nfu: N units of memory at addr in format f (x d u o t c a), or N instructions (f = i), and
 * the address after the last one shown (where a bare x goes on). Memory is read as the
 * selected vCPU could read it (in user mode, user pages only).
 */
export function examine(e: Engine, addr: bigint, n: number, f: string, u: Unit): { text: string; next: bigint } {
  if (f === "i") return disasm(e, addr, n, (x, len) => e.readAs(x, len));
  if (f === "s") return stringAt(e, addr, n);
  const size = UNIT[u];
  const perLine = Math.max(1, Math.min(8, 16 / size));
  const lines: string[] = [];
  for (let i = 0; i < n; i += perLine) {
    const at = addr + BigInt(i * size);
    const cells: string[] = [];
    for (let j = i; j < Math.min(n, i + perLine); j++) {
      const v = e.readU64(addr + BigInt(j * size), size, e.cpu, true);
      if (v === null) {
        const bad = addr + BigInt(j * size);
        const message = `cannot access memory at address ${hex(bad)}${e.whyNot(bad, size)}`;
        if (cells.length === 0 && lines.length === 0) throw new DebugError(message);
        lines.push(`${addrText(e.symbols, at)}:\t${cells.join("\t")}`, message);
        return { text: lines.join("\n"), next: bad };
      }
      cells.push(formatValue(v, f, size, e));
    }
    lines.push(`${addrText(e.symbols, at)}:\t${cells.join("\t")}`);
  }
  return { text: lines.join("\n"), next: addr + BigInt(n * size) };
}

export function formatValue(v: bigint, f: string, size: number, e?: Engine): string {
  const bits = BigInt(size * 8);
  switch (f) {
    case "x": return "0x" + v.toString(16).padStart(size * 2, "0");
    case "d": return BigInt.asIntN(Number(bits), v).toString();
    case "u": return v.toString();
    case "o": return "0" + v.toString(8);
    case "t": return v.toString(2).padStart(Number(bits), "0");
    case "c": return `${v} '${String.fromCharCode(Number(v & 0xffn))}'`;
    case "a": return e ? addrText(e.symbols, v) : hex(v);
  }
  throw new DebugError(`unknown format letter "${f}" (use x d u o t c a i s)`);
}

function stringAt(e: Engine, addr: bigint, n: number): { text: string; next: bigint } {
  const lines: string[] = [];
  let a = addr;
  for (let i = 0; i < n; i++) {
    const bytes: number[] = [];
    let more = false;
    for (;;) {
      const at = a + BigInt(bytes.length);
      const b = e.readAs(at, 1);
      if (!b) throw new DebugError(`cannot access memory at address ${hex(at)}${e.whyNot(at, 1)}`);
      if (b[0] === 0) break;
      if (bytes.length >= 200) { more = true; break; }
      bytes.push(b[0]);
    }
    // gdb's limit of 200 characters: a longer string ends in "...", and the next one starts where it stopped.
    lines.push(`${addrText(e.symbols, a)}:\t${quoteC(bytes)}${more ? "..." : ""}`);
    a += BigInt(bytes.length + (more ? 0 : 1));
  }
  return { text: lines.join("\n"), next: a };
}

const C_ESCAPES: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\033",
  34: "\\\"", 92: "\\\\" };

/** Bytes as a C string literal, as gdb prints one: C's escapes, and octal for the rest that is not printable ASCII. */
export function quoteC(bytes: number[]): string {
  const body = bytes.map((b) => C_ESCAPES[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "\\" + b.toString(8).padStart(3, "0")));
  return `"${body.join("")}"`;
}

/** N instructions from addr, the current one marked with =>. */
export function disasmLines(e: Engine, addr: bigint, n: number,
  read: (a: bigint, len: number) => Uint8Array | null = (x, len) => e.read(x, len)): string {
  return disasm(e, addr, n, read).text;
}

function disasm(e: Engine, addr: bigint, n: number, read: (a: bigint, len: number) => Uint8Array | null): { text: string; next: bigint } {
  const lines: string[] = [];
  let a = addr;
  while (lines.length < n) {
    const bytes = readUpTo(read, a, 15);
    if (!bytes) { lines.push(`   ${addrText(e.symbols, a)}:\tcannot access memory`); break; }
    const l = decodeOne(bytes, a, e.symbols, e.machine.cpuVendor);
    lines.push(`${a === e.current.rip ? "=> " : "   "}${addrText(e.symbols, a)}:\t${hexBytes(l.bytes).padEnd(24)}\t${l.text}`);
    a += BigInt(l.bytes.length);
  }
  return { text: lines.join("\n"), next: a };
}

/** disassemble [SYM|ADDR]: a whole function (its ELF size), or 16 instructions where no size is known. */
export function disassembleFunction(e: Engine, arg: string, pc = e.current.rip): string {
  let start: bigint, end: bigint | null = null;
  const sym = arg ? e.symbols.get(arg) : e.symbols.find(pc);
  if (sym && sym.size > 0n && !sym.absolute) { start = sym.addr; end = sym.addr + sym.size; }
  else if (arg) start = e.eval(arg);
  else throw new DebugError(`no function contains ${hex(pc)}; give an address`);
  const title = `Dump of assembler code ${sym ? `for function ${sym.name}` : `from ${hex(start)}`}:`;
  const lines = [title];
  let a = start;
  for (let i = 0; i < 4096 && (end === null ? i < 16 : a < end); i++) {
    const bytes = readUpTo((x, len) => e.read(x, len), a, 15);
    if (!bytes) { lines.push(`   ${addrText(e.symbols, a)}:\tcannot access memory`); break; }
    const l = decodeOne(bytes, a, e.symbols, e.machine.cpuVendor);
    lines.push(`${a === e.current.rip ? "=> " : "   "}${hex(a)} <+${a - start}>:\t${l.text}`);
    a += BigInt(l.bytes.length);
  }
  lines.push("End of assembler dump.");
  return lines.join("\n");
}
