/* Patch sites for the text-poke tests: two functions whose middle is a site a test rewrites
 * into a Jcc (the 6-byte near form and the 2-byte short form) while a kthread runs through it
 * with every combination of the arithmetic flags (poke_probe.c). Each returns 1 if the site's
 * jump was taken, 0 if it fell through, and leaves the 16 words below its stack pointer in
 * jcc_probe_below: after an INT3 at the site, the #BP entry's frames are still there. */
#include "kernel.h"

.section .note.GNU-stack, "", @progbits
.text

/* Copy the 16 words below %rsp (before anything else is pushed) to jcc_probe_below. */
.macro SNAPSHOT_BELOW_RSP
	lea jcc_probe_below(%rip), %rsi
	xor %ecx, %ecx
3:
	mov -128(%rsp,%rcx,8), %rdx
	mov %rdx, (%rsi,%rcx,8)
	inc %ecx
	cmp $16, %ecx
	jne 3b
	mov %rsp, jcc_probe_rsp(%rip)
.endm

/* Set CF PF AF ZF SF OF from %rdi (the other flags kept); %eax = 0. */
.macro SET_ARITH_FLAGS
	xor %eax, %eax
	pushfq
	andq $~0x8d5, (%rsp)
	or %rdi, (%rsp)
	popfq
.endm

/* u64 jcc_probe_d32(u64 flags) */
SYM_FUNC_START jcc_probe_d32
	SET_ARITH_FLAGS
.globl jcc_site_d32
jcc_site_d32:
	.byte 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopw 0(%rax,%rax,1): the 6-byte site */
	jmp 2f
.globl jcc_taken_d32
jcc_taken_d32:
	mov $1, %eax
2:
	SNAPSHOT_BELOW_RSP
	ret
SYM_FUNC_END jcc_probe_d32

/* u64 jcc_probe_d8(u64 flags) */
SYM_FUNC_START jcc_probe_d8
	SET_ARITH_FLAGS
.globl jcc_site_d8
jcc_site_d8:
	.byte 0x66, 0x90				/* xchg %ax,%ax: the 2-byte site (x86's NOP2) */
	jmp 2f
.globl jcc_taken_d8
jcc_taken_d8:
	mov $1, %eax
2:
	SNAPSHOT_BELOW_RSP
	ret
SYM_FUNC_END jcc_probe_d8

.data
.globl jcc_probe_below, jcc_probe_rsp
.balign 8
jcc_probe_below: .fill 16, 8, 0
jcc_probe_rsp: .quad 0
