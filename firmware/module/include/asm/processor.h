#ifndef _ASM_X86_PROCESSOR_H
#define _ASM_X86_PROCESSOR_H
#include <linux/compiler.h>

/* PAUSE: a spin-wait hint. */
static __always_inline void cpu_relax(void)
{
	__asm__ __volatile__("rep; nop" : : : "memory");
}

#endif
