/* ftrace callbacks that misbehave on purpose, for the recursion tests, and the traced functions
 * they reach. Each counts its calls in op->calls like the other tracers, and under the mainline
 * scheme guards itself with ftrace_test_recursion_trylock() as mainline's callbacks do. */
#include "kernel.h"

static __always_inline notrace void count_call(struct ftrace_ops *op)
{
	asm volatile("lock incq %0" : "+m"(op->calls));
}

u64 recursion_target_calls;

/* A traced function a callback calls: if its site is traced too, that is recursion. */
__attribute__((noinline)) void recursion_target(void)
{
	asm volatile("lock incq %0" : "+m"(recursion_target_calls));
}

/* Calls a traced function from inside the callback, every time. Without a recursion guard
 * the callback re-enters itself until the stack overflows. Under the trampoline-guard schemes
 * the call is a tail call (the callback leaves no frame of its own); under mainline the unlock
 * comes after it. */
notrace void function_recursing_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	if (boot_params->recursion_scheme != RECURSION_SCHEME_MAINLINE) {
		count_call(op);
		recursion_target();
		return;
	}
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	count_call(op);
	recursion_target();
	ftrace_test_recursion_unlock(bit);
}

/* Touches kernel memory that is mapped on demand (op->private: the start of its pages), a new
 * page on each call, so every call takes a page fault whose handler runs traced code. */
notrace void function_faulting_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	u64 n;
	count_call(op);
	n = op->calls;
	(void)*(volatile u64 *)(op->private + (n % 1024) * 4096);
	ftrace_test_recursion_unlock(bit);
}

/* WARN_ON() when called for the function whose site is op->private; the #UD handler's
 * report_bug() is traced, and for it this callback only counts. */
notrace void function_warning_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	count_call(op);
	WARN_ON(ip == op->private);
	ftrace_test_recursion_unlock(bit);
}
