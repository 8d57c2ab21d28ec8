// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 003's case for dynamic trampolines: nr_ops ftrace_ops, each filtering one function of its
 * own (fan_000 .. fan_999), and every one of those functions called `rounds` times, each call
 * timed with ktime_get() with interrupts off (the vCPU's virtual clock: one nanosecond per
 * instruction; the two ktime_get() calls add the same few instructions to every sample). With a trampoline per ops each traced call goes straight to
 * its one callback; through the list function (machine option trampolines: false) each call
 * walks all nr_ops ops, testing each one's hash.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/slab.h>
#include <linux/ktime.h>
#include <linux/irqflags.h>

#define NR_FAN 1000

static unsigned int nr_ops = NR_FAN;
module_param(nr_ops, uint, 0);
MODULE_PARM_DESC(nr_ops, "ops, each tracing one function of its own (at most 1000)");

static unsigned long rounds = 1;
module_param(rounds, ulong, 0);
MODULE_PARM_DESC(rounds, "how many times each traced function is called");

static unsigned long tracer_calls;

/* fan_000 .. fan_999: a thousand small traced functions, and a table of them. */
#define FAN(a, b, c) static noinline int fan_##a##b##c(void) { barrier(); return 1##a##b##c; }
#define FAN10(a, b) FAN(a, b, 0) FAN(a, b, 1) FAN(a, b, 2) FAN(a, b, 3) FAN(a, b, 4) \
	FAN(a, b, 5) FAN(a, b, 6) FAN(a, b, 7) FAN(a, b, 8) FAN(a, b, 9)
#define FAN100(a) FAN10(a, 0) FAN10(a, 1) FAN10(a, 2) FAN10(a, 3) FAN10(a, 4) \
	FAN10(a, 5) FAN10(a, 6) FAN10(a, 7) FAN10(a, 8) FAN10(a, 9)
FAN100(0) FAN100(1) FAN100(2) FAN100(3) FAN100(4) FAN100(5) FAN100(6) FAN100(7) FAN100(8) FAN100(9)

#define REF(a, b, c) fan_##a##b##c,
#define REF10(a, b) REF(a, b, 0) REF(a, b, 1) REF(a, b, 2) REF(a, b, 3) REF(a, b, 4) \
	REF(a, b, 5) REF(a, b, 6) REF(a, b, 7) REF(a, b, 8) REF(a, b, 9)
#define REF100(a) REF10(a, 0) REF10(a, 1) REF10(a, 2) REF10(a, 3) REF10(a, 4) \
	REF10(a, 5) REF10(a, 6) REF10(a, 7) REF10(a, 8) REF10(a, 9)
static int (*const fan[NR_FAN])(void) = {
	REF100(0) REF100(1) REF100(2) REF100(3) REF100(4) REF100(5) REF100(6) REF100(7) REF100(8) REF100(9)
};

static void notrace count_call(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	tracer_calls++;
}

static struct ftrace_ops *ops;
static unsigned int registered;

static int __init seed003_fanout_init(void)
{
	unsigned long flags, r, calls;
	unsigned int i;
	ktime_t start, end;
	s64 total = 0;

	if (nr_ops > NR_FAN)
		return -EINVAL;
	ops = kcalloc(nr_ops ? nr_ops : 1, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	for (i = 0; i < nr_ops; i++) {
		ops[i].func = count_call;
		if (ftrace_set_filter_ip(&ops[i], (unsigned long)fan[i], 0, 0) || register_ftrace_function(&ops[i]))
			break;
		registered++;
	}
	if (registered < nr_ops)
		return -EBUSY;

	/* Interrupts off per call, not around the loop: a thousand calls through the list
	 * function take long enough to look like a soft lockup. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nr_ops; i++) {
			local_irq_save(flags);
			start = ktime_get();
			fan[i]();
			end = ktime_get();
			local_irq_restore(flags);
			total += ktime_to_ns(ktime_sub(end, start));
		}
	}

	calls = rounds * nr_ops;
	pr_info("%u ops, one function each: %lu traced calls in %lldns (%lluns/call), %lu callback calls\n",
		nr_ops, calls, total, div_u64(total, calls ? calls : 1), tracer_calls);
	return 0;
}

static void __exit seed003_fanout_exit(void)
{
	unsigned int i;

	for (i = 0; i < registered; i++) {
		unregister_ftrace_function(&ops[i]);
		ftrace_free_filter(&ops[i]);
	}
	kfree(ops);
}

module_init(seed003_fanout_init);
module_exit(seed003_fanout_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Seed 003: 1000 ops on 1000 functions, through trampolines or the list function");
