// The control plane's state is plain data: structuredClone copies it whole, links between its
// objects survive the copy, and putting a copy back restores every view of it.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { FtraceOps } from "../../src/kernel/ftrace/ops.js";
import { runSummary } from "../../src/cli/summary.js";

const TICK = 20_000;

/** Every object in the state is an Object, Array, Map, Set or Uint8Array: nothing has behaviour. */
function plainOnly(root: unknown): string[] {
  const bad: string[] = [];
  const seen = new Set<unknown>();
  const plain = [Object.prototype, Array.prototype, Map.prototype, Set.prototype, Uint8Array.prototype];
  const walk = (v: unknown, path: string) => {
    if (typeof v === "function") { bad.push(`${path}: a function`); return; }
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (!plain.includes(Object.getPrototypeOf(v))) bad.push(`${path}: a ${v.constructor?.name}`);
    if (v instanceof Map) for (const [k, x] of v) { walk(k, `${path}<key>`); walk(x, `${path}[${String(k)}]`); }
    else if (v instanceof Set) for (const x of v) walk(x, `${path}{}`);
    else if (!(v instanceof Uint8Array)) for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(root, "state");
  return bad;
}

describe("the kernel state as plain data", () => {
  it("a snapshot taken while an ops' release waits for Tasks RCU round-trips through structuredClone", { timeout: 120_000 }, () => {
    const k = Kernel.boot({ cpus: 2, preempt: "full", kernel: "6.12", tickPeriod: TICK });
    const calls: number[] = [];
    const ops = new FtraceOps({ name: "counter", filter: "work_top", callback: { kind: "host", fn: (c) => calls.push(c.cpu) } });
    k.run(5 * TICK);
    k.ftrace.register(ops);
    k.run(20 * TICK);
    const release = k.ftrace.unregister(ops, "kernel")!;
    k.run(TICK);
    expect(release.freedAt).toBeUndefined();

    expect(plainOnly(k.state)).toEqual([]);
    const saved = k.saveState();
    expect(saved).toEqual(k.state);
    expect(saved).not.toBe(k.state);
    // Links inside the state are links in the copy too.
    const tasks = new Set(saved.sched.tasks);
    expect([...saved.sched.current, ...saved.sched.runqueue.flat(), ...saved.sched.idle].every((t) => tasks.has(t))).toBe(true);
    const r = saved.releases[0];
    expect(r.ops).toBe(saved.ftrace.byId.get(ops.id));
    expect(r.trampoline).toBe(saved.trampolines.all[0]);
    expect(r.trampoline!.ops).toBe(r.ops);
    expect(r.steps.map((s) => s.flavour)).toEqual([saved.rcu.rude, saved.rcu.tasks, saved.rcu.rcu]);
    expect(r.steps[0].flavour).toBe(saved.rcu.rude);
    const summary = runSummary(k);

    // The run goes on: the release completes, the log grows.
    k.runUntil(() => release.freedAt !== undefined, 20_000 * TICK); // Tasks RCU waits HZ/10 jiffies and more
    expect(k.trampolines.all[0].state).toBe("freed");
    expect(k.state).not.toEqual(saved);

    // Putting the copy back: every view reads the saved state again, and the snapshot stays usable.
    k.restoreState(saved);
    expect(k.state).toEqual(saved);
    expect(k.state).not.toBe(saved);
    expect(k.trampolines.all[0].state).toBe("releasing");
    expect(k.releases.all[0].freedAt).toBeUndefined();
    expect(ops.enabled).toBe(false);
    expect(ops.trampoline).toBeUndefined();
    expect(k.ftrace.opsByGuestAddr(r.memory[0].va)).toBe(k.state.ftrace.byId.get(ops.id));
    expect(k.sched.tasks).toBe(k.state.sched.tasks);
    expect(k.rcu.tasks.history).toBe(k.state.rcu.tasks.history);
    // The summary's task table reads only the state (the machine, not restored here, has moved on).
    const taskTable = (text: string) => text.split("\n").filter((l) => /^\S+\s+\d+\s+\d+ (running|runnable|sleeping|dead) /.test(l));
    expect(taskTable(runSummary(k))).toEqual(taskTable(summary));
    expect(taskTable(summary).length).toBe(k.sched.tasks.length);
  });

  it("an ops handle reads its own state until it is registered, then the kernel's", { timeout: 120_000 }, () => {
    const k = Kernel.boot({ cpus: 1 });
    const callback = { kind: "guest", symbol: "function_count_call" } as const;
    const ops = new FtraceOps({ name: "counter", filter: "work_top", callback, dynamic: false });
    const before = k.saveState();
    k.ftrace.register(ops);
    expect(ops.enabled).toBe(true);
    expect(ops.data).toBe(k.state.ftrace.byId.get(ops.id));
    // Back to before the registration: the handle is an unregistered ops again.
    k.restoreState(before);
    expect(ops.enabled).toBe(false);
    expect(ops.addr).toBe(0n);
  });
});
