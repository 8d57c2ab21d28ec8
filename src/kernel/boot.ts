// Booting the guest kernel: what a boot loader and early kernel setup would do before the
// vCPUs start. Page tables (kernel text read-only and executable, rodata read-only, data
// not executable, a direct map of RAM, the user programs), per-CPU areas, stacks, the tasks of
// the workload, and every vCPU in 64-bit mode at startup_64.
import { Machine } from "../machine/machine.js";
import { parseElf, PF_W, PF_X, ElfError, type ElfImage } from "../machine/elf.js";
import { AddressSpace, FrameAllocator, PAGE } from "../machine/paging.js";
import { SymbolTable } from "../machine/symbols.js";
import { packStruct } from "../machine/struct.js";
import { startInLongMode } from "../machine/longmode.js";
import { GDT_KERNEL_CS, GDT_KERNEL_DS, X86_EFLAGS_FIXED } from "../gen/constants.js";
import {
  bootParamsFields, percpuFields, taskFields, PERCPU_SIZE, TASK_SIZE, PreemptModel as PM, TaskKind, RecursionScheme, Ist,
} from "../gen/layout.js";
import {
  KERNEL_VMA, KERNEL_LMA, PAGE_OFFSET, USER_CODE_VA, USER_STACK_TOP, USER_STACK_STRIDE, USER_STACK_SIZE,
  directMap, kernelImagePhys, DEMAND_START, DEMAND_END, USER_DEMAND_START, USER_DEMAND_END,
} from "./memory.js";
import { KernelStacks } from "./stacks.js";
import { deriveKconfig, type KernelConfig, type TaskSpec } from "./config.js";
import type { BootTask } from "./task.js";

const MIB2 = 2 << 20;
const MODEL = { none: PM.NONE, voluntary: PM.VOLUNTARY, full: PM.FULL, lazy: PM.LAZY } as const;
const SCHEME = { "per-stack": RecursionScheme.PER_STACK, "per-task": RecursionScheme.PER_TASK, none: RecursionScheme.NONE,
  mainline: RecursionScheme.MAINLINE } as const;

export type { BootTask } from "./task.js";

export interface BootedKernel {
  machine: Machine;
  image: ElfImage;
  symbols: SymbolTable;
  space: AddressSpace;
  frames: FrameAllocator;
  tasks: BootTask[];
  percpuBase: bigint;
  bootParams: bigint;
  stacks: KernelStacks;
}

function symbolAddr(symbols: SymbolTable, name: string): bigint {
  const s = symbols.get(name);
  if (!s) throw new ElfError(`the firmware has no symbol ${name}`);
  return s.addr;
}

/** Maps the image's segments at their link addresses; .user is also mapped for user mode. */
function mapKernelImage(space: AddressSpace, image: ElfImage, symbols: SymbolTable): void {
  const m = space.machine;
  const userStart = symbols.get("__user_start")?.addr;
  for (const seg of image.segments) {
    if (seg.vaddr < KERNEL_VMA) throw new ElfError(`segment at 0x${seg.vaddr.toString(16)} is below the kernel map`);
    const isUser = userStart !== undefined && seg.vaddr === userStart;
    for (let va = seg.vaddr & ~0xfffn; va < seg.vaddr + seg.memsz; va += BigInt(PAGE)) {
      const pa = kernelImagePhys(va);
      space.mapPage(va, pa, { write: (seg.flags & PF_W) !== 0, exec: (seg.flags & PF_X) !== 0 && !isUser });
      if (isUser) space.mapPage(USER_CODE_VA + (va - seg.vaddr), pa, { user: true, exec: true });
    }
    m.writePhys(kernelImagePhys(seg.vaddr), seg.data);
  }
}

/** What a new task is: written into its struct task and onto its new stack. */
export interface NewTask {
  pid: number;
  name: string;
  kind: BootTask["kind"];
  cpu: number;
  entry: bigint;
  arg: bigint;
}

/**
 * Writes a task's struct task (at physical `taskPa`, reached through the direct map) and creates
 * its stack. Its first switch_to "returns" into ret_from_fork: the stack holds six callee-saved
 * zeros and that return address. Used at boot and for kernel threads made at run time.
 */
export function writeNewTask(machine: Machine, stacks: KernelStacks, retFromFork: bigint, taskPa: number, n: NewTask): BootTask {
  const s = stacks.create("task", n.pid, `task ${n.name}`);
  const t: BootTask = { pid: n.pid, name: n.name, kind: n.kind, addr: directMap(taskPa), cpu: n.cpu, stackBase: s.base, stackTop: s.top };
  const savedRsp = s.top - 7n * 8n;
  if (n.kind !== "idle") {
    const frame = new Uint8Array(7 * 8);
    new DataView(frame.buffer).setBigUint64(6 * 8, retFromFork, true);
    stacks.write(s, savedRsp, frame);
  }
  machine.writePhys(taskPa, packStruct(taskFields, TASK_SIZE, {
    pid: n.pid, kind: n.kind === "idle" ? TaskKind.IDLE : n.kind === "user" ? TaskKind.USER : TaskKind.KTHREAD,
    savedRsp, stackTop: s.top, stackBase: s.base, entry: n.entry, arg: n.arg, name: Buffer.from(n.name.slice(0, 15), "latin1"),
  }));
  return t;
}

