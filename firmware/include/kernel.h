/* The guest kernel: common definitions. */
#ifndef KERNEL_H
#define KERNEL_H

#include "gen/layout.h"
#include "gen/constants.h"	/* vectors, MSRs, RFLAGS bits, preempt_count units, TEXT_POKE_MAX */

/* Selectors of the per-CPU GDT: GDT_KERNEL_CS, GDT_KERNEL_DS, GDT_USER_DS, GDT_USER_CS, GDT_TSS (gen/constants.h). */

/* System calls of the user-mode tasks (rax). */
#define SYS_WORK 0
#define SYS_YIELD 1
#define SYS_SLEEP 2

#ifndef __ASSEMBLER__

#define notrace __attribute__((no_instrument_function))
/* Code that must never be instrumented: entry, idle, the int3 text-poke handler. */
#define noinstr __attribute__((noinline, no_instrument_function, section(".noinstr.text")))
/* Inside noinstr code, a stretch that may call instrumentable code (a report, a WARN): each
 * marker is a nop whose address goes to .discard.instr_begin / .discard.instr_end, which
 * `tramplab check-noinstr` reads as objtool does (calls allowed between; a ret between is a
 * finding). */
#define instrumentation_begin() __instr_marker(".discard.instr_begin")
#define instrumentation_end() __instr_marker(".discard.instr_end")
#define __instr_marker(sec) \
	asm volatile("771: nop\n\t.pushsection " sec ", \"\", @progbits\n\t.quad 771b\n\t.popsection" ::: "memory")
#define __noreturn __attribute__((noreturn))
/* Helpers noinstr code uses must be inlined: an out-of-line copy would land in .text. */
#define __always_inline inline __attribute__((always_inline))
#define NULL ((void *)0)

typedef unsigned long size_t;

struct pt_regs {
	u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	u64 orig_rax, rip, cs, eflags, rsp, ss;
};
_Static_assert(sizeof(struct pt_regs) == PTREGS_SIZE, "pt_regs");

