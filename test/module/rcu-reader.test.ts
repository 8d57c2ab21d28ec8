// Modules take the kernel's rcu_read_lock(): the exported __rcu_read_lock(), so a module's
// reader is preemptible under PREEMPT_RCU and holds grace periods from the blocked-tasks list.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { Kernel } from "../../src/kernel/kernel.js";
import { taskFields } from "../../src/gen/layout.js";
import { physOfDirect } from "../../src/kernel/memory.js";
import { buildModules, FIXTURES } from "./build.js";

let ko: Map<string, Uint8Array>;
beforeAll(async () => {
  ko = await buildModules([join(FIXTURES, "rcu_reader.c")]);
});

const TICK = 20_000;

describe("a module's rcu_read_lock()", () => {
  it("under PREEMPT_RCU: its thread is preempted inside, goes on the blocked-tasks list, and holds a grace period until it unlocks", () => {
    const k = Kernel.boot({ cpus: 1, preempt: "full", tickPeriod: TICK, timeslice: 2, workload: [
      { name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 },
    ] });
    expect(k.runUntil(() => k.online.size === 1, 100 * TICK)).toBe(true);
    k.insmod(ko.get("rcu_reader")!, "rcu_reader.ko", []);
    const reader = k.sched.tasks.find((t) => t.name === "mod-reader")!;
    const nesting = () => new DataView(k.machine.ram.buffer, k.machine.ram.byteOffset)
      .getUint32(physOfDirect(reader.addr) + taskFields.rcuReadLockNesting.offset, true);
    const rcu = k.rcu.rcu;
    expect(k.runUntil(() => rcu.blocked.some((b) => b.task === reader) && reader.state === "runnable", 2000 * TICK)).toBe(true);
    expect(nesting()).toBe(1);
    const sections = k.readGlobal("rcu_reader_sections");
    const seq = rcu.request(k.machine.time);
    k.rcu.advance(k.machine.time); // the grace period starts: the blocked list is all it may wait for from before
    expect(rcu.holdingGp().map((b) => b.task)).toEqual([reader]);
    let out = -1;
    expect(k.runUntil(() => rcu.done(seq) && (out = nesting()) >= 0, 5000 * TICK)).toBe(true);
    expect(out, "out of its reader when the grace period ended").toBe(0);
    expect(k.readGlobal("rcu_reader_sections")).toBeGreaterThan(sections);
    k.rmmod("rcu_reader");
  });

  it("an unlock inside preempt_disable() defers its report: the grace period it held ends only after the preempt-disabled stretch", () => {
    const k = Kernel.boot({ cpus: 1, preempt: "full", tickPeriod: TICK, timeslice: 2, workload: [
      { name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 },
    ] });
    expect(k.runUntil(() => k.online.size === 1, 100 * TICK)).toBe(true);
    k.insmod(ko.get("rcu_reader")!, "rcu_reader.ko", [{ name: "unlock_in_atomic", value: "1" }]);
    const reader = k.sched.tasks.find((t) => t.name === "mod-reader")!;
    const rcu = k.rcu.rcu;
    expect(k.runUntil(() => rcu.blocked.some((b) => b.task === reader) && reader.state === "runnable", 2000 * TICK)).toBe(true);
    const seq = rcu.request(k.machine.time);
    k.rcu.advance(k.machine.time);
    expect(rcu.holdingGp().map((b) => b.task)).toEqual([reader]);
    let tail = -1n, sawTail = false;
    const atomicTail = () => k.readGlobal("rcu_reader_atomic_tail");
    expect(k.runUntil(() => {
      if (atomicTail() === 1n) sawTail = true;
      return rcu.done(seq) && (tail = atomicTail()) >= 0n;
    }, 5000 * TICK)).toBe(true);
    expect(sawTail, "the reader reached its preempt-disabled tail").toBe(true);
    expect(tail, "not inside the preempt-disabled stretch when the grace period ended").toBe(0n);
    k.rmmod("rcu_reader");
  });
});