export function bootKernel(firmware: Uint8Array, config: KernelConfig): BootedKernel {
  const image = parseElf(firmware, "kernel");
  const symbols = SymbolTable.fromElf(image.symbols);
  const machine = new Machine({
    cpus: config.cpus, ramBytes: config.ramBytes, seed: config.seed, xmcPolicy: config.xmcPolicy, cpuVendor: config.cpuVendor,
  });
  const kernelEnd = kernelImagePhys(symbolAddr(symbols, "_end"));
  const frames = new FrameAllocator(1 << 20, KERNEL_LMA, [Math.ceil(kernelEnd / MIB2) * MIB2, machine.ramBytes]);
  const space = new AddressSpace(machine, frames);
  mapKernelImage(space, image, symbols);
  for (let pa = 0; pa < machine.ramBytes; pa += MIB2) space.mapLarge(PAGE_OFFSET + BigInt(pa), pa, { write: true });

  // Per-CPU areas (contiguous, so percpuBase + n * PERCPU_SIZE works) and the task pool.
  const percpuPa = frames.alloc((config.cpus * PERCPU_SIZE) / PAGE);
  const percpuBase = directMap(percpuPa);
  const bootPa = frames.alloc();
  const bootParams = directMap(bootPa);
  machine.writePhys(bootPa, packStruct(bootParamsFields, 128, {
    ncpus: config.cpus, preemptModel: MODEL[config.preempt], tickPeriod: BigInt(config.tickPeriod),
    percpuBase, pageOffset: PAGE_OFFSET, userCodeVa: USER_CODE_VA,
    recursionScheme: SCHEME[config.recursion], istLink: config.istLink ? 1 : 0,
    transitionBit: config.transitionBit ? 1 : 0, recursionEvents: config.recursionEvents ? 1 : 0,
    preemptRcu: deriveKconfig(config.preempt, config.kconfig, config.kernel).PREEMPT_RCU ? 1 : 0,
    demandStart: DEMAND_START, demandEnd: DEMAND_END, userDemandStart: USER_DEMAND_START, userDemandEnd: USER_DEMAND_END,
  }));
  const stacks = new KernelStacks(machine, space, frames);

  const tasks: BootTask[] = [];
  let poolPa = 0, poolUsed = PAGE;
  const retFromFork = symbolAddr(symbols, "ret_from_fork");
  const newTask = (name: string, kind: BootTask["kind"], cpu: number, entry: bigint, arg: bigint): BootTask => {
    if (poolUsed + TASK_SIZE > PAGE) { poolPa = frames.alloc(); poolUsed = 0; }
    const taskPa = poolPa + poolUsed;
    poolUsed += TASK_SIZE;
    const t = writeNewTask(machine, stacks, retFromFork, taskPa, { pid: tasks.length, name, kind, cpu, entry, arg });
    tasks.push(t);
    return t;
  };

  // Idle tasks: each vCPU boots on its idle task's stack.
  const idle = machine.cpus.map((cpu) => newTask(`swapper/${cpu.index}`, "idle", cpu.index, 0n, 0n));
  let nextCpu = 0, users = 0;
  for (const spec of config.workload) spawn(spec);
  function spawn(spec: TaskSpec): void {
    const cpu = spec.cpu ?? nextCpu++ % config.cpus;
    if (cpu < 0 || cpu >= config.cpus) throw new RangeError(`task ${spec.name}: no vCPU ${cpu}`);
    if (spec.kind === "kthread") {
      newTask(spec.name, "kthread", cpu, symbolAddr(symbols, spec.entry), BigInt(spec.arg ?? 0));
      return;
    }
    const entry = USER_CODE_VA + (symbolAddr(symbols, spec.entry) - symbolAddr(symbols, "__user_start"));
    const top = USER_STACK_TOP - BigInt(users++) * USER_STACK_STRIDE;
    for (let va = top - BigInt(USER_STACK_SIZE); va < top; va += BigInt(PAGE)) {
      space.mapPage(va, frames.alloc(), { user: true, write: true });
    }
    newTask(spec.name, "user", cpu, entry, top - 8n);
  }

  // Per-CPU areas: what the host sets up before the vCPU runs.
  for (const cpu of machine.cpus) {
    const i = cpu.index;
    const irq = stacks.create("irq", i, `irq cpu${i}`);
    const df = stacks.create("ist", i, `ist #DF cpu${i}`);
    const ud = stacks.create("ist", i, `ist #UD cpu${i}`);
    const tss = new Uint8Array(104);
    const tv = new DataView(tss.buffer);
    tv.setBigUint64(4, idle[i].stackTop, true);                       // RSP0
    tv.setBigUint64(36 + (Ist.DOUBLE_FAULT - 1) * 8, df.top, true);   // IST1: #DF
    tv.setBigUint64(36 + (Ist.INVALID_OP - 1) * 8, ud.top, true);     // IST2: #UD (WARN traps)
    tv.setUint16(102, 104, true);                // no I/O bitmap
    machine.writePhys(percpuPa + i * PERCPU_SIZE, packStruct(percpuFields, PERCPU_SIZE, {
      self: percpuBase + BigInt(i * PERCPU_SIZE), cpu: i, current: idle[i].addr, idleTask: idle[i].addr,
      irqStackTop: irq.top, tss,
    }));
    startInLongMode(cpu, { cr3: space.root, cpl: 0, cs: GDT_KERNEL_CS, ss: GDT_KERNEL_DS, rip: image.entry, rsp: idle[i].stackTop,
      rflags: X86_EFLAGS_FIXED });
    cpu.setReg(7, BigInt(i));
    cpu.setReg(6, bootParams);
  }
  return { machine, image, symbols, space, frames, tasks, percpuBase, bootParams, stacks };
}
