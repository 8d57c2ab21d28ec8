/* WARN_ON and BUG_ON. Each is a ud2 with an entry in __bug_table (x86-64's struct bug_entry:
 * the trap's and the file name's addresses relative to their fields, the line, the flags). The
 * #UD handler prints a warning with a backtrace and goes on after it; a BUG is "kernel BUG at
 * file:line!" and an oops. */
#ifndef _LINUX_BUG_H
#define _LINUX_BUG_H
#include <linux/compiler.h>
#include <linux/printk.h>

#define BUGFLAG_WARNING (1 << 0)

#define __BUG_TRAP(flags)							\
	__asm__ __volatile__("1:\tud2\n\t"					\
			     ".pushsection .rodata\n"				\
			     "3:\t.asciz \"" __FILE__ "\"\n\t"			\
			     ".popsection\n\t"					\
			     ".pushsection __bug_table, \"a\"\n\t"		\
			     ".balign 4\n\t"					\
			     ".long 1b - .\n\t"					\
			     ".long 3b - .\n\t"					\
			     ".short %c0\n\t"					\
			     ".short %c1\n\t"					\
			     ".popsection" : : "i"(__LINE__), "i"(flags))

#define __WARN_TRAP() __BUG_TRAP(BUGFLAG_WARNING)

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

#define BUG() do { __BUG_TRAP(0); __builtin_unreachable(); } while (0)
#define BUG_ON(condition) do { if (unlikely(condition)) BUG(); } while (0)

#define BUILD_BUG_ON(condition) _Static_assert(!(condition), "BUILD_BUG_ON failed: " #condition)
#define BUILD_BUG_ON_MSG(condition, msg) _Static_assert(!(condition), msg)

#endif
