// Hostile input, class 1: the guest reads what it may not. Every host access on behalf of the
// guest goes through the one checked path (src/machine/paging.ts: accessGuest, readGuest,
// writeGuest), which applies the rules of the access it stands for: a canonical address, a
// present page, a user page for a user-mode access, a writable page for a user write or a
// supervisor write under CR0.WP. These tests hold each user of it to Linux's (or the CPU's)
// answer: the system calls natively compared, the rules one by one, the debugger's x and set.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, runEmulated, runNative } from "../programs/build.js";
import { Machine } from "../../src/machine/machine.js";
import {
  AddressSpace, FrameAllocator, readGuest, writeGuest, readVirt, accessGuest, PTE_US,
  USER_ACCESS, SUPERVISOR_ACCESS, type AccessFault,
} from "../../src/machine/paging.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { USER_CODE_VA } from "../../src/kernel/memory.js";

let dir = "";
let syscalls = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tramplab-hostile-mem-"));
  syscalls = await compile(["syscalls.c"], join(dir, "syscalls"), ["-O2"]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("system calls given buffers a user program may not read", () => {
  it("write(1, 0xffff800000000000, 56) and the other bad buffers give Linux's -EFAULT, natively compared (the GDT is not printed)", () => {
    const native = runNative(syscalls, ["i386"]);
    const emu = runEmulated(readFileSync(syscalls), syscalls, ["i386"]);
    expect(emu.diagnostics).toEqual([]);
    expect(emu.stdout.toString("latin1")).toBe(native.stdout.toString("latin1"));
    expect(emu.stderr.toString("latin1")).toBe(native.stderr.toString("latin1"));
    expect(emu.exitCode).toBe(native.exitCode);
    // What Linux answers, spelled out: the native run is not the only witness.
    const out = emu.stdout.toString("latin1");
    for (const c of ["kernel (the GDT's page in tramplab)", "kernel text", "kernel, count 0", "non-canonical low", "non-canonical high",
      "non-canonical, count 0", "past the user limit", "NULL", "unmapped", "running off the mapping", "huge count"]) {
      expect(out).toContain(`write ${c} -14\n`);
    }
    expect(out).toContain("write NULL, count 0 0\n");
    expect(out).toContain("write bad fd, kernel buffer -9\n");
    expect(out).toContain("read-only data\nwrite read-only data 15\n");
    expect(out).toContain("i386 write unmapped -14\n");
    expect(out).toContain("read-i386 write, pointer with a kernel upper half 5\n");
    // The GDT's descriptors (e.g. 0x00af9b000000ffff, kernel code) never reach the output.
    expect(emu.stdout.includes(Buffer.from("ffff0000009baf00", "hex"))).toBe(false);
  });
});

describe("the checked path: accessGuest's rules", () => {
  const m = new Machine({ ramBytes: 4 << 20 });
  const space = new AddressSpace(m, new FrameAllocator(1 << 20, 4 << 20));
  const USER_RW = 0x10000n, USER_RO = 0x11000n, KERNEL = 0xffff_8000_0000_0000n, KERNEL_RO = KERNEL + 0x1000n;
  space.mapPage(USER_RW, 0x30_0000, { user: true, write: true });
  space.mapPage(USER_RO, 0x30_1000, { user: true });
  space.mapPage(KERNEL, 0x30_2000, { write: true });
  space.mapPage(KERNEL_RO, 0x30_3000, {});
  m.writePhys(0x30_2000, new Uint8Array([0x11, 0x22, 0x33, 0x44]));
  const cr3 = space.root;
  const fault = (r: unknown) => r as AccessFault;

  it("a user access needs a user page at every level; a supervisor access does not", () => {
    expect(readGuest(m, cr3, KERNEL, 4, USER_ACCESS)).toEqual({ va: KERNEL, reason: "supervisor-only" });
    expect(readGuest(m, cr3, KERNEL, 4, SUPERVISOR_ACCESS)).toEqual(new Uint8Array([0x11, 0x22, 0x33, 0x44]));
    expect(readGuest(m, cr3, USER_RW, 4, USER_ACCESS)).toBeInstanceOf(Uint8Array);
    // Clear U/S in the PML4 entry above a user leaf: the walk as a whole is supervisor-only.
    const pml4e = space.translate(USER_RW)!.steps[0];
    const view = new DataView(m.ram.buffer, m.ram.byteOffset);
    view.setBigUint64(pml4e.entryAddr, pml4e.entry & ~PTE_US, true);
    expect(readGuest(m, cr3, USER_RW, 4, USER_ACCESS)).toEqual({ va: USER_RW, reason: "supervisor-only" });
    view.setBigUint64(pml4e.entryAddr, pml4e.entry, true);
  });

  it("a non-canonical address is refused before any walk (0x0000800000000000 would alias the kernel half's first entry)", () => {
    for (const va of [0x0000_8000_0000_0000n, 0x8000_0000_0000_0000n, 0x7fff_0000_0000_0000n]) {
      expect(readGuest(m, cr3, va, 1, SUPERVISOR_ACCESS)).toEqual({ va, reason: "non-canonical" });
      expect(readVirt(m, cr3, va, 1)).toBeNull(); // the host's own views too
    }
  });

  it("a range is refused at its first bad byte's page, and a refused write changes nothing", () => {
    const r = fault(readGuest(m, cr3, USER_RO + 0xffcn, 8, USER_ACCESS));
    expect(r).toEqual({ va: USER_RO + 0x1000n, reason: "not present" });
    const before = m.readPhys(0x30_0ffc, 4);
    expect(writeGuest(m, cr3, USER_RW + 0xffcn, new Uint8Array(8).fill(0xee), USER_ACCESS)).toEqual({ va: USER_RO, reason: "read-only" });
    expect(m.readPhys(0x30_0ffc, 4)).toEqual(before);
    // Crossing the top of the canonical lower half.
    expect(readGuest(m, cr3, 0x7fff_ffff_fffen, 4, USER_ACCESS)).toMatchObject({ reason: "not present" });
    expect(accessGuest(m, cr3, USER_RW + 0xff0n, 0x20, false, USER_ACCESS)).toEqual([[0x30_0ff0, 0, 0x10], [0x30_1000, 0x10, 0x10]]);
  });

  it("writes: a user write needs RW; a supervisor write needs it only under CR0.WP", () => {
    const one = new Uint8Array([7]);
    expect(writeGuest(m, cr3, USER_RO, one, USER_ACCESS)).toEqual({ va: USER_RO, reason: "read-only" });
    expect(writeGuest(m, cr3, KERNEL_RO, one, { user: false, wp: true })).toEqual({ va: KERNEL_RO, reason: "read-only" });
    expect(writeGuest(m, cr3, KERNEL_RO, one, { user: false, wp: false })).toBeNull();
    expect(m.readPhys(0x30_3000, 1)).toEqual(one);
    expect(writeGuest(m, cr3, KERNEL, one, USER_ACCESS)).toEqual({ va: KERNEL, reason: "supervisor-only" });
    // Reads of a read-only page are fine for everyone.
    expect(readGuest(m, cr3, USER_RO, 1, USER_ACCESS)).toBeInstanceOf(Uint8Array);
  });
});

describe("the debugger's x and set with the vCPU in user mode", () => {
  const k = Kernel.boot({ cpus: 1 });
  const s = new Session(new Engine(k));
  const userWorker = USER_CODE_VA + (k.symbols.get("user_worker")!.addr - k.symbols.get("__user_start")!.addr);
  const kernelAddr = k.symbols.get("work_top")!.addr;

  it("at CPL 0 x reads kernel text; stopped in a user task it refuses it, says why, and still reads user memory", () => {
    expect(k.machine.cpus[0].get("cpl")).toBe(0);
    expect(s.execute(`x/2xg 0x${kernelAddr.toString(16)}`).text).toMatch(/^0x[0-9a-f]+ <work_top>:\t0x[0-9a-f]{16}\t0x[0-9a-f]{16}$/);
    s.execute(`tbreak *0x${userWorker.toString(16)}`);
    s.execute("c");
    expect(k.machine.cpus[0].get("cpl")).toBe(3);
    expect(k.machine.cpus[0].rip).toBe(userWorker);
    expect(s.execute(`x/2xg 0x${kernelAddr.toString(16)}`).text)
      .toBe(`error: cannot access memory at address 0x${kernelAddr.toString(16)}: a kernel page, and cpu0 is in user mode`);
    expect(s.execute("x/xg 0x800000000000").text).toBe("error: cannot access memory at address 0x800000000000: a non-canonical address");
    expect(s.execute("x/1i $pc").text).toMatch(/xor/);
    expect(s.execute("x/xg $sp").text).toMatch(/^0x[0-9a-f]+:\t0x[0-9a-f]{16}$/);
    expect(s.execute(`x/s 0x${kernelAddr.toString(16)}`).text).toMatch(/: a kernel page, and cpu0 is in user mode$/);
    expect(s.execute(`p *0x${kernelAddr.toString(16)}`).text).toMatch(/cannot access memory at address/);
    // The debugger's own views still see the kernel: the backtrace, a watchpoint's value.
    expect(s.engine.readU64(kernelAddr)).not.toBeNull();
  });

  it("set in user mode writes the user stack but neither kernel memory nor read-only user text", () => {
    expect(k.machine.cpus[0].get("cpl")).toBe(3);
    expect(s.execute("set {u64}$sp = 5").text).toMatch(/= 0x5$/);
    expect(s.execute(`set {u8}0x${kernelAddr.toString(16)} = 0xcc`).text)
      .toBe(`error: cannot access memory at address 0x${kernelAddr.toString(16)}: a kernel page, and cpu0 is in user mode`);
    expect(s.execute(`set {u8}0x${userWorker.toString(16)} = 0xcc`).text)
      .toBe(`error: cannot access memory at address 0x${userWorker.toString(16)}: a read-only page, and cpu0 is in user mode`);
  });
});
