// Tasks Trace RCU as kernel/rcu/tasks.h has it from 6.0 (src/kernel/rcu/trace.ts): readers
// found running are marked by the IPI's handler, readers switched out go on the blocked-readers
// list, need_qs says who must still report, and a task that exits inside a reader is let out.
import { describe, it, expect } from "vitest";
import { TrcSpecial } from "../../src/gen/layout.js";
import { Rcu, initialRcuState } from "../../src/kernel/rcu/rcu.js";
import { TasksTraceRcu, initialTasksTraceState } from "../../src/kernel/rcu/trace.js";
import type { Task } from "../../src/kernel/task.js";

const NEED = TrcSpecial.NEED_QS, CHECKED = TrcSpecial.NEED_QS_CHECKED;

/** Fake tasks: nesting and trc_reader_special in maps, one vCPU running `cur`. */
function world() {
  const task = (pid: number, name: string): Task => ({ pid, name, kind: "kthread", addr: BigInt(pid) << 12n, cpu: 0, stackBase: 0n,
    stackTop: 0n, state: "runnable", wakeAt: 0n, nvcsw: 0, nivcsw: 0, runTicks: 0, sliceUsed: 0, preempted: false, preemptedAt: 0n,
    voluntarySchedules: 0, inUser: false });
  const cur = task(1, "runner"), reader = task(2, "reader");
  const nesting = new Map<Task, number>([[cur, 0], [reader, 0]]), special = new Map<Task, number>([[cur, 0], [reader, 0]]);
  const rcuState = initialRcuState(), state = initialTasksTraceState();
  const rcu = new Rcu(() => rcuState, () => {}, 1, false, () => true, () => {}, 100_000_000);
  // HZ=10: the first holdout scan comes after one jiffy (HZ/200 rounds down to 0, and init_fract is at least 1).
  const trace = new TasksTraceRcu(() => state, () => {}, { rcu, tickPeriod: 100_000_000, current: () => [cur],
    nesting: (t) => nesting.get(t) ?? 0, special: (t) => special.get(t) ?? 0,
    setSpecial: (t, v) => special.set(t, v), setNesting: (t, v) => nesting.set(t, v) });
  let now = 0n;
  const round = () => { now += 100_000_000n; rcu.qs(0); trace.advance(now); rcu.advance(now); };
  return { cur, reader, nesting, special, trace, round, now: () => now };
}

describe("Tasks Trace RCU with fake tasks", () => {
  it("a reader running at the scan gets an IPI whose handler marks it TRC_NEED_QS | CHECKED; " +
    "its special unlock lets the grace period end", () => {
    const { cur, nesting, special, trace, round } = world();
    nesting.set(cur, 1);
    const seq = trace.request(0n);
    round(); // the scan: the current task is a holdout, without an IPI yet
    expect([...trace.holdouts.keys()]).toEqual([cur]);
    expect(trace.data.ipis).toBe(0);
    for (let i = 0; i < 5; i++) round();
    expect(trace.data.ipis, "the holdout scan IPIs the running task's CPU").toBe(1);
    expect(special.get(cur)).toBe(NEED | CHECKED);
    for (let i = 0; i < 5; i++) round();
    expect(trace.done(seq), "still inside").toBe(false);
    expect(trace.data.ipis, "checked: no second IPI").toBe(1);
    // rcu_read_unlock_trace() at nesting 1 with a special bit set: the special path.
    trace.unlockSpecial(cur);
    expect(nesting.get(cur)).toBe(0);
    expect(special.get(cur)).toBe(CHECKED);
    for (let i = 0; i < 10 && !trace.done(seq); i++) round();
    expect(trace.done(seq)).toBe(true);
  });

  it("a reader switched out inside goes on the blocked list, is inspected as NEED_QS | CHECKED, " +
    "and holds the grace period until it exits", () => {
    const { reader, nesting, special, trace, round } = world();
    nesting.set(reader, 1);
    trace.scheduled(0, reader); // switched out inside its reader
    expect(special.get(reader)).toBe(TrcSpecial.BLOCKED);
    expect([...trace.blockedReaders.keys()]).toEqual([reader]);
    const seq = trace.request(0n);
    for (let i = 0; i < 10; i++) round();
    expect(special.get(reader)).toBe(TrcSpecial.BLOCKED | NEED | CHECKED);
    expect(trace.done(seq)).toBe(false);
    expect([...trace.holdouts.keys()]).toEqual([reader]);
    // It dies inside: exit_tasks_rcu_finish_trace() lets it out.
    reader.state = "dead";
    for (let i = 0; i < 20 && !trace.done(seq); i++) round();
    expect(trace.done(seq)).toBe(true);
    expect(nesting.get(reader)).toBe(0);
    expect(special.get(reader)).toBe(CHECKED);
    expect(trace.blockedReaders.size).toBe(0);
  });

  it("warns of a stalled reader in show_stalled_task_trace()'s words", () => {
    const { reader, nesting, trace, round } = world();
    trace.stallTimeout = 3;
    nesting.set(reader, 1);
    trace.scheduled(0, reader);
    trace.request(0n);
    for (let i = 0; i < 30; i++) round();
    expect(trace.stalls.length).toBeGreaterThan(0);
    expect(trace.stalls[0]).toBe("INFO: rcu_tasks_trace detected stalls on tasks:\nP2: ...B nesting: 1N  cpu: 0");
  });
});
