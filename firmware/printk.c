/* The kernel's console: one hypercall per string, printed by the host. A file of its own, so
 * that boot (main.c), the scheduler and the trap handlers all depend on it and it on none of
 * them. */
#include "kernel.h"

void printk(const char *s)
{
	hypercall3(HYPERCALL_CONSOLE, (long)s, (long)strlen(s), 0);
}
