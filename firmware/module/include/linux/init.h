#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H
#include <linux/compiler.h>

/* Sections of code and data used only while the module loads or unloads. */
#define __init __section(".init.text") __cold
#define __exit __section(".exit.text") __cold
#define __initdata __section(".init.data")
#define __exitdata __section(".exit.data")
#define __initconst __section(".init.rodata")

/* The loader calls init_module() and, at rmmod, cleanup_module(): aliases of the module's own. */
#define module_init(initfn)							\
	static inline int (*__inittest(void))(void) { return initfn; }		\
	int init_module(void) __attribute__((__copy__(initfn), __alias__(#initfn)))
#define module_exit(exitfn)							\
	static inline void (*__exittest(void))(void) { return exitfn; }		\
	void cleanup_module(void) __attribute__((__copy__(exitfn), __alias__(#exitfn)))

#endif
