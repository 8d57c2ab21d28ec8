/* The configuration the machine's kernel has, and IS_ENABLED() to ask about it. */
#ifndef _LINUX_KCONFIG_H
#define _LINUX_KCONFIG_H

#define CONFIG_X86 1
#define CONFIG_X86_64 1
#define CONFIG_64BIT 1
#define CONFIG_SMP 1
#define CONFIG_MODULES 1
#define CONFIG_FTRACE 1
#define CONFIG_FUNCTION_TRACER 1
#define CONFIG_DYNAMIC_FTRACE 1
#define CONFIG_DYNAMIC_FTRACE_WITH_REGS 1
#define CONFIG_DYNAMIC_FTRACE_WITH_ARGS 1
#define CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS 1
#define CONFIG_HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS 1
#define CONFIG_TASKS_RCU 1
#define CONFIG_TASKS_RUDE_RCU 1
#define CONFIG_TASKS_TRACE_RCU 1
/* The preemption model is chosen when the machine boots (--preempt), after a module is
 * built, so CONFIG_PREEMPTION and friends are not defined here. */

/* IS_ENABLED(CONFIG_X): 1 when CONFIG_X is defined to 1, else 0, usable in C and #if. */
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define __is_defined(x) ___is_defined(x)
#define IS_BUILTIN(option) __is_defined(option)
#define IS_MODULE(option) 0
#define IS_REACHABLE(option) __is_defined(option)
#define IS_ENABLED(option) __is_defined(option)

#endif
