/* Kernel threads made at run time (kthread_create, kthread_stop), and the tasks in whose
 * context a module's init and exit functions run. The host creates the task (struct task,
 * stack, a frame that switch_to returns from into ret_from_fork); it starts in kthread(). */
#include "kernel.h"

/* What the host allocates for each thread: the function and its argument. */
struct kthread_create_info {
	int (*threadfn)(void *data);
	void *data;
};

/* First code of every thread made by kthread_create: runs threadfn and exits with its value. */
void kthread(u64 arg)
{
	struct kthread_create_info *k = (struct kthread_create_info *)arg;
	struct task *t = current_task();
	t->exit_code = (u64)(long)k->threadfn(k->data);
	task_exit();
}

/* Creates a stopped thread named `name`; NULL-like ERR_PTR(-errno) on failure. The host
 * formats nothing: the caller's printf-style name is already a string. */
struct task *kthread_create_named(int (*threadfn)(void *), void *data, int cpu, const char *name)
{
	return (struct task *)hypercall4(HYPERCALL_KTHREAD_CREATE, (long)threadfn, (long)data, cpu, (long)name);
}
EXPORT_SYMBOL(kthread_create_named);

int wake_up_process(struct task *t)
{
	return (int)hypercall3(HYPERCALL_WAKE_UP, (long)t, 0, 0);
}
EXPORT_SYMBOL(wake_up_process);

int kthread_should_stop(void)
{
	return READ_ONCE(current_task()->kthread_should_stop) != 0;
}
EXPORT_SYMBOL(kthread_should_stop);

/* Asks `t` to stop, wakes it, and waits (a jiffy at a time) until it has exited. */
int kthread_stop(struct task *t)
{
	WRITE_ONCE(t->kthread_should_stop, 1);
	wake_up_process(t);
	while (!READ_ONCE(t->exited))
		msleep(1);
	return (int)t->exit_code;
}
EXPORT_SYMBOL(kthread_stop);

/* The task that runs a module's init_module or cleanup_module (what insmod's and rmmod's
 * system calls run in): the host passes the function, the result is its exit code. */
void module_call(u64 fn)
{
	struct task *t = current_task();
	t->exit_code = (u64)(long)((int (*)(void))fn)();
	task_exit();
}
