#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H
#include <linux/types.h>
#include <linux/compiler.h>

#define __GFP_ZERO 0x100u
#define GFP_ATOMIC 0x820u
#define GFP_KERNEL 0xcc0u
#define GFP_NOWAIT 0x800u
#define GFP_NOFS 0xc40u

/* The machine's heap hands out zeroed memory; NULL when size is 0 or over 4 MiB. */
void *__kmalloc(size_t size, gfp_t flags);
void kfree(const void *objp);

static __always_inline void *kmalloc(size_t size, gfp_t flags) { return __kmalloc(size, flags); }
static __always_inline void *kzalloc(size_t size, gfp_t flags) { return __kmalloc(size, flags | __GFP_ZERO); }
static __always_inline void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return __kmalloc(bytes, flags);
}
static __always_inline void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	return kmalloc_array(n, size, flags | __GFP_ZERO);
}
#define kfree_sensitive(p) kfree(p)

#endif
