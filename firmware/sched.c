/* Scheduling mechanics in the guest; the policy (which task runs next, when a task must give
 * the CPU up) lives in the host and is reached through hypercalls, like a scheduling class.
 *
 * Preemption models (boot_params->preempt_model, as with preempt=):
 *   NONE       a task in the kernel runs until it calls schedule() or cond_resched();
 *   VOLUNTARY  also at might_resched() points;
 *   FULL       also on interrupt return and preempt_enable() whenever preempt_count is 0;
 *   LAZY       as FULL, but the tick only asks lazily (need_resched_lazy); the next tick or a
 *              return to user mode acts on it.
 * preempt_count is maintained in every model. */
#include "kernel.h"
#include "vsprintf.h"

static inline notrace int preemptible_model(void)
{
	u32 m = boot_params->preempt_model;
	return m == PREEMPT_MODEL_FULL || m == PREEMPT_MODEL_LAZY;
}

void notrace preempt_disable(void)
{
	this_cpu()->preempt_count += PREEMPT_OFFSET;
	asm volatile("" : : : "memory");
}

static notrace void __schedule(long reason, void *where);

void preempt_enable(void)
{
	struct percpu *pc = this_cpu();
	asm volatile("" : : : "memory");
	pc->preempt_count -= PREEMPT_OFFSET;
	if (pc->preempt_count == 0 && preemptible_model() && (pc->resched & RESCHED_NEED))
		__schedule(SCHED_REASON_PREEMPT_ENABLE, __builtin_return_address(0));
}

/* preempt_enable() for code that must not be traced (ftrace callbacks): a preemption point all
 * the same. */
notrace void preempt_enable_notrace(void)
{
	struct percpu *pc = this_cpu();
	asm volatile("" : : : "memory");
	pc->preempt_count -= PREEMPT_OFFSET;
	if (pc->preempt_count == 0 && preemptible_model() && (pc->resched & RESCHED_NEED))
		__schedule(SCHED_REASON_PREEMPT_ENABLE, __builtin_return_address(0));
}

/* The kernel's line for a sleep while atomic: comm/pid/preempt_count(). The kernel's schedule()
 * has disabled preemption once before it looks, so its count is one more than the task's.
 * Out of line, as in the kernel, so that __schedule's frame stays as it was. */
static __attribute__((noinline)) notrace void __schedule_bug(struct task *prev, u32 count)
{
	char line[80];

	scnprintf(line, sizeof(line), "BUG: scheduling while atomic: %.16s/%u/0x%08x\n",
		  (const char *)prev->name, prev->pid, count + PREEMPT_OFFSET);
	printk(line);
}

/* The switch itself. reason says whether the task asked to stop (SCHED_REASON_VOLUNTARY) or
 * was preempted, and how; `where` is the preemption point's caller, for the host's records. */
u64 atomic_sleeps;

/* notrace, as in the kernel: the switch itself is never traced. */
static notrace void __schedule(long reason, void *where)
{
	u64 flags = local_irq_save();
	struct percpu *pc = this_cpu();
	struct task *prev = (struct task *)pc->current;
	/* preempt_count is per CPU: a task that blocks with it raised (a bug, reported) must not
	 * hand its count to the next task, and gets it back when it resumes. */
	u32 saved = pc->preempt_count;
	if (reason == SCHED_REASON_VOLUNTARY && (saved & PREEMPT_MASK) && prev != (struct task *)pc->idle_task) {
		atomic_sleeps++;
		__schedule_bug(prev, saved);
		pc->preempt_count = 0;
	}
	pc->preempt_count += PREEMPT_OFFSET;
	struct task *next = (struct task *)hypercall3(HYPERCALL_SCHEDULE, (long)prev, reason, (long)where);
	pc->resched = 0;
	if (next != prev) {
		pc->current = (u64)next;
		*(u64 *)(pc->tss + 4) = next->stack_top; /* RSP0: where entries from user mode land */
		switch_to(prev, next);
		pc = this_cpu();
	}
	pc->preempt_count = saved;
	local_irq_restore(flags);
}

void schedule(void)
{
	__schedule(SCHED_REASON_VOLUNTARY, __builtin_return_address(0));
}

/* Interrupt return to kernel mode with need_resched set (FULL and LAZY only). The host is
 * told the interrupted RIP: where the task will resume. */
void preempt_schedule_irq(struct pt_regs *regs)
{
	do {
		__schedule(SCHED_REASON_IRQ_PREEMPT, (void *)regs->rip);
	} while (this_cpu()->resched & RESCHED_NEED);
}

static void __cond_resched(void *where)
{
	struct percpu *pc = this_cpu();
	/* should_resched(0): never from atomic context. */
	if (!preemptible_model() && pc->preempt_count == 0 && (pc->resched & RESCHED_NEED))
		__schedule(SCHED_REASON_COND_RESCHED, where);
}

/* An explicit preemption point: honoured in the NONE and VOLUNTARY models. */
void cond_resched(void)
{
	__cond_resched(__builtin_return_address(0));
}

/* might_sleep()'s preemption point: VOLUNTARY only. */
void might_resched(void)
{
	if (boot_params->preempt_model == PREEMPT_MODEL_VOLUNTARY)
		__cond_resched(__builtin_return_address(0));
}

void msleep(u64 ticks)
{
	hypercall3(HYPERCALL_SLEEP, (long)ticks, 0, 0);
	schedule();
}

void yield(void)
{
	schedule();
}

/* Leaving an interrupt or exception: reschedule on the way back to user mode, or preempt
 * the kernel when the model allows it and nothing holds preemption off. */
notrace void irqentry_exit(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	if (user_mode(regs)) {
		while (pc->resched & (RESCHED_NEED | RESCHED_LAZY))
			__schedule(SCHED_REASON_IRQ_PREEMPT, (void *)regs->rip);
	} else if (preemptible_model() && pc->preempt_count == 0 && (pc->resched & RESCHED_NEED)) {
		preempt_schedule_irq(regs);
	}
}

/* The tick: the host accounts the time and sets need_resched (or its lazy form) for us. */
void sched_tick(struct pt_regs *regs)
{
	hypercall3(HYPERCALL_SCHED_TICK, (long)regs->rip, user_mode(regs), 0);
}

/* A new task's first code, reached from switch_to through ret_from_fork. */
void task_start(void)
{
	struct percpu *pc = this_cpu();
	struct task *t = (struct task *)pc->current;
	pc->preempt_count -= PREEMPT_OFFSET; /* the scheduler's, taken in __schedule */
	if (t->kind == TASK_KIND_USER)
		enter_user(t->entry, t->arg);
	local_irq_enable();
	((void (*)(u64))t->entry)(t->arg);
	task_exit();
}

void __noreturn task_exit(void)
{
	local_irq_disable();
	hypercall3(HYPERCALL_TASK_EXIT, (long)current_task(), 0, 0);
	schedule();
	for (;;)
		;
}
