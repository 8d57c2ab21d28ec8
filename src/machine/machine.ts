// The Machine: one wasm instance of the core, its memory, and typed views of its state.
import { instantiateCore, type CoreExports } from "./core.js";
import { StructView } from "./struct.js";
import { seedValue } from "../numbers.js";
import { EventLog } from "./events.js";
import { CR0_ET, X86_EFLAGS_FIXED } from "../gen/constants.js";
import {
  regions, machineFields, cpuFields, CPU_BLOCK_SIZE, MAX_CPUS, Option, Exit, XmcPolicy, HOST_AGENT, CpuVendor,
} from "../gen/layout.js";

/** Whose CPUs the core imitates where Intel and AMD parts differ (docs/cpu.md). */
export type CpuVendorName = "intel" | "amd";
export const CPU_VENDORS: readonly CpuVendorName[] = ["intel", "amd"];

export interface MachineConfig {
  /** Number of vCPUs, 1 to 64. */
  cpus?: number;
  /** Guest RAM in bytes, a multiple of 2 MiB (default 64 MiB). */
  ramBytes?: number;
  /** syscall returns to the host with Exit.SYSCALL (user-mode programs without a kernel). */
  syscallExits?: boolean;
  /** Exceptions return to the host with Exit.FAULT instead of going through the guest's IDT. */
  faultExits?: boolean;
  /** What a cross-modifying-code hazard does (default: report it and run the new bytes). */
  xmcPolicy?: keyof typeof XmcPolicy;
  /** Seed for the torn-bytes hazard policy: 0 to 2^64 - 1 (src/numbers.ts, seedValue). */
  seed?: number | bigint;
  /** Events kept in the log before the oldest are dropped (and counted). */
  eventCapacity?: number;
  /** The vendor profile (default intel): CPUID's vendor and the behaviours where vendors differ. */
  cpuVendor?: CpuVendorName;
  /** Path of the core's wasm file, when not the one `npm run build` made. */
  corePath?: string;
}

const MIB = 1 << 20;
const WASM_PAGE = 65536;

export class CpuState extends StructView<typeof cpuFields> {
  constructor(buffer: ArrayBufferLike, readonly index: number) {
    super(buffer, regions.CPUS.base + index * CPU_BLOCK_SIZE, cpuFields);
  }
  reg(i: number): bigint { return this.get("regs", i); }
  setReg(i: number, v: bigint): void { this.set("regs", v, i); }
  get rip(): bigint { return this.get("rip"); }
  set rip(v: bigint) { this.set("rip", v); }
  get rflags(): bigint { return this.get("rflags"); }
  set rflags(v: bigint) { this.set("rflags", v); }
}

export class Machine {
  readonly memory: WebAssembly.Memory;
  readonly core: CoreExports;
  readonly ncpus: number;
  readonly ramBytes: number;
  /** Guest physical memory. Read freely; write through writePhys so decoded code stays coherent. */
  readonly ram: Uint8Array;
  readonly state: StructView<typeof machineFields>;
  readonly cpus: CpuState[];
  readonly events: EventLog;
  readonly cpuVendor: CpuVendorName;

