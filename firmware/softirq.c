/* Softirqs as x86-64 runs them at the end of an interrupt (kernel/softirq.c, 6.x):
 * irq_exit_rcu() drops the hardirq count and, if no other interrupt level is active and a
 * softirq is pending, __do_softirq() runs it there: on the IRQ stack the interrupt already uses
 * (x86-64 has HAVE_IRQ_EXIT_ON_IRQ_STACK), with SOFTIRQ_OFFSET in preempt_count and interrupts
 * enabled. An interrupt that arrives then nests on the IRQ stack below the softirq's frames
 * (the hardirq_stack_inuse rule of arch/x86/include/asm/irq_stack.h), and at its own exit sees
 * the softirq count and neither runs softirqs nor preempts.
 *
 * Simplified: one softirq (TIMER_SOFTIRQ), one timer per vCPU instead of the timer wheel, no
 * restart loop and no ksoftirqd (__do_softirq's MAX_SOFTIRQ_RESTART), no local_bh_disable. */
#include "kernel.h"

#define TIMER_SOFTIRQ 1

/* Per vCPU: __softirq_pending, and whether the IRQ stack is in use (hardirq_stack_inuse). */
u64 softirq_pending[64];
u64 irq_stack_inuse[64];

/* One timer per vCPU (timer_list reduced to what the tick needs). */
struct softirq_timer {
	u64 expires;
	void (*fn)(u64);
	u64 data;
};
struct softirq_timer softirq_timers[64];

/* Statistics for the tests: softirqs run; interrupts that arrived during one, and the last such
 * interrupt's pt_regs address and interrupted RIP. */
u64 softirq_runs[64];
u64 irq_in_softirq[64];
u64 irq_in_softirq_regs[64], irq_in_softirq_rip[64];

extern volatile unsigned long jiffies;

/* mod_timer, for this vCPU's one timer. */
notrace void arm_softirq_timer(u64 expires, void (*fn)(u64), u64 data)
{
	struct softirq_timer *t = &softirq_timers[this_cpu()->cpu];
	t->expires = expires;
	t->data = data;
	WRITE_ONCE(t->fn, fn);
}

/* run_local_timers, from the tick in hardirq context: raise TIMER_SOFTIRQ for an expired timer. */
notrace void run_local_timers(void)
{
	u64 cpu = this_cpu()->cpu;
	struct softirq_timer *t = &softirq_timers[cpu];
	if (t->fn && (s64)(jiffies - t->expires) >= 0)
		softirq_pending[cpu] |= 1ull << TIMER_SOFTIRQ;
}

/* run_timer_softirq: traced, in softirq context. */
__attribute__((noinline)) void run_timer_softirq(void)
{
	struct softirq_timer *t = &softirq_timers[this_cpu()->cpu];
	void (*fn)(u64) = t->fn;
	t->fn = NULL;
	if (fn)
		fn(t->data);
}

static notrace void __do_softirq(void)
{
	struct percpu *pc = this_cpu();
	pc->preempt_count += SOFTIRQ_OFFSET;
	u64 pending = softirq_pending[pc->cpu];
	softirq_pending[pc->cpu] = 0;
	local_irq_enable();
	if (pending & (1ull << TIMER_SOFTIRQ))
		run_timer_softirq();
	local_irq_disable();
	softirq_runs[pc->cpu]++;
	pc->preempt_count -= SOFTIRQ_OFFSET;
}

/* The end of __irq_exit_rcu: in_interrupt() is false only when this was the outermost level. */
notrace void invoke_softirq_if_pending(void)
{
	struct percpu *pc = this_cpu();
	if (!(pc->preempt_count & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) && softirq_pending[pc->cpu])
		__do_softirq();
}

/* An interrupt arriving: note one that interrupted a softirq (for the tests). */
notrace void note_irq_in_softirq(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	if (pc->preempt_count & SOFTIRQ_MASK) {
		irq_in_softirq[pc->cpu]++;
		irq_in_softirq_regs[pc->cpu] = (u64)regs;
		irq_in_softirq_rip[pc->cpu] = regs->rip;
	}
}

/* ---- A timer whose callback makes traced calls, re-armed every tick, and a kthread that makes
 * traced calls itself: while ftrace has the functions on a trampoline, the tick interrupts the
 * task inside one (IRQ 1), the softirq runs the callback inside one with interrupts on, and the
 * next tick can interrupt that (IRQ 2). */
u64 work_top(u64 n);
extern volatile u64 work_sink;
u64 softirq_timer_calls;
/* What the callback saw of its context: preempt_count, RFLAGS, RSP (for the tests). */
u64 softirq_seen_preempt_count, softirq_seen_flags, softirq_seen_rsp;

__attribute__((noinline)) void softirq_timer_fn(u64 calls)
{
	u64 rsp;
	asm volatile("mov %%rsp, %0" : "=r"(rsp));
	softirq_seen_preempt_count = this_cpu()->preempt_count;
	softirq_seen_flags = read_flags();
	softirq_seen_rsp = rsp;
	for (u64 i = 0; i < calls; i++)
		work_sink = work_top(i);
	softirq_timer_calls++;
	arm_softirq_timer(jiffies + 1, softirq_timer_fn, calls);
}

/* arg: the callback's traced calls per run. */
void kthread_softirq_timer(u64 calls)
{
	arm_softirq_timer(jiffies + 1, softirq_timer_fn, calls);
	for (u64 i = 0;; i++)
		work_sink = work_top(i);
}
