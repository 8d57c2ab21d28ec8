#ifndef _LINUX_MATH64_H
#define _LINUX_MATH64_H
#include <linux/compiler.h>
#include <linux/types.h>

static __always_inline u64 div_u64(u64 dividend, u32 divisor) { return dividend / divisor; }
static __always_inline s64 div_s64(s64 dividend, s32 divisor) { return dividend / divisor; }
static __always_inline u64 div64_u64(u64 dividend, u64 divisor) { return dividend / divisor; }
static __always_inline s64 div64_s64(s64 dividend, s64 divisor) { return dividend / divisor; }
static __always_inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}
/* do_div(n, base): n becomes the quotient; the remainder is the value. */
#define do_div(n, base) ({ u32 __base = (base); u32 __rem = (u32)((n) % __base); (n) /= __base; __rem; })

#endif
