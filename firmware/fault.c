/* Page faults: demand paging, exception fixups, and everything else an oops.
 *
 * Two regions (boot_params) are mapped a page at a time on first touch. The kernel one is like
 * lazily mapped vmalloc memory: a minor fault that never sleeps (ftrace callbacks fault there
 * in the recursion tests). The user one is like swapped or file-backed user memory: the host
 * maps the page (MAP_PAGE) and may say the fault waits for I/O; the task then sleeps in the
 * handler, as a major fault does. As in the kernel, a user fault taken where the handler may
 * not sleep (preemption off: faulthandler_disabled()) is not served: an access with an entry
 * in __ex_table resumes at its fixup with -EFAULT, anything else is an oops. */
#include "kernel.h"

void fault(struct pt_regs *regs, u64 vector, u64 error);

u64 demand_faults;
u64 mm_fault_accounted;
u64 user_faults_refused;

struct exception_table_entry {
	u64 insn, fixup;
};
extern struct exception_table_entry __start___ex_table[], __stop___ex_table[];

static notrace int in_region(u64 addr, u64 start, u64 end)
{
	return addr >= start && addr < end;
}

static notrace int fixup_exception(struct pt_regs *regs)
{
	for (struct exception_table_entry *e = __start___ex_table; e < __stop___ex_table; e++) {
		if (e->insn == regs->rip) {
			regs->rip = e->fixup;
			return 1;
		}
	}
	return 0;
}

/* Traced: called from inside handle_mm_fault(), one level deeper. */
__attribute__((noinline)) void mm_account_fault(u64 addr)
{
	mm_fault_accounted++;
	(void)addr;
}

/* Traced: the fault handler's instrumentable part. */
__attribute__((noinline)) void handle_mm_fault(u64 addr, struct pt_regs *regs)
{
	demand_faults++;
	mm_account_fault(addr);
	long sleep = hypercall3(HYPERCALL_MAP_PAGE, (long)addr, 0, 0);
	if (sleep > 0) {
		local_irq_enable();
		msleep((u64)sleep);
		local_irq_disable();
	}
	(void)regs;
}

notrace void do_page_fault(struct pt_regs *regs, u64 error)
{
	u64 addr = read_cr2();
	int not_present = !(error & 1);
	if (not_present && in_region(addr, boot_params->demand_start, boot_params->demand_end)) {
		handle_mm_fault(addr, regs);
		return;
	}
	if (not_present && in_region(addr, boot_params->user_demand_start, boot_params->user_demand_end)) {
		int atomic = (this_cpu()->preempt_count & PREEMPT_MASK) || !(regs->eflags & X86_EFLAGS_IF);
		if (!atomic || user_mode(regs)) {
			handle_mm_fault(addr, regs);
			return;
		}
		user_faults_refused++;
		if (fixup_exception(regs))
			return;
	}
	fault(regs, VECTOR_PF, error);
}
