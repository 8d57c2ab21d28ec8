/* Workloads: kernel threads that run through chains of traced functions, counting their own
 * calls so tests can compare a trace with what really ran. */
#include "kernel.h"

/* work_calls[i]: calls of the i-th traced workload function, counted by the function itself. */
enum { W_LEAF, W_MIDDLE, W_TOP, W_LONG, W_SYSCALL, W_COUNT };
u64 work_calls[W_COUNT];
/* A sink the compiler cannot see through, so the work is really done. */
volatile u64 work_sink;

static inline notrace void count(int i)
{
	asm volatile("lock incq %0" : "+m"(work_calls[i]));
}

__attribute__((noinline)) u64 work_leaf(u64 x)
{
	count(W_LEAF);
	return x * 2654435761u + 1;
}

__attribute__((noinline)) u64 work_middle(u64 x)
{
	count(W_MIDDLE);
	x = work_leaf(x);
	might_resched();
	return work_leaf(x ^ 0x5a5a);
}

__attribute__((noinline)) u64 work_top(u64 x)
{
	count(W_TOP);
	return work_middle(x) + work_middle(x + 1);
}

/* A long traced function: n rounds of arithmetic with no preemption point of its own. A task
 * can only leave the CPU in the middle of it by being preempted. */
__attribute__((noinline)) u64 long_work(u64 n)
{
	count(W_LONG);
	u64 x = n;
	for (u64 i = 0; i < n; i++)
		x = (x << 7) ^ (x >> 3) ^ i;
	work_sink = x;
	return x;
}

void sys_work(u64 n)
{
	count(W_SYSCALL);
	work_sink = work_top(n);
}

/* Kernel threads (entry points named in the host's workload description). */

/* CPU-bound, with a preemption point between rounds and a short sleep every 16 rounds, as
 * kernel threads do (without the sleep it would hold up Tasks RCU for good). */
void kthread_busy(u64 rounds)
{
	for (u64 i = 0;; i++) {
		work_sink = work_top(i);
		work_sink = long_work(rounds);
		cond_resched();
		if ((i & 15) == 15)
			msleep(1);
	}
}

/* Many short traced calls, with might_resched() inside work_middle, then cond_resched(). */
void kthread_worker(u64 rounds)
{
	for (u64 i = 0;; i++) {
		for (u64 j = 0; j < rounds; j++)
			work_sink = work_top(i + j);
		cond_resched();
	}
}

/* Bursts of traced calls with sleeps between them, so the vCPUs go idle in between.
 * arg: calls per burst in bits 0-15, ticks of sleep in bits 16-31 (at least 1). */
void kthread_burst(u64 arg)
{
	u64 calls = arg & 0xffff, ticks = (arg >> 16) & 0xffff;
	for (u64 i = 0;; i++) {
		for (u64 j = 0; j < calls; j++)
			work_sink = work_top(i + j);
		msleep(ticks ? ticks : 1);
	}
}

void kthread_sleeper(u64 ticks)
{
	for (u64 i = 0;; i++) {
		work_sink = work_top(i);
		msleep(ticks);
	}
}

void kthread_yielder(u64 unused)
{
	for (u64 i = unused;; i++) {
		work_sink = work_top(i);
		yield();
	}
}

/* A traced function a victim thread calls again and again. */
u64 victim_calls;
__attribute__((noinline)) void victim_traced(u64 i)
{
	asm volatile("lock incq %0" : "+m"(victim_calls));
	work_sink = i;
}

/* Calls victim_traced `calls` times, then sleeps a tick (a voluntary switch), forever. */
void kthread_victim(u64 calls)
{
	for (u64 i = 0;; i++) {
		for (u64 j = 0; j < calls; j++)
			victim_traced(j);
		msleep(1);
	}
}

/* Stays inside one preempt-disabled region for `rounds` rounds of long_work at a time (a
 * plain RCU reader), then gives the CPU up voluntarily. */
void kthread_preempt_off(u64 rounds)
{
	for (;;) {
		preempt_disable();
		for (u64 i = 0; i < rounds; i++)
			work_sink = long_work(1000);
		preempt_enable();
		msleep(1);
	}
}

/* Stays inside one RCU read-side critical section for `rounds` rounds of long_work at a time,
 * then gives the CPU up voluntarily. With preemptible RCU the reader can be preempted inside
 * (and then holds grace periods from the blocked-tasks list); without, rcu_read_lock() is
 * preempt_disable() and this is kthread_preempt_off. rcu_sections counts completed sections. */
u64 rcu_sections;
void kthread_rcu_reader(u64 rounds)
{
	for (;;) {
		rcu_read_lock();
		for (u64 i = 0; i < rounds; i++)
			work_sink = long_work(1000);
		rcu_read_unlock();
		asm volatile("lock incq %0" : "+m"(rcu_sections));
		msleep(1);
	}
}

/* A Tasks Trace RCU reader that blocks inside its read-side section for `ticks` timer ticks,
 * then leaves it and sleeps a tick outside. reader_sections counts completed sections. */
u64 reader_sections;
void kthread_trace_reader(u64 ticks)
{
	for (;;) {
		rcu_read_lock_trace();
		work_sink = work_top(ticks);
		msleep(ticks);
		rcu_read_unlock_trace();
		asm volatile("lock incq %0" : "+m"(reader_sections));
		msleep(1);
	}
}

/* Misbehaving threads, created only when a test asks for them. */

/* CPU-bound forever, never sleeping, never yielding: only preemption takes the CPU away. */
void kthread_hog(u64 unused)
{
	for (u64 i = unused;; i++)
		work_sink = long_work(1000 + (i & 7));
}

void kthread_spin_irqs_off(u64 unused)
{
	(void)unused;
	local_irq_disable();
	for (;;)
		work_sink++;
}

void kthread_oops(u64 after)
{
	for (u64 i = 0; i < after; i++)
		work_sink = work_top(i);
	volatile u64 *volatile p = NULL;
	*p = 1; /* a NULL-pointer write: #PF, oops */
}
