/* Exceptions in C (page faults are in fault.c, interrupts in irq.c). A fault in the kernel is
 * an oops: the host reports it (task, CPU, symbolized RIP, frame-pointer backtrace) and the
 * task dies. */
#include "kernel.h"

static notrace void __noreturn panic_halt(const char *why)
{
	printk(why);
	for (;;)
		asm volatile("cli; hlt");
}

void __noreturn die(struct pt_regs *regs, u64 vector, u64 error)
{
	struct percpu *pc = this_cpu();
	hypercall3(HYPERCALL_OOPS, (long)regs, (long)vector, (long)error);
	/* The idle task cannot exit, and neither can an interrupt handler: leaving its stack
	 * through task_exit() would strand the stack's in_tracing flag and preempt_count. */
	if (pc->current == pc->idle_task)
		panic_halt("Kernel panic - not syncing: Attempted to kill the idle task!\n");
	if (pc->preempt_count & (HARDIRQ_MASK | NMI_MASK))
		panic_halt("Kernel panic - not syncing: Fatal exception in interrupt\n");
	task_exit();
}

/* A fault in user mode kills the user task the same way, after the report. */
void fault(struct pt_regs *regs, u64 vector, u64 error)
{
	die(regs, vector, error);
}

notrace void do_divide_error(struct pt_regs *regs, u64 error) { fault(regs, VECTOR_DE, error); }

notrace void do_general_protection(struct pt_regs *regs, u64 error) { fault(regs, VECTOR_GP, error); }

int poke_int3_handler(struct pt_regs *regs);

/* Never traced: while a site is being patched its first byte is an INT3, and a traced INT3
 * handler would trap on its own entry. */
notrace void do_int3(struct pt_regs *regs, u64 error)
{
	if (poke_int3_handler(regs))
		return;
	fault(regs, VECTOR_BP, error);
}

/* ---- #UD: WARN_ON() and BUG().
 *
 * This kernel handles #UD on an IST stack of its own (Linux keeps IST for #DB, NMI, #DF and
 * #MC; any of them raises the same question). A WARN_ON() inside an ftrace callback traps
 * here, and report_bug() is traced: whether that call is traced again depends on whose
 * in_tracing flag this stack uses. ist_enter() links it to the interrupted stack's flag. */
u64 warn_count;
extern struct bug_entry __start___bug_table[], __stop___bug_table[];

/* Loaded modules' __bug_tables, published by the host's loader: {start, end} pairs. */
struct bug_table_range {
	struct bug_entry *start, *end;
};
struct bug_table_range *module_bug_tables;
u64 module_bug_tables_nr;

static notrace u64 bug_addr(const struct bug_entry *b)
{
	return (u64)&b->bug_addr_disp + (s64)b->bug_addr_disp;
}

static notrace const struct bug_entry *search_bug(struct bug_entry *start, struct bug_entry *end, u64 ip)
{
	for (struct bug_entry *b = start; b < end; b++)
		if (bug_addr(b) == ip)
			return b;
	return NULL;
}

/* find_bug: the __bug_table entry of the ud2 at ip, the kernel's or a module's. */
static notrace const struct bug_entry *find_bug(u64 ip)
{
	const struct bug_entry *b = search_bug(__start___bug_table, __stop___bug_table, ip);
	for (u64 i = 0; !b && i < module_bug_tables_nr; i++)
		b = search_bug(module_bug_tables[i].start, module_bug_tables[i].end, ip);
	return b;
}

/* Traced on purpose: the handler's instrumentable part. The host prints the warning, or for a
 * BUG the kernel's "kernel BUG at file:line!" (the oops follows from do_invalid_op). */
__attribute__((noinline)) void report_bug(struct pt_regs *regs, const struct bug_entry *bug)
{
	if (bug->flags & BUGFLAG_WARNING)
		warn_count++;
	hypercall3(HYPERCALL_WARN, (long)regs, (long)bug, 0);
}

/* A #UD always enters at the top of its IST stack. One taken inside this handler (a WARN in
 * a callback traced from report_bug()) would write its frame over ours, so while we run the
 * TSS points a nested #UD IST_SHIFT lower, as the kernel does for #DB. */
#define IST_SHIFT 4096

notrace void do_invalid_op(struct pt_regs *regs, u64 error)
{
	u64 *ist = (u64 *)(this_cpu()->tss + 36 + (IST_INVALID_OP - 1) * 8);
	u64 sp;
	asm volatile("mov %%rsp, %0" : "=r"(sp));
	if (*ist - IST_SHIFT <= (sp & ~(u64)(STACK_SIZE - 1)) + IST_SHIFT)
		panic_halt("Kernel panic - not syncing: #UD nested too deep on its IST stack\n");
	*ist -= IST_SHIFT;
	u64 link = ist_enter(regs);
	const struct bug_entry *bug = user_mode(regs) ? NULL : find_bug(regs->rip);
	int warning = bug && (bug->flags & BUGFLAG_WARNING);
	if (bug)
		report_bug(regs, bug);
	if (warning)
		regs->rip += 2; /* past the ud2 */
	ist_exit(link);
	*ist += IST_SHIFT;
	if (!warning)
		fault(regs, VECTOR_UD, 0); /* handle_invalid_op: do_error_trap with error code 0 */
}

/* On its own IST stack: report and stop this vCPU for good. */
notrace void __noreturn do_double_fault(struct pt_regs *regs, u64 error)
{
	hypercall3(HYPERCALL_OOPS, (long)regs, VECTOR_DF, (long)error);
	for (;;)
		asm volatile("cli; hlt");
}


