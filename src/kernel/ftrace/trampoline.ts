// Dynamic trampolines (arch/x86/kernel/ftrace.c create_trampoline): a private copy of
// ftrace_caller or ftrace_regs_caller for one ops, which calls its callback directly.
import { EventKind } from "../../gen/layout.js";
import type { Machine } from "../../machine/machine.js";
import type { AddressSpace, FrameAllocator } from "../../machine/paging.js";
import { PAGE } from "../../machine/paging.js";
import type { SymbolTable } from "../../machine/symbols.js";
import { EXECMEM_START, EXECMEM_END, kernelImagePhys } from "../memory.js";
import { callInsn, hexBytes } from "./records.js";

/** `ret` appended to the copy (RET_SIZE = 1 without retpolines and SLS hardening). */
const RET = 0xc3;
const RET_SIZE = 1;

export class TrampolineError extends Error {}

/** The ops a trampoline belongs to (its state: OpsState in ops.ts). */
export interface TrampolineOwner {
  id: number;
  name: string;
  saveRegs: boolean;
}

export interface Trampoline {
  ops: TrampolineOwner;
  /** A copy of ftrace_caller (the kernel's), or the per-ops code a permanent trampoline calls (seed 000's proposal). */
  kind?: "ops-code";
  addr: bigint;
  /** Bytes of code (the copy and its ret); the ops pointer follows. */
  size: number;
  /** Pages it occupies in execmem. */
  pages: { va: bigint; pa: number }[];
  /** Offset of the patchable call to the callback. */
  callOffset: number;
  /** Sites whose call points here now. */
  sites: Set<bigint>;
  /** live: its ops is registered; releasing: unregistered, waiting for grace periods; freed. */
  state: "live" | "releasing" | "freed";
  allocatedAt: bigint;
  /** Set by free(): when, and what the release waited for (for use-after-free reports). */
  freedAt?: bigint;
  freedBy?: string;
  /** Tasks that still had it on their IP or stack when it was freed (what a safe free never sees). */
  heldAtFree?: HeldBy[];
}

/** A task that pointed into a trampoline: live = by its IP or a return address of its frame chain. */
export interface HeldBy {
  pid: number;
  name: string;
  live: boolean;
  text: string;
}

/** What freed trampoline memory is filled with: INT3, so even a stale mapping traps. */
export const POISON = 0xcc;

/** The trampolines' state, plain data (KernelState.trampolines). */
export interface TrampolinesState {
  all: Trampoline[];
  /** Bumped whenever a trampoline is created or changes state (symbol tables depend on it). */
  version: number;
  /** Where the next one goes in execmem. */
  next: bigint;
}

export function initialTrampolinesState(): TrampolinesState {
  return { all: [], version: 0, next: EXECMEM_START };
}

export class Trampolines {
  constructor(private readonly st: () => TrampolinesState, private readonly machine: Machine, private readonly space: AddressSpace,
    private readonly frames: FrameAllocator, private readonly symbols: () => SymbolTable) {}

  get all(): Trampoline[] { return this.st().all; }
  get version(): number { return this.st().version; }

  private sym(name: string): bigint {
    const s = this.symbols().get(name);
    if (!s) throw new TrampolineError(`the firmware has no ${name}`);
    return s.addr;
  }

  private templateBytes(start: bigint, end: bigint): Uint8Array {
    const pa = kernelImagePhys(start);
    return this.machine.readPhys(pa, Number(end - start));
  }

  /**
   * create_trampoline: copy the template, append the return, store the ops pointer after it,
   * point the copied `movq function_trace_op(%rip), %rdx` at that pointer, and make the copied
   * ftrace_call a call to the ops' callback. Then map it executable and read-only.
   */
  create(ops: TrampolineOwner, opsAddr: bigint, func: bigint, now: bigint): Trampoline {
    const regs = ops.saveRegs;
    const start = this.sym(regs ? "ftrace_regs_caller" : "ftrace_caller");
    const end = this.sym(regs ? "ftrace_regs_caller_end" : "ftrace_caller_end");
    const opPtr = Number(this.sym(regs ? "ftrace_regs_caller_op_ptr" : "ftrace_caller_op_ptr") - start);
    const callOffset = Number(this.sym(regs ? "ftrace_regs_call" : "ftrace_call") - start);
    const size = Number(end - start) + RET_SIZE;

    // 1. Copy the template and append the return.
    const code = new Uint8Array(size + 8);
    code.set(this.templateBytes(start, end));
    code[size - RET_SIZE] = RET;
    // 2. A copy never takes the direct-call path: its jnz becomes a 2-byte NOP.
    if (regs) {
      const jmp = Number(this.sym("ftrace_regs_caller_jmp") - start);
      if (code[jmp] !== 0x75) {
        throw new TrampolineError(`ftrace_regs_caller_jmp holds ${hexBytes(code.subarray(jmp, jmp + 2))}, expected 75 xx`);
      }
      code.set([0x66, 0x90], jmp);
    }
    // 3. The pages, in the executable region.
    const addr = this.reserve(code.length);
    // 4. The ops pointer after the code, and the ops load redirected to it.
    const view = new DataView(code.buffer);
    view.setBigUint64(size, opsAddr, true);
    if (code[opPtr] !== 0x48 || code[opPtr + 1] !== 0x8b || code[opPtr + 2] !== 0x15) {
      const found = hexBytes(code.subarray(opPtr, opPtr + 3));
      throw new TrampolineError(`the ops load at +0x${opPtr.toString(16)} is ${found}, expected 48 8b 15`);
    }
    view.setInt32(opPtr + 3, size - (opPtr + 7), true);
    // 5. The call to the callback.
    code.set(callInsn(addr + BigInt(callOffset), func), callOffset);
    // 6. Written, then mapped executable and read-only.
    return this.install({ ops, addr, size, pages: this.map(addr, code), callOffset, sites: new Set(), state: "live", allocatedAt: now });
  }

