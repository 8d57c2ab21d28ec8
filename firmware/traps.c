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

void do_divide_error(struct pt_regs *regs, u64 error) { fault(regs, 0, error); }
void do_invalid_op(struct pt_regs *regs, u64 error) { fault(regs, 6, error); }
void do_general_protection(struct pt_regs *regs, u64 error) { fault(regs, 13, error); }

int poke_int3_handler(struct pt_regs *regs);

void do_int3(struct pt_regs *regs, u64 error)
{
	if (poke_int3_handler(regs))
		return;
	fault(regs, 3, error);
}

void do_page_fault(struct pt_regs *regs, u64 error)
{
	fault(regs, 14, error);
}

/* On its own IST stack: report and stop this vCPU for good. */
void __noreturn do_double_fault(struct pt_regs *regs, u64 error)
{
	hypercall3(HYPERCALL_OOPS, (long)regs, 8, (long)error);
	for (;;)
		asm volatile("cli; hlt");
}

static void handle_timer(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->ticks++;
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	sched_tick(regs);
}

/* The timer interrupt. Until preempt_count gets its hardirq bit (the first line), code here
 * still looks like the interrupted context to anything that asks. */
void timer_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->preempt_count += HARDIRQ_OFFSET;
	call_on_irqstack(handle_timer, regs);
	pc->preempt_count -= HARDIRQ_OFFSET;
	irqentry_exit(regs);
}

/* The text-poke sync IPI: taking the interrupt and returning with iretq serializes the vCPU,
 * which is all the sender wants. */
void call_function_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	/* Taking the interrupt serialized this vCPU; counting it tells the sender it is done. */
	__atomic_add_fetch(&pc->call_function_count, 1, __ATOMIC_RELEASE);
	(void)regs;
}

/* The host marked this vCPU's task for rescheduling and kicked it out of idle. */
void reschedule_interrupt(struct pt_regs *regs)
{
	struct percpu *pc = this_cpu();
	pc->irq_count++;
	wrmsr(MSR_APIC_EOI, 0);
	irqentry_exit(regs);
}

void sys_work(u64 n);

void do_syscall_64(struct pt_regs *regs)
{
	local_irq_enable();
	switch (regs->orig_rax) {
	case SYS_WORK: sys_work(regs->rdi); regs->rax = 0; break;
	case SYS_YIELD: yield(); regs->rax = 0; break;
	case SYS_SLEEP: msleep(regs->rdi); regs->rax = 0; break;
	default: regs->rax = (u64)-38; /* -ENOSYS */
	}
	local_irq_disable();
	irqentry_exit(regs);
}
