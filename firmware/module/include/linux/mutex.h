/* A sleeping lock: tries, and sleeps a jiffy between tries (no wait queue). */
#ifndef _LINUX_MUTEX_H
#define _LINUX_MUTEX_H
#include <linux/sched.h>

struct mutex { volatile int locked; };
#define DEFINE_MUTEX(name) struct mutex name = { 0 }
#define mutex_init(m) do { (m)->locked = 0; } while (0)

static __always_inline int mutex_trylock(struct mutex *m)
{
	int v = 1;
	__asm__ __volatile__("xchg %0, %1" : "+r"(v), "+m"(m->locked) : : "memory");
	return v == 0;
}
static __always_inline void mutex_lock(struct mutex *m)
{
	while (!mutex_trylock(m))
		schedule_timeout(1);
}
static __always_inline void mutex_unlock(struct mutex *m)
{
	__asm__ __volatile__("" : : : "memory");
	m->locked = 0;
}

#endif
