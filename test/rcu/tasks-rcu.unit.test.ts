// Tasks RCU on its own: fake tasks and a clock, no machine and no firmware. The grace period
// follows rcu_tasks_wait_gp(): RCU first, a scan of the task list for holdouts, rescans with
// backoff, RCU again, then the callbacks.
import { describe, it, expect } from "vitest";
import { Rcu, initialRcuState } from "../../src/kernel/rcu/rcu.js";
import { TasksRcu, initialTasksRcuState } from "../../src/kernel/rcu/tasks.js";
import type { RcuCallback } from "../../src/kernel/rcu/flavour.js";
import type { Task } from "../../src/kernel/sched.js";

// A jiffy of a tenth of a second: HZ=10, so rcu_tasks' first wait (HZ/10) is one jiffy.
const TICK = 100_000_000;

function task(pid: number, name: string, kind: Task["kind"], state: Task["state"], preempted = false): Task {
  return { pid, name, kind, addr: BigInt(pid) << 12n, cpu: 0, stackBase: 0n, stackTop: 0n, state, wakeAt: 0n, nvcsw: 0, nivcsw: 0,
    runTicks: 0, sliceUsed: 0, preempted, preemptedAt: 0n, voluntarySchedules: 0, inUser: false };
}

function world() {
  const tasks = [task(0, "swapper/0", "idle", "running"), task(1, "victim", "kthread", "runnable", true),
    task(2, "sleeper", "kthread", "sleeping"), task(3, "worker", "kthread", "running")];
  const ran: RcuCallback[] = [];
  const invoke = (cb: RcuCallback) => ran.push(cb);
  const rcuState = initialRcuState(), state = initialTasksRcuState();
  // One vCPU, always watched: it reports its quiescent states through qs().
  const rcu = new Rcu(() => rcuState, invoke, 1, false, () => true, () => {}, TICK);
  const tr = new TasksRcu(() => state, invoke, { tasks: () => tasks, rcu, tickPeriod: TICK, stallTimeout: 100 });
  /** One round between quanta, as RcuSubsystem.advance runs it; the vCPU passed a quiescent state. */
  const round = (now: bigint) => {
    rcu.qs(0);
    tr.advance(now);
    rcu.advance(now);
  };
  return { tasks, ran, rcu, tr, state, round };
}

describe("Tasks RCU with fake tasks and ticks", () => {
  it("a preempted task holds the grace period until it switches voluntarily; sleeping and idle tasks never do", () => {
    const { tasks, ran, tr, round } = world();
    const [, victim, , worker] = tasks;
    const seq = tr.request(0n);
    tr.call({ kind: "free", blocks: [{ va: 0x1000n, size: 16 }], why: "test" }, 0n);
    let now = 0n;
    const until = (state: string) => {
      for (let i = 0; i < 100 && tr.state !== state; i++) round(now += BigInt(TICK));
      expect(tr.state).toBe(state);
    };
    until("wait_scan_holdouts");
    expect([...tr.holdouts.keys()].map((t) => t.name)).toEqual(["victim", "worker"]);
    expect(tr.history).toEqual([]);

    // The worker runs in user mode at a tick: a quiescent state. The victim stays preempted.
    tr.qs(worker);
    for (let i = 0; i < 20; i++) round(now += BigInt(TICK));
    expect([...tr.holdouts.keys()].map((t) => t.name)).toEqual(["victim"]);
    expect(tr.done(seq)).toBe(false);
    expect(tr.describe(now)).toMatch(/holdouts: victim:1$/);

    // Its voluntary switch (nvcsw moved) lets the rescan drop it; RCU once more, then the end.
    victim.nvcsw++;
    for (let i = 0; i < 20 && !tr.done(seq); i++) round(now += BigInt(TICK));
    expect(tr.done(seq)).toBe(true);
    expect(tr.state).toBe("idle");
    const gp = tr.history[0];
    expect(gp.holdouts).toBe(2);
    expect(gp.scans).toBeGreaterThanOrEqual(2);
    expect(ran).toEqual([{ kind: "free", blocks: [{ va: 0x1000n, size: 16 }], why: "test" }]);
  });

  it("rescans wait HZ/10 jiffies, one more after each scan up to HZ, and warn of stalls every rcu_task_stall_timeout jiffies", () => {
    const { tr, round, state } = world();
    tr.request(0n);
    const scans: bigint[] = [];
    let now = 0n;
    for (let i = 0; i < 2000; i++) {
      const before = state.current?.scans ?? 0;
      round(now += BigInt(TICK));
      if ((state.current?.scans ?? 0) > before) scans.push(now);
    }
    const gaps = scans.slice(1).map((t, i) => Number(t - scans[i]) / TICK);
    expect(tr.hz).toBe(10);
    expect(gaps.slice(0, 12)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10]);
    // 2000 jiffies of holdouts: a warning each time 100 jiffies have passed since the last one.
    expect(tr.stalls.length).toBeGreaterThanOrEqual(15);
    const [head, victim, who] = tr.stalls[0].split("\n");
    expect(head).toBe("INFO: rcu_tasks detected stalls on tasks:");
    expect(victim).toBe("0000000000001000: .. nvcsw: 0/0 holdout: 1 idle_cpu: -1/0");
    expect(who).toBe("  (tramplab: victim, pid 1, preempted, 0 involuntary switches)");
  });
});
