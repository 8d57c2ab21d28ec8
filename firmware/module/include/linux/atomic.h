/* atomic_t and atomic64_t with locked x86 instructions. */
#ifndef _LINUX_ATOMIC_H
#define _LINUX_ATOMIC_H
#include <linux/compiler.h>
#include <linux/types.h>

#define ATOMIC_INIT(i) { (i) }
#define ATOMIC64_INIT(i) { (i) }

#define __ATOMIC_OPS(prefix, atype, ctype)						\
static __always_inline ctype prefix##_read(const atype *v) { return READ_ONCE(v->counter); }	\
static __always_inline void prefix##_set(atype *v, ctype i) { WRITE_ONCE(v->counter, i); }	\
static __always_inline void prefix##_add(ctype i, atype *v)				\
{ __asm__ __volatile__("lock; add%z0 %1, %0" : "+m"(v->counter) : "er"(i) : "memory", "cc"); }	\
static __always_inline void prefix##_sub(ctype i, atype *v)				\
{ __asm__ __volatile__("lock; sub%z0 %1, %0" : "+m"(v->counter) : "er"(i) : "memory", "cc"); }	\
static __always_inline ctype prefix##_fetch_add(ctype i, atype *v)			\
{ __asm__ __volatile__("lock; xadd %0, %1" : "+r"(i), "+m"(v->counter) : : "memory", "cc"); return i; }	\
static __always_inline ctype prefix##_add_return(ctype i, atype *v) { return prefix##_fetch_add(i, v) + i; }	\
static __always_inline ctype prefix##_sub_return(ctype i, atype *v) { return prefix##_add_return(-i, v); }	\
static __always_inline void prefix##_inc(atype *v) { prefix##_add(1, v); }		\
static __always_inline void prefix##_dec(atype *v) { prefix##_sub(1, v); }		\
static __always_inline ctype prefix##_inc_return(atype *v) { return prefix##_add_return(1, v); }	\
static __always_inline ctype prefix##_dec_return(atype *v) { return prefix##_sub_return(1, v); }	\
static __always_inline bool prefix##_dec_and_test(atype *v) { return prefix##_dec_return(v) == 0; }	\
static __always_inline bool prefix##_inc_and_test(atype *v) { return prefix##_inc_return(v) == 0; }	\
static __always_inline ctype prefix##_xchg(atype *v, ctype n)				\
{ __asm__ __volatile__("xchg %0, %1" : "+r"(n), "+m"(v->counter) : : "memory"); return n; }	\
static __always_inline ctype prefix##_cmpxchg(atype *v, ctype old, ctype n)		\
{ ctype prev;									\
  __asm__ __volatile__("lock; cmpxchg %2, %1" : "=a"(prev), "+m"(v->counter) : "r"(n), "0"(old) : "memory", "cc"); \
  return prev; }

__ATOMIC_OPS(atomic, atomic_t, int)
__ATOMIC_OPS(atomic64, atomic64_t, s64)
#undef __ATOMIC_OPS

#endif
