// SPDX-License-Identifier: GPL-2.0
/*
 * modify_ftrace_direct: a thread moves work_leaf()'s direct call between two trampolines every
 * few milliseconds; each move re-patches the live site with the INT3 protocol.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/string.h>
#include "direct_tramp.h"

static unsigned int period_ms = 2;
module_param(period_ms, uint, 0);

unsigned long calls1, calls2;

void notrace my_direct_func1(unsigned long ip) { calls1++; }
void notrace my_direct_func2(unsigned long ip) { calls2++; }

extern void my_tramp1(void), my_tramp2(void);
DIRECT_TRAMPOLINE(my_tramp1, my_direct_func1);
DIRECT_TRAMPOLINE(my_tramp2, my_direct_func2);

static struct ftrace_ops direct_ops;
static unsigned long current_tramp;
static struct task_struct *mover;
static int moves;

static int mover_fn(void *data)
{
	while (!kthread_should_stop()) {
		unsigned long next = current_tramp == (unsigned long)my_tramp1 ? (unsigned long)my_tramp2 : (unsigned long)my_tramp1;

		msleep(period_ms);
		if (modify_ftrace_direct(&direct_ops, next) == 0) {
			current_tramp = next;
			moves++;
		}
	}
	return moves;
}

static int __init direct_modify_init(void)
{
	static char filter[] = "work_leaf";
	int ret = ftrace_set_filter(&direct_ops, (unsigned char *)filter, strlen(filter), 1);

	if (ret)
		return ret;
	current_tramp = (unsigned long)my_tramp1;
	ret = register_ftrace_direct(&direct_ops, current_tramp);
	if (ret)
		return ret;
	mover = kthread_run(mover_fn, NULL, "direct-mover");
	return IS_ERR(mover) ? PTR_ERR(mover) : 0;
}

static void __exit direct_modify_exit(void)
{
	int n = kthread_stop(mover);

	unregister_ftrace_direct(&direct_ops, current_tramp, true);
	pr_info("%d moves; %lu calls through my_tramp1, %lu through my_tramp2\n", n, calls1, calls2);
}

module_init(direct_modify_init);
module_exit(direct_modify_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modify_ftrace_direct between two trampolines");
