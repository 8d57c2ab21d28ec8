// The hypercalls behind what the kernel exports to modules (firmware/module_api.c, kthread.c,
// ftrace_api.c): the heap, the clock, symbol names, kernel threads, grace periods and RCU
// callbacks, and ftrace's calls. Guest pointers are read and written through the calling
// vCPU's page tables with its rights (the checked path); every size is bounded.
import { Hypercall as Nr } from "../../gen/layout.js";
import { Errno, HOST_JOB_PENDING, X86_EFLAGS_IF } from "../../gen/constants.js";
import { readGuest, writeGuest, rightsOf } from "../../machine/paging.js";
import type { Hypercall } from "../../machine/interleave.js";
import type { Machine, CpuState } from "../../machine/machine.js";
import type { SymbolTable } from "../../machine/symbols.js";
import type { GuestHeap } from "../heap.js";
import type { SchedPolicy, Task } from "../sched.js";
import type { HostJobs, JobWait } from "../jobs.js";
import { FLAVOUR_NAMES } from "../jobs.js";
import type { RcuSubsystem } from "../rcu/index.js";
import { KthreadError } from "../kthread.js";

/** kmalloc's largest block (KMALLOC_MAX_SIZE is 4 MiB with 4 KiB pages and the buddy allocator's orders). */
export const KMALLOC_MAX = 4 << 20;

/** The module API's state, plain data (KernelState.moduleApi). */
export interface ModuleApiState {
  /** Live kmalloc blocks by address: their sizes (kfree needs them). */
  allocs: Map<bigint, number>;
  /** call_rcu callbacks whose grace period ended, for the rcuc thread to run. */
  ready: { head: bigint; func: bigint }[];
  /** Callbacks queued and not yet run (rcu_barrier waits for 0). */
  outstanding: number;
  /** Callbacks handed to the rcuc thread in its last batch (run by the time it asks again). */
  inFlight: number;
  /** The rcuc thread, made on the first call_rcu. */
  rcuThread?: bigint;
  /** Where kthread_create puts the next thread that names no vCPU. */
  nextCpu: number;
}

export function initialModuleApiState(): ModuleApiState {
  return { allocs: new Map(), ready: [], outstanding: 0, inFlight: 0, nextCpu: 0 };
}

export interface ModuleApiDeps {
  machine: Machine;
  cr3: number;
  st: () => ModuleApiState;
  heap: GuestHeap;
  sched: SchedPolicy;
  jobs: HostJobs;
  rcu: RcuSubsystem;
  symbols: () => SymbolTable;
  console: (text: string) => void;
  /** kthread_create: a stopped thread at entry(arg) on `cpu`. */
  kthread: (name: string, cpu: number, entry: bigint, arg: bigint) => Task;
  sym: (name: string) => bigint;
  /** The per-CPU preempt_count of a vCPU. */
  preemptCount: (cpu: number) => number;
}

const ret = (cpu: CpuState, v: bigint) => cpu.setReg(0, BigInt.asUintN(64, v));
const err = (e: number) => BigInt(-e);

