#ifndef _LINUX_KTIME_H
#define _LINUX_KTIME_H
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/jiffies.h>

#define NSEC_PER_USEC 1000L
#define NSEC_PER_MSEC 1000000L
#define NSEC_PER_SEC 1000000000L
#define USEC_PER_SEC 1000000L
#define MSEC_PER_SEC 1000L

/* Nanoseconds of the calling vCPU's virtual clock. */
typedef s64 ktime_t;
ktime_t ktime_get(void);

static __always_inline u64 ktime_get_ns(void) { return (u64)ktime_get(); }
static __always_inline ktime_t ktime_sub(ktime_t a, ktime_t b) { return a - b; }
static __always_inline ktime_t ktime_add(ktime_t a, ktime_t b) { return a + b; }
static __always_inline ktime_t ktime_add_ns(ktime_t k, u64 ns) { return k + (ktime_t)ns; }
static __always_inline s64 ktime_to_ns(ktime_t k) { return k; }
static __always_inline s64 ktime_to_us(ktime_t k) { return k / NSEC_PER_USEC; }
static __always_inline s64 ktime_to_ms(ktime_t k) { return k / NSEC_PER_MSEC; }
static __always_inline ktime_t ns_to_ktime(u64 ns) { return (ktime_t)ns; }
static __always_inline ktime_t ms_to_ktime(u64 ms) { return (ktime_t)(ms * NSEC_PER_MSEC); }
static __always_inline s64 ktime_us_delta(ktime_t later, ktime_t earlier) { return ktime_to_us(later - earlier); }
static __always_inline s64 ktime_ms_delta(ktime_t later, ktime_t earlier) { return ktime_to_ms(later - earlier); }
static __always_inline bool ktime_after(ktime_t a, ktime_t b) { return a > b; }
static __always_inline bool ktime_before(ktime_t a, ktime_t b) { return a < b; }

#endif
