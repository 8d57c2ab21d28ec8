/* The static ftrace trampolines, shaped like the kernel's arch/x86/kernel/ftrace_64.S.
 *
 * A patched site `call ftrace_caller` arrives here with [rsp] = the traced function's address
 * + 5 (the instruction after the site) and [rsp + 8] = the traced function's own return
 * address. The trampoline saves a pt_regs-shaped frame and calls
 *     func(ip = site, parent_ip, op, fregs)
 * through its patchable call site (ftrace_call / ftrace_regs_call), which points at one ops'
 * callback or at ftrace_ops_list_func. A dynamic trampoline is a copy of one of these, with
 * the `movq function_trace_op(%rip), %rdx` redirected to an ops pointer stored after it and
 * the call pointed straight at that ops' callback.
 *
 * For frame-pointer backtraces through a trampoline, it builds two frame records above its
 * pt_regs and points %rbp at them while the callback runs (and until it returns):
 *     [rbp]      -> second record       [rbp + 8]  = traced function + 5 (where we return)
 *     [second]   =  the caller's rbp    [second + 8] = parent_ip
 * so an unwinder sees callback <- trampoline <- traced function <- its caller.
 *
 * Around the callback call sits the recursion guard (firmware/recursion.c): if this stack (or
 * task context) is already inside a callback, the callbacks are skipped and the skip counted.
 * The guard is called through an absolute address so that copies in execmem reach it. */
#include "kernel.h"

.section .note.GNU-stack, "", @progbits

/* pt_regs, the guard's token (8 bytes, which also keeps ftrace_caller's calls 16-byte
 * aligned; ftrace_regs_caller's pushfq puts its calls 8 off, harmless without SSE), two frame
 * records. */
#define TOKEN PTREGS_SIZE
#define RECORDS (PTREGS_SIZE + 8)
#define FRAME (RECORDS + 32)

/* Frame records for the unwinder; \ret and \parent are memory operands, %rax is free. */
.macro frame_records ret, parent
	mov \ret, %rax
	mov %rax, RECORDS+8(%rsp)
	mov %rbp, RECORDS+16(%rsp)
	mov \parent, %rax
	mov %rax, RECORDS+24(%rsp)
	lea RECORDS+16(%rsp), %rax
	mov %rax, RECORDS(%rsp)
	lea RECORDS(%rsp), %rbp
.endm

/* The guard. The per-stack scheme's common case is inline: find this stack's header (the
 * stack is STACK_SIZE-aligned; an IST stack may link to the interrupted one), and if its
 * in_tracing flag is clear, set it; the token is the header. Anything else (the flag already
 * set: count the recursion and skip; the per-task scheme; decisions reported as events) goes
 * to ftrace_recursion_enter(ip), whose zero token means skip to \skip. ftrace_guard_inline,
 * set at boot, chooses. %rax and %rdx are free here. */
.macro recursion_enter skip
	movabs $ftrace_guard_inline, %rax
	cmpb $0, (%rax)
	je 8f
	mov %rsp, %rax
	and $~(STACK_SIZE - 1), %rax
	mov STACK_HEADER_LINK(%rax), %rdx
	test %rdx, %rdx
	cmovnz %rdx, %rax
	cmpl $0, STACK_HEADER_IN_TRACING(%rax)
	jne 8f
	movl $1, STACK_HEADER_IN_TRACING(%rax)
	incq STACK_HEADER_ENTERED(%rax)
	mov %rax, TOKEN(%rsp)
	jmp 9f
8:	mov PTREGS_RIP(%rsp), %rdi
	sub $5, %rdi
	movabs $ftrace_recursion_enter, %rax
	call *%rax
	mov %rax, TOKEN(%rsp)
	test %rax, %rax
	jz \skip
9:
.endm

.macro recursion_exit
	movabs $ftrace_guard_inline, %rax
	cmpb $0, (%rax)
	je 8f
	mov TOKEN(%rsp), %rax
	movl $0, STACK_HEADER_IN_TRACING(%rax)
	jmp 9f
8:	mov TOKEN(%rsp), %rdi
	movabs $ftrace_recursion_exit, %rax
	call *%rax
9:
.endm

/* The registers a traced function's callers may pass arguments in, and %rbp, in pt_regs
 * order. restore_args leaves %rax: each trampoline reloads it itself, after using it as scratch. */
.macro save_args
	mov %rax, PTREGS_RAX(%rsp)
	mov %rcx, PTREGS_RCX(%rsp)
	mov %rdx, PTREGS_RDX(%rsp)
	mov %rsi, PTREGS_RSI(%rsp)
	mov %rdi, PTREGS_RDI(%rsp)
	mov %r8, PTREGS_R8(%rsp)
	mov %r9, PTREGS_R9(%rsp)
	mov %rbp, PTREGS_RBP(%rsp)
.endm

.macro restore_args
	mov PTREGS_RCX(%rsp), %rcx
	mov PTREGS_RDX(%rsp), %rdx
	mov PTREGS_RSI(%rsp), %rsi
	mov PTREGS_RDI(%rsp), %rdi
	mov PTREGS_R8(%rsp), %r8
	mov PTREGS_R9(%rsp), %r9
	mov PTREGS_RBP(%rsp), %rbp
