#ifndef _LINUX_CONTAINER_OF_H
#define _LINUX_CONTAINER_OF_H
#include <linux/stddef.h>
/* The structure of `type` whose `member` is at `ptr`. */
#define container_of(ptr, type, member) ({					\
	void *__mptr = (void *)(ptr);						\
	_Static_assert(__builtin_types_compatible_p(__typeof__(*(ptr)), __typeof__(((type *)0)->member)) || \
		       __builtin_types_compatible_p(__typeof__(*(ptr)), void), "pointer type mismatch in container_of()"); \
	((type *)((char *)__mptr - offsetof(type, member))); })
#endif
