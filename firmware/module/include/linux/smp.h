#ifndef _LINUX_SMP_H
#define _LINUX_SMP_H
#include <linux/preempt.h>
int raw_smp_processor_id(void);
#define smp_processor_id() raw_smp_processor_id()
#define get_cpu() ({ preempt_disable(); smp_processor_id(); })
#define put_cpu() preempt_enable()
#endif
