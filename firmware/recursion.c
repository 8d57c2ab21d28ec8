/* Keeping ftrace callbacks from recursing. The static trampolines (and so every dynamic copy)
 * call ftrace_recursion_enter() before their callbacks and ftrace_recursion_exit() after; a
 * zero from enter means "already tracing here: skip the callbacks", and the skip is counted.
 *
 * Two schemes, chosen at boot:
 *
 * PER_STACK (seed 002's proposal): one in_tracing flag per kernel stack, in the header at the
 * stack's base. A trap belongs to the code that caused it: an IST handler for a trap links its
 * stack's header to the interrupted stack's, and shares that flag. An asynchronous interrupt
 * runs on the IRQ stack, whose flag is its own, so it can be traced.
 *
 * PER_TASK: the kernel's per-task bits in current->trace_recursion, one per context (NMI, IRQ,
 * SOFTIRQ, NORMAL) read from preempt_count, plus a TRANSITION bit that tolerates one nested
 * entry in the same context, for the window at interrupt entry where preempt_count still says
 * "the interrupted context"; but taken in the trampoline, around every callback, as seed 002
 * discusses (mainline takes them in the list function and the callbacks: MAINLINE below):
 *
 *   task, NORMAL bit set in a callback        timer interrupt
 *     callback running ...          --->      irq entry: traced code runs before
 *                                             preempt_count += HARDIRQ: context reads NORMAL,
 *                                             NORMAL bit is set -> take TRANSITION instead
 *
 * Without the TRANSITION bit (boot_params->transition_bit = 0) that window loses the
 * interrupt's first traced call, counted as a recursion it was not.
 *
 * NONE: no protection (a recursing callback overflows its stack; the guard page catches it).
 *
 * MAINLINE: the trampolines have no guard (the host jumps over their guard code at boot:
 * ftrace/guard-sites.ts). As mainline x86-64 has it (include/linux/trace_recursion.h,
 * kernel/trace/ftrace.c), the list function and ftrace_ops_assist_func take the LIST bits of
 * current->trace_recursion, and each callback its own FTRACE bits with
 * ftrace_test_recursion_trylock(); both sets have their own TRANSITION bit. Taking a bit
 * disables preemption; clearing it re-enables it with preempt_enable_notrace(), which
 * reschedules right there if a tick asked for it meanwhile.
 *
 * With boot_params->recursion_events set, every decision is reported to the host (one
 * hypercall each: for tests and the event log, not for speed). */
#include "kernel.h"

/* 1: the trampolines run the per-stack guard's common case inline (ftrace_64.S); set at boot. */
u8 ftrace_guard_inline;

noinstr void ftrace_guard_init(void)
{
	ftrace_guard_inline = boot_params->recursion_scheme == RECURSION_SCHEME_PER_STACK && !boot_params->recursion_events;
}

/* Per ftrace record: callback calls skipped because of recursion (the host allocates it). */
u64 *ftrace_recursion_sites;
u64 ftrace_recursions;

#define TRACE_CTX_NMI 0
#define TRACE_CTX_IRQ 1
#define TRACE_CTX_SOFTIRQ 2
#define TRACE_CTX_NORMAL 3
#define TRACE_CTX_TRANSITION 4

int record_index(u64 ip);

static noinstr struct stack_header *stack_header_here(void)
{
	u64 sp;
	asm volatile("mov %%rsp, %0" : "=r"(sp));
	struct stack_header *h = (struct stack_header *)(sp & ~(u64)(STACK_SIZE - 1));
	return h->link ? (struct stack_header *)h->link : h;
}

/* interrupt_context_level(): 0 task, 1 serving softirq, 2 hardirq, 3 NMI. */
static noinstr int context_bit(void)
{
	u32 pc = this_cpu()->preempt_count;
	int level = ((pc & NMI_MASK) != 0) + ((pc & (NMI_MASK | HARDIRQ_MASK)) != 0) +
		    ((pc & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) != 0);
	return TRACE_CTX_NORMAL - level;
}

/* What a RECURSION event's fields mean: a = ip, b = 1 entered / 0 skipped, c = the stack header
 * whose flag decided (per-stack) or the context bit (per-task), d = preempt_count. */
static noinstr void report(u64 ip, u64 entered, u64 where)
{
	if (boot_params->recursion_events)
		hypercall4(HYPERCALL_RECURSION, (long)ip, (long)entered, (long)where, (long)this_cpu()->preempt_count);
}

