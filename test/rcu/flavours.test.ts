import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { EventKind, PERCPU_SIZE, percpuFields, taskFields } from "../../src/gen/layout.js";
import type { Task } from "../../src/kernel/task.js";
import { physOfDirect } from "../../src/kernel/memory.js";
import type { TaskSpec, PreemptModel } from "../../src/kernel/config.js";

const TICK = 20_000;

/** Lazy preemption on the PREEMPT_AUTO RFC, where it is not PREEMPTION (so RCU is not preemptible). */
function boot(preempt: PreemptModel, workload: TaskSpec[], cpus = 2) {
  const kernel = preempt === "lazy" ? "preempt-auto-rfc" : undefined;
  return Kernel.boot({ cpus, preempt, kernel, tickPeriod: TICK, timeslice: 2, workload });
}

function preemptCount(k: Kernel, cpu: number): number {
  const pa = physOfDirect(k.booted.percpuBase) + cpu * PERCPU_SIZE + percpuFields.preemptCount.offset;
  return new DataView(k.machine.ram.buffer, k.machine.ram.byteOffset).getUint32(pa, true);
}

const task = (k: Kernel, name: string) => k.sched.tasks.find((t) => t.name === name)!;
const trcNesting = (k: Kernel, t: Task) =>
  new DataView(k.machine.ram.buffer, k.machine.ram.byteOffset).getInt32(physOfDirect(t.addr) + taskFields.trcReaderNesting.offset, true);

describe("RCU (consolidated)", () => {
  it("a grace period waits for a vCPU inside a preempt-disabled region and ends only after it leaves", () => {
    const k = boot("full", [{ name: "reader", kind: "kthread", entry: "kthread_preempt_off", arg: 200, cpu: 0 }]);
    const reader = task(k, "reader");
    expect(k.runUntil(() => k.sched.current[0] === reader && preemptCount(k, 0) === 1, 50_000_000)).toBe(true);
    const start = k.machine.time;
    const latency = k.synchronize(k.rcu.rcu);
    // The region ends with preempt_enable() and a voluntary sleep: the switch away from the reader.
    const left = k.machine.events.ofKind(EventKind.SWITCH).find((e) => e.clock >= start && Number(e.a) === reader.pid)!;
    expect(left, "the reader left the CPU").toBeDefined();
    expect(k.rcu.rcu.history.at(-1)!.endedAt).toBeGreaterThanOrEqual(left.clock);
    expect(latency).toBeGreaterThan(BigInt(10 * TICK));
  });

  it("a task preempted in ordinary kernel code does not hold a grace period up (full preemption)", () => {
    const k = boot("full", [
      { name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 },
      { name: "hog2", kind: "kthread", entry: "kthread_hog", arg: 1, cpu: 0 },
    ]);
    k.run(10 * TICK);
    const latency = k.synchronize(k.rcu.rcu);
    expect(latency).toBeLessThanOrEqual(BigInt(2 * TICK));
  });

  it("vCPUs idle where RCU is not watching are in an extended quiescent state: nothing to wait for", () => {
    const k = boot("none", [], 4);
    k.run(5 * TICK);
    expect(k.allIdle()).toBe(true);
    expect(k.synchronize(k.rcu.rcu)).toBeLessThanOrEqual(BigInt(k.config.quantum * 4));
  });

  it("a non-preemptible kernel's CPU-bound vCPU is asked to schedule, and its next __schedule() is the quiescent state", () => {
    const k = boot("lazy", [{ name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 1 }]);
    k.run(5 * TICK);
    const latency = k.synchronize(k.rcu.rcu);
    const gp = k.rcu.rcu.history.at(-1)!;
    expect(gp.scans, "the urgent request was made").toBeGreaterThan(0);
    expect(latency).toBeGreaterThanOrEqual(BigInt(k.rcu.rcu.urgentTicks * TICK));
    expect(latency).toBeLessThan(BigInt((k.rcu.rcu.urgentTicks + 3) * TICK));
  });
});

describe("Tasks RCU", () => {
  it("never counts preemption: a CPU-bound task holds the grace period, and the stall warning names it", () => {
    const k = Kernel.boot({ cpus: 1, preempt: "full", tickPeriod: TICK, timeslice: 2, workload: [
      { name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 },
      { name: "sleeper", kind: "kthread", entry: "kthread_sleeper", arg: 1, cpu: 0 },
    ] });
    k.run(5 * TICK);
    const hog = task(k, "hog");
    const tasks = k.rcu.tasks;
    tasks.stallTimeout = 200; // rcu_task_stall_timeout, written as its sysfs file allows (the default is 10 minutes)
    tasks.request(k.machine.time);
    // The first rescan comes HZ/10 jiffies after the scan (a tenth of a second), the next one jiffy later.
    k.run(tasks.initFract * 2 * TICK + 100 * TICK);
    expect(hog.nivcsw, "the hog was preempted many times").toBeGreaterThan(50);
    expect(tasks.completed).toBe(0);
    expect(tasks.state).toBe("wait_scan_holdouts");
    expect([...tasks.holdouts.keys()].map((t) => t.name)).toEqual(["hog"]);
    expect(tasks.stalls.length).toBeGreaterThan(0);
    const [head, line, who] = tasks.stalls[0].split("\n");
    expect(head).toBe("INFO: rcu_tasks detected stalls on tasks:");
    expect(line).toBe(`${hog.addr.toString(16).padStart(16, "0")}: .. nvcsw: 0/0 holdout: 1 idle_cpu: -1/0`);
    expect(who).toMatch(new RegExp(`^  \\(tramplab: hog, pid ${hog.pid}, preempted, \\d+ involuntary switches\\)$`));
    expect(tasks.describe(k.machine.time)).toMatch(/state wait_scan_holdouts for [\d.]+ (?:ns|us|ms|s); holdouts: hog:/);
  });

  it("runs through its states: wait_pregp, wait_scan_holdouts, post_gp; tasks in user mode or asleep pass", () => {
    const k = boot("full", [
      { name: "user", kind: "user", entry: "user_worker", cpu: 0 },
      { name: "sleeper", kind: "kthread", entry: "kthread_sleeper", arg: 50, cpu: 1 },
      { name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 1 },
    ]);
    k.run(10 * TICK);
    const seen = new Set<string>();
    const tasks = k.rcu.tasks;
    const seq = tasks.request(k.machine.time);
    k.runUntil(() => { seen.add(tasks.state); return tasks.done(seq); }, 3 * tasks.initFract * TICK);
    expect(tasks.done(seq)).toBe(true);
    expect([...seen]).toEqual(expect.arrayContaining(["wait_pregp", "wait_scan_holdouts", "post_gp"]));
    const gp = tasks.history.at(-1)!;
    expect(gp.holdouts, "the user task and the busy thread were on a run queue").toBeGreaterThanOrEqual(2);
    expect(gp.scans).toBeGreaterThan(0);
  });
});

