#ifndef _LINUX_PREEMPT_H
#define _LINUX_PREEMPT_H
#include <linux/compiler.h>

/* Functions of the machine's kernel (the count is per vCPU); preempt_enable() is a preemption
 * point on a preemptible kernel. */
void preempt_disable(void);
void preempt_enable(void);
void preempt_enable_notrace(void);
int preempt_count(void);
#define preempt_disable_notrace() preempt_disable()
#define preempt_enable_no_resched() preempt_enable()
#define preemptible() (preempt_count() == 0 && !irqs_disabled())
#define in_atomic() (preempt_count() != 0)
#define in_interrupt() ((preempt_count() & 0xfff00) != 0)
#define in_task() (!in_interrupt())

#include <linux/irqflags.h>
#endif
