/* The ftrace benchmark's kernel threads and its minimal ops callback. Nothing here is traced:
 * the only fentry sites the benchmark adds are the generated bench_fN, so "bench_f*" selects
 * exactly them and every instruction a thread spends outside them is fixed per round. */
#include "bench.h"

/* Rounds completed, by every vCPU together (the host polls it with readGlobal). */
u64 bench_rounds;
/* bench_round_clock[r % BENCH_CLOCK_RING]: the vCPU clock (rdtsc: one tick per instruction)
 * when round r started. Only meaningful with one bench thread, which is how it is measured:
 * the difference of two entries is the exact instruction count of the rounds between them. */
u64 bench_round_clock[BENCH_CLOCK_RING];
/* Where each round's result goes, so the calls cannot be optimised away. */
volatile u64 bench_sink;

static inline notrace u64 bench_rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* Calls table[0..n-1] (or table[n-1..0], `down`) in a loop forever. The calls are indirect
 * through a table of pointers, so every call costs the same whatever its index, and the
 * compiler cannot inline, merge or reorder them. Inlined into each thread with `down` a
 * constant, so the measured upward loop carries no trace of the downward one. */
static inline __attribute__((always_inline)) notrace __noreturn void bench_loop(bench_fn_t *const *table, u64 nr, u64 n, int down)
{
	u64 x = 0;
	if (n > nr)
		n = nr;
	for (u64 r = 0;; r++) {
		bench_round_clock[r % BENCH_CLOCK_RING] = bench_rdtsc();
		for (u64 i = 0; i < n; i++)
			x = table[down ? n - 1 - i : i](x);
		bench_sink = x;
		asm volatile("lock incq %0" : "+m"(bench_rounds));
	}
}

/* The workload of the traced-call and patching measurements: bench_f0 .. bench_f(n-1). */
notrace void kthread_bench_calls(u64 n)
{
	bench_loop(bench_table, bench_nr, n, 0);
}

/* The same calls in the opposite order. Text poking walks the sites upwards, batch by batch,
 * about as fast as an untraced loop walks them: a thread going the same way never meets an
 * open batch unless it starts in one, a thread going the other way crosses every batch. */
notrace void kthread_bench_calls_down(u64 n)
{
	bench_loop(bench_table, bench_nr, n, 1);
}

/* The same loop over bench_plain_f0 .. bench_plain_f(n-1), which have no fentry site at all. */
notrace void kthread_bench_plain_calls(u64 n)
{
	bench_loop(bench_plain_table, bench_plain_nr, n, 0);
}

/* The least an ops callback can do: count that it ran (op->calls, as the firmware's tracers
 * do). With it the measured cost is ftrace's dispatch, not a tracer's own work. */
notrace void bench_ops_call(u64 ip, u64 parent_ip, struct ftrace_ops *op, struct pt_regs *fregs)
{
	asm volatile("lock incq %0" : "+m"(op->calls));
}
