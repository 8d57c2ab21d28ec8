// SPDX-License-Identifier: GPL-2.0
/*
 * A direct call on a site another ops also traces: the site goes through ftrace_regs_caller,
 * the list function calls both ops, and the direct one (call_direct_funcs) has the trampoline
 * enter this module's trampoline on its way back to work_leaf().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/string.h>
#include "direct_tramp.h"

unsigned long direct_calls, callback_calls;

void notrace my_direct_func(unsigned long ip)
{
	direct_calls++;
}

extern void my_tramp(void);
DIRECT_TRAMPOLINE(my_tramp, my_direct_func);

static void notrace count_call(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	callback_calls++;
}

static struct ftrace_ops direct_ops;
static struct ftrace_ops plain_ops = { .func = count_call };

static int __init direct_shared_init(void)
{
	static char filter[] = "work_leaf";
	int ret;

	ftrace_set_filter(&direct_ops, (unsigned char *)filter, strlen(filter), 1);
	ftrace_set_filter(&plain_ops, (unsigned char *)filter, strlen(filter), 1);
	ret = register_ftrace_direct(&direct_ops, (unsigned long)my_tramp);
	if (ret)
		return ret;
	ret = register_ftrace_function(&plain_ops);
	if (ret)
		unregister_ftrace_direct(&direct_ops, (unsigned long)my_tramp, true);
	return ret;
}

static void __exit direct_shared_exit(void)
{
	unregister_ftrace_function(&plain_ops);
	unregister_ftrace_direct(&direct_ops, (unsigned long)my_tramp, true);
	pr_info("%lu direct calls, %lu callback calls\n", direct_calls, callback_calls);
}

module_init(direct_shared_init);
module_exit(direct_shared_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A direct call on a site shared with another ops");
