/* Function tracing for modules: struct ftrace_ops, the callback's view of the registers, and
 * registration. A module's ops is not core kernel data, so ftrace treats it as dynamic: it
 * gets a trampoline of its own, and unregistering waits for the grace periods that make freeing
 * that trampoline safe (the release policy the machine runs with). */
#ifndef _LINUX_FTRACE_H
#define _LINUX_FTRACE_H
#include <linux/kernel.h>
#include <asm/ptrace.h>
#include <gen/constants.h>	/* FTRACE_OPS_FL_* with the kernel's values */

struct ftrace_ops;
/* Trampolines pass their saved registers: the argument registers, rbp and the traced ip, all of
 * them when the ops asked for FTRACE_OPS_FL_SAVE_REGS. */
struct ftrace_regs {
	struct pt_regs regs;
};
typedef void (*ftrace_func_t)(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op,
			      struct ftrace_regs *fregs);

/* Set func, flags and private; the rest belongs to ftrace (the machine's layout of the ops,
 * checked against the kernel half by the project's tests). */
struct ftrace_ops {
	ftrace_func_t func;
	struct ftrace_ops *next;
	unsigned long flags;
	unsigned long __hashes[2];
	unsigned int __counts[2];
	void *trampoline;
	unsigned int trampoline_size;
	unsigned int __id;
	void *private;
	unsigned long __calls;
	unsigned long direct_call;
	unsigned char __reserved[40];
};

/* Full registers (SAVE_REGS), or NULL when only the arguments were saved (ftrace_caller). */
static __always_inline struct pt_regs *ftrace_get_regs(struct ftrace_regs *fregs)
{
	return fregs && fregs->regs.cs ? &fregs->regs : NULL;
}
static __always_inline unsigned long ftrace_regs_get_instruction_pointer(struct ftrace_regs *fregs)
{
	return fregs->regs.ip;
}
static __always_inline void ftrace_regs_set_instruction_pointer(struct ftrace_regs *fregs, unsigned long ip)
{
	fregs->regs.ip = ip;
}
static __always_inline unsigned long ftrace_regs_get_argument(struct ftrace_regs *fregs, unsigned int n)
{
	switch (n) {
	case 0: return fregs->regs.di;
	case 1: return fregs->regs.si;
	case 2: return fregs->regs.dx;
	case 3: return fregs->regs.cx;
	case 4: return fregs->regs.r8;
	case 5: return fregs->regs.r9;
	default: return 0;
	}
}
static __always_inline unsigned long ftrace_regs_get_stack_pointer(struct ftrace_regs *fregs)
{
	return fregs->regs.sp;
}
static __always_inline unsigned long ftrace_regs_get_return_value(struct ftrace_regs *fregs)
{
	return fregs->regs.ax;
}
static __always_inline void ftrace_regs_set_return_value(struct ftrace_regs *fregs, unsigned long ret)
{
	fregs->regs.ax = ret;
}
static __always_inline unsigned long ftrace_regs_get_frame_pointer(struct ftrace_regs *fregs)
{
	return fregs->regs.bp;
}

int register_ftrace_function(struct ftrace_ops *ops);
int unregister_ftrace_function(struct ftrace_ops *ops);
int ftrace_set_filter(struct ftrace_ops *ops, unsigned char *buf, int len, int reset);
int ftrace_set_notrace(struct ftrace_ops *ops, unsigned char *buf, int len, int reset);
int ftrace_set_filter_ip(struct ftrace_ops *ops, unsigned long ip, int remove, int reset);
void ftrace_free_filter(struct ftrace_ops *ops);

int register_ftrace_direct(struct ftrace_ops *ops, unsigned long addr);
int unregister_ftrace_direct(struct ftrace_ops *ops, unsigned long addr, bool free_filters);
int modify_ftrace_direct(struct ftrace_ops *ops, unsigned long addr);

#endif
