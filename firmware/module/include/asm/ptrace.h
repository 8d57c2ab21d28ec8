#ifndef _ASM_X86_PTRACE_H
#define _ASM_X86_PTRACE_H
/* The registers an entry or a trampoline saves, in the kernel's order and names. */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
	unsigned long orig_ax, ip, cs, flags, sp, ss;
};
#endif