.endm

.text

SYM_FUNC_START ftrace_stub
	ret
SYM_FUNC_END ftrace_stub

/* ftrace_caller: the argument registers only (struct ftrace_regs); CS = 0 says so. */
.globl ftrace_caller_op_ptr, ftrace_call, ftrace_caller_end
SYM_FUNC_START ftrace_caller
	sub $FRAME, %rsp
	save_args
	movq $0, PTREGS_ORIG_RAX(%rsp)
	movq $0, PTREGS_CS(%rsp)
	mov FRAME(%rsp), %rdi
	mov %rdi, PTREGS_RIP(%rsp)
	lea FRAME+8(%rsp), %rax
	mov %rax, PTREGS_RSP(%rsp)
	frame_records FRAME(%rsp), FRAME+8(%rsp)
	recursion_enter 2f
ftrace_caller_op_ptr:
	movq function_trace_op(%rip), %rdx
	mov PTREGS_RIP(%rsp), %rdi
	sub $5, %rdi                         /* ip: the patch site */
	mov FRAME+8(%rsp), %rsi              /* parent_ip */
	mov %rsp, %rcx                       /* fregs */
ftrace_call:
	call ftrace_stub
	recursion_exit
2:	mov PTREGS_RIP(%rsp), %rax           /* a callback may redirect the return */
	mov %rax, FRAME(%rsp)
	mov PTREGS_RAX(%rsp), %rax
	restore_args
	add $FRAME, %rsp
ftrace_caller_end:
	ret
SYM_FUNC_END ftrace_caller

/* ftrace_regs_caller: a full pt_regs (flags, CS, SS, every register) for SAVE_REGS ops. */
.globl ftrace_regs_caller_op_ptr, ftrace_regs_call, ftrace_regs_caller_jmp, ftrace_regs_caller_end
SYM_FUNC_START ftrace_regs_caller
	pushfq
	sub $FRAME, %rsp
	save_args
	mov %r15, PTREGS_R15(%rsp)
	mov %r14, PTREGS_R14(%rsp)
	mov %r13, PTREGS_R13(%rsp)
	mov %r12, PTREGS_R12(%rsp)
	mov %r11, PTREGS_R11(%rsp)
	mov %r10, PTREGS_R10(%rsp)
	mov %rbx, PTREGS_RBX(%rsp)
	movq $0, PTREGS_ORIG_RAX(%rsp)
	mov FRAME(%rsp), %rax
	mov %rax, PTREGS_EFLAGS(%rsp)
	movq $GDT_KERNEL_CS, PTREGS_CS(%rsp)
	movq $GDT_KERNEL_DS, PTREGS_SS(%rsp)
	lea FRAME+16(%rsp), %rax
	mov %rax, PTREGS_RSP(%rsp)
	frame_records FRAME+8(%rsp), FRAME+16(%rsp)
	mov FRAME+8(%rsp), %rdi
	mov %rdi, PTREGS_RIP(%rsp)
	recursion_enter 2f
ftrace_regs_caller_op_ptr:
	movq function_trace_op(%rip), %rdx
	mov PTREGS_RIP(%rsp), %rdi
	sub $5, %rdi
	mov FRAME+16(%rsp), %rsi
	mov %rsp, %rcx
ftrace_regs_call:
	call ftrace_stub
	recursion_exit
2:	mov PTREGS_EFLAGS(%rsp), %rax        /* callbacks may change flags and RIP */
	mov %rax, FRAME(%rsp)
	mov PTREGS_RIP(%rsp), %rax
	mov %rax, FRAME+8(%rsp)
	mov PTREGS_R15(%rsp), %r15
	mov PTREGS_R14(%rsp), %r14
	mov PTREGS_R13(%rsp), %r13
	mov PTREGS_R12(%rsp), %r12
	mov PTREGS_R11(%rsp), %r11
	mov PTREGS_R10(%rsp), %r10
	mov PTREGS_RBX(%rsp), %rbx
	mov PTREGS_RAX(%rsp), %rax
	restore_args
	/* A nonzero ORIG_RAX names a direct trampoline (call_direct_funcs set it): go there as if
	 * the site had called it. Copies of this trampoline have the jnz turned into a 2-byte NOP. */
	cmpq $0, PTREGS_ORIG_RAX(%rsp)
ftrace_regs_caller_jmp:
	jnz 1f
	add $FRAME, %rsp
	popfq
ftrace_regs_caller_end:
	ret
	/* The flags move one slot down and the direct trampoline takes their place, so after
	 * popfq the ret enters it with [rsp] = traced function + 5, as a call from the site would. */
1:	mov FRAME(%rsp), %rax
	mov %rax, FRAME-8(%rsp)
	mov PTREGS_ORIG_RAX(%rsp), %rax
	mov %rax, FRAME(%rsp)
	mov PTREGS_RAX(%rsp), %rax
	add $FRAME-8, %rsp
	popfq
	ret
SYM_FUNC_END ftrace_regs_caller
