// SPDX-License-Identifier: GPL-2.0
/*
 * A module that forgets to unregister its ftrace_ops in its exit function. After rmmod its
 * memory is freed, but the ops is still registered: the next call of the traced function goes
 * through the trampoline into the module's freed callback, and the report names the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/string.h>

static unsigned long hits;

static void notrace count_hits(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	hits++;
}

static struct ftrace_ops forgotten_ops = {
	.func = count_hits,
};

static int __init forgetful_init(void)
{
	static char filter[] = "work_top";

	ftrace_set_filter(&forgotten_ops, (unsigned char *)filter, strlen(filter), 1);
	return register_ftrace_function(&forgotten_ops);
}

static void __exit forgetful_exit(void)
{
	/* The bug: no unregister_ftrace_function(&forgotten_ops) here. */
	pr_info("going away after %lu hits, ops still registered\n", hits);
}

module_init(forgetful_init);
module_exit(forgetful_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Forgets to unregister its ftrace_ops");
