/* RCU's read side in the guest (kernel/rcu/tree_plugin.h and kernel/rcu/tasks.h restated; the
 * grace periods themselves are the host's, src/kernel/rcu/).
 *
 * rcu_read_lock() is the kernel's inline wrapper around __rcu_read_lock(). Which read side a
 * build has is a Kconfig choice in the kernel (CONFIG_PREEMPT_RCU); here one image serves every
 * configuration, so __rcu_read_lock() reads boot_params->preempt_rcu:
 *   PREEMPT_RCU   a nesting count in the task. A task switched out inside its reader is put on
 *                 the blocked-tasks list (rcu_note_context_switch, done by the host from the
 *                 SCHEDULE hypercall) and marked RCU_SPECIAL_BLOCKED; the outermost unlock that
 *                 sees any special bit calls rcu_read_unlock_special(), which dequeues it and
 *                 reports the quiescent state its grace period was waiting for.
 *   otherwise     preempt_disable()/preempt_enable(): the grace period waits for the region.
 * The kernel's __rcu_read_lock/__rcu_read_unlock are traceable; rcu_read_unlock_special is
 * notrace, and so are the Tasks Trace readers (they are used from tracing code). */
#include "kernel.h"

#define INT32_MIN_VALUE (-2147483647 - 1)

void __rcu_read_lock(void)
{
	if (!boot_params->preempt_rcu) {
		preempt_disable();
		return;
	}
	current_task()->rcu_read_lock_nesting++;
	asm volatile("" : : : "memory"); /* the critical section after the entry code */
}

/* The host dequeues the task and reports the quiescent state; interrupts are off meanwhile, as
 * in the kernel, so the tick cannot look at a half-updated task. An unlock inside a region with
 * preemption, softirqs or interrupts disabled must not report: that region is itself a reader of
 * the consolidated RCU. The kernel defers the report (to the next tick outside such a region or
 * the next context switch), and so does the host when told `deferred`. */
static notrace void rcu_read_unlock_special(struct task *t)
{
	u64 flags = local_irq_save();
	long deferred = (this_cpu()->preempt_count & (PREEMPT_MASK | SOFTIRQ_MASK)) || !(flags & X86_EFLAGS_IF);
	hypercall3(HYPERCALL_RCU_UNLOCK_SPECIAL, (long)t, deferred, 0);
	local_irq_restore(flags);
}

void __rcu_read_unlock(void)
{
	struct task *t;

	if (!boot_params->preempt_rcu) {
		preempt_enable();
		return;
	}
	t = current_task();
	asm volatile("" : : : "memory"); /* the critical section before the exit code */
	if (--t->rcu_read_lock_nesting == 0) {
		asm volatile("" : : : "memory"); /* the exit before the check of the special bits */
		if (*(volatile u32 *)&t->rcu_read_unlock_special)
			rcu_read_unlock_special(t);
	}
}

/* Tasks Trace RCU readers: may block and fault inside. The host's grace period looks at the
 * nesting of every task; a reader it could not see leave is marked TRC_SPECIAL_NEED_QS (from
 * trc_inspect_reader or the IPI's trc_read_check_handler), and the outermost unlock that sees
 * a special bit calls rcu_read_unlock_trace_special(). */
static notrace void rcu_read_unlock_trace_special(struct task *t)
{
	u64 flags = local_irq_save();
	hypercall3(HYPERCALL_TRC_UNLOCK_SPECIAL, (long)t, 0, 0);
	local_irq_restore(flags);
}

void notrace rcu_read_lock_trace(void)
{
	struct task *t = current_task();
	t->trc_reader_nesting++;
	asm volatile("" : : : "memory");
}

/* Between reading the special bits and writing the new nesting, a grace period that looked at
 * this task (in place while it is switched out, or by its IPI) would still see the reader and
 * set need_qs, which this unlock has already decided not to report: the grace period would wait
 * for an unlock that happened. So, as the kernel does, the nesting first goes negative (INT_MIN
 * plus the new depth), which a look treats as "leaving: ask again later". */
void notrace rcu_read_unlock_trace(void)
{
	struct task *t = current_task();
	int nesting = (int)t->trc_reader_nesting - 1;
	asm volatile("" : : : "memory"); /* the critical section before the exit */
	WRITE_ONCE(t->trc_reader_nesting, (u32)(INT32_MIN_VALUE + nesting));
	asm volatile("" : : : "memory");
	if (!*(volatile u32 *)&t->trc_reader_special || nesting) {
		WRITE_ONCE(t->trc_reader_nesting, (u32)nesting);
		if (nesting == 0)
			t->trc_reader_exits++;
		return;
	}
	rcu_read_unlock_trace_special(t); /* it sets the nesting to 0 itself */
	t->trc_reader_exits++;
}
