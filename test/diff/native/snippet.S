// Entry into and exit from a test snippet on the host CPU.
//
// A snippet may use every general-purpose register, including RSP, so neither direction may
// depend on one: the entry loads all sixteen from the case and jumps through a memory
// operand, and the snippet returns with `jmp *disp32(%rip)` (a register-free absolute jump
// the harness appends; the address it reads is 8-byte aligned, for a snippet that left AC
// set) to snippet_exit, which saves them before touching the stack.
//
// FS and GS bases are set to the same fixed values the emulator uses so that fs:/gs:
// prefixed operands are comparable. glibc keeps its thread pointer in FS, so from the moment
// FS changes until it is restored no C code may run: the exit path and the signal entry stub
// restore it first. Everything is done with raw arch_prctl system calls.
//
// Layouts (see harness.c): case_in and case_out both begin with regs[16] then rflags.

#define SYS_arch_prctl 158
#define ARCH_SET_FS 0x1002
#define ARCH_SET_GS 0x1001

	.text

// Sets FS base to host_fs (glibc's). Clobbers rax, rcx, rdi, rsi, r11.
restore_fs:
	mov	$SYS_arch_prctl, %eax
	mov	$ARCH_SET_FS, %edi
	mov	host_fs(%rip), %rsi
	syscall
	ret

// void run_snippet(const struct case_in *in, struct case_out *out)
// Returns through snippet_exit when the snippet completes; a fault leaves via siglongjmp.
	.globl	run_snippet
	.type	run_snippet, @function
run_snippet:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, host_rsp(%rip)
	mov	%rsi, out_ptr(%rip)
	mov	%rdi, %r15
	// An earlier snippet may have loaded segment registers: DS and ES go back to null, GS
	// (ARCH_SET_GS loads a null selector and the base) to the case's base, FS below. SS is
	// the user data selector again once a system call has returned.
	xor	%eax, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	$SYS_arch_prctl, %eax
	mov	$ARCH_SET_GS, %edi
	movabs	$GS_BASE, %rsi
	syscall
	mov	$SYS_arch_prctl, %eax
	mov	$ARCH_SET_FS, %edi
	movabs	$FS_BASE, %rsi
	syscall
	// RFLAGS first: popfq needs the host stack, and no later mov changes a flag.
	pushq	128(%r15)
	popfq
	mov	0(%r15), %rax
	mov	8(%r15), %rcx
	mov	16(%r15), %rdx
	mov	24(%r15), %rbx
	mov	32(%r15), %rsp
	mov	40(%r15), %rbp
	mov	48(%r15), %rsi
	mov	56(%r15), %rdi
	mov	64(%r15), %r8
	mov	72(%r15), %r9
	mov	80(%r15), %r10
	mov	88(%r15), %r11
	mov	96(%r15), %r12
	mov	104(%r15), %r13
	mov	112(%r15), %r14
	mov	120(%r15), %r15
	jmp	*snippet_entry(%rip)
	.size	run_snippet, .-run_snippet

// Reached from the snippet's exit stub with the snippet's registers and flags live.
	.globl	snippet_exit
	.type	snippet_exit, @function
snippet_exit:
	mov	%rsp, snippet_rsp(%rip)	// mov leaves the flags alone
	mov	host_rsp(%rip), %rsp	// below host_rsp is free: run_snippet's frame ends there
	pushfq
	push	%rax
	mov	out_ptr(%rip), %rax
	mov	%rcx, 8(%rax)
	mov	%rdx, 16(%rax)
	mov	%rbx, 24(%rax)
	mov	%rbp, 40(%rax)
	mov	%rsi, 48(%rax)
	mov	%rdi, 56(%rax)
	mov	%r8, 64(%rax)
	mov	%r9, 72(%rax)
	mov	%r10, 80(%rax)
	mov	%r11, 88(%rax)
	mov	%r12, 96(%rax)
	mov	%r13, 104(%rax)
	mov	%r14, 112(%rax)
	mov	%r15, 120(%rax)
	mov	snippet_rsp(%rip), %rcx
	mov	%rcx, 32(%rax)
	pop	%rcx
	mov	%rcx, 0(%rax)
	pop	%rcx
	mov	%rcx, 128(%rax)
	// The snippet may have left DF, NT or ID set; C code expects a clean RFLAGS.
	pushq	$0x202
	popfq
	call	restore_fs
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
	.size	snippet_exit, .-snippet_exit

// SA_SIGINFO handler for faults (on the alternate stack): clear AC (a snippet may have set
// it, and the kernel leaves it set for the handler; C code must not meet alignment checks),
// restore FS, then the C handler.
	.globl	fault_entry
	.type	fault_entry, @function
fault_entry:
	pushfq
	andq	$~0x40000, (%rsp)
	popfq
	push	%rdi
	push	%rsi
	push	%rdx
	call	restore_fs
	pop	%rdx
	pop	%rsi
	pop	%rdi
	jmp	on_fault
	.size	fault_entry, .-fault_entry

	.bss
	.align	8
	.globl	host_fs, snippet_entry
host_fs:	.quad	0
snippet_entry:	.quad	0
host_rsp:	.quad	0
out_ptr:	.quad	0
snippet_rsp:	.quad	0

	.section .note.GNU-stack,"",@progbits
