/* Tasks Trace RCU: readers may sleep and fault inside; the grace period waits for each task. */
#ifndef _LINUX_RCUPDATE_TRACE_H
#define _LINUX_RCUPDATE_TRACE_H
#include <linux/rcupdate.h>
void rcu_read_lock_trace(void);
void rcu_read_unlock_trace(void);
void synchronize_rcu_tasks_trace(void);
#endif
