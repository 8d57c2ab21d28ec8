/* The boot parameters the host hands each vCPU (rsi of start_kernel_cpu): the preemption
 * model, the recursion scheme, the demand-paging regions, the tick. A file of its own, so that
 * boot (main.c), which sets the pointer, and the scheduler, the fault handler and ftrace, which
 * read it, depend on it and not on each other. */
#include "kernel.h"

struct boot_params *boot_params;
