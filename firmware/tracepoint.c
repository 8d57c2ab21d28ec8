/* The sys_enter tracepoint (seed 004): probes called at every system call from user mode,
 * which may fault on user memory and so may sleep. The host publishes the probe array
 * (struct tracepoint_func, ending with a zero func) and frees old arrays and probe data only
 * after a grace period; which grace period is safe depends on how readers are protected:
 *
 *   TRACEPOINT_READ_SIDE_TRACE    rcu_read_lock_trace(): preemptible, may block in a fault;
 *                                 Tasks Trace RCU waits for it. Plain RCU does not: a blocked
 *                                 reader has done a voluntary context switch, a quiescent state.
 *   TRACEPOINT_READ_SIDE_PREEMPT  preempt_disable(): the classic tracepoint. A probe that
 *                                 faults and sleeps in it is a bug ("scheduling while atomic"),
 *                                 and its sleep ends every grace period. */
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

/* A probe that reads the calling task's user memory: one page after another of the region in
 * its data, each first touch a page fault (which may sleep). A probe whose data was freed
 * faults on the freed page (caught by the host) or finds the magic gone. */
__attribute__((noinline)) void probe_user_read(u64 data, struct pt_regs *regs, u64 nr)
{
	struct probe_data *d = (struct probe_data *)data;
	u64 n = d->hits;
	(void)*(volatile u64 *)(d->user_addr + (n % d->pages) * 4096);
	WARN_ON(d->magic != PROBE_MAGIC);
	d->hits = n + 1;
	(void)regs;
	(void)nr;
}
