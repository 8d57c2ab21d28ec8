// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of a traced call as the number of ftrace_ops grows: nr_ops_relevant ops trace
 * tracee_relevant(), nr_ops_irrelevant ops trace tracee_irrelevant(), and init calls
 * tracee_relevant() nr_function_calls times, timed with ktime_get(). With one relevant ops the
 * site calls that ops' trampoline; with more, the list function walks every ops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/slab.h>
#include <linux/ktime.h>

static unsigned long nr_function_calls = 1000;
module_param(nr_function_calls, ulong, 0);
MODULE_PARM_DESC(nr_function_calls, "how many times to call tracee_relevant()");

static unsigned int nr_ops_relevant = 1;
module_param(nr_ops_relevant, uint, 0);
MODULE_PARM_DESC(nr_ops_relevant, "ops tracing tracee_relevant()");

static unsigned int nr_ops_irrelevant;
module_param(nr_ops_irrelevant, uint, 0);
MODULE_PARM_DESC(nr_ops_irrelevant, "ops tracing tracee_irrelevant() only");

static bool save_regs;
module_param(save_regs, bool, 0);
MODULE_PARM_DESC(save_regs, "FTRACE_OPS_FL_SAVE_REGS on every ops");

static bool assist_recursion;
module_param(assist_recursion, bool, 0);
MODULE_PARM_DESC(assist_recursion, "FTRACE_OPS_FL_RECURSION on every ops");

static bool assist_rcu;
module_param(assist_rcu, bool, 0);
MODULE_PARM_DESC(assist_rcu, "FTRACE_OPS_FL_RCU on every ops");

static unsigned long tracer_calls;

static noinline int tracee_relevant(void)
{
	barrier();
	return 0;
}

static noinline int tracee_irrelevant(void)
{
	barrier();
	return 1;
}

static void notrace count_call(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	tracer_calls++;
}

static struct ftrace_ops *ops_relevant, *ops_irrelevant;

static struct ftrace_ops *make_ops(unsigned int n, unsigned long ip)
{
	struct ftrace_ops *ops = kcalloc(n, sizeof(*ops), GFP_KERNEL);
	unsigned int i;

	if (!ops)
		return NULL;
	for (i = 0; i < n; i++) {
		ops[i].func = count_call;
		ops[i].flags = (save_regs ? FTRACE_OPS_FL_SAVE_REGS : 0) |
			       (assist_recursion ? FTRACE_OPS_FL_RECURSION : 0) |
			       (assist_rcu ? FTRACE_OPS_FL_RCU : 0);
		ftrace_set_filter_ip(&ops[i], ip, 0, 0);
		register_ftrace_function(&ops[i]);
	}
	return ops;
}

static void free_ops(struct ftrace_ops *ops, unsigned int n)
{
	unsigned int i;

	for (i = 0; ops && i < n; i++) {
		unregister_ftrace_function(&ops[i]);
		ftrace_free_filter(&ops[i]);
	}
	kfree(ops);
}

static int __init ops_bench_init(void)
{
	unsigned long i;
	ktime_t start, end;
	u64 period;

	ops_relevant = make_ops(nr_ops_relevant, (unsigned long)tracee_relevant);
	ops_irrelevant = make_ops(nr_ops_irrelevant, (unsigned long)tracee_irrelevant);
	if ((nr_ops_relevant && !ops_relevant) || (nr_ops_irrelevant && !ops_irrelevant))
		return -ENOMEM;

	start = ktime_get();
	for (i = 0; i < nr_function_calls; i++)
		tracee_relevant();
	end = ktime_get();

	period = div_u64(ktime_to_ns(ktime_sub(end, start)), nr_function_calls ? nr_function_calls : 1);
	pr_info("attempted %lu calls to %ps in %lldns (%lluns/call), %lu callback calls; %u relevant ops, %u irrelevant ops%s%s%s\n",
		nr_function_calls, tracee_relevant, ktime_to_ns(ktime_sub(end, start)), period, tracer_calls,
		nr_ops_relevant, nr_ops_irrelevant, save_regs ? ", SAVE_REGS" : "",
		assist_recursion ? ", RECURSION" : "", assist_rcu ? ", RCU" : "");
	return 0;
}

static void __exit ops_bench_exit(void)
{
	free_ops(ops_relevant, nr_ops_relevant);
	free_ops(ops_irrelevant, nr_ops_irrelevant);
}

module_init(ops_bench_init);
module_exit(ops_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("The cost of a traced call against the number of ftrace_ops");
