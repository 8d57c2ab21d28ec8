/* Early boot of each vCPU: per-CPU area through GS, GDT and TSS, IDT, system-call MSRs and
 * the local timer; then the vCPU becomes its idle task. */
#include "kernel.h"

struct idt_entry {
	u16 offset_low, selector;
	u8 ist, type;
	u16 offset_mid;
	u32 offset_high, zero;
} __attribute__((packed));

static struct idt_entry idt_table[256] __attribute__((aligned(4096)));

extern char asm_exc_divide_error[], asm_exc_int3[], asm_exc_invalid_op[], asm_exc_double_fault[];
extern char asm_exc_general_protection[], asm_exc_page_fault[];
extern char asm_sysvec_timer[], asm_sysvec_call_function[], asm_sysvec_reschedule[];
extern char entry_SYSCALL_64[];

static notrace void set_intr_gate(int vector, void *handler, int ist)
{
	u64 a = (u64)handler;
	struct idt_entry *e = &idt_table[vector];
	e->offset_low = (u16)a;
	e->selector = GDT_KERNEL_CS;
	e->ist = (u8)ist;
	e->type = GATE_PRESENT | GATE_INTERRUPT; /* DPL 0 */
	e->offset_mid = (u16)(a >> 16);
	e->offset_high = (u32)(a >> 32);
	e->zero = 0;
}

/* Every vCPU writes the same gates; the table is shared. */
static notrace void setup_idt(void)
{
	struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { sizeof(idt_table) - 1, (u64)idt_table };
	set_intr_gate(VECTOR_DE, asm_exc_divide_error, 0);
	set_intr_gate(VECTOR_BP, asm_exc_int3, 0);
	set_intr_gate(VECTOR_UD, asm_exc_invalid_op, IST_INVALID_OP); /* see do_invalid_op() */
	set_intr_gate(VECTOR_DF, asm_exc_double_fault, IST_DOUBLE_FAULT);
	set_intr_gate(VECTOR_GP, asm_exc_general_protection, 0);
	set_intr_gate(VECTOR_PF, asm_exc_page_fault, 0);
	set_intr_gate(VEC_TIMER, asm_sysvec_timer, 0);
	set_intr_gate(VEC_CALL_FUNCTION, asm_sysvec_call_function, 0);
	set_intr_gate(VEC_RESCHED, asm_sysvec_reschedule, 0);
	asm volatile("lidt %0" : : "m"(idtr));
}

/* The per-CPU GDT: null, kernel code and data, user data and code (sysret's order), the TSS. */
static notrace void setup_gdt(struct percpu *pc)
{
	u64 tss = (u64)pc->tss;
	pc->gdt[0] = 0;
	pc->gdt[1] = 0x00209a0000000000ull;
	pc->gdt[2] = 0x0000920000000000ull;
	pc->gdt[3] = 0x0000f20000000000ull;
	pc->gdt[4] = 0x0020fa0000000000ull;
	pc->gdt[5] = (sizeof(pc->tss) - 1) | ((tss & 0xffffff) << 16) | (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
	pc->gdt[6] = tss >> 32;
	struct { u16 limit; u64 base; } __attribute__((packed)) gdtr = { 8 * 8 - 1, (u64)pc->gdt };
	asm volatile("lgdt %0" : : "m"(gdtr));
	asm volatile("ltr %w0" : : "r"(GDT_TSS));
}

static notrace void setup_syscall(void)
{
	wrmsr(MSR_STAR, ((u64)(GDT_USER_DS - 8 - 3) << 48) | ((u64)GDT_KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (u64)entry_SYSCALL_64);
	/* Cleared on entry: */
	wrmsr(MSR_SFMASK, X86_EFLAGS_TF | X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_AC | X86_EFLAGS_NT | X86_EFLAGS_IOPL);
}

static notrace void setup_timer(void)
{
	wrmsr(MSR_APIC_TIMER_LVT, VEC_TIMER | APIC_LVT_PERIODIC);
	wrmsr(MSR_APIC_TIMER_INITIAL, boot_params->tick_period);
}

void cpu_idle(void);
void ftrace_guard_init(void);

/* C entry of every vCPU (from startup_64). The host filled the per-CPU area: self, cpu,
 * current = idle task, the IRQ stack and the IST stacks. */
void __noreturn notrace start_kernel_cpu(u64 cpu, struct boot_params *bp)
{
	struct percpu *pc = (struct percpu *)(bp->percpu_base + cpu * PERCPU_SIZE);
	boot_params = bp;
	wrmsr(MSR_GS_BASE, (u64)pc);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	setup_gdt(pc);
	setup_idt();
	setup_syscall();
	pc->preempt_count = PREEMPT_OFFSET; /* the idle task runs with preemption disabled */
	pc->rcu_watching = 1;
	ftrace_guard_init();
	hypercall3(HYPERCALL_BOOT_DONE, (long)cpu, 0, 0);
	setup_timer();
	cpu_idle();
	for (;;)
		;
}
