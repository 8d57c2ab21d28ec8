/* The Jcc probe's kthread (its sites are in poke_sites.S): stretches with interrupts off, each
 * running both sites once per combination of CF, PF, ZF, SF and OF. A text-poke sync IPI waits for the end
 * of a stretch, so while a test's batch is open the kthread runs at least one whole stretch
 * through the INT3 handler, and after it one through the new instruction. */
#include "kernel.h"

u64 jcc_probe_d32(u64 flags);
u64 jcc_probe_d8(u64 flags);
extern u64 jcc_probe_below[16], jcc_probe_rsp;
extern u64 text_poke_int3_hits[];

#define JCC_PROBE_COMBOS 32

/* [site: 0 d32, 1 d8][0 executed, 1 emulated][combination]: 0 not run yet, else 1 + taken. */
u64 jcc_probe_results[2][2][JCC_PROBE_COMBOS];
/* The stack below the probe's RSP after its last emulated hit, and that RSP. */
u64 jcc_probe_emulated_below[16], jcc_probe_emulated_rsp;

/* Combination c's bits 0-4 as CF, PF, ZF, SF, OF. */
static notrace u64 arith_flags(u64 c)
{
	static const u64 bit[5] = { X86_EFLAGS_CF, X86_EFLAGS_PF, X86_EFLAGS_ZF, X86_EFLAGS_SF, X86_EFLAGS_OF };
	u64 f = 0;
	for (int i = 0; i < 5; i++)
		if (c & (1ull << i))
			f |= bit[i];
	return f;
}

void kthread_jcc_probe(u64 unused)
{
	for (;;) {
		local_irq_disable();
		u64 *hits = &text_poke_int3_hits[this_cpu()->cpu];
		for (u64 c = 0; c < JCC_PROBE_COMBOS; c++) {
			for (int site = 0; site < 2; site++) {
				u64 before = READ_ONCE(*hits);
				u64 taken = site ? jcc_probe_d8(arith_flags(c)) : jcc_probe_d32(arith_flags(c));
				int emulated = READ_ONCE(*hits) != before;
				jcc_probe_results[site][emulated][c] = 1 + taken;
				if (emulated) {
					for (int i = 0; i < 16; i++)
						jcc_probe_emulated_below[i] = jcc_probe_below[i];
					jcc_probe_emulated_rsp = jcc_probe_rsp;
				}
			}
		}
		local_irq_enable();
		/* Why the pause: an sti followed at once by the next stretch's cli would hold
		 * interrupts off across the loop (sti's one-instruction shadow), and no IPI could
		 * ever be taken. */
		asm volatile("pause");
	}
}
