/* The sys_enter tracepoint (seed 004): probes called at every system call from user mode,
 * which may fault on user memory and so may sleep. The host publishes the probe array
 * (struct tracepoint_func, ending with a zero func) and frees old arrays and probe data only
 * after a grace period; which grace period is safe depends on how readers are protected:
 *
 *   TRACEPOINT_READ_SIDE_TRACE    rcu_read_lock_trace(): preemptible, may block in a fault;
 *                                 Tasks Trace RCU waits for it. Plain RCU does not: a blocked
 *                                 reader has done a voluntary context switch, a quiescent state.
 *   TRACEPOINT_READ_SIDE_PREEMPT  preempt_disable(): the classic tracepoint. Its probes cannot
 *                                 take a fault that sleeps: their user reads fail (-EFAULT)
 *                                 instead. Plain RCU waits for them; Tasks Trace RCU does not
 *                                 see them at all. */
#include "kernel.h"

struct tracepoint_func *sys_enter_probes;
u32 sys_enter_read_side;
u64 sys_enter_calls;

void trace_sys_enter(struct pt_regs *regs, u64 nr)
{
	u32 read_side = sys_enter_read_side;
	if (read_side == TRACEPOINT_READ_SIDE_TRACE)
		rcu_read_lock_trace();
	else
		preempt_disable();
	struct tracepoint_func *f = __atomic_load_n(&sys_enter_probes, __ATOMIC_ACQUIRE);
	if (f) {
		sys_enter_calls++;
		for (; f->func; f++)
			((void (*)(u64, struct pt_regs *, u64))f->func)(f->data, regs, nr);
	}
	if (read_side == TRACEPOINT_READ_SIDE_TRACE)
		rcu_read_unlock_trace();
	else
		preempt_enable();
}

/* copy_from_user() of one u64: 0, or -EFAULT when the fault could not be served (the fault
 * handler finds this access in __ex_table and resumes at the fixup). */
static notrace long copy_from_user_u64(u64 *to, u64 from)
{
	long err = 0;
	u64 v = 0;
	asm volatile("1:\tmov (%2), %1\n"
		     "2:\n"
		     "\t.pushsection .fixup, \"ax\"\n"
		     "3:\tmov $-14, %0\n"
		     "\tjmp 2b\n"
		     "\t.popsection\n"
		     "\t.pushsection __ex_table, \"a\"\n"
		     "\t.balign 8\n"
		     "\t.quad 1b, 3b\n"
		     "\t.popsection"
		     : "+r"(err), "+r"(v) : "r"(from) : "memory");
	*to = v;
	return err;
}

/* A probe that copies a buffer of the calling task's user memory, one u64 from each of the
 * pages in its data. The first touch of a page faults: with preemption on the fault is served
 * (and may sleep), with it off the copy fails and the probe loses that read. A probe whose
 * data was freed under it faults on the freed page (caught by the host). */
__attribute__((noinline)) void probe_user_read(u64 data, struct pt_regs *regs, u64 nr)
{
	struct probe_data *d = (struct probe_data *)data;
	for (u64 i = 0; i < d->pages; i++) {
		u64 v;
		if (copy_from_user_u64(&v, d->user_addr + i * 4096))
			d->efaults++;
	}
	WARN_ON(d->magic != PROBE_MAGIC);
	d->hits++;
	(void)regs;
	(void)nr;
}
