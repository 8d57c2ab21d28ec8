/* The guest kernel's entry code: boot, exception and interrupt entries, the system-call entry,
 * the context switch, and the fentry stub that every traceable function calls until ftrace
 * turns the call into a NOP. */
#include "kernel.h"

.section .note.GNU-stack, "", @progbits

/* Every vCPU starts here in 64-bit mode at CPL 0, interrupts off, on a boot stack that becomes
 * its idle task's stack: rdi = vCPU number, rsi = struct boot_params (virtual address). */
.section .head.text, "ax"
SYM_FUNC_START startup_64
	xor %ebp, %ebp
	call start_kernel_cpu
	ud2
SYM_FUNC_END startup_64

.text

/* The target of `call __fentry__` at every traceable function's entry. */
SYM_FUNC_START __fentry__
	ret
SYM_FUNC_END __fentry__

/* Registers in struct pt_regs order, below what the CPU pushed and the orig_rax slot. */
.macro SAVE_REGS
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rax
	push %r8
	push %r9
	push %r10
	push %r11
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
.endm

.macro RESTORE_REGS
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rax
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
.endm

/* From user mode GS holds the user's base: swap in the kernel's per-CPU one. */
.macro SWAPGS_IF_USER
	testb $3, PTREGS_CS(%rsp)
	jz 1f
	swapgs
1:
.endm

/* An exception entry: handler(regs, error_code). has_error: the CPU pushed an error code. */
.macro IDTENTRY name, handler, has_error
SYM_FUNC_START \name
	.if \has_error == 0
	push $-1
	.endif
	SAVE_REGS
	SWAPGS_IF_USER
	cld
	mov %rsp, %rdi
	mov PTREGS_ORIG_RAX(%rsp), %rsi
	call \handler
	jmp exception_return
SYM_FUNC_END \name
.endm

/* An interrupt entry: handler(regs) runs on this stack and moves to the IRQ stack itself. */
.macro IRQENTRY name, handler
SYM_FUNC_START \name
	push $-1
	SAVE_REGS
	SWAPGS_IF_USER
	cld
	mov %rsp, %rdi
	call \handler
	jmp exception_return
SYM_FUNC_END \name
.endm

IDTENTRY asm_exc_divide_error, do_divide_error, 0

/* #BP, as the kernel's idtentry for X86_TRAP_BP (arch/x86/entry/entry_64.S) leaves it: from
 * kernel mode the orig_rax slot and the CPU's 5-word frame are copied 6 words lower before the
 * registers are saved. Why: the INT3 handler may emulate a `call`, which pushes a return
 * address just below the interrupted RSP, and that is where the CPU wrote the frame; the copy
 * is the frame iretq uses, and the 48 bytes it vacated are the gap the push lands in. From
 * user mode nothing is emulated and the frame stays where the CPU put it. */
SYM_FUNC_START asm_exc_int3
	push $-1
	testb $3, 16(%rsp)
	jnz 1f
	.rept 6
	pushq 5*8(%rsp)
	.endr
1:
	SAVE_REGS
	SWAPGS_IF_USER
	cld
	mov %rsp, %rdi
	mov PTREGS_ORIG_RAX(%rsp), %rsi
	call do_int3
	jmp exception_return
SYM_FUNC_END asm_exc_int3

IDTENTRY asm_exc_invalid_op, do_invalid_op, 0
IDTENTRY asm_exc_double_fault, do_double_fault, 1
IDTENTRY asm_exc_general_protection, do_general_protection, 1
IDTENTRY asm_exc_page_fault, do_page_fault, 1
IRQENTRY asm_sysvec_timer, timer_interrupt
IRQENTRY asm_sysvec_call_function, call_function_interrupt
IRQENTRY asm_sysvec_reschedule, reschedule_interrupt

SYM_FUNC_START exception_return
	SWAPGS_IF_USER
	RESTORE_REGS
	add $8, %rsp
	iretq
SYM_FUNC_END exception_return

/* syscall from user mode: rcx = return RIP, r11 = RFLAGS; SFMASK cleared IF. Builds a
 * pt_regs frame on the task's kernel stack (TSS RSP0) and returns with iretq. */
SYM_FUNC_START entry_SYSCALL_64
	swapgs
	mov %rsp, %gs:PERCPU_USER_RSP_SCRATCH
	mov %gs:(PERCPU_TSS + 4), %rsp
	push $GDT_USER_DS
	push %gs:PERCPU_USER_RSP_SCRATCH
	push %r11
	push $GDT_USER_CS
	push %rcx
	push %rax
	SAVE_REGS
	cld
	mov %rsp, %rdi
	call do_syscall_64
	jmp exception_return
SYM_FUNC_END entry_SYSCALL_64

/* call_on_irqstack(fn, regs): run fn(regs) on this vCPU's interrupt stack. The frame pointer
 * left on the task stack keeps backtraces connected across the switch. */
SYM_FUNC_START call_on_irqstack
	push %rbp
	mov %rsp, %rbp
	mov %gs:PERCPU_IRQ_STACK_TOP, %rsp
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	leave
	ret
SYM_FUNC_END call_on_irqstack

/* switch_to(prev, next): save prev's callee-saved registers and stack, continue on next's.
 * A new task's stack was prepared by the host to "return" into ret_from_fork. */
SYM_FUNC_START switch_to
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, TASK_SAVED_RSP(%rdi)
	mov TASK_SAVED_RSP(%rsi), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
SYM_FUNC_END switch_to

SYM_FUNC_START ret_from_fork
	xor %ebp, %ebp
	call task_start
	ud2
SYM_FUNC_END ret_from_fork

/* enter_user(rip, rsp): first entry of a user task, through an iretq frame. */
SYM_FUNC_START enter_user
	cli
	push $GDT_USER_DS
	push %rsi
	push $(X86_EFLAGS_IF | X86_EFLAGS_FIXED)
	push $GDT_USER_CS
	push %rdi
	swapgs
	iretq
SYM_FUNC_END enter_user
