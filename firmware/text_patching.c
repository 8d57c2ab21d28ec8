/* The INT3 half of the text-poke protocol (arch/x86/kernel/alternative.c). While the host
 * rewrites patch sites, a vCPU that executes a site whose first byte is already int3 lands
 * here: the site is looked up in the published vector (sorted, binary search) and the NEW
 * instruction is emulated, so the vCPU behaves as if patching were done. */
#include "kernel.h"

extern char _stext[];

/* The vector the host publishes for a batch: text_poke_nr entries, sorted by address. */
struct text_poke_loc text_poke_vec[TEXT_POKE_MAX];
u32 text_poke_nr;
/* INT3 hits emulated, per vCPU (statistics). */
u64 text_poke_int3_hits[64];

static noinstr struct text_poke_loc *find_site(u64 ip)
{
	s64 rel = (s64)(ip - (u64)_stext);
	u32 lo = 0, hi = text_poke_nr;
	while (lo < hi) {
		u32 mid = (lo + hi) / 2;
		struct text_poke_loc *tp = &text_poke_vec[mid];
		if (tp->rel_addr == rel)
			return tp;
		if (tp->rel_addr < rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Returns 1 if the int3 was one of ours (regs now resume as the new instruction would). */
noinstr int poke_int3_handler(struct pt_regs *regs)
{
	if (user_mode(regs) || text_poke_nr == 0)
		return 0;
	asm volatile("" : : : "memory");
	struct text_poke_loc *tp = find_site(regs->rip - 1);
	if (!tp)
		return 0;
	u64 next = regs->rip - 1 + tp->len;
	switch (tp->opcode) {
	case 0xcc: /* someone is poking an int3 on purpose: not ours to handle */
		return 0;
	case 0xc3: /* ret */
		regs->rip = *(u64 *)regs->rsp;
		regs->rsp += 8;
		break;
	case 0xe8: /* call: push the return address on the interrupted stack (the entry left a gap) */
		regs->rsp -= 8;
		*(u64 *)regs->rsp = next;
		regs->rip = next + (s64)tp->disp;
		break;
	default: /* jmp, and a NOP as jmp +0 */
		regs->rip = next + (s64)tp->disp;
		break;
	}
	text_poke_int3_hits[this_cpu()->cpu]++;
	return 1;
}
