#ifndef _LINUX_SCHED_H
#define _LINUX_SCHED_H
#include <linux/kernel.h>
#include <linux/jiffies.h>
#include <linux/preempt.h>
#include <linux/smp.h>

#define TASK_COMM_LEN 16
/* The fields of the machine's struct task a module may read (checked by the project's tests). */
struct task_struct {
	pid_t pid;
	unsigned int __kind;
	unsigned long __private[5];
	char comm[TASK_COMM_LEN];
};

void *get_current(void);
#define current ((struct task_struct *)get_current())

#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
/* Sleeps here are timed (schedule_timeout) or wait for the host; the state is not recorded. */
#define set_current_state(state) do { (void)(state); barrier(); } while (0)
#define __set_current_state(state) do { (void)(state); } while (0)

#define MAX_SCHEDULE_TIMEOUT LONG_MAX
void schedule(void);
void yield(void);
long schedule_timeout(long timeout);
static __always_inline long schedule_timeout_interruptible(long timeout) { return schedule_timeout(timeout); }
static __always_inline long schedule_timeout_uninterruptible(long timeout) { return schedule_timeout(timeout); }
static __always_inline long schedule_timeout_idle(long timeout) { return schedule_timeout(timeout); }
void cond_resched(void);

int wake_up_process(struct task_struct *p);

#endif
