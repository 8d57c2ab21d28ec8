// SPDX-License-Identifier: GPL-2.0
/* The smallest useful module: parameters of every type, the kernel log, a kernel thread. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/slab.h>

static int count = 3;
module_param(count, int, 0644);
MODULE_PARM_DESC(count, "how many greetings the thread prints");

static unsigned int delay_ms = 1;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "sleep between greetings");

static unsigned long magic = 0xfeed;
module_param(magic, ulong, 0444);

static bool shout;
module_param(shout, bool, 0644);

static char *who = "world";
module_param(who, charp, 0644);

static struct task_struct *greeter;

static int greet(void *data)
{
	int i;

	for (i = 0; i < count && !kthread_should_stop(); i++) {
		pr_info("%s %s #%d from %s on cpu%d\n", shout ? "HELLO" : "hello", who, i, current->comm, smp_processor_id());
		msleep(delay_ms);
	}
	while (!kthread_should_stop())
		msleep(1);
	return i;
}

static int __init hello_init(void)
{
	if (count < 0)
		return -EINVAL;
	pr_info("loading: count=%d delay_ms=%u magic=%#lx init at %ps\n", count, delay_ms, magic, hello_init);
	greeter = kthread_run(greet, NULL, "greeter");
	if (IS_ERR(greeter))
		return PTR_ERR(greeter);
	return 0;
}

static void __exit hello_exit(void)
{
	int greeted = kthread_stop(greeter);

	pr_info("unloading: the greeter said hello %d times\n", greeted);
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Parameters, the kernel log and a kernel thread");