  constructor(config: MachineConfig = {}) {
    this.ncpus = config.cpus ?? 1;
    this.ramBytes = config.ramBytes ?? 64 * MIB;
    if (!Number.isInteger(this.ncpus) || this.ncpus < 1 || this.ncpus > MAX_CPUS) {
      throw new RangeError(`cpus must be 1 to ${MAX_CPUS}, got ${config.cpus}`);
    }
    if (this.ramBytes <= 0 || this.ramBytes % (2 * MIB) !== 0 || this.ramBytes > 2048 * MIB) {
      throw new RangeError(`ramBytes must be a positive multiple of 2 MiB up to 2 GiB, got ${config.ramBytes}`);
    }
    const pageMap = regions.RAM.base + this.ramBytes;
    const pageGen = pageMap + this.ramBytes / 4096;
    const chunkMap = pageGen + this.ramBytes / 1024;
    const end = chunkMap + this.ramBytes / 128;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(end / WASM_PAGE) });
    const buffer = this.memory.buffer;
    this.ram = new Uint8Array(buffer, regions.RAM.base, this.ramBytes);
    this.state = new StructView(buffer, regions.MACHINE.base, machineFields);
    this.state.set("ncpus", this.ncpus);
    this.state.set("ramSize", this.ramBytes);
    this.state.set("pageMap", pageMap);
    this.state.set("pageGen", pageGen);
    this.state.set("chunkMap", chunkMap);
    this.state.set("options", (config.syscallExits ? Option.SYSCALL_EXITS : 0) | (config.faultExits ? Option.FAULT_EXITS : 0));
    this.state.set("xmcPolicy", XmcPolicy[config.xmcPolicy ?? "NEW"]);
    const vendor = config.cpuVendor ?? "intel";
    if (!CPU_VENDORS.includes(vendor)) throw new RangeError(`cpuVendor must be intel or amd, got ${String(config.cpuVendor)}`);
    this.cpuVendor = vendor;
    this.state.set("vendor", vendor === "amd" ? CpuVendor.AMD : CpuVendor.INTEL);
    this.state.set("rngState", (config.seed === undefined ? 0x9e3779b9n : seedValue(config.seed)) | 1n);
    this.state.set("hostAgent", HOST_AGENT);
    this.state.set("evEnabled", 0xffff_ffff);
    this.cpus = [];
    for (let i = 0; i < this.ncpus; i++) {
      const c = new CpuState(buffer, i);
      c.set("cpuIndex", i);
      c.set("rflags", X86_EFLAGS_FIXED);
      c.set("cr0", CR0_ET);
      this.cpus.push(c);
    }
    this.core = instantiateCore(this.memory, config.corePath);
    this.core.init();
    this.events = new EventLog(this, config.eventCapacity);
  }

  /**
   * Runs one vCPU for at most `budget` ticks of its virtual time (an instruction is a tick; a
   * halted vCPU lets ticks pass) and says why it stopped. New events are drained into `events`.
   */
  run(cpu: number, budget: number | bigint): Exit {
    const exit = this.core.run(cpu, BigInt(budget)) as Exit;
    this.events.drain();
    return exit;
  }

  /** Virtual time: the slowest vCPU's clock. */
  get time(): bigint {
    return this.cpus.reduce((t, c) => (c.get("clock") < t ? c.get("clock") : t), this.cpus[0].get("clock"));
  }

  /** A copy of guest physical memory. */
  readPhys(pa: number, len: number): Uint8Array {
    this.checkPhys(pa, len);
    return this.ram.slice(pa, pa + len);
  }

  /**
   * Writes guest physical memory through the core: cached decoded code is dropped, and changes
   * to code are logged as written by `agent` (the host, or a vCPU the write stands for).
   */
  writePhys(pa: number, bytes: Uint8Array, agent: number = HOST_AGENT): void {
    this.checkPhys(pa, bytes.length);
    this.state.set("hostAgent", agent);
    const io = new Uint8Array(this.memory.buffer, regions.IOBUF.base, 0x8000);
    for (let done = 0; done < bytes.length; done += io.length) {
      const part = bytes.subarray(done, done + io.length);
      io.set(part);
      this.core.hostWrite(BigInt(pa + done), part.length, this.time);
    }
    this.state.set("hostAgent", HOST_AGENT);
    this.events.drain();
  }

  /** Raises interrupt `vector` on vCPU `cpu` (a device, or the host as an interrupt source). */
  interrupt(cpu: number, vector: number): void {
    this.core.hostInterrupt(cpu, vector);
  }

  /** A copy of the whole machine: every vCPU, memory, devices and the event-log position. */
  snapshot(): MachineSnapshot {
    const bytes = new Uint8Array(this.memory.buffer);
    // The decoded-block cache is derived state; it is not saved, and is emptied on restore.
    const head = bytes.slice(0, regions.DCACHE.base);
    const tail = bytes.slice(regions.DCACHE.base + regions.DCACHE.size);
    return { head, tail, eventPosition: this.events.position };
  }

  /** Puts the machine back exactly as the snapshot found it. */
  restore(s: MachineSnapshot): void {
    const bytes = new Uint8Array(this.memory.buffer);
    bytes.set(s.head, 0);
    bytes.set(s.tail, regions.DCACHE.base + regions.DCACHE.size);
    bytes.fill(0, regions.DCACHE.base, regions.DCACHE.base + regions.DCACHE.size);
    this.events.rewind(s.eventPosition);
  }

  private checkPhys(pa: number, len: number): void {
    if (!Number.isInteger(pa) || pa < 0 || len < 0 || pa + len > this.ramBytes) {
      throw new RangeError(`physical range 0x${pa.toString(16)}+${len} is outside RAM (${this.ramBytes} bytes)`);
    }
  }
}

export interface MachineSnapshot {
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  readonly eventPosition: bigint;
}

export { Exit };
