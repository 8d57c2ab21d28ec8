/* Interrupts and the system-call entry in C: the timer, the IPIs, do_syscall_64. */
#include "kernel.h"

/* ---- The timer interrupt.
 *
 * As in the kernel's system-vector entry, the switch to the IRQ stack comes first and
 * irq_enter_rcu() raises preempt_count's hardirq field there. irq_enter_rcu() is traced, and
 * its fentry call runs before its body: in that window preempt_count still describes the
 * interrupted context. A per-task recursion guard then sees "task context, already tracing"
 * when the interrupt hit a callback, and only its TRANSITION bit lets the call through. A
 * per-stack guard sees the IRQ stack's own flag. */
__attribute__((noinline)) void irq_enter_rcu(void)
{
	this_cpu()->preempt_count += HARDIRQ_OFFSET;
	asm volatile("" : : : "memory");
}

void invoke_softirq_if_pending(void);
void run_local_timers(void);
void note_irq_in_softirq(struct pt_regs *regs);
extern u64 irq_stack_inuse[];

/* Leaving the hardirq level, pending softirqs run here, still on the IRQ stack (softirq.c). */
__attribute__((noinline)) void irq_exit_rcu(void)
{
	asm volatile("" : : : "memory");
	this_cpu()->preempt_count -= HARDIRQ_OFFSET;
	invoke_softirq_if_pending();
}

/* The tick's work (traced, in hardirq context). */
__attribute__((noinline)) void update_process_times(struct pt_regs *regs)
{
	this_cpu()->ticks++;
	run_local_timers();
	sched_tick(regs);
}

void tick_broadcast_ipi(void);

static notrace void sysvec_timer_on_irqstack(struct pt_regs *regs)
{
	irq_enter_rcu();
	this_cpu()->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	tick_broadcast_ipi(); /* the tick also stands for the broadcast IPI (firmware/idle.c) */
	update_process_times(regs);
	irq_exit_rcu();
}

/* run_sysvec_on_irqstack_cond: switch to the IRQ stack unless it is in use already. It is while
 * a softirq runs there with interrupts on: an interrupt then stays on it, below the softirq's
 * frames; switching to its top would write over them. Around it, irqentry_enter()'s
 * ct_irq_enter(): an interrupt that arrives where RCU is not watching (the idle halt or poll
 * loop) makes RCU watch until it returns, so the handler's traced code is an ordinary reader. */
notrace void timer_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	u64 cpu = pc->cpu;
	u32 watching = pc->rcu_watching;
	pc->rcu_watching = 1;
	note_irq_in_softirq(regs);
	if (irq_stack_inuse[cpu]) {
		sysvec_timer_on_irqstack(regs);
	} else {
		irq_stack_inuse[cpu] = 1;
		call_on_irqstack(sysvec_timer_on_irqstack, regs);
		irq_stack_inuse[cpu] = 0;
	}
	pc->rcu_watching = watching;
	irqentry_exit(regs);
}

/* The text-poke sync IPI: taking the interrupt and returning with iretq serializes the vCPU,
 * which is all the sender wants. */
notrace void call_function_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	/* Taking the interrupt serialized this vCPU; counting it tells the sender it is done. */
	__atomic_add_fetch(&pc->call_function_count, 1, __ATOMIC_RELEASE);
	(void)regs;
}

/* The host marked this vCPU's task for rescheduling and kicked it out of idle. */
notrace void reschedule_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	irqentry_exit(regs);
}

void sys_work(u64 n);
void trace_sys_enter(struct pt_regs *regs, u64 nr);

void do_syscall_64(struct pt_regs *regs)
{
	local_irq_enable();
	trace_sys_enter(regs, regs->orig_rax);
	switch (regs->orig_rax) {
	case SYS_WORK: sys_work(regs->rdi); regs->rax = 0; break;
	case SYS_YIELD: yield(); regs->rax = 0; break;
	case SYS_SLEEP: msleep(regs->rdi); regs->rax = 0; break;
	default: regs->rax = (u64)-38; /* -ENOSYS */
	}
	local_irq_disable();
	irqentry_exit(regs);
}
