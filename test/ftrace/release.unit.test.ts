// Releasing an unregistered ops on its own: the kernel's policy waits for Tasks Rude RCU, then
// Tasks RCU, before freeing the trampoline and the ops' memory. Fake tasks and vCPUs, no machine.
import { describe, it, expect } from "vitest";
import { Releases, describeWait, type Release } from "../../src/kernel/ftrace/release.js";
import { Rcu, initialRcuState } from "../../src/kernel/rcu/rcu.js";
import { TasksRcu, initialTasksRcuState } from "../../src/kernel/rcu/tasks.js";
import { TasksRudeRcu, initialRudeState } from "../../src/kernel/rcu/rude.js";
import type { Flavour } from "../../src/kernel/rcu/flavour.js";
import type { Trampoline } from "../../src/kernel/ftrace/trampoline.js";
import type { Task } from "../../src/kernel/task.js";
import type { OpsState } from "../../src/kernel/ftrace/ops.js";

// HZ=10: Tasks RCU rescans its holdouts after HZ/10 = 1 jiffy, then 2, 3, ... (few rounds).
const TICK = 100_000_000;

const preempted = (): Task => ({ pid: 1, name: "victim", kind: "kthread", addr: 0x1000n, cpu: 0, stackBase: 0n, stackTop: 0n,
  state: "runnable", wakeAt: 0n, nvcsw: 0, nivcsw: 3, runTicks: 0, sliceUsed: 0, preempted: true, preemptedAt: 0n,
  voluntarySchedules: 0, inUser: false });

const ops: OpsState = { id: 7, name: "slow", callback: { kind: "guest", symbol: "function_slow_call" }, filter: "work_leaf", notrace: "",
  saveRegs: false, recursion: false, dynamic: true, private: 0n, addr: 0xffff_c900_0000_0000n, external: false, extraFlags: 0,
  filterSet: new Set([0]),
  notraceSet: new Set(), enabled: false, hashes: [] };

function world() {
  const invoke = () => {};
  const victim = preempted();
  const rcuState = initialRcuState(), rudeState = initialRudeState(), tasksState = initialTasksRcuState();
  const rcu = new Rcu(() => rcuState, invoke, 1, false, () => true, () => {}, TICK);
  const rude = new TasksRudeRcu(() => rudeState, invoke, 1, () => {});
  const tasks = new TasksRcu(() => tasksState, invoke, { tasks: () => [victim], rcu, tickPeriod: TICK, stallTimeout: 0 });
  const flavours: Flavour[] = [rcu, tasks, rude];
  const freed: string[] = [];
  const state: Release[] = [];
  const releases = new Releases(() => state, {
    flavour: (name) => flavours.find((f) => f.name === name)!,
    freeTrampoline: (t, now) => freed.push(`trampoline 0x${t.addr.toString(16)} at ${now}`),
    freeMemory: (va, size) => freed.push(`${size} bytes at 0x${va.toString(16)}`),
    freed: (r) => freed.push(`released ${r.ops.name}`),
  });
  /** A round between quanta: the vCPU scheduled; the flavours and the releases advance. */
  const round = (now: bigint) => {
    rcu.qs(0);
    rude.scheduled(0);
    for (const f of flavours) f.advance(now);
    rcu.advance(now);
    releases.advance(now);
  };
  return { victim, rude, tasks, releases, freed, state, round };
}

describe("an ops released under the kernel's policy, without a machine", () => {
  it("waits for Tasks Rude RCU, then for the preempted task's voluntary switch, then frees everything once", () => {
    const { victim, rude, tasks, releases, freed, state, round } = world();
    const trampoline: Trampoline = { ops, addr: 0xffff_ffff_a000_0000n, size: 200, pages: [{ va: 0xffff_ffff_a000_0000n, pa: 0x80_0000 }],
      callOffset: 0x40, sites: new Set(), state: "releasing", allocatedAt: 0n };
    const memory = [{ va: ops.addr, size: 256 }];
    const r = releases.start({ ops, trampoline, memory, policy: "kernel", unregisteredAt: 0n,
      steps: [{ flavour: rude.data }, { flavour: tasks.data }] }, 0n);
    expect(state).toEqual([r]);
    let now = 0n;
    for (let i = 0; i < 50; i++) round(now += BigInt(TICK));
    expect(r.step).toBe(1); // Rude RCU is done; Tasks RCU waits for the preempted victim
    expect(r.steps[0].endedAt).toBeDefined();
    expect(freed).toEqual([]);
    expect(releases.describe(now)).toMatch(/^slow: trampoline 0xffffffffa0000000, policy kernel, waiting for rcu_tasks for /);

    victim.nvcsw++; // it switched voluntarily
    for (let i = 0; i < 50 && r.freedAt === undefined; i++) round(now += BigInt(TICK));
    expect(r.freedAt).toBe(now);
    expect(freed).toEqual([`trampoline 0xffffffffa0000000 at ${now}`, "256 bytes at 0xffffc90000000000", "released slow"]);
    expect(describeWait(r)).toMatch(/^ftrace_shutdown\(slow\), policy kernel: after rcu_tasks_rude gp 1 \(.+\), rcu_tasks gp 1 \(.+\)$/);
    for (let i = 0; i < 10; i++) round(now += BigInt(TICK));
    expect(freed.length).toBe(3);
  });

  it("the immediate policy frees at once, with no grace period", () => {
    const { releases, freed } = world();
    const r = releases.start({ ops, memory: [], policy: "immediate", unregisteredAt: 5n, steps: [] }, 5n);
    expect(r.freedAt).toBe(5n);
    expect(freed).toEqual(["released slow"]);
    expect(describeWait(r)).toBe("ftrace_shutdown(slow), policy immediate: with no grace period");
  });
});
