/* Spinlocks: a locked exchange loop with preemption (and optionally interrupts) disabled. */
#ifndef _LINUX_SPINLOCK_H
#define _LINUX_SPINLOCK_H
#include <linux/preempt.h>
#include <asm/processor.h>

typedef struct { volatile int locked; } spinlock_t;
#define __SPIN_LOCK_UNLOCKED(name) { 0 }
#define DEFINE_SPINLOCK(name) spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
#define spin_lock_init(l) do { (l)->locked = 0; } while (0)

static __always_inline int arch_spin_trylock(spinlock_t *l)
{
	int v = 1;
	__asm__ __volatile__("xchg %0, %1" : "+r"(v), "+m"(l->locked) : : "memory");
	return v == 0;
}
static __always_inline void spin_lock(spinlock_t *l)
{
	preempt_disable();
	while (!arch_spin_trylock(l))
		cpu_relax();
}
static __always_inline void spin_unlock(spinlock_t *l)
{
	__asm__ __volatile__("" : : : "memory");
	l->locked = 0;
	preempt_enable();
}
#define spin_lock_irqsave(l, flags) do { local_irq_save(flags); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { spin_unlock(l); local_irq_restore(flags); } while (0)
#define spin_lock_irq(l) do { local_irq_disable(); spin_lock(l); } while (0)
#define spin_unlock_irq(l) do { spin_unlock(l); local_irq_enable(); } while (0)

#endif
