// SPDX-License-Identifier: GPL-2.0
/*
 * A direct call: work_leaf()'s site calls this module's trampoline directly (no ftrace_caller,
 * no list function), because the direct ops is the only one tracing it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/string.h>
#include "direct_tramp.h"

unsigned long direct_calls;

void notrace my_direct_func(unsigned long ip)
{
	direct_calls++;
}

extern void my_tramp(void);
DIRECT_TRAMPOLINE(my_tramp, my_direct_func);

static struct ftrace_ops direct_ops;

static int __init direct_init(void)
{
	static char filter[] = "work_leaf";
	int ret = ftrace_set_filter(&direct_ops, (unsigned char *)filter, strlen(filter), 1);

	if (ret)
		return ret;
	ret = register_ftrace_direct(&direct_ops, (unsigned long)my_tramp);
	if (!ret)
		pr_info("work_leaf now calls %ps directly\n", my_tramp);
	return ret;
}

static void __exit direct_exit(void)
{
	unregister_ftrace_direct(&direct_ops, (unsigned long)my_tramp, true);
	pr_info("%lu direct calls\n", direct_calls);
}

module_init(direct_init);
module_exit(direct_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("register_ftrace_direct on work_leaf");
