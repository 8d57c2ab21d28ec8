/* Memory barriers on x86-64 (TSO): only a store followed by a load can be reordered. */
#ifndef _ASM_X86_BARRIER_H
#define _ASM_X86_BARRIER_H

#define barrier() __asm__ __volatile__("" : : : "memory")
/* A locked add to the stack orders everything, as a full fence does. */
#define mb() __asm__ __volatile__("lock; addl $0,-4(%%rsp)" : : : "memory", "cc")
#define rmb() barrier()
#define wmb() barrier()
#define smp_mb() mb()
#define smp_rmb() barrier()
#define smp_wmb() barrier()
#define smp_store_release(p, v) do { barrier(); WRITE_ONCE(*(p), (v)); } while (0)
#define smp_load_acquire(p) ({ __typeof__(*(p)) ___v = READ_ONCE(*(p)); barrier(); ___v; })
#define smp_mb__before_atomic() barrier()
#define smp_mb__after_atomic() barrier()

#endif
