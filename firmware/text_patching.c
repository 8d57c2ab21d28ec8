/* The INT3 half of the text-poke protocol (arch/x86/kernel/alternative.c). While the host
 * rewrites patch sites, a vCPU that executes a site whose first byte is already int3 lands
 * here: the site is looked up in the published vector (sorted, binary search) and the NEW
 * instruction is emulated, so the vCPU behaves as if patching were done. The host publishes
 * only what text_poke_loc_init accepts (src/kernel/ftrace/textpoke.ts): INT3, RET, CALL,
 * JMP32, JMP8 (a NOP5 or NOP2 as a jump +0) and Jcc (a 6-byte 0f 8x stored as its short
 * opcode 7x, the length telling them apart); anything else in the vector is a BUG(). */
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

/* Whether condition cc (a Jcc opcode's low nibble) holds for flags: the pairs of the opcode map
 * test one condition each, the odd member its negation (int3_emulate_jcc / __emulate_cc in
 * arch/x86/include/asm/text-patching.h). The flags are the interrupted code's, saved by the
 * #BP entry: the handler's own flags say nothing about the code that was patched. */
static __always_inline int jcc_taken(u64 flags, u8 cc)
{
	int cf = !!(flags & X86_EFLAGS_CF), pf = !!(flags & X86_EFLAGS_PF), zf = !!(flags & X86_EFLAGS_ZF);
	int sf = !!(flags & X86_EFLAGS_SF), of = !!(flags & X86_EFLAGS_OF);
	int holds;
	switch (cc >> 1) {
	case 0: holds = of; break;			/* jo / jno */
	case 1: holds = cf; break;			/* jb / jae */
	case 2: holds = zf; break;			/* je / jne */
	case 3: holds = cf || zf; break;		/* jbe / ja */
	case 4: holds = sf; break;			/* js / jns */
	case 5: holds = pf; break;			/* jp / jnp */
	case 6: holds = sf != of; break;		/* jl / jge */
	default: holds = zf || sf != of; break;	/* jle / jg */
	}
	return holds ^ (cc & 1);
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
	case 0xe9: /* jmp32, and a NOP5 as jmp32 +0 */
	case 0xeb: /* jmp8, and a NOP2 as jmp8 +0 */
		regs->rip = next + (s64)tp->disp;
		break;
	case 0x70 ... 0x7f: /* Jcc, short or (len 6) near */
		regs->rip = jcc_taken(regs->eflags, tp->opcode & 0xf) ? next + (s64)tp->disp : next;
		break;
	default: /* the host published what no path here can emulate */
		BUG();
	}
	text_poke_int3_hits[this_cpu()->cpu]++;
	return 1;
}
