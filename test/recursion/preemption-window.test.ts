// Preemptible callbacks widen seed 003's window. Under the mainline scheme a callback takes its
// recursion bits with ftrace_test_recursion_trylock() (preemption off) and gives them back with
// preempt_enable_notrace(): a preemption point inside the callback, with the trampoline's return
// address on the task's stack. The per-task scheme takes the same bits in the trampoline and
// gives them back without a preemption point, so a task is preempted there only when a tick
// lands in the trampoline's own few instructions. Same run as seed 003's, counted from real
// switches: preemptions of the victim while its stack holds the trampoline.
import { describe, it, expect } from "vitest";
import { bootVictim, TICK } from "../rcu/victim.js";
import { SchedReason } from "../../src/gen/layout.js";
import { PAGE } from "../../src/machine/paging.js";
import type { RecursionSchemeName } from "../../src/kernel/config.js";
import type { Task } from "../../src/kernel/sched.js";

interface Preemption { reason: number; held: boolean; where: string }

function seed003Run(recursion: RecursionSchemeName): Preemption[] {
  const { k, ops } = bootVictim({ preempt: "full", release: "kernel", recursion });
  const t = ops.trampoline!;
  // A switch is noted when it happens and looked at once the victim is off its vCPU (its saved
  // stack is then what the unwinder reads); it stays off for a timeslice of "long"'s.
  const pending: { task: Task; reason: number }[] = [];
  k.sched.onSwitch.push((s) => { if (s.preempt && s.prev.name === "victim") pending.push({ task: s.prev, reason: s.reason }); });
  const seen: Preemption[] = [];
  const look = () => {
    while (pending.length && pending[0].task.state !== "running") {
      const p = pending.shift()!;
      const holds = k.holders(t.addr, t.addr + BigInt(t.pages.length * PAGE)).filter((h) => h.task === p.task);
      seen.push({ reason: p.reason, held: holds.length > 0, where: k.symbols.format(p.task.preemptedAt) });
    }
    return false;
  };
  k.runUntil(look, 400 * TICK);
  look();
  expect(k.oopses).toEqual([]);
  expect(k.ftrace.calls(ops)).toBeGreaterThan(100n);
  return seen;
}

describe("preemptible callbacks widen seed 003's window", () => {
  it("mainline's callback unlock is a preemption point: more preemptions with a trampoline return address on the stack", () => {
    const mainline = seed003Run("mainline");
    const perTask = seed003Run("per-task");
    const held = (p: Preemption[]) => p.filter((x) => x.held);
    const atUnlock = (p: Preemption[]) => held(p).filter((x) => x.reason === SchedReason.PREEMPT_ENABLE);
    // Mainline: the tick that asks the victim to yield to "long" lands in the callback (preemption
    // off), and the victim is preempted at the unlock: preempt_enable_notrace() called from
    // trace_clear_recursion(), in function_slow_call, called from the trampoline.
    expect(atUnlock(mainline).length).toBeGreaterThan(5);
    expect(new Set(atUnlock(mainline).map((x) => x.where.replace(/\+.*/, "")))).toEqual(new Set(["trace_clear_recursion"]));
    // Per-task: the guard's exit does not reschedule, so no preemption ever happens at a callback's
    // end; the victim runs on until it sleeps (msleep) or a tick finds it outside a callback.
    expect(atUnlock(perTask)).toEqual([]);
    expect(held(mainline).length).toBeGreaterThan(held(perTask).length);
    expect(held(mainline).length).toBeGreaterThan(5 + held(perTask).length);
  });
});
