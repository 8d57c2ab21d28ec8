/* The guest half of ftrace: the list function every shared site reaches, and the tracers.
 * Which ops exist, their hashes and where each site points are decided by the host
 * (src/kernel/ftrace); this code only reads what the host published. Nothing here is traced. */
#include "kernel.h"

/* The ops the static trampolines pass as `op`, and the list the list function walks. */
struct ftrace_ops *function_trace_op;
struct ftrace_ops ftrace_list_end = { .flags = FTRACE_OPS_FL_STUB };
struct ftrace_ops *ftrace_ops_list = &ftrace_list_end;

/* Every patch site, sorted, as the host's ftrace records: ftrace_records[i] is record i. */
u64 *ftrace_records;
u64 ftrace_nr_records;

static notrace int in_hash(const u64 *hash, u32 n, u64 ip)
{
	u32 lo = 0, hi = n;
	while (lo < hi) {
		u32 mid = (lo + hi) / 2;
		if (hash[mid] == ip)
			return 1;
		if (hash[mid] < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ftrace_ops_test: does op want this ip? (filter empty or ip in it) and not in notrace. An ops
 * that needs full registers is skipped while the site still goes through ftrace_caller. */
static notrace int ftrace_ops_test(struct ftrace_ops *op, u64 ip, struct pt_regs *fregs)
{
	if ((op->flags & FTRACE_OPS_FL_SAVE_REGS) && (!fregs || fregs->cs == 0))
		return 0;
	if (op->filter_count && !in_hash((const u64 *)op->filter_hash, op->filter_count, ip))
		return 0;
	if (op->notrace_count && in_hash((const u64 *)op->notrace_hash, op->notrace_count, ip))
		return 0;
	return 1;
}

typedef void (*ftrace_func_t)(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs);

notrace void ftrace_ops_assist_func(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs);

/* Callback calls an FTRACE_OPS_FL_RCU ops did not get because RCU was not watching the vCPU. */
u64 ftrace_rcu_skips;

static inline notrace int is_mainline(void)
{
	return boot_params->recursion_scheme == RECURSION_SCHEME_MAINLINE;
}

static inline notrace int rcu_skip(struct ftrace_ops *op)
{
	if (!(op->flags & FTRACE_OPS_FL_RCU) || this_cpu()->rcu_watching)
		return 0;
	__atomic_add_fetch(&ftrace_rcu_skips, 1, __ATOMIC_RELAXED);
	return 1;
}

/* What a site shared by several ops (or ftrace_call with several ops registered) calls. Under
 * the mainline scheme it takes the LIST recursion bits (which disable preemption), tests
 * FTRACE_OPS_FL_RCU itself and calls each ops' own callback, as __ftrace_ops_list_func does. */
notrace void ftrace_ops_list_func(u64 ip, u64 parent_ip, struct ftrace_ops *ignored, struct pt_regs *fregs)
{
	if (is_mainline()) {
		int bit = trace_test_and_set_recursion(ip, TRACE_LIST_START);
		if (bit < 0)
			return;
		for (struct ftrace_ops *op = ftrace_ops_list; op != &ftrace_list_end; op = (struct ftrace_ops *)op->next) {
			if ((op->flags & FTRACE_OPS_FL_STUB) || !ftrace_ops_test(op, ip, fregs) || rcu_skip(op))
				continue;
			/* op->func is the assist function for an ops that asked for it (trampolines
			 * call that); the kernel's op->func is always the ops' own callback. */
			u64 func = op->func == (u64)ftrace_ops_assist_func ? op->saved_func : op->func;
			((ftrace_func_t)func)(ip, parent_ip, op, fregs);
		}
		trace_clear_recursion(bit);
		return;
	}
	preempt_disable_notrace();
	for (struct ftrace_ops *op = ftrace_ops_list; op != &ftrace_list_end; op = (struct ftrace_ops *)op->next) {
		if (op->flags & FTRACE_OPS_FL_STUB)
			continue;
		if (ftrace_ops_test(op, ip, fregs))
			((ftrace_func_t)op->func)(ip, parent_ip, op, fregs);
	}
	preempt_enable_no_resched_notrace();
}

noinstr int record_index(u64 ip)
{
	u64 lo = 0, hi = ftrace_nr_records;
	while (lo < hi) {
		u64 mid = (lo + hi) / 2;
		if (ftrace_records[mid] == ip)
			return (int)mid;
		if (ftrace_records[mid] < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static inline notrace u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline notrace void count_call(struct ftrace_ops *op)
{
	asm volatile("lock incq %0" : "+m"(op->calls));
}

/* The function tracer: one record per call in this vCPU's ring (op->private: the rings).
 * A slot is reserved with one xadd, so an interrupt that traces while the record is being
 * written gets the next slot; the record's commit word, written last, tells the reader it is
 * complete. Preemption is off meanwhile, as the ring is this vCPU's: under the mainline scheme
 * because ftrace_test_recursion_trylock() turned it off (and its unlock is a preemption point),
 * under the others by our own preempt_disable_notrace(). */
notrace void function_trace_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	u64 flags = read_flags();
	int mainline = is_mainline();
	if (!mainline)
		preempt_disable_notrace();
	struct percpu *pc = this_cpu();
	struct trace_ring *ring = (struct trace_ring *)op->private + pc->cpu;
	u64 slot = 1;
	asm volatile("xadd %0, %1" : "+r"(slot), "+m"(ring->head));
	struct trace_entry *e = (struct trace_entry *)ring->entries + (slot & ring->mask);
	/* The depth the traced code ran at: without our own disable and, under the per-task
	 * scheme, without the guard's (tracing_gen_ctx_dec()). */
	u32 pcnt = pc->preempt_count - PREEMPT_OFFSET, f = 0;
	if (boot_params->recursion_scheme == RECURSION_SCHEME_PER_TASK)
		pcnt -= PREEMPT_OFFSET;
	count_call(op);
	if (!(flags & X86_EFLAGS_IF))
		f |= TRACE_FLAG_IRQS_OFF;
	if (pc->resched & RESCHED_NEED)
		f |= TRACE_FLAG_NEED_RESCHED;
	if (pc->resched & RESCHED_LAZY)
		f |= TRACE_FLAG_NEED_RESCHED_LAZY;
	if (pcnt & HARDIRQ_MASK)
		f |= TRACE_FLAG_HARDIRQ;
	if (pcnt & SOFTIRQ_OFFSET)
		f |= TRACE_FLAG_SOFTIRQ;
	e->ip = ip;
	e->parent_ip = parent_ip;
	e->ts = rdtsc();
	e->pid = ((struct task *)pc->current)->pid;
	e->flags = f | ((pcnt & 0xf) << 8) | (pc->cpu << 16);
	asm volatile("" : : : "memory");
	e->commit = slot + 1;
	if (mainline)
		ftrace_test_recursion_unlock(bit);
	else
		preempt_enable_no_resched_notrace();
}

/* A per-function hit counter (op->private: one u64 per ftrace record). */
notrace void function_count_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	int i = record_index(ip);
	count_call(op);
	if (i >= 0)
		asm volatile("lock incq %0" : "+m"(((u64 *)op->private)[i]));
	ftrace_test_recursion_unlock(bit);
}

/* A callback the host implements: reached through this stub and a hypercall, which also
 * says who called the stub (a trampoline, or the list function). */
__attribute__((noinline)) notrace void ftrace_host_callback(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	count_call(op);
	hypercall4(HYPERCALL_FTRACE_CALLBACK, (long)op, (long)ip, (long)parent_ip, (long)__builtin_return_address(0));
}

/* A slow callback: op->private iterations of busy work, with preemption left on, so a task can
 * be preempted while a trampoline is on its stack (the case Tasks RCU exists for). Under the
 * mainline scheme it guards itself as mainline's callbacks do: preemption is off during the work,
 * and the unlock is where a tick's request to reschedule is honoured, still inside the callback. */
notrace void function_slow_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	count_call(op);
	for (volatile u64 i = 0; i < op->private; i++)
		;
	ftrace_test_recursion_unlock(bit);
}

/* The callback of a direct ops when its site is shared with other ops (the list function calls
 * it from ftrace_regs_caller): tell the trampoline to go on to the direct trampoline
 * (arch_ftrace_set_direct_caller). A site the direct ops traces alone calls it directly. */
notrace void call_direct_funcs(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	if (op->direct_call && fregs)
		fregs->orig_rax = op->direct_call;
}

/* What a trampoline or the list function calls instead of an ops' callback when the ops asked
 * ftrace for help (ftrace_ops_get_func): with FTRACE_OPS_FL_RCU the callback runs only where
 * RCU is watching this vCPU (not deep in the idle loop). Under the mainline scheme it is also
 * the recursion guard of an ops with FTRACE_OPS_FL_RECURSION: the LIST bits, preemption off. */
notrace void ftrace_ops_assist_func(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	if (is_mainline()) {
		int bit = trace_test_and_set_recursion(ip, TRACE_LIST_START);
		if (bit < 0)
			return;
		if (!rcu_skip(op))
			((ftrace_func_t)op->saved_func)(ip, parent_ip, op, fregs);
		trace_clear_recursion(bit);
		return;
	}
	if (rcu_skip(op))
		return;
	((ftrace_func_t)op->saved_func)(ip, parent_ip, op, fregs);
}