/** `name+0x1f/0x40 [mod]` (with_offset) or `name [mod]`, as kallsyms prints it; "" if unknown. */
export function kallsymsName(symbols: SymbolTable, addr: bigint, withOffset: boolean): string {
  const s = symbols.find(addr);
  if (!s) return "";
  const mod = s.module ? ` [${s.module}]` : "";
  if (!withOffset) return s.name + mod;
  return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}${mod}`;
}

/** A NUL-terminated string of at most `max` bytes from guest memory, or undefined if unreadable. */
export function readGuestString(m: Machine, cr3: number, cpu: CpuState, va: bigint, max: number): string | undefined {
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    const b = readGuest(m, cr3, va + BigInt(i), 1, rightsOf(cpu));
    if (!(b instanceof Uint8Array)) return undefined;
    if (b[0] === 0) break;
    out.push(b[0]);
  }
  return Buffer.from(out).toString("latin1");
}

export function installModuleApi(table: Map<number, Hypercall>, d: ModuleApiDeps): void {
  const { machine: m } = d;
  const s = () => d.st();
  table.set(Nr.KMALLOC, (cpu) => {
    const size = cpu.reg(7);
    if (size === 0n || size > BigInt(KMALLOC_MAX)) { ret(cpu, 0n); return; }
    const va = d.heap.alloc(Number(size));
    s().allocs.set(va, Number(size));
    ret(cpu, va);
  });
  table.set(Nr.KFREE, (cpu) => {
    const va = cpu.reg(7);
    const size = s().allocs.get(va);
    if (size === undefined) {
      d.console(`BUG: kfree of 0x${va.toString(16)}, which kmalloc did not return (or was freed already)\n`);
      return;
    }
    s().allocs.delete(va);
    d.heap.release(va, size);
  });
  table.set(Nr.KTIME, (cpu) => ret(cpu, cpu.get("clock")));
  table.set(Nr.SPRINT_SYMBOL, (cpu) => {
    const [addr, buf, size] = [cpu.reg(7), cpu.reg(6), cpu.reg(2)];
    const text = kallsymsName(d.symbols(), addr, cpu.reg(10) !== 0n);
    if (!text || size === 0n) { ret(cpu, 0n); return; }
    const bytes = Buffer.from(text.slice(0, Number(size > 4096n ? 4096n : size) - 1) + "\0", "latin1");
    ret(cpu, writeGuest(m, d.cr3, buf, bytes, rightsOf(cpu)) ? 0n : BigInt(bytes.length - 1));
  });
  table.set(Nr.KTHREAD_CREATE, (cpu) => {
    const [fn, data, want, namePtr] = [cpu.reg(7), cpu.reg(6), BigInt.asIntN(64, cpu.reg(2)), cpu.reg(10)];
    const name = readGuestString(m, d.cr3, cpu, namePtr, 15);
    if (name === undefined) { ret(cpu, err(Errno.EFAULT)); return; }
    const vcpu = want < 0n ? s().nextCpu++ % m.ncpus : Number(want);
    if (want >= BigInt(m.ncpus)) { ret(cpu, err(Errno.EINVAL)); return; }
    try {
      const info = d.heap.alloc(16); // struct kthread_create_info
      d.heap.writeU64(info, fn);
      d.heap.writeU64(info + 8n, data);
      ret(cpu, d.kthread(name, vcpu, d.sym("kthread"), info).addr);
    } catch (e) {
      if (e instanceof KthreadError) { ret(cpu, err(Errno.ENOMEM)); return; }
      throw e;
    }
  });
  table.set(Nr.WAKE_UP, (cpu) => {
    const t = d.sched.tasks.find((x) => x.addr === cpu.reg(7));
    ret(cpu, t && d.sched.wakeUp(t, cpu.get("clock")) ? 1n : 0n);
  });
  table.set(Nr.SYNCHRONIZE, (cpu) => {
    const name = FLAVOUR_NAMES[Number(cpu.reg(7))];
    const f = d.rcu.flavours.find((x) => x.name === name);
    if (!f || !mayBlock(d, cpu)) { ret(cpu, err(Errno.EINVAL)); return; }
    const seq = f.request(cpu.get("clock"));
    d.jobs.queue(cpu.index, { kind: "grace-period", flavour: f.name, seq });
    ret(cpu, HOST_JOB_PENDING);
  });
  table.set(Nr.CALL_RCU, (cpu) => {
    const name = FLAVOUR_NAMES[Number(cpu.reg(2))];
    const f = d.rcu.flavours.find((x) => x.name === name);
    if (!f) return;
    s().outstanding++;
    f.call({ kind: "guest", head: cpu.reg(7), func: cpu.reg(6) }, cpu.get("clock"));
    if (s().rcuThread === undefined) {
      const t = d.kthread("rcuc", 0, d.sym("rcu_callback_thread"), 0n);
      s().rcuThread = t.addr;
      d.sched.wakeUp(t, cpu.get("clock"));
    }
  });
  table.set(Nr.RCU_CALLBACKS, (cpu) => {
    const barrier = cpu.reg(2) !== 0n;
    if (!barrier) {
      // The thread ran its last batch before asking again.
      s().outstanding -= s().inFlight;
      s().inFlight = 0;
    } else if (!mayBlock(d, cpu)) { ret(cpu, err(Errno.EINVAL)); return; }
    const wait = { kind: "rcu-callbacks" as const, barrier, buf: cpu.reg(7), max: Math.min(Number(cpu.reg(6)), 64) };
    const now = rcuCallbacks(d, wait);
    if (now !== undefined) { ret(cpu, now); return; }
    d.jobs.queue(cpu.index, wait);
    ret(cpu, HOST_JOB_PENDING);
  });
  // ftrace's calls run as work between rounds, never inside this hypercall: patching runs the
  // machine, and this vCPU is stopped in the middle of its vmcall.
  table.set(Nr.FTRACE_OPS, (cpu) => {
    if (!mayBlock(d, cpu)) { ret(cpu, err(Errno.EINVAL)); return; }
    const args = [cpu.reg(7), cpu.reg(6), cpu.reg(2), cpu.reg(10)];
    d.jobs.queue(cpu.index, { kind: "work", what: "ftrace", work: { call: "ftrace", args, cpu: cpu.index } });
    ret(cpu, HOST_JOB_PENDING);
  });
}

/**
 * A call that sleeps needs a task that may sleep: not the idle task, not with preemption or
 * interrupts off. Otherwise the kernel's might_sleep() complaint, and -EINVAL.
 */
function mayBlock(d: ModuleApiDeps, cpu: CpuState): boolean {
  const t = d.sched.current[cpu.index];
  const count = d.preemptCount(cpu.index);
  const irqs = (cpu.rflags & X86_EFLAGS_IF) !== 0n;
  if (t.kind !== "idle" && count === 0 && irqs) return true;
  d.console(`BUG: sleeping function called from invalid context: pid ${t.pid} (${t.name}), ` +
    `preempt_count ${count}, irqs ${irqs ? "on" : "off"}\n`);
  return false;
}

/** The rcuc thread's batch (or rcu_barrier's answer) if it can be given now. */
export function rcuCallbacks(d: ModuleApiDeps, w: Extract<JobWait, { kind: "rcu-callbacks" }>): bigint | undefined {
  const s = d.st();
  if (w.barrier) return s.outstanding === 0 ? 0n : undefined;
  if (s.ready.length === 0) return undefined;
  const batch = s.ready.splice(0, w.max);
  const bytes = new Uint8Array(batch.length * 8);
  batch.forEach((c, i) => new DataView(bytes.buffer).setBigUint64(i * 8, c.head, true));
  if (!writeHeadList(d, w.buf, bytes)) return 0n;
  s.inFlight = batch.length;
  return BigInt(batch.length);
}

/** The batch goes on the rcuc thread's stack (kernel memory: written through the page tables). */
function writeHeadList(d: ModuleApiDeps, va: bigint, bytes: Uint8Array): boolean {
  return writeGuest(d.machine, d.cr3, va, bytes, { user: false, wp: true }) === null;
}
