// Host-side view of x86-64 4-level page tables: building them (the loader, the boot code) and
// walking them without side effects (system calls, the debugger's `page` command).
import type { Machine, CpuState } from "./machine.js";
import { PTE_P, PTE_RW, PTE_US, PTE_PS, PTE_NX, PTE_ADDR as ADDR, CR0_WP } from "../gen/constants.js";

export { PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS, PTE_G, PTE_NX } from "../gen/constants.js";
export const PAGE = 4096;

export interface MapFlags {
  write?: boolean;
  user?: boolean;
  exec?: boolean;
}

/** What is left to hand out: plain data, so a snapshot can copy and replace it. */
export interface FrameState {
  ranges: [number, number][];
  next: number;
}

/** Hands out zeroed physical pages from one or more regions of RAM, in order. */
export class FrameAllocator {
  state: FrameState;
  constructor(start: number, limit: number, ...more: [number, number][]) {
    this.state = { ranges: [[start, limit], ...more], next: start };
  }

  /** `count` contiguous pages; returns the first one's physical address. */
  alloc(count = 1): number {
    const s = this.state;
    while (s.ranges.length > 0) {
      const [, limit] = s.ranges[0];
      if (s.next + count * PAGE <= limit) {
        const pa = s.next;
        s.next += count * PAGE;
        return pa;
      }
      s.ranges.shift();
      if (s.ranges.length > 0) s.next = s.ranges[0][0];
    }
    throw new RangeError("out of guest physical memory for page frames");
  }

  get used(): number { return this.state.next; }
}

export interface WalkStep {
  level: 4 | 3 | 2 | 1;
  index: number;
  entryAddr: number;
  entry: bigint;
}

export interface Translation {
  pa: number;
  pageSize: number;
  writable: boolean;
  user: boolean;
  exec: boolean;
  steps: WalkStep[];
}

export class AddressSpace {
  readonly root: number;
  constructor(readonly machine: Machine, readonly frames: FrameAllocator, root?: number) {
    this.root = root ?? frames.alloc();
  }

  private readEntry(addr: number): bigint {
    return new DataView(this.machine.ram.buffer, this.machine.ram.byteOffset).getBigUint64(addr, true);
  }

  private writeEntry(addr: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.machine.writePhys(addr, b);
  }

  /** Maps [va, va+size) to [pa, pa+size) with 4 KiB pages. */
  map(va: bigint, pa: number, size: number, flags: MapFlags): void {
    for (let off = 0; off < size; off += PAGE) this.mapPage(va + BigInt(off), pa + off, flags);
  }