describe("Tasks Rude RCU", () => {
  it("forces every vCPU, idle ones too, through the scheduler", () => {
    const k = boot("full", [{ name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 }], 4);
    k.run(5 * TICK);
    const latency = k.synchronize(k.rcu.rude);
    expect(latency).toBeLessThanOrEqual(BigInt(2 * TICK));
    expect(k.rcu.rude.history.at(-1)!.holdouts).toBe(4);
  });

  it("cannot end while a vCPU never reaches the scheduler (no preemption, no cond_resched)", () => {
    const k = boot("none", [{ name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 1 }]);
    k.run(5 * TICK);
    k.rcu.rude.request(k.machine.time);
    k.run(200 * TICK);
    expect(k.rcu.rude.completed).toBe(0);
    expect(k.rcu.rude.describe(k.machine.time)).toMatch(/waiting for cpu 1$/);
  });
});

describe("Tasks Trace RCU", () => {
  it("waits for a reader that blocked inside its read-side section, until it leaves it", () => {
    const k = boot("full", [{ name: "reader", kind: "kthread", entry: "kthread_trace_reader", arg: 20, cpu: 0 }]);
    const inside = () => trcNesting(k, task(k, "reader")) > 0 && task(k, "reader").state === "sleeping";
    expect(k.runUntil(inside, 100 * TICK)).toBe(true);
    const sections = k.readGlobal("reader_sections");
    const latency = k.synchronize(k.rcu.trace);
    // The reader's special unlock only clears TRC_NEED_QS; the grace period notices at its next
    // holdout scan (HZ/200 jiffies and more), by which time the reader has gone round again.
    expect(k.readGlobal("reader_sections")).toBeGreaterThanOrEqual(sections + 1n);
    expect(latency).toBeGreaterThan(BigInt(k.rcu.trace.initFract * TICK));
    // The scan's holdouts: both vCPUs' current tasks, and the reader from the blocked-readers list.
    expect(k.rcu.trace.history.at(-1)!.holdouts).toBe(3);
  });

  it("does not wait for tasks outside any reader", () => {
    const k = boot("full", [{ name: "hog", kind: "kthread", entry: "kthread_hog", arg: 0, cpu: 0 }]);
    k.run(5 * TICK);
    // Only the kernel's minimum: an RCU grace period, then the first holdout scan HZ/200 jiffies later, which clears them all.
    expect(k.synchronize(k.rcu.trace)).toBeLessThan(BigInt((k.rcu.trace.initFract + 10) * TICK));
    expect(k.rcu.trace.history.at(-1)!.scans).toBe(1);
  });
});

describe("call_rcu*() callbacks", () => {
  for (const name of ["rcu", "tasks", "rude", "trace"] as const) {
    it(`${name}: callbacks queued together run once, after a grace period that started after they were queued`, () => {
      const k = boot("full", [{ name: "busy", kind: "kthread", entry: "kthread_busy", arg: 2000, cpu: 0 }]);
      k.run(5 * TICK);
      const f = k.rcu[name];
      const before = f.completed;
      // Callbacks are data (what to free, and why): each frees a guarded block here.
      const blocks = [k.heap.allocGuarded(16, "first"), k.heap.allocGuarded(16, "second")];
      for (const va of blocks) f.call({ kind: "free", blocks: [{ va, size: 16 }], why: `after ${name}` }, k.machine.time);
      const freed = () => blocks.map((va) => k.heap.findGuarded(va)!).filter((b) => b.freedAt !== undefined);
      expect(freed()).toEqual([]);
      k.runUntil(() => freed().length === 2, 20_000 * TICK); // Tasks RCU: HZ/10 jiffies and more
      const gp = f.history[before];
      expect(gp.seq).toBe(before + 1);
      expect(freed().map((b) => [b.freedAt, b.freedBy])).toEqual([[gp.endedAt, `after ${name}`], [gp.endedAt, `after ${name}`]]);
      expect(f.latencies().length).toBe(f.completed);
    });
  }
});
