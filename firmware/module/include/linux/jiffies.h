#ifndef _LINUX_JIFFIES_H
#define _LINUX_JIFFIES_H
#include <linux/compiler.h>
#include <linux/types.h>

/* Timer ticks since boot. The tick period is the machine's (--tick-period), not a HZ fixed at
 * build time, so conversions are functions. */
extern volatile unsigned long jiffies;
unsigned long __msecs_to_jiffies(unsigned int m);
unsigned int jiffies_to_msecs(unsigned long j);
#define msecs_to_jiffies(m) __msecs_to_jiffies(m)
static __always_inline unsigned long usecs_to_jiffies(unsigned int u) { return __msecs_to_jiffies((u + 999) / 1000); }

#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#define time_after_eq(a, b) ((long)((a) - (b)) >= 0)
#define time_before_eq(a, b) time_after_eq(b, a)
#define time_is_before_jiffies(a) time_after(jiffies, a)
#define time_is_after_jiffies(a) time_before(jiffies, a)

#endif
