/* Names of kernel and module addresses ("func+0x1f/0x40 [mod]"). */
#ifndef _LINUX_KALLSYMS_H
#define _LINUX_KALLSYMS_H
#define KSYM_NAME_LEN 512
#define KSYM_SYMBOL_LEN 640
int sprint_symbol(char *buffer, unsigned long address);
int sprint_symbol_no_offset(char *buffer, unsigned long address);
#endif