  /**
   * The per-ops code a permanent trampoline (firmware/ftrace_permanent.S, seed 000's proposal)
   * calls through a register: a frame, the ops pointer in %rdx, a call to the callback, return.
   *     55                push %rbp
   *     48 89 e5          mov %rsp, %rbp
   *     48 ba <ops>       movabs $ops, %rdx
   *     e8 <rel32>        call func
   *     5d c3             pop %rbp; ret
   * It is freed like a trampoline (unmapped, poisoned), so a late return into it is caught.
   */
  createOpsCode(ops: TrampolineOwner, opsAddr: bigint, func: bigint, now: bigint): Trampoline {
    const code = new Uint8Array(21);
    code.set([0x55, 0x48, 0x89, 0xe5, 0x48, 0xba]);
    new DataView(code.buffer).setBigUint64(6, opsAddr, true);
    const callOffset = 14;
    const addr = this.reserve(code.length);
    code.set(callInsn(addr + BigInt(callOffset), func), callOffset);
    code.set([0x5d, RET], 19);
    return this.install({
      ops, kind: "ops-code", addr, size: code.length, pages: this.map(addr, code), callOffset, sites: new Set(), state: "live",
      allocatedAt: now,
    });
  }

  /** Whole pages of execmem for `bytes`; addresses are never reused. */
  private reserve(bytes: number): bigint {
    const s = this.st();
    const size = BigInt(Math.ceil(bytes / PAGE) * PAGE);
    if (s.next + size > EXECMEM_END) throw new TrampolineError("execmem is full");
    const addr = s.next;
    s.next += size;
    return addr;
  }

  /** Writes `code` to fresh frames and maps them at `addr`, executable and read-only. */
  private map(addr: bigint, code: Uint8Array): Trampoline["pages"] {
    const pages: Trampoline["pages"] = [];
    for (let i = 0; i * PAGE < code.length; i++) {
      const pa = this.frames.alloc();
      this.machine.writePhys(pa, code.subarray(i * PAGE, (i + 1) * PAGE));
      const va = addr + BigInt(i * PAGE);
      this.space.mapPage(va, pa, { exec: true });
      pages.push({ va, pa });
    }
    return pages;
  }

  private install(t: Trampoline): Trampoline {
    const s = this.st();
    s.all.push(t);
    s.version++;
    return t;
  }

  /** Its ops was unregistered; it stays mapped until free(). */
  retire(t: Trampoline): void {
    if (t.state !== "live") throw new TrampolineError(`the trampoline of ${t.ops.name} is already ${t.state}`);
    t.state = "releasing";
    this.st().version++;
  }

  /**
   * arch_ftrace_trampoline_free, made strict: unmap the pages, shoot the translation down on
   * every vCPU, and poison the frames. Neither the addresses nor the frames are ever reused,
   * so any later execution there faults and can be named.
   */
  free(t: Trampoline, now: bigint, why: string, holders: HeldBy[] = []): void {
    if (t.state === "freed") throw new TrampolineError(`the trampoline of ${t.ops.name} was already freed`);
    for (const p of t.pages) this.space.unmapPage(p.va);
    for (let c = 0; c < this.machine.ncpus; c++) this.machine.core.hostFlushTlb(c);
    this.machine.events.record(EventKind.TLB_FLUSH, "host", now, t.addr, BigInt(t.pages.length * PAGE));
    for (const p of t.pages) this.machine.writePhys(p.pa, new Uint8Array(PAGE).fill(POISON));
    this.machine.events.record(EventKind.FREE, "host", now, t.addr, BigInt(t.size), BigInt(t.ops.id));
    t.state = "freed";
    t.freedAt = now;
    t.freedBy = why;
    t.heldAtFree = holders;
    t.sites.clear();
    this.st().version++;
  }

  /** The address a live trampoline's call goes to (arch_ftrace_trampoline_func). */
  callTarget(t: Trampoline): bigint {
    const b = this.machine.readPhys(t.pages[0].pa + t.callOffset, 5);
    if (b[0] !== 0xe8) throw new TrampolineError(`expected E8 at the trampoline's call, got ${b[0].toString(16)}`);
    return t.addr + BigInt(t.callOffset) + 5n + BigInt(new DataView(b.buffer, b.byteOffset).getInt32(1, true));
  }

  find(addr: bigint): Trampoline | undefined {
    return this.all.find((t) => addr >= t.addr && addr < t.addr + BigInt(t.pages.length * PAGE));
  }

  /** Trampolines whose memory is still mapped (live or waiting to be freed). */
  mapped(): Trampoline[] {
    return this.all.filter((t) => t.state !== "freed");
  }

  /** Names for backtraces; freed ones keep theirs, marked, so reports can say what was there. */
  symbolEntries(): { name: string; addr: bigint; size: bigint }[] {
    return this.all.map((t) => ({
      name: `${t.kind === "ops-code" ? "ftrace_ops_code" : "ftrace_trampoline"}[${t.ops.name}]` +
        (t.state === "freed" ? "(freed)" : ""), addr: t.addr, size: BigInt(t.size),
    }));
  }
}