static __always_inline notrace struct percpu *this_cpu(void)
{
	struct percpu *p;
	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static __always_inline notrace struct task *current_task(void)
{
	return (struct task *)this_cpu()->current;
}

static __always_inline notrace long hypercall3(long nr, long a, long b, long c)
{
	long r;
	asm volatile("vmcall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "memory");
	return r;
}

static __always_inline notrace long hypercall4(long nr, long a, long b, long c, long d)
{
	long r;
	register long r10 asm("r10") = d;
	asm volatile("vmcall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "memory");
	return r;
}

static __always_inline notrace void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static __always_inline notrace u64 read_flags(void)
{
	u64 f;
	asm volatile("pushf; pop %0" : "=r"(f) : : "memory");
	return f;
}

static __always_inline notrace void local_irq_disable(void) { asm volatile("cli" : : : "memory"); }
static __always_inline notrace void local_irq_enable(void) { asm volatile("sti" : : : "memory"); }
static __always_inline notrace void local_irq_restore(u64 f) { if (f & X86_EFLAGS_IF) local_irq_enable(); }
static __always_inline notrace u64 local_irq_save(void) { u64 f = read_flags(); local_irq_disable(); return f; }

static __always_inline notrace int user_mode(struct pt_regs *regs) { return (regs->cs & 3) == 3; }

static __always_inline notrace u64 read_cr2(void)
{
	u64 v;
	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* WARN_ON() and BUG(): a `ud2` with an entry in __bug_table, laid out as x86-64's struct bug_entry
 * (include/asm-generic/bug.h with relative pointers): the trap's address and the file name's,
 * each relative to its own field, then the line and the flags. The #UD handler looks the trap up
 * (report_bug): a warning is reported and resumed after; a BUG is "kernel BUG at file:line!"
 * and an oops. A ud2 with no entry is an oops too. */
struct bug_entry {
	s32 bug_addr_disp;
	s32 file_disp;
	u16 line;
	u16 flags;
};
#define BUGFLAG_WARNING (1 << 0)

#define __BUG_TRAP(flags)							\
	asm volatile("1:\tud2\n\t"						\
		     ".pushsection .rodata\n"					\
		     "3:\t.asciz \"" __FILE__ "\"\n\t"				\
		     ".popsection\n\t"						\
		     ".pushsection __bug_table, \"a\"\n\t"			\
		     ".balign 4\n\t"						\
		     ".long 1b - .\n\t"						\
		     ".long 3b - .\n\t"						\
		     ".short %c0\n\t"						\
		     ".short %c1\n\t"						\
		     ".popsection" : : "i"(__LINE__), "i"(flags))

#define WARN_ON(cond) ({						\
	int __warn = !!(cond);						\
	if (__warn)							\
		__BUG_TRAP(BUGFLAG_WARNING);				\
	__warn;								\
})

#define BUG() do { __BUG_TRAP(0); __builtin_unreachable(); } while (0)

static __always_inline notrace void preempt_disable_notrace(void)
{
	this_cpu()->preempt_count += PREEMPT_OFFSET;
	asm volatile("" : : : "memory");
}

static __always_inline notrace void preempt_enable_no_resched_notrace(void)
{
	asm volatile("" : : : "memory");
	this_cpu()->preempt_count -= PREEMPT_OFFSET;
}

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* EXPORT_SYMBOL(sym): lists sym in __ksymtab ({address, name}, as struct kernel_symbol), the
 * only symbols a module's undefined references may resolve to. */
struct kernel_symbol {
	u64 value;
	const char *name;
};
#define EXPORT_SYMBOL(sym)								\
	static const char __kstrtab_##sym[]						\
		__attribute__((section("__ksymtab_strings"), used)) = #sym;		\
	static const struct kernel_symbol __ksymtab_##sym				\
		__attribute__((section("___ksymtab+" #sym), used, aligned(8))) =	\
		{ (u64)&sym, __kstrtab_##sym }

/* hostjob.c: a hypercall whose work the host finishes later; the task sleeps until then. */
long host_job(long nr, long a, long b, long c, long d);

/* boot_params.c */
extern struct boot_params *boot_params;

/* recursion.c: mainline's recursion bits in current->trace_recursion (RecursionScheme.MAINLINE).
 * A callback takes the FTRACE bits, the list function and ftrace_ops_assist_func the LIST bits;
 * taking a bit disables preemption, and clearing it is preempt_enable_notrace(): a preemption
 * point, reached while the trampoline that called the callback is still on the stack. */
#define TRACE_FTRACE_START 0
#define TRACE_LIST_START 5
int trace_test_and_set_recursion(u64 ip, int start);
void trace_clear_recursion(int bit);

/* The guard a callback takes itself in mainline (ftrace_test_recursion_trylock/unlock). Under
 * tramplab's other schemes the trampoline already guarded the call: these take nothing. */
static __always_inline notrace int ftrace_test_recursion_trylock(u64 ip, u64 parent_ip)
{
	(void)parent_ip;
	if (boot_params->recursion_scheme != RECURSION_SCHEME_MAINLINE)
		return 0;
	return trace_test_and_set_recursion(ip, TRACE_FTRACE_START);
}

static __always_inline notrace void ftrace_test_recursion_unlock(int bit)
{
	if (boot_params->recursion_scheme == RECURSION_SCHEME_MAINLINE)
		trace_clear_recursion(bit);
}

/* printk.c */
void printk(const char *s);

/* sched.c */
void schedule(void);
void preempt_schedule_irq(struct pt_regs *regs);
void preempt_disable(void);
void preempt_enable(void);
void preempt_enable_notrace(void);
void cond_resched(void);
void might_resched(void);
void msleep(u64 ticks);
void yield(void);
void irqentry_exit(struct pt_regs *regs);
void sched_tick(struct pt_regs *regs);
void __noreturn task_exit(void);
void task_start(void);

/* rcu.c */
void __rcu_read_lock(void);
void __rcu_read_unlock(void);
static __always_inline void rcu_read_lock(void) { __rcu_read_lock(); }
static __always_inline void rcu_read_unlock(void) { __rcu_read_unlock(); }
void rcu_read_lock_trace(void);
void rcu_read_unlock_trace(void);

/* traps.c */
void __noreturn die(struct pt_regs *regs, u64 vector, u64 error);

/* recursion.c */
u64 ist_enter(struct pt_regs *regs);
void ist_exit(u64 old_link);

/* entry.S */
void switch_to(struct task *prev, struct task *next);
void ret_from_fork(void);
void call_on_irqstack(void (*fn)(struct pt_regs *), struct pt_regs *regs);
void __noreturn enter_user(u64 rip, u64 rsp);

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);

#else /* __ASSEMBLER__ */

/* Assembly functions with an ELF type and size, so every address inside one symbolizes. */
.macro SYM_FUNC_START name
.globl \name
.type \name, @function
\name:
.endm

.macro SYM_FUNC_END name
.size \name, . - \name
.endm

#endif /* __ASSEMBLER__ */
#endif
