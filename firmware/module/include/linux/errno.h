/* Error numbers (the kernel returns -ENAME); generated with the machine's constants. */
#ifndef _LINUX_ERRNO_H
#define _LINUX_ERRNO_H
#include <gen/constants.h>
#endif
