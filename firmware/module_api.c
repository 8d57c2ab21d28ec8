/* What the kernel exports to modules, beyond the scheduler and tracing calls that already
 * exist: memory (kmalloc), time (ktime_get, jiffies), the console with formats (_printk),
 * symbol names (sprint_symbol), grace periods (synchronize_*, call_rcu, rcu_barrier).
 * Every function a module may call is listed with EXPORT_SYMBOL; the loader resolves a
 * module's undefined symbols against that list only. */
#include "kernel.h"
#include "vsprintf.h"

/* ---- memory: the host's heap (src/kernel/heap.ts), zeroed, 16-byte aligned. */

void *__kmalloc(size_t size, unsigned int flags)
{
	return (void *)hypercall3(HYPERCALL_KMALLOC, (long)size, (long)flags, 0);
}
EXPORT_SYMBOL(__kmalloc);

void kfree(const void *p)
{
	if (p)
		hypercall3(HYPERCALL_KFREE, (long)p, 0, 0);
}
EXPORT_SYMBOL(kfree);

/* ---- time. jiffies counts timer ticks (the host advances it on every tick); ktime_get()
 * is the calling vCPU's virtual clock in nanoseconds. */
volatile unsigned long jiffies;
EXPORT_SYMBOL(jiffies);

notrace s64 ktime_get(void)
{
	return hypercall3(HYPERCALL_KTIME, 0, 0, 0);
}
EXPORT_SYMBOL(ktime_get);

unsigned long __msecs_to_jiffies(unsigned int ms)
{
	u64 ns = (u64)ms * 1000000;
	u64 period = boot_params->tick_period;
	return (ns + period - 1) / period;
}
EXPORT_SYMBOL(__msecs_to_jiffies);

/* Sleeps `timeout` jiffies; returns 0 (the time left when woken early is not tracked). */
long schedule_timeout(long timeout)
{
	if (timeout <= 0)
		return 0;
	msleep((u64)timeout);
	return 0;
}
EXPORT_SYMBOL(schedule_timeout);

notrace void *get_current(void)
{
	return current_task();
}
EXPORT_SYMBOL(get_current);

/* Every traced function of a module calls it (then the loader turns the call into a NOP). */
void __fentry__(void);
EXPORT_SYMBOL(__fentry__);
EXPORT_SYMBOL(schedule);
EXPORT_SYMBOL(cond_resched);
EXPORT_SYMBOL(preempt_disable);
EXPORT_SYMBOL(preempt_enable);
EXPORT_SYMBOL(__rcu_read_lock);
EXPORT_SYMBOL(__rcu_read_unlock);
EXPORT_SYMBOL(rcu_read_lock_trace);
EXPORT_SYMBOL(rcu_read_unlock_trace);
EXPORT_SYMBOL(memset);
EXPORT_SYMBOL(memcpy);
EXPORT_SYMBOL(strlen);

/* ---- the console. A level prefix (KERN_SOH and a digit) is passed on to the host, which
 * keeps it with the line's virtual time (the kernel log that `dmesg` shows). */

/* "name+0x1f/0x40 [mod]" (or without the offset) into buf; the length, 0 if no symbol covers
 * addr. The host knows the symbols of the image and of every module (vsprintf's %pS, %ps). */
int format_symbol(char *buf, size_t size, unsigned long addr, int with_offset)
{
	return (int)hypercall4(HYPERCALL_SPRINT_SYMBOL, (long)addr, (long)buf, (long)size, with_offset);
}

#define KSYM_SYMBOL_LEN 640

/* The kernel's: buffer holds KSYM_SYMBOL_LEN bytes; an unknown address prints as 0x%lx. */
static int sprint_symbol_common(char *buffer, unsigned long address, int with_offset)
{
	int n = format_symbol(buffer, KSYM_SYMBOL_LEN, address, with_offset);
	return n > 0 ? n : snprintf(buffer, KSYM_SYMBOL_LEN, "0x%lx", address);
}

int sprint_symbol(char *buffer, unsigned long address)
{
	return sprint_symbol_common(buffer, address, 1);
}
EXPORT_SYMBOL(sprint_symbol);

