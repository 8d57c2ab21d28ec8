#ifndef _LINUX_DELAY_H
#define _LINUX_DELAY_H
#include <linux/sched.h>
#include <linux/ktime.h>
#include <asm/processor.h>

/* Sleeps at least `msecs` (rounded up to whole timer ticks). */
static __always_inline void msleep(unsigned int msecs)
{
	schedule_timeout_uninterruptible(msecs_to_jiffies(msecs) ? msecs_to_jiffies(msecs) : 1);
}
static __always_inline unsigned long msleep_interruptible(unsigned int msecs)
{
	msleep(msecs);
	return 0;
}
static __always_inline void usleep_range(unsigned long min, unsigned long max)
{
	msleep((unsigned int)((min + 999) / 1000));
}
static __always_inline void fsleep(unsigned long usecs)
{
	usleep_range(usecs, usecs);
}

/* Busy-waits on the vCPU's clock. */
static __always_inline void ndelay(unsigned long nsecs)
{
	ktime_t end = ktime_get() + (ktime_t)nsecs;
	while (ktime_get() < end)
		cpu_relax();
}
static __always_inline void udelay(unsigned long usecs) { ndelay(usecs * 1000); }
static __always_inline void mdelay(unsigned long msecs) { ndelay(msecs * 1000000); }

#endif
