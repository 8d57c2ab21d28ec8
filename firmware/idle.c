/* The idle task, in the order of kernel/sched/idle.c's do_idle(): interrupts off, the traced
 * arch_cpu_idle_enter() (RCU still watching), then either the poll loop or the halt, and
 * arch_cpu_idle_exit(). RCU stops watching only inside the halt (default_idle_call's
 * ct_cpuidle_enter/ct_cpuidle_exit) or the poll loop (cpu_idle_poll). docs/versions.md cites
 * the kernel's functions for each release. */
#include "kernel.h"

/* The kernel's idle=poll boot parameter: poll instead of halting. Set by the host before the
 * vCPUs start (the `idle` option). */
int cpu_idle_force_poll;

/* The idle state stops the local timer (CPUIDLE_FLAG_TIMER_STOP) and the tick broadcast device
 * stands in for it (`idle: broadcast`). Modelled simply: every wake-up from the halt finds this
 * vCPU's broadcast event already expired, so tick_broadcast_exit() marks it in the force mask
 * and the next pass polls until the broadcast IPI (here: the next tick) clears the bit. */
int cpuidle_timer_stop;

/* Bit n: vCPU n waits for a broadcast IPI that is due (tick-broadcast.c's force mask). */
unsigned long tick_broadcast_force_mask;

/* ct_cpuidle_enter()/ct_cpuidle_exit() (rcu_idle_enter()/rcu_idle_exit() up to 6.1): RCU stops
 * and starts watching this vCPU. Inlined into their noinstr and notrace callers. */
static __always_inline notrace void ct_cpuidle_enter(void) { this_cpu()->rcu_watching = 0; }
static __always_inline notrace void ct_cpuidle_exit(void) { this_cpu()->rcu_watching = 1; }

/* Traced in every release: x86's hook runs with interrupts off and RCU watching, so a callback
 * here is an ordinary preempt- and irq-disabled RCU reader, and the text-poke sync IPIs cannot
 * be taken until it has left the trampoline. */
u64 idle_calls;
__attribute__((noinline)) void arch_cpu_idle_enter(void)
{
	asm volatile("lock incq %0" : "+m"(idle_calls));
}

__attribute__((noinline)) void arch_cpu_idle_exit(void)
{
	asm volatile("" : : : "memory");
}

/* Traced here; noinstr from 6.3, and tramplab's 6.6 and later keep no patch site for it
 * (src/kernel/versions.ts). The poll loop calls it with interrupts on and RCU not watching
 * when it polls for a broadcast, not for idle=poll (cpu_idle_force_poll short-circuits it). */
__attribute__((noinline)) int tick_check_broadcast_expired(void)
{
	return (READ_ONCE(tick_broadcast_force_mask) >> this_cpu()->cpu) & 1;
}

/* The broadcast handler clears this vCPU's bit as it sends the IPI; called from the tick. */
notrace void tick_broadcast_ipi(void)
{
	if (cpuidle_timer_stop)
		__atomic_and_fetch(&tick_broadcast_force_mask, ~(1ul << this_cpu()->cpu), __ATOMIC_RELAXED);
}

static __always_inline notrace int need_resched(void)
{
	return READ_ONCE(this_cpu()->resched) & (RESCHED_NEED | RESCHED_LAZY);
}

/* sti;hlt, between ct_cpuidle_enter and ct_cpuidle_exit: the one-instruction shadow of sti
 * means no interrupt slips in before the hlt. Returns with interrupts on, as the kernel's. */
static noinstr void default_idle_call(void)
{
	ct_cpuidle_enter();
	asm volatile("sti; hlt; cli" : : : "memory");
	ct_cpuidle_exit();
	if (cpuidle_timer_stop) /* tick_broadcast_exit(): the event already expired */
		__atomic_or_fetch(&tick_broadcast_force_mask, 1ul << this_cpu()->cpu, __ATOMIC_RELAXED);
	local_irq_enable();
}

/* cpu_idle_poll(): spin with interrupts on while RCU is not watching. In 5.15 and 6.1 the loop
 * calls the traced tick_check_broadcast_expired() there: a trampoline reached in a task Tasks
 * RCU ignores, where plain RCU sees an extended quiescent state; only Tasks Rude RCU's forced
 * schedule waits for it. */
static __attribute__((noinline)) notrace void cpu_idle_poll(void)
{
	ct_cpuidle_enter();
	local_irq_enable();
	while (!need_resched() && (READ_ONCE(cpu_idle_force_poll) || tick_check_broadcast_expired()))
		asm volatile("pause" : : : "memory");
	local_irq_disable();
	ct_cpuidle_exit();
	local_irq_enable();
}

/* The idle task runs with preemption disabled and schedules when there is work. */
void cpu_idle(void)
{
	struct percpu *pc = this_cpu();
	for (;;) {
		local_irq_disable();
		if (need_resched()) {
			pc->preempt_count -= PREEMPT_OFFSET;
			schedule();
			pc->preempt_count += PREEMPT_OFFSET;
			continue;
		}
		pc->in_idle = 1;
		arch_cpu_idle_enter();
		if (READ_ONCE(cpu_idle_force_poll) || tick_check_broadcast_expired())
			cpu_idle_poll();
		else
			default_idle_call();
		arch_cpu_idle_exit();
		pc->in_idle = 0;
	}
}
