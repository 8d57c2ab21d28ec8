/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A direct trampoline: the site calls it as it would call __fentry__, so on entry [rsp] is the
 * traced function + 5 and the argument registers are the traced function's. It saves them,
 * calls FUNC(traced function + 5) and returns into the traced function.
 */
#define DIRECT_TRAMPOLINE(name, func)					\
	asm(".pushsection .text, \"ax\", @progbits\n"			\
	    ".type " #name ", @function\n"				\
	    ".globl " #name "\n"					\
	    #name ":\n"							\
	    "	pushq %rbp\n"						\
	    "	movq %rsp, %rbp\n"					\
	    "	pushq %rdi\n	pushq %rsi\n	pushq %rdx\n"		\
	    "	pushq %rcx\n	pushq %r8\n	pushq %r9\n"		\
	    "	pushq %rax\n	pushq %rax\n"				\
	    "	movq 8(%rbp), %rdi\n"					\
	    "	call " #func "\n"					\
	    "	popq %rax\n	popq %rax\n"				\
	    "	popq %r9\n	popq %r8\n	popq %rcx\n"		\
	    "	popq %rdx\n	popq %rsi\n	popq %rdi\n"		\
	    "	leave\n"						\
	    "	ret\n"							\
	    ".size " #name ", .-" #name "\n"				\
	    ".popsection\n")
