// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 003 from a module alone: a slow callback on a function a kernel thread calls in a loop,
 * and a second thread competing for the same vCPU, so the first is often preempted while it is
 * inside the callback, that is, inside the ops' trampoline. rmmod unregisters the ops while
 * that happens. ftrace_shutdown then waits for the release policy before it frees the
 * trampoline: with plain RCU only (--release rcu) on a preemptible kernel the trampoline is
 * freed under the preempted thread, which returns into freed memory; with the kernel's policy
 * (Tasks RCU) the wait covers it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/string.h>

static unsigned int spin = 3000;
module_param(spin, uint, 0);
MODULE_PARM_DESC(spin, "how long the callback takes (loop iterations)");

static unsigned int calls = 50;
module_param(calls, uint, 0);
MODULE_PARM_DESC(calls, "calls in a row before the victim sleeps a jiffy (longer than a time slice: it is preempted)");

static int cpu;
module_param(cpu, int, 0);
MODULE_PARM_DESC(cpu, "the vCPU both threads run on");

static unsigned long victim_calls, callback_calls;

static noinline void victim_traced(void)
{
	victim_calls++;
	barrier();
}

/* Takes its time, with preemption enabled: a preemption here leaves the thread inside the
 * trampoline (its return address is on the thread's stack). Not notrace, like the kernel's
 * sample callbacks: its fentry call gives it a frame (a frameless leaf would hide the
 * trampoline from a frame-pointer unwind) and nothing traces it here. */
static void slow_callback(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	unsigned int i;

	for (i = 0; i < spin; i++)
		barrier();
	callback_calls++;
}

static struct ftrace_ops slow_ops = {
	.func = slow_callback,
};

static int victim(void *data)
{
	unsigned int i;

	while (!kthread_should_stop()) {
		for (i = 0; i < calls; i++)
			victim_traced();
		schedule_timeout_uninterruptible(1);
	}
	return 0;
}

/* Keeps the vCPU busy, so the victim waits its turn; it sleeps a jiffy now and then, as a
 * Tasks RCU grace period needs every task to (a task that never blocks holds it up forever). */
static int hog(void *data)
{
	while (!kthread_should_stop()) {
		unsigned int i;

		for (i = 0; i < 100000; i++)
			barrier();
		schedule_timeout_uninterruptible(1);
	}
	return 0;
}

static struct task_struct *victim_task, *hog_task;

static int __init seed003_init(void)
{
	static char filter[] = "victim_traced";
	int ret = ftrace_set_filter(&slow_ops, (unsigned char *)filter, strlen(filter), 1);

	if (ret)
		return ret;
	ret = register_ftrace_function(&slow_ops);
	if (ret)
		return ret;
	victim_task = kthread_create_on_cpu(victim, NULL, cpu, "victim");
	hog_task = kthread_create_on_cpu(hog, NULL, cpu, "hog");
	if (IS_ERR(victim_task) || IS_ERR(hog_task)) {
		unregister_ftrace_function(&slow_ops);
		return -ENOMEM;
	}
	wake_up_process(victim_task);
	wake_up_process(hog_task);
	pr_info("tracing %ps with a slow callback (spin=%u) on cpu%d\n", victim_traced, spin, cpu);
	return 0;
}

static void __exit seed003_exit(void)
{
	unregister_ftrace_function(&slow_ops);
	pr_info("unregistered after %lu callback calls (%lu calls of %ps)\n", callback_calls, victim_calls, victim_traced);
	kthread_stop(victim_task);
	kthread_stop(hog_task);
}

module_init(seed003_init);
module_exit(seed003_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Seed 003: rmmod while a task is preempted inside the ops' trampoline");
