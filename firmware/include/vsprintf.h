/* placeholder, replaced by the vsnprintf work */
#ifndef VSPRINTF_H
#define VSPRINTF_H
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)
int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list args);
int snprintf(char *buf, unsigned long size, const char *fmt, ...);
int vscnprintf(char *buf, unsigned long size, const char *fmt, va_list args);
int scnprintf(char *buf, unsigned long size, const char *fmt, ...);
#endif
