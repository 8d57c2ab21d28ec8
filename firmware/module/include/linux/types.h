#ifndef _LINUX_TYPES_H
#define _LINUX_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s32 __s32;
typedef s64 __s64;

typedef unsigned long size_t;
typedef long ssize_t;
typedef long ptrdiff_t;
typedef unsigned long uintptr_t;
typedef long intptr_t;
typedef long long loff_t;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;
typedef int pid_t;

typedef _Bool bool;
enum { false = 0, true = 1 };

#define NULL ((void *)0)

typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;

struct list_head { struct list_head *next, *prev; };

/* struct rcu_head: what call_rcu() queues. */
struct callback_head {
	struct callback_head *next;
	void (*func)(struct callback_head *head);
};
#define rcu_head callback_head

#endif
