// Which release configurations are safe, from first principles. The torture run checks the
// emulator against this: a safe configuration must never free a trampoline something still
// uses; an unsafe one may, and then every such use must be caught.
//
// Where a CPU or task can be in a trampoline when its ops is unregistered, and what flushes it:
//   preempted inside it (full and lazy preemption only)      Tasks RCU, or scanning stacks
//   running inside it in ordinary kernel code                RCU, Tasks RCU, Rude, a stack scan
// The idle task's traced arch_cpu_idle_enter() is ordinary code here: it runs before RCU stops
// watching, with interrupts off (do_idle's order). Code traced where RCU is not watching and
// interrupts are on (5.15's broadcast poll loop) needs Tasks Rude RCU; torture's kernel, the
// PREEMPT_AUTO RFC on a 6.8 base, has none (tick_check_broadcast_expired is noinstr there).
// The ip-check catches a task preempted with its IP in the trampoline, not one preempted in
// the callback the trampoline called, so it covers nothing on its own.
import type { PreemptModel } from "../kernel/config.js";

export function releaseSafe(steps: readonly string[], preempt: PreemptModel): { safe: boolean; why: string } {
  const has = (n: string) => steps.includes(n);
  const preemptible = preempt === "full" || preempt === "lazy";
  if (preemptible && !has("rcu_tasks") && !has("stack-scan")) {
    return {
      safe: false,
      why: `${preempt} preemption can leave a task preempted inside, and neither Tasks RCU nor a stack scan waits for it`,
    };
  }
  if (!["rcu", "rcu_tasks", "rcu_tasks_rude", "stack-scan"].some(has)) {
    return { safe: false, why: "nothing waits for a CPU running inside" };
  }
  return { safe: true, why: "every way to be inside is waited for" };
}
