/* The kernel's printf family (firmware/vsprintf.c), with the kernel's meanings:
 * vsnprintf/snprintf return the length the whole output would have had, vscnprintf/scnprintf
 * the length actually stored; the buffer is NUL-terminated whenever size > 0.
 * Self-contained (no kernel.h), so that module headers and native test builds can use it. */
#ifndef VSPRINTF_H
#define VSPRINTF_H

typedef unsigned long size_t;
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_end(ap) __builtin_va_end(ap)

int vsnprintf(char *buf, size_t size, const char *fmt, va_list args);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vscnprintf(char *buf, size_t size, const char *fmt, va_list args);
int scnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes the name of the symbol covering addr into buf (at most size bytes, NUL included):
 * "name+0xoff/0xsize" with with_offset, else "name". Returns the length written, or 0 when no
 * symbol covers addr. Defined in module_api.c (a hypercall: the host knows every symbol). */
int format_symbol(char *buf, size_t size, unsigned long addr, int with_offset);

#endif
