/* Permanent trampolines: seed 000's first alternative to Tasks RCU, a proposal (2024), not a
 * kernel mechanism.
 *
 * A fixed set of trampolines in kernel text, never freed. A site traced by one "permanent"
 * ops calls ftrace_permanent_N, which builds the same pt_regs-shaped frame as ftrace_caller,
 * enters an RCU read-side critical section (preempt_disable_notrace: a reader of RCU in every
 * preemption model), loads the per-ops code's address from its slot into a register and calls
 * through it, then leaves the reader with preempt_enable_notrace (a preemption point).
 *
 * The per-ops code (src/kernel/ftrace/trampoline.ts createOpsCode: load the ops, call its
 * callback, return) is the only allocated part. It runs only inside the reader, so no task
 * can be preempted in it, or in the callback it calls, and once no site and no slot points
 * at it a plain RCU grace period covers every CPU that could still be there. A task preempted
 * in the permanent part stays in memory that is never freed.
 *
 * The price: the extra instructions here (the reader, the slot load, an indirect call, the
 * per-ops code's own call and return), the callback never preemptible, and a slot that a task
 * preempted before its load may still read later: slots are never reused (a model's simplification;
 * reusing one needs every task that may sit before the load to have moved on). */
#include "kernel.h"

.section .note.GNU-stack, "", @progbits

#define PERMANENT_SLOTS 16
/* pt_regs, one spare word (keeps the calls 16-byte aligned), two frame records. */
#define RECORDS (PTREGS_SIZE + 8)
#define FRAME (RECORDS + 32)

.data
.balign 8
/* The per-ops code each permanent trampoline calls; 0: none (the slot's ops is gone). */
.globl ftrace_permanent_slots
ftrace_permanent_slots:
	.fill PERMANENT_SLOTS, 8, 0

.text

.macro permanent_trampoline n
SYM_FUNC_START ftrace_permanent_\n
	sub $FRAME, %rsp
	mov %rax, PTREGS_RAX(%rsp)
	mov %rcx, PTREGS_RCX(%rsp)
	mov %rdx, PTREGS_RDX(%rsp)
	mov %rsi, PTREGS_RSI(%rsp)
	mov %rdi, PTREGS_RDI(%rsp)
	mov %r8, PTREGS_R8(%rsp)
	mov %r9, PTREGS_R9(%rsp)
	mov %rbp, PTREGS_RBP(%rsp)
	movq $0, PTREGS_ORIG_RAX(%rsp)
	movq $0, PTREGS_CS(%rsp)
	mov FRAME(%rsp), %rdi
	mov %rdi, PTREGS_RIP(%rsp)
	lea FRAME+8(%rsp), %rax
	mov %rax, PTREGS_RSP(%rsp)
	/* Frame records, as ftrace_caller builds them: callback <- here <- traced function <- caller. */
	mov FRAME(%rsp), %rax
	mov %rax, RECORDS+8(%rsp)
	mov %rbp, RECORDS+16(%rsp)
	mov FRAME+8(%rsp), %rax
	mov %rax, RECORDS+24(%rsp)
	lea RECORDS+16(%rsp), %rax
	mov %rax, RECORDS(%rsp)
	lea RECORDS(%rsp), %rbp
	/* rcu_read_lock(), here preempt_disable_notrace(): from now on this CPU holds up RCU. */
	mov %gs:0, %rax
	addl $PREEMPT_OFFSET, PERCPU_PREEMPT_COUNT(%rax)
	/* The slot is read inside the reader: a per-ops code read here outlives the call. */
	mov ftrace_permanent_slots+8*\n(%rip), %rax
	test %rax, %rax
	jz 1f
	mov PTREGS_RIP(%rsp), %rdi
	sub $5, %rdi                         /* ip: the patch site */
	mov FRAME+8(%rsp), %rsi              /* parent_ip */
	xor %edx, %edx                       /* op: the per-ops code loads it */
	mov %rsp, %rcx                       /* fregs */
	call *%rax
	/* rcu_read_unlock(): a preemption point, in memory that is never freed. */
1:	call preempt_enable_notrace
	mov PTREGS_RIP(%rsp), %rax           /* a callback may redirect the return */
	mov %rax, FRAME(%rsp)
	mov PTREGS_RAX(%rsp), %rax
	mov PTREGS_RCX(%rsp), %rcx
	mov PTREGS_RDX(%rsp), %rdx
	mov PTREGS_RSI(%rsp), %rsi
	mov PTREGS_RDI(%rsp), %rdi
	mov PTREGS_R8(%rsp), %r8
	mov PTREGS_R9(%rsp), %r9
	mov PTREGS_RBP(%rsp), %rbp
	add $FRAME, %rsp
	ret
SYM_FUNC_END ftrace_permanent_\n
.endm

.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
permanent_trampoline \n
.endr