int sprint_symbol_no_offset(char *buffer, unsigned long address)
{
	return sprint_symbol_common(buffer, address, 0);
}
EXPORT_SYMBOL(sprint_symbol_no_offset);

notrace int raw_smp_processor_id(void)
{
	return (int)this_cpu()->cpu;
}
EXPORT_SYMBOL(raw_smp_processor_id);

notrace int preempt_count(void)
{
	return (int)this_cpu()->preempt_count;
}
EXPORT_SYMBOL(preempt_count);
EXPORT_SYMBOL(preempt_enable_notrace);
EXPORT_SYMBOL(yield);

unsigned int jiffies_to_msecs(unsigned long j)
{
	return (unsigned int)((u64)j * boot_params->tick_period / 1000000);
}
EXPORT_SYMBOL(jiffies_to_msecs);

#define PRINTK_MAX 512

int vprintk(const char *fmt, va_list args)
{
	char buf[PRINTK_MAX];
	int n = vscnprintf(buf, sizeof(buf), fmt, args);
	hypercall3(HYPERCALL_CONSOLE, (long)buf, n, 0);
	return n;
}
EXPORT_SYMBOL(vprintk);

int _printk(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	int n = vprintk(fmt, args);
	va_end(args);
	return n;
}
EXPORT_SYMBOL(_printk);
EXPORT_SYMBOL(vsnprintf);
EXPORT_SYMBOL(snprintf);
EXPORT_SYMBOL(vscnprintf);
EXPORT_SYMBOL(scnprintf);

/* ---- grace periods. Each synchronize_*() sleeps until a grace period of its flavour that
 * starts now has ended (the host's RCU state machines, src/kernel/rcu). */

void synchronize_rcu(void)
{
	host_job(HYPERCALL_SYNCHRONIZE, SYNC_FLAVOUR_RCU, 0, 0, 0);
}
EXPORT_SYMBOL(synchronize_rcu);

void synchronize_rcu_tasks(void)
{
	host_job(HYPERCALL_SYNCHRONIZE, SYNC_FLAVOUR_TASKS, 0, 0, 0);
}
EXPORT_SYMBOL(synchronize_rcu_tasks);

void synchronize_rcu_tasks_rude(void)
{
	host_job(HYPERCALL_SYNCHRONIZE, SYNC_FLAVOUR_TASKS_RUDE, 0, 0, 0);
}
EXPORT_SYMBOL(synchronize_rcu_tasks_rude);

void synchronize_rcu_tasks_trace(void)
{
	host_job(HYPERCALL_SYNCHRONIZE, SYNC_FLAVOUR_TASKS_TRACE, 0, 0, 0);
}
EXPORT_SYMBOL(synchronize_rcu_tasks_trace);

/* call_rcu(head, func): func(head) runs after a grace period, in the rcuc kernel thread
 * (kthread.c), which the host starts on the first call. */
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *))
{
	head->func = func;
	hypercall3(HYPERCALL_CALL_RCU, (long)head, (long)func, SYNC_FLAVOUR_RCU);
}
EXPORT_SYMBOL(call_rcu);

void call_rcu_tasks(struct rcu_head *head, void (*func)(struct rcu_head *))
{
	head->func = func;
	hypercall3(HYPERCALL_CALL_RCU, (long)head, (long)func, SYNC_FLAVOUR_TASKS);
}
EXPORT_SYMBOL(call_rcu_tasks);

/* Waits until every callback queued by call_rcu*() so far has run. */
void rcu_barrier(void)
{
	host_job(HYPERCALL_RCU_CALLBACKS, 0, 0, 1, 0);
}
EXPORT_SYMBOL(rcu_barrier);

/* The rcuc thread: asks the host for callbacks whose grace period is over (sleeping while
 * there are none) and runs them. */
#define RCU_BATCH 16

void rcu_callback_thread(u64 unused)
{
	struct rcu_head *batch[RCU_BATCH];
	for (;;) {
		long n = host_job(HYPERCALL_RCU_CALLBACKS, (long)batch, RCU_BATCH, 0, 0);
		for (long i = 0; i < n && i < RCU_BATCH; i++)
			batch[i]->func(batch[i]);
	}
}
