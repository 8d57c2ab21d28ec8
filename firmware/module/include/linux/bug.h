/* WARN_ON and BUG_ON. A WARN is a ud2 listed in __bug_table: the #UD handler prints the
 * warning with a backtrace and goes on after it. A BUG is a ud2 that is not listed: an oops. */
#ifndef _LINUX_BUG_H
#define _LINUX_BUG_H
#include <linux/compiler.h>
#include <linux/printk.h>

#define __WARN_TRAP()								\
	__asm__ __volatile__("1:\tud2\n\t"					\
			     ".pushsection __bug_table, \"a\"\n\t"		\
			     ".balign 8\n\t.quad 1b\n\t.popsection")

#define WARN_ON(condition) ({							\
	int __ret_warn_on = !!(condition);					\
	if (unlikely(__ret_warn_on))						\
		__WARN_TRAP();							\
	unlikely(__ret_warn_on);						\
})

#define WARN(condition, format...) ({						\
	int __ret_warn_on = !!(condition);					\
	if (unlikely(__ret_warn_on)) {						\
		printk(KERN_WARNING format);					\
		__WARN_TRAP();							\
	}									\
	unlikely(__ret_warn_on);						\
})

#define WARN_ON_ONCE(condition) ({						\
	static bool __warned;							\
	int __ret_warn_once = !!(condition);					\
	if (unlikely(__ret_warn_once && !__warned)) {				\
		__warned = true;						\
		__WARN_TRAP();							\
	}									\
	unlikely(__ret_warn_once);						\
})

#define WARN_ONCE(condition, format...) ({					\
	static bool __warned;							\
	int __ret_warn_once = !!(condition);					\
	if (unlikely(__ret_warn_once && !__warned)) {				\
		__warned = true;						\
		printk(KERN_WARNING format);					\
		__WARN_TRAP();							\
	}									\
	unlikely(__ret_warn_once);						\
})

#define BUG() do { __asm__ __volatile__("ud2"); __builtin_unreachable(); } while (0)
#define BUG_ON(condition) do { if (unlikely(condition)) BUG(); } while (0)

#define BUILD_BUG_ON(condition) _Static_assert(!(condition), "BUILD_BUG_ON failed: " #condition)
#define BUILD_BUG_ON_MSG(condition, msg) _Static_assert(!(condition), msg)

#endif
