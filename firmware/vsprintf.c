/* placeholder */
#include "kernel.h"
#include "vsprintf.h"
int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list args) { (void)args; size_t n = strlen(fmt); if (size) { size_t c = n < size - 1 ? n : size - 1; memcpy(buf, fmt, c); buf[c] = 0; } return (int)n; }
int vscnprintf(char *buf, unsigned long size, const char *fmt, va_list args) { int n = vsnprintf(buf, size, fmt, args); return size == 0 ? 0 : (n < (int)size ? n : (int)size - 1); }
int snprintf(char *buf, unsigned long size, const char *fmt, ...) { va_list a; va_start(a, fmt); int n = vsnprintf(buf, size, fmt, a); va_end(a); return n; }
int scnprintf(char *buf, unsigned long size, const char *fmt, ...) { va_list a; va_start(a, fmt); int n = vscnprintf(buf, size, fmt, a); va_end(a); return n; }