  mapPage(va: bigint, pa: number, flags: MapFlags): void {
    let table = this.root;
    for (let level = 4; level > 1; level--) {
      const at = table + Number((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8;
      let e = this.readEntry(at);
      if ((e & PTE_P) === 0n) {
        const t = this.frames.alloc();
        e = BigInt(t) | PTE_P | PTE_RW | PTE_US; // permissions are decided at the leaf
        this.writeEntry(at, e);
      }
      table = Number(e & ADDR);
    }
    const leaf = table + Number((va >> 12n) & 511n) * 8;
    let e = BigInt(pa) | PTE_P;
    if (flags.write) e |= PTE_RW;
    if (flags.user) e |= PTE_US;
    if (!flags.exec) e |= PTE_NX;
    this.writeEntry(leaf, e);
  }

  /** Maps a 2 MiB page (va and pa 2 MiB-aligned). */
  mapLarge(va: bigint, pa: number, flags: MapFlags): void {
    let table = this.root;
    for (let level = 4; level > 2; level--) {
      const at = table + Number((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8;
      let e = this.readEntry(at);
      if ((e & PTE_P) === 0n) {
        e = BigInt(this.frames.alloc()) | PTE_P | PTE_RW | PTE_US;
        this.writeEntry(at, e);
      }
      table = Number(e & ADDR);
    }
    let e = BigInt(pa) | PTE_P | PTE_PS;
    if (flags.write) e |= PTE_RW;
    if (flags.user) e |= PTE_US;
    if (!flags.exec) e |= PTE_NX;
    this.writeEntry(table + Number((va >> 21n) & 511n) * 8, e);
  }

  /** Removes the mapping of one page; returns whether one existed. */
  unmapPage(va: bigint): boolean {
    const t = walk(this.machine, this.root, va);
    if (!t || t.pageSize !== PAGE) return false;
    this.writeEntry(t.steps[t.steps.length - 1].entryAddr, 0n);
    return true;
  }

  translate(va: bigint): Translation | null {
    return walk(this.machine, this.root, va);
  }
}

/**
 * Whether va is a canonical 48-bit address (bits 63 to 47 all equal). It may be given as the
 * unsigned or the signed 64-bit value; anything past 64 bits is not an address.
 */
export function canonical(va: bigint): boolean {
  if (va < -(1n << 63n) || va >= 1n << 64n) return false;
  const top = BigInt.asIntN(64, va) >> 47n;
  return top === 0n || top === -1n;
}

/**
 * Walks the tables rooted at cr3 for va, without setting accessed or dirty bits. A
 * non-canonical va translates to nothing, as the CPU faults on it (the table indexes use only
 * bits 47 to 12, so walking it would alias a canonical address).
 */
export function walk(machine: Machine, cr3: number, va: bigint): Translation | null {
  if (!canonical(va)) return null;
  const view = new DataView(machine.ram.buffer, machine.ram.byteOffset, machine.ram.byteLength);
  let table = cr3 & ~0xfff;
  let writable = true, user = true, exec = true;
  const steps: WalkStep[] = [];
  for (let level = 4 as 4 | 3 | 2 | 1; ; level--) {
    const index = Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
    const entryAddr = table + index * 8;
    if (entryAddr + 8 > machine.ramBytes) return null;
    const entry = view.getBigUint64(entryAddr, true);
    steps.push({ level, index, entryAddr, entry });
    if ((entry & PTE_P) === 0n) return null;
    writable &&= (entry & PTE_RW) !== 0n;
    user &&= (entry & PTE_US) !== 0n;
    exec &&= (entry & PTE_NX) === 0n;
    const large = (entry & PTE_PS) !== 0n && (level === 2 || level === 3);
    if (level === 1 || large) {
      const pageSize = 1 << (12 + 9 * (level - 1));
      const pa = Number(entry & ADDR & ~BigInt(pageSize - 1)) + Number(va & BigInt(pageSize - 1));
      return { pa, pageSize, writable, user, exec, steps };
    }
    table = Number(entry & ADDR);
  }
}

// ---------------------------------------------------------------- checked guest accesses
//
// Every access the host makes on behalf of the guest (a system call's buffer, the loader's
// initial stack, the debugger's x and set, the kernel's console hypercall) goes through
// accessGuest: it applies the rules the vCPU's own access would meet — a canonical address, a
// present page, a user page for a user-mode access, a writable page for a user write or a
// supervisor write with CR0.WP — and refuses with the first failing page and the reason
// instead of reading anyway. readVirt and writeVirt are the same path with supervisor rights.

/** The privilege a host access is checked with. */
export interface AccessRights {
  /** A user-mode (CPL 3) access: every level of the walk must have U/S set. */
  user: boolean;
  /** CR0.WP: a supervisor write needs RW too (a user write always does). */
  wp: boolean;
}

/** A user program's access (a system call's buffer, the initial stack). */
export const USER_ACCESS: AccessRights = { user: true, wp: true };
/** The kernel's own access with CR0.WP clear: any present page, read-only ones included. */
export const SUPERVISOR_ACCESS: AccessRights = { user: false, wp: false };

/** The rights vCPU `cpu`'s own accesses have now: its CPL and CR0.WP. */
export function rightsOf(cpu: CpuState): AccessRights {
  return { user: cpu.get("cpl") === 3, wp: (BigInt(cpu.get("cr0")) & CR0_WP) !== 0n };
}

export type AccessFailure = "non-canonical" | "not present" | "supervisor-only" | "read-only" | "outside RAM";

/** Why a host access on behalf of the guest was refused, and the first address refused. */
export interface AccessFault {
  va: bigint;
  reason: AccessFailure;
}

/** "0xffff800000000000 (supervisor-only page)": for error messages. */
export function describeAccessFault(f: AccessFault): string {
  const what = f.reason === "non-canonical" ? "non-canonical address"
    : f.reason === "outside RAM" ? "page outside RAM" : `${f.reason} page`;
  return `0x${f.va.toString(16)} (${what})`;
}

/**
 * Physical pieces of [va, va+len) checked for a read or a write with `rights`, or the first
 * refusal. Nothing is accessed and no accessed or dirty bit is set.
 */
export function accessGuest(machine: Machine, cr3: number, va: bigint, len: number, write: boolean,
  rights: AccessRights): [number, number, number][] | AccessFault {
  const pieces: [number, number, number][] = [];
  for (let done = 0; done < len;) {
    const at = BigInt.asUintN(64, va + BigInt(done));
    if (!canonical(at)) return { va: at, reason: "non-canonical" };
    const t = walk(machine, cr3, at);
    if (!t) return { va: at, reason: "not present" };
    if (rights.user && !t.user) return { va: at, reason: "supervisor-only" };
    if (write && !t.writable && (rights.user || rights.wp)) return { va: at, reason: "read-only" };
    const n = Math.min(len - done, PAGE - (t.pa % PAGE));
    if (t.pa + n > machine.ramBytes) return { va: at, reason: "outside RAM" };
    pieces.push([t.pa, done, n]);
    done += n;
  }
  return pieces;
}

/** Reads len bytes of guest virtual memory as an access with `rights` would, or says why not. */
export function readGuest(machine: Machine, cr3: number, va: bigint, len: number, rights: AccessRights): Uint8Array | AccessFault {
  const pieces = accessGuest(machine, cr3, va, len, false, rights);
  if (!Array.isArray(pieces)) return pieces;
  const out = new Uint8Array(len);
  for (const [pa, off, n] of pieces) out.set(machine.ram.subarray(pa, pa + n), off);
  return out;
}

/**
 * Writes guest virtual memory as an access with `rights` would (through writePhys, so decoded
 * code stays coherent); every page is checked before any byte is written. Null on success.
 */
export function writeGuest(machine: Machine, cr3: number, va: bigint, bytes: Uint8Array, rights: AccessRights): AccessFault | null {
  const pieces = accessGuest(machine, cr3, va, bytes.length, true, rights);
  if (!Array.isArray(pieces)) return pieces;
  for (const [pa, off, n] of pieces) machine.writePhys(pa, bytes.subarray(off, off + n));
  return null;
}

/** Reads guest virtual memory with supervisor rights (the host's own views), or null. */
export function readVirt(machine: Machine, cr3: number, va: bigint, len: number): Uint8Array | null {
  const r = readGuest(machine, cr3, va, len, SUPERVISOR_ACCESS);
  return r instanceof Uint8Array ? r : null;
}

/** Writes guest virtual memory with supervisor rights, CR0.WP clear; false if any page is refused. */
export function writeVirt(machine: Machine, cr3: number, va: bigint, bytes: Uint8Array): boolean {
  return writeGuest(machine, cr3, va, bytes, SUPERVISOR_ACCESS) === null;
}
