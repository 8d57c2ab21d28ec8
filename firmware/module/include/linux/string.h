#ifndef _LINUX_STRING_H
#define _LINUX_STRING_H
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/errno.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *dest, const void *src, size_t n);
size_t strlen(const char *s);

static __always_inline int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}
static __always_inline int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (!*a)
			break;
	}
	return 0;
}
static __always_inline int strcmp(const char *a, const char *b) { return strncmp(a, b, (size_t)-1); }
/* Copies at most size-1 bytes and terminates: the length, or -E2BIG when truncated. */
static __always_inline ssize_t strscpy(char *dest, const char *src, size_t size)
{
	size_t i;
	if (!size)
		return -E2BIG;
	for (i = 0; i + 1 < size && src[i]; i++)
		dest[i] = src[i];
	dest[i] = 0;
	return src[i] ? -E2BIG : (ssize_t)i;
}

#endif
