/* RCU for modules. rcu_read_lock() calls the kernel's __rcu_read_lock(), which counts nesting
 * in the task under CONFIG_PREEMPT_RCU and disables preemption otherwise (the kernel picks one
 * when it is built; tramplab's kernel picks at boot, so a module works with either). The
 * update side waits for the host's grace periods. */
#ifndef _LINUX_RCUPDATE_H
#define _LINUX_RCUPDATE_H
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/preempt.h>

void __rcu_read_lock(void);
void __rcu_read_unlock(void);
static __always_inline void rcu_read_lock(void) { __rcu_read_lock(); }
static __always_inline void rcu_read_unlock(void) { __rcu_read_unlock(); }
static __always_inline void rcu_read_lock_sched(void) { preempt_disable(); }
static __always_inline void rcu_read_unlock_sched(void) { preempt_enable(); }
#define rcu_read_lock_bh() rcu_read_lock()
#define rcu_read_unlock_bh() rcu_read_unlock()

#define rcu_dereference(p) READ_ONCE(p)
#define rcu_dereference_raw(p) READ_ONCE(p)
#define rcu_dereference_protected(p, c) (p)
#define rcu_access_pointer(p) READ_ONCE(p)
#define rcu_assign_pointer(p, v) smp_store_release(&(p), (v))
#define RCU_INIT_POINTER(p, v) WRITE_ONCE(p, v)

typedef void (*rcu_callback_t)(struct rcu_head *head);
void synchronize_rcu(void);
void call_rcu(struct rcu_head *head, rcu_callback_t func);
void rcu_barrier(void);
void synchronize_rcu_tasks(void);
void call_rcu_tasks(struct rcu_head *head, rcu_callback_t func);
void synchronize_rcu_tasks_rude(void);
#define synchronize_sched() synchronize_rcu()

#endif
