/* User-mode programs, mapped a second time at a user address by the host. Position-independent
 * and self-contained: each loops forever making system calls. */
#include "kernel.h"

.section .note.GNU-stack, "", @progbits
.section .user, "ax"

/* Asks the kernel to do traced work, again and again. */
SYM_FUNC_START user_worker
	xor %ebx, %ebx
1:	mov $SYS_WORK, %eax
	mov %rbx, %rdi
	syscall
	inc %rbx
	jmp 1b
SYM_FUNC_END user_worker

/* Works, then sleeps for a few ticks. */
SYM_FUNC_START user_sleeper
1:	mov $SYS_WORK, %eax
	xor %edi, %edi
	syscall
	mov $SYS_SLEEP, %eax
	mov $2, %edi
	syscall
	jmp 1b
SYM_FUNC_END user_sleeper
