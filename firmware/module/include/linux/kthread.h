#ifndef _LINUX_KTHREAD_H
#define _LINUX_KTHREAD_H
#include <linux/sched.h>
#include <linux/err.h>

struct task_struct *kthread_create_named(int (*threadfn)(void *data), void *data, int cpu, const char *name);

/* A stopped kernel thread running threadfn(data) once woken; ERR_PTR(-errno) on failure. The
 * machine pins every task to one vCPU: kthread_create picks one, kthread_create_on_cpu is told. */
#define kthread_create_on_cpu(threadfn, data, cpu, namefmt, ...) ({			\
	char __kname[TASK_COMM_LEN];							\
	snprintf(__kname, sizeof(__kname), namefmt, ##__VA_ARGS__);			\
	kthread_create_named(threadfn, data, cpu, __kname);				\
})
#define kthread_create(threadfn, data, namefmt, ...)					\
	kthread_create_on_cpu(threadfn, data, -1, namefmt, ##__VA_ARGS__)
#define kthread_run(threadfn, data, namefmt, ...) ({					\
	struct task_struct *__k = kthread_create(threadfn, data, namefmt, ##__VA_ARGS__); \
	if (!IS_ERR(__k))								\
		wake_up_process(__k);							\
	__k;										\
})

int kthread_should_stop(void);
/* Sets kthread_should_stop() for k, wakes it and waits for it to exit; its return value. */
int kthread_stop(struct task_struct *k);

#endif