static noinstr void count_recursion(u64 ip)
{
	int i = record_index(ip);
	__atomic_add_fetch(&ftrace_recursions, 1, __ATOMIC_RELAXED);
	if (i >= 0 && ftrace_recursion_sites)
		__atomic_add_fetch(&ftrace_recursion_sites[i], 1, __ATOMIC_RELAXED);
}

/* Returns 0 to skip the callbacks, else a token for ftrace_recursion_exit() (per stack: the
 * header whose flag was taken, as the inline path in ftrace_64.S also returns). */
noinstr u64 ftrace_recursion_enter(u64 ip)
{
	switch (boot_params->recursion_scheme) {
	case RECURSION_SCHEME_PER_STACK: {
		struct stack_header *h = stack_header_here();
		if (h->in_tracing) {
			h->recursions++;
			count_recursion(ip);
			report(ip, 0, (u64)h);
			return 0;
		}
		h->in_tracing = 1;
		h->entered++;
		report(ip, 1, (u64)h);
		return (u64)h;
	}
	case RECURSION_SCHEME_PER_TASK: {
		struct task *t = current_task();
		int bit = context_bit();
		if (t->trace_recursion & (1u << bit)) {
			int busy = bit;
			bit = TRACE_CTX_TRANSITION;
			if (!boot_params->transition_bit || (t->trace_recursion & (1u << bit))) {
				count_recursion(ip);
				report(ip, 0, (u64)busy);
				return 0;
			}
		}
		t->trace_recursion |= 1u << bit;
		report(ip, 1, (u64)bit);
		asm volatile("" : : : "memory");
		preempt_disable_notrace();
		return (u64)bit + 1;
	}
	default:
		return 1;
	}
}

/* MAINLINE: trace_test_and_set_recursion(). start is TRACE_FTRACE_START (a callback's
 * ftrace_test_recursion_trylock) or TRACE_LIST_START (the list and assist functions). Returns
 * the bit taken, or -1 (counted) when the context's bit and its TRANSITION bit are both held. */
notrace int trace_test_and_set_recursion(u64 ip, int start)
{
	struct task *t = current_task();
	int bit = context_bit() + start;
	if (t->trace_recursion & (1u << bit)) {
		int busy = bit;
		bit = TRACE_CTX_TRANSITION + start;
		if (t->trace_recursion & (1u << bit)) {
			count_recursion(ip);
			report(ip, 0, (u64)busy);
			return -1;
		}
	}
	t->trace_recursion |= 1u << bit;
	report(ip, 1, (u64)bit);
	asm volatile("" : : : "memory");
	preempt_disable_notrace();
	return bit;
}

/* MAINLINE: trace_clear_recursion(). Preemption comes back on first, so a reschedule asked for
 * while the bit was held happens here, with the bit still set (it is this task's own). */
notrace void trace_clear_recursion(int bit)
{
	preempt_enable_notrace();
	asm volatile("" : : : "memory");
	current_task()->trace_recursion &= ~(1u << bit);
}

noinstr void ftrace_recursion_exit(u64 token)
{
	switch (boot_params->recursion_scheme) {
	case RECURSION_SCHEME_PER_STACK:
		((struct stack_header *)token)->in_tracing = 0;
		break;
	case RECURSION_SCHEME_PER_TASK:
		preempt_enable_no_resched_notrace();
		asm volatile("" : : : "memory");
		current_task()->trace_recursion &= ~(1u << (token - 1));
		break;
	}
}

/* A trap handled on an IST stack: from now until ist_exit(), code on this stack shares the
 * interrupted kernel stack's in_tracing flag. Returns the previous link, for nesting. */
noinstr u64 ist_enter(struct pt_regs *regs)
{
	u64 sp;
	asm volatile("mov %%rsp, %0" : "=r"(sp));
	struct stack_header *h = (struct stack_header *)(sp & ~(u64)(STACK_SIZE - 1));
	u64 old = h->link;
	if (boot_params->ist_link && !user_mode(regs)) {
		struct stack_header *from = (struct stack_header *)(regs->rsp & ~(u64)(STACK_SIZE - 1));
		h->link = from->link ? from->link : (u64)from;
	}
	return old;
}

noinstr void ist_exit(u64 old)
{
	u64 sp;
	asm volatile("mov %%rsp, %0" : "=r"(sp));
	((struct stack_header *)(sp & ~(u64)(STACK_SIZE - 1)))->link = old;
}
