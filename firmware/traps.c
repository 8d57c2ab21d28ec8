/* Exceptions, interrupts and system calls in C. A fault in the kernel is an oops: the host
 * reports it (task, CPU, symbolized RIP, frame-pointer backtrace) and the task dies. */
#include "kernel.h"

void __noreturn die(struct pt_regs *regs, u64 vector, u64 error)
{
	struct percpu *pc = this_cpu();
	hypercall3(HYPERCALL_OOPS, (long)regs, (long)vector, (long)error);
	if (pc->current == pc->idle_task) {
		/* The idle task cannot exit: this vCPU is lost. */
		printk("Kernel panic - not syncing: Attempted to kill the idle task!\n");
		for (;;)
			asm volatile("cli; hlt");
	}
	task_exit();
}

/* A fault in user mode kills the user task the same way, after the report. */
static void fault(struct pt_regs *regs, u64 vector, u64 error)
{
	die(regs, vector, error);
}

notrace void do_divide_error(struct pt_regs *regs, u64 error) { fault(regs, 0, error); }

notrace void do_general_protection(struct pt_regs *regs, u64 error) { fault(regs, 13, error); }

int poke_int3_handler(struct pt_regs *regs);

/* Never traced: while a site is being patched its first byte is an INT3, and a traced INT3
 * handler would trap on its own entry. */
notrace void do_int3(struct pt_regs *regs, u64 error)
{
	if (poke_int3_handler(regs))
		return;
	fault(regs, 3, error);
}

/* ---- #UD: WARN_ON() and BUG.
 *
 * This kernel handles #UD on an IST stack of its own (Linux keeps IST for #DB, NMI, #DF and
 * #MC; any of them raises the same question). A WARN_ON() inside an ftrace callback traps
 * here, and report_bug() is traced: whether that call is traced again depends on whose
 * in_tracing flag this stack uses. ist_enter() links it to the interrupted stack's flag. */
u64 warn_count;
extern u64 __start___bug_table[], __stop___bug_table[];

static notrace int is_warning(u64 ip)
{
	for (u64 *p = __start___bug_table; p < __stop___bug_table; p++)
		if (*p == ip)
			return 1;
	return 0;
}

/* Traced on purpose: the handler's instrumentable part. */
__attribute__((noinline)) void report_bug(struct pt_regs *regs)
{
	warn_count++;
	hypercall3(HYPERCALL_WARN, (long)regs, 0, 0);
}

notrace void do_invalid_op(struct pt_regs *regs, u64 error)
{
	u64 link = ist_enter(regs);
	int warning = !user_mode(regs) && is_warning(regs->rip);
	if (warning) {
		report_bug(regs);
		regs->rip += 2; /* past the ud2 */
	}
	ist_exit(link);
	if (!warning)
		fault(regs, 6, error);
}

/* ---- #PF: demand paging.
 *
 * Two regions (boot_params) are mapped a page at a time on first touch, like swapped or
 * file-backed memory: a kernel one (where ftrace callbacks fault) and a user one (what
 * system-call probes read). The host maps the page (MAP_PAGE) and may say the fault waits
 * for I/O: then the task sleeps in the handler, as a major fault does. */
u64 demand_faults;
u64 mm_fault_accounted;

static notrace int demand_paged(u64 addr)
{
	return (addr >= boot_params->demand_start && addr < boot_params->demand_end) ||
	       (addr >= boot_params->user_demand_start && addr < boot_params->user_demand_end);
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
	if (sleep > 0 && (regs->eflags & X86_EFLAGS_IF)) {
		/* might_sleep(): a fault that waits must not come from atomic context. */
		if (this_cpu()->preempt_count & PREEMPT_MASK)
			printk("BUG: sleeping function called from invalid context (page fault)\n");
		local_irq_enable();
		msleep((u64)sleep);
		local_irq_disable();
	}
}

notrace void do_page_fault(struct pt_regs *regs, u64 error)
{
	u64 addr = read_cr2();
	if (!(error & 1) && demand_paged(addr)) { /* not present, in a demand region */
		handle_mm_fault(addr, regs);
		return;
	}
	fault(regs, 14, error);
}

/* On its own IST stack: report and stop this vCPU for good. */
notrace void __noreturn do_double_fault(struct pt_regs *regs, u64 error)
{
	hypercall3(HYPERCALL_OOPS, (long)regs, 8, (long)error);
	for (;;)
		asm volatile("cli; hlt");
}

/* ---- The timer interrupt.
 *
 * As in the kernel's system-vector entry, the switch to the IRQ stack comes first and
 * irq_enter_rcu() raises preempt_count's hardirq field there. irq_enter_rcu() is traced, and
 * its fentry call runs before its body: in that window preempt_count still describes the
 * interrupted context. A per-task recursion guard then sees "task context, already tracing"
 * when the interrupt hit a callback, and only its TRANSITION bit lets the call through. A
 * per-stack guard sees the IRQ stack's own flag. */
__attribute__((noinline)) void irq_enter_rcu(void)
{
	this_cpu()->preempt_count += HARDIRQ_OFFSET;
	asm volatile("" : : : "memory");
}

__attribute__((noinline)) void irq_exit_rcu(void)
{
	asm volatile("" : : : "memory");
	this_cpu()->preempt_count -= HARDIRQ_OFFSET;
}

/* The tick's work (traced, in hardirq context). */
__attribute__((noinline)) void update_process_times(struct pt_regs *regs)
{
	this_cpu()->ticks++;
	sched_tick(regs);
}

static notrace void sysvec_timer_on_irqstack(struct pt_regs *regs)
{
	irq_enter_rcu();
	this_cpu()->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	update_process_times(regs);
	irq_exit_rcu();
}

notrace void timer_interrupt(struct pt_regs *regs)
{
	call_on_irqstack(sysvec_timer_on_irqstack, regs);
	irqentry_exit(regs);
}

/* The text-poke sync IPI: taking the interrupt and returning with iretq serializes the vCPU,
 * which is all the sender wants. */
notrace void call_function_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	/* Taking the interrupt serialized this vCPU; counting it tells the sender it is done. */
	__atomic_add_fetch(&pc->call_function_count, 1, __ATOMIC_RELEASE);
	(void)regs;
}

/* The host marked this vCPU's task for rescheduling and kicked it out of idle. */
notrace void reschedule_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	irqentry_exit(regs);
}

void sys_work(u64 n);
void trace_sys_enter(struct pt_regs *regs, u64 nr);

void do_syscall_64(struct pt_regs *regs)
{
	local_irq_enable();
	trace_sys_enter(regs, regs->orig_rax);
	switch (regs->orig_rax) {
	case SYS_WORK: sys_work(regs->rdi); regs->rax = 0; break;
	case SYS_YIELD: yield(); regs->rax = 0; break;
	case SYS_SLEEP: msleep(regs->rdi); regs->rax = 0; break;
	default: regs->rax = (u64)-38; /* -ENOSYS */
	}
	local_irq_disable();
	irqentry_exit(regs);
}
