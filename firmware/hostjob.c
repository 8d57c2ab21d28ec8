/* Work the host does for a task over time: registering an ftrace_ops (which patches text with
 * the INT3 protocol while every vCPU runs), waiting for a grace period, waiting for RCU
 * callbacks. The hypercall either answers at once or returns HOST_JOB_PENDING; then the host
 * has marked the task sleeping, and the task schedules until the host sets job_done. */
#include "kernel.h"

notrace long host_job(long nr, long a, long b, long c, long d)
{
	struct task *t = current_task();
	WRITE_ONCE(t->job_done, 0);
	long r = hypercall4(nr, a, b, c, d);
	if (r != (long)HOST_JOB_PENDING)
		return r;
	/* A wakeup may come before this schedule(): then the task is merely runnable again, and
	 * the loop sees job_done on its next pass. */
	while (!READ_ONCE(t->job_done))
		schedule();
	return (long)t->job_result;
}
