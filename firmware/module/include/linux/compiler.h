/* Compiler attributes and access helpers, with the kernel's names. */
#ifndef _LINUX_COMPILER_H
#define _LINUX_COMPILER_H

#define notrace __attribute__((__no_instrument_function__))
/* As in the kernel, an inline function is never traced. */
#define __always_inline inline __attribute__((__always_inline__)) notrace
#define noinline __attribute__((__noinline__))
/* Code that must never be instrumented or call what is: check-noinstr checks it. */
#define noinstr __attribute__((__noinline__, __no_instrument_function__, __section__(".noinstr.text")))
#define __noreturn __attribute__((__noreturn__))
#define __used __attribute__((__used__))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __weak __attribute__((__weak__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __section(s) __attribute__((__section__(s)))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __must_check __attribute__((__warn_unused_result__))
#define __cold __attribute__((__cold__))
#define __read_mostly
#define __user
#define __iomem
#define __force
#define __rcu

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

#include <asm/barrier.h>

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile __typeof__(x) *)&(x) = (val); } while (0)

#endif
