// Architectural and ABI constants: the one description the core, the control plane and the
// guest are generated from.
//
// tools/layout.mjs says where things live in memory; this file says what the numbers mean:
// interrupt vectors, MSR numbers, control-register, RFLAGS and page-table bits, preempt_count
// units, limits the guest and the host must agree on, and the bits of the decoder's packed
// records. `npm run gen` turns it into assembly/gen/constants.ts (AssemblyScript),
// src/gen/constants.ts (TypeScript) and firmware/include/gen/constants.h (C and GNU as, which
// the system tests' fixtures include too). The layout hash covers it, so a core built from
// other constants is refused, and test/constants.test.ts fails if a hand copy reappears.
//
// A group: { name, type, doc, values: [[NAME, value, doc, kernel name?], ...] }, and
//   prefix   put before each NAME to make the generated name (default: none);
//   type     u8, u32 (a number in TypeScript) or u64 (a bigint in TypeScript);
//   targets  which outputs get it: "as", "ts", "c" (default all three);
//   enum     also a TypeScript const object and name table under this name (TypeScript only);
//   radix    10 to write the values in decimal (numbered lists), else they are written in hex.
// The kernel name is the one Linux gives the same thing (the value may differ where the
// machine differs, e.g. vector numbers); it appears in every generated doc comment.

const bit = (n) => 2n ** BigInt(n);
const bit32 = (n) => 2 ** n;

export const groups = [
  {
    name: "exception vectors", prefix: "VECTOR_", type: "u32", enum: "Vector", radix: 10,
    doc: "exception vectors (arch/x86/include/asm/trapnr.h)",
    values: [
      ["DE", 0, "divide error"], ["DB", 1, "debug"], ["NMI", 2, "non-maskable interrupt"], ["BP", 3, "breakpoint (int3)"],
      ["OF", 4, "overflow"], ["BR", 5, "bound range"], ["UD", 6, "invalid opcode"], ["NM", 7, "device not available"],
      ["DF", 8, "double fault"], ["TS", 10, "invalid TSS"], ["NP", 11, "segment not present"], ["SS", 12, "stack segment"],
      ["GP", 13, "general protection"], ["PF", 14, "page fault"], ["MF", 16, "x87 floating point"], ["AC", 17, "alignment check"],
    ].map(([n, v, d]) => [n, v, d, `X86_TRAP_${n}`]),
  },
  {
    name: "system vectors", prefix: "VEC_", type: "u32",
    doc: "the guest kernel's interrupt vectors (arch/x86/include/asm/irq_vectors.h; the numbers are this machine's)",
    values: [
      ["TIMER", 0xef, "the local timer's tick", "LOCAL_TIMER_VECTOR"],
      ["CALL_FUNCTION", 0xf0, "call-function IPI: the text-poke protocol's sync (on_each_cpu)", "CALL_FUNCTION_VECTOR"],
      ["RESCHED", 0xf1, "reschedule IPI: a remote wakeup or preemption request", "RESCHEDULE_VECTOR"],
    ],
  },
  {
    name: "MSRs", prefix: "MSR_", type: "u32",
    doc: "model-specific registers the core implements (arch/x86/include/asm/msr-index.h)",
    values: [
      ["TSC", 0x10, "time-stamp counter", "MSR_IA32_TSC"],
      ["EFER", 0xc0000080, "extended feature enables", "MSR_EFER"],
      ["STAR", 0xc0000081, "syscall/sysret selectors", "MSR_STAR"],
      ["LSTAR", 0xc0000082, "64-bit syscall entry point", "MSR_LSTAR"],
      ["CSTAR", 0xc0000083, "compatibility-mode syscall entry", "MSR_CSTAR"],
      ["SFMASK", 0xc0000084, "RFLAGS bits syscall clears", "MSR_SYSCALL_MASK"],
      ["FS_BASE", 0xc0000100, "FS segment base", "MSR_FS_BASE"],
      ["GS_BASE", 0xc0000101, "GS segment base", "MSR_GS_BASE"],
      ["KERNEL_GS_BASE", 0xc0000102, "the GS base swapgs exchanges", "MSR_KERNEL_GS_BASE"],
      ["TSC_AUX", 0xc0000103, "rdtscp's ECX (the vCPU number)", "MSR_TSC_AUX"],
      // The local APIC in x2APIC mode: register r is MSR 0x800 + r / 16 (APIC_BASE_MSR).
      ["APIC_ID", 0x802, "local APIC id (the vCPU number)", "APIC_ID"],
      ["APIC_EOI", 0x80b, "end of interrupt", "APIC_EOI"],
      ["APIC_ICR", 0x830, "interrupt command: sends an IPI", "APIC_ICR"],
      ["APIC_TIMER_LVT", 0x832, "local timer: vector, mask and mode (APIC_LVT_*)", "APIC_LVTT"],
      ["APIC_TIMER_INITIAL", 0x838, "local timer's initial count, in ticks", "APIC_TMICT"],
      ["APIC_TIMER_CURRENT", 0x839, "local timer's current count", "APIC_TMCCT"],
      ["APIC_TIMER_DIVIDE", 0x83e, "local timer's divider (always 1 here)", "APIC_TDCR"],
    ],
  },
  {
    name: "APIC fields", prefix: "APIC_", type: "u32",
    doc: "bits of the local timer's LVT and of the interrupt command register (arch/x86/include/asm/apicdef.h)",
    values: [
      ["LVT_MASKED", 1 << 16, "the timer counts but raises no interrupt", "APIC_LVT_MASKED"],
      ["LVT_PERIODIC", 1 << 17, "the timer rearms itself", "APIC_LVT_TIMER_PERIODIC"],
      ["DEST_SELF", 1 << 18, "ICR shorthand: this vCPU", "APIC_DEST_SELF"],
      ["DEST_ALLINC", 2 << 18, "ICR shorthand: every vCPU", "APIC_DEST_ALLINC"],
      ["DEST_ALLBUT", 3 << 18, "ICR shorthand: every vCPU but this one", "APIC_DEST_ALLBUT"],
    ],
  },
  {
    name: "RFLAGS", prefix: "X86_EFLAGS_", type: "u64",
    doc: "RFLAGS bits (arch/x86/include/uapi/asm/processor-flags.h)",
    values: [
      ["CF", bit(0), "carry"], ["FIXED", bit(1), "always reads as one"], ["PF", bit(2), "parity"],
      ["AF", bit(4), "auxiliary carry"], ["ZF", bit(6), "zero"], ["SF", bit(7), "sign"],
      ["TF", bit(8), "trap: single-step"], ["IF", bit(9), "interrupts enabled"], ["DF", bit(10), "direction"],
      ["OF", bit(11), "overflow"], ["IOPL", 3n * bit(12), "I/O privilege level (two bits)", "X86_EFLAGS_IOPL"],
      ["NT", bit(14), "nested task"], ["RF", bit(16), "resume: no instruction breakpoint"],
      ["AC", bit(18), "alignment check (with CR0.AM at CPL 3)"], ["ID", bit(21), "cpuid is available"],
    ].map(([n, v, d]) => [n, v, d, `X86_EFLAGS_${n}`]),
  },
  {
    name: "CR0", prefix: "CR0_", type: "u64",
    doc: "CR0 bits (X86_CR0_* in arch/x86/include/uapi/asm/processor-flags.h)",
    values: [
      ["PE", bit(0), "protection enable"], ["ET", bit(4), "extension type (reads as one)"],
      ["WP", bit(16), "write protect: supervisor writes honour read-only pages"],
      ["AM", bit(18), "alignment mask: RFLAGS.AC turns on alignment checks at CPL 3"], ["PG", bit(31), "paging"],
    ].map(([n, v, d]) => [n, v, d, `X86_CR0_${n}`]),
  },
  {
    name: "CR4", prefix: "CR4_", type: "u64",
    doc: "CR4 bits (X86_CR4_* in arch/x86/include/uapi/asm/processor-flags.h)",
    values: [["PAE", bit(5), "physical address extension (required for long mode)", "X86_CR4_PAE"]],
  },
  {
    name: "EFER", prefix: "EFER_", type: "u64",
    doc: "EFER bits (arch/x86/include/asm/msr-index.h)",
    values: [
      ["SCE", bit(0), "syscall/sysret enabled", "EFER_SCE"], ["LME", bit(8), "long mode enabled", "EFER_LME"],
      ["LMA", bit(10), "long mode active", "EFER_LMA"], ["NXE", bit(11), "the NX page bit is honoured", "EFER_NX"],
    ],
  },
  {
    name: "page-table entry bits", prefix: "PTE_", type: "u64",
    doc: "bits of a page-table entry at any level (arch/x86/include/asm/pgtable_types.h)",
    values: [
      ["P", bit(0), "present", "_PAGE_PRESENT"], ["RW", bit(1), "writable", "_PAGE_RW"], ["US", bit(2), "user-accessible", "_PAGE_USER"],
      ["A", bit(5), "accessed (set by the walk)", "_PAGE_ACCESSED"], ["D", bit(6), "dirty (set by a write)", "_PAGE_DIRTY"],
      ["PS", bit(7), "large page (2 MiB in a PD entry, 1 GiB in a PDPT entry)", "_PAGE_PSE"],
      ["G", bit(8), "global", "_PAGE_GLOBAL"], ["NX", bit(63), "no execute (with EFER.NXE)", "_PAGE_NX"],
      ["ADDR", 0x000f_ffff_ffff_f000n, "the next table's or the page's physical address", "PTE_PFN_MASK"],
    ],
  },
  {
    name: "page-fault error code", prefix: "PF_", type: "u64",
    doc: "bits of the error code #PF pushes (enum x86_pf_error_code, arch/x86/include/asm/trap_pf.h)",
    values: [
      ["PRESENT", bit(0), "the page was present: a protection violation", "X86_PF_PROT"],
      ["WRITE", bit(1), "a write", "X86_PF_WRITE"], ["USER", bit(2), "a user-mode access", "X86_PF_USER"],
      ["RSVD", bit(3), "a reserved bit was set (or the address is outside RAM)", "X86_PF_RSVD"],
      ["FETCH", bit(4), "an instruction fetch", "X86_PF_INSTR"],
    ],
  },
  {
    name: "GDT selectors", prefix: "GDT_", type: "u32",
    doc: "selectors of the guest kernel's per-CPU GDT (arch/x86/include/asm/segment.h; a smaller GDT than Linux's, other numbers)",
    values: [
      ["KERNEL_CS", 0x08, "kernel code (64-bit)", "__KERNEL_CS"], ["KERNEL_DS", 0x10, "kernel data and stack", "__KERNEL_DS"],
      ["USER_DS", 0x1b, "user data and stack (RPL 3)", "__USER_DS"], ["USER_CS", 0x23, "user code (64-bit, RPL 3)", "__USER_CS"],
      ["TSS", 0x28, "the 64-bit TSS (two slots)", "GDT_ENTRY_TSS * 8"],
    ],
  },
  {
    name: "Linux GDT selectors", prefix: "LINUX_", type: "u32", targets: ["ts"],
    doc: "selectors of Linux's x86-64 GDT, as a user program loaded by src/linux meets them (arch/x86/include/asm/segment.h)",
    values: [
      ["KERNEL_CS", 0x10, "kernel code (64-bit)", "__KERNEL_CS"], ["KERNEL_DS", 0x18, "kernel data", "__KERNEL_DS"],
      ["USER32_CS", 0x23, "32-bit user code", "__USER32_CS"], ["USER_DS", 0x2b, "user data and stack", "__USER_DS"],
      ["USER_CS", 0x33, "64-bit user code", "__USER_CS"],
    ],
  },
  {
    name: "IDT gates", prefix: "GATE_", type: "u32",
    doc: "the type byte of a 64-bit IDT gate, bits 40-47 of its first quadword (struct idt_bits, arch/x86/include/asm/desc_defs.h)",
    values: [
      ["INTERRUPT", 0xe, "interrupt gate: entry clears RFLAGS.IF", "GATE_INTERRUPT"],
      ["TRAP", 0xf, "trap gate: entry leaves RFLAGS.IF alone", "GATE_TRAP"],
      ["DPL_SHIFT", 5, "where the gate's DPL (the lowest CPL that may `int n` to it) starts", "idt_bits.dpl"],
      ["PRESENT", 0x80, "present", "idt_bits.p"],
      ["TYPE_SHIFT", 40, "where the type byte starts in the gate's first quadword"],
    ],
  },
  {
    name: "preempt_count", type: "u32",
    doc: "preempt_count's fields (include/linux/preempt.h): preempt 0-7, softirq 8-15, hardirq 16-19, NMI 20-23",
    values: [
      ["PREEMPT_OFFSET", 0x1, "one preempt_disable()"], ["SOFTIRQ_OFFSET", 0x100, "one softirq level"],
      ["HARDIRQ_OFFSET", 0x10000, "one hardirq level (irq_enter)"], ["NMI_OFFSET", 0x100000, "one NMI level"],
      ["PREEMPT_MASK", 0xff, "the preempt-disable depth"], ["SOFTIRQ_MASK", 0xff00, "the softirq depth"],
      ["HARDIRQ_MASK", 0xf0000, "the hardirq depth"],
      ["NMI_MASK", 0xf00000, "the NMI depth"],
    ].map(([n, v, d]) => [n, v, d, n]),
  },
  {
    name: "text poke", type: "u32", radix: 10,
    doc: "limits of the text-poke protocol (arch/x86/kernel/alternative.c)",
    values: [["TEXT_POKE_MAX", 256, "sites in one batch: the vector the INT3 handler searches holds this many", "TP_VEC_MAX"]],
  },
  {
    name: "ftrace_ops flags", prefix: "FTRACE_OPS_FL_", type: "u32", enum: "FtraceOpsFlag",
    doc: "struct ftrace_ops flags, with the kernel's bit numbers (include/linux/ftrace.h); modules set them",
    values: [
      ["ENABLED", bit32(0), "registered and live (set by ftrace)"],
      ["DYNAMIC", bit32(1), "allocated at run time or in a module: its trampoline is freed after grace periods (set by ftrace)"],
      ["SAVE_REGS", bit32(2), "the callback wants a full pt_regs: sites go through ftrace_regs_caller"],
      ["SAVE_REGS_IF_SUPPORTED", bit32(3), "full pt_regs if the architecture can (x86 can)"],
      ["RECURSION", bit32(4), "ftrace protects the callback against recursion"],
      ["STUB", bit32(5), "ftrace_list_end: the list function's terminator"],
      ["IPMODIFY", bit32(12), "the callback may change the return address (regs->ip): one such ops per function"],
      ["RCU", bit32(14), "call the callback only where RCU is watching"],
      ["PERMANENT", bit32(16), "may not be unregistered while the kernel runs; ftrace cannot be disabled under it"],
      ["DIRECT", bit32(17), "the ops makes direct calls (register_ftrace_direct)"],
    ].map(([n, v, d]) => [n, v, d, "FTRACE_OPS_FL_" + n]),
  },
  {
    name: "module parameter types", prefix: "PARAM_TYPE_", type: "u32", radix: 10,
    doc: "struct kernel_param's type: how insmod's NAME=VALUE is parsed and stored (param_ops_* in kernel/params.c)",
    values: [
      ["INT", 1, "int: decimal, 0x hex or 0 octal, within int's range"], ["UINT", 2, "unsigned int"],
      ["ULONG", 3, "unsigned long"], ["BOOL", 4, "bool: y/n, Y/N, 1/0 (a bare NAME sets it)"],
      ["CHARP", 5, "char *: the string is copied into kernel memory"],
    ],
  },
  {
    name: "errno", type: "u32", radix: 10, enum: "Errno",
    doc: "error numbers (include/uapi/asm-generic/errno-base.h, errno.h): the kernel returns -ENAME",
    values: [
      ["EPERM", 1, "operation not permitted"], ["ENOENT", 2, "no such file or entry (an unknown symbol)"],
      ["EINTR", 4, "interrupted"], ["E2BIG", 7, "argument list too long (a truncated copy)"], ["ENOEXEC", 8, "not an executable format"],
      ["EBADF", 9, "bad file descriptor"],
      ["EAGAIN", 11, "try again"],
      ["ENOMEM", 12, "out of memory"], ["EFAULT", 14, "bad address"], ["EBUSY", 16, "busy (already registered)"],
      ["EEXIST", 17, "exists (a module of that name is loaded)"], ["ENODEV", 19, "no such device (ftrace is disabled)"],
      ["EINVAL", 22, "invalid argument"], ["ENOSPC", 28, "no space left"], ["ENOSYS", 38, "not implemented"],
    ].map(([n, v, d]) => [n, v, d, n]),
  },
  {
    name: "host jobs", type: "u64",
    doc: "what a hypercall returns when the host finishes its work later (the calling task blocks until then)",
    values: [["HOST_JOB_PENDING", 0x7fffffffffffffffn, "the result comes in task->job_result once task->job_done is set"]],
  },
  // ---------------------------------------------------------------- the decoder's records
  // tools/gen.mjs packs the opcode tables with these; assembly/decode.ts unpacks them.
  {
    name: "decode info", prefix: "INFO_", type: "u64", targets: ["as"],
    doc: "bits of the packed u64 the decode tables hold per opcode, group slot, exact ModRM or F3 variant",
    values: [
      ["ID", 0x3ffn, "handler id, or the group / exact / F3-variant index"],
      ["MODRM", bit(10), "a ModRM byte follows"], ["GROUP", bit(11), "ModRM.reg selects the entry in GROUPS"],
      ["IMM_SHIFT", 12n, "where the immediate kind (IMM_*) starts, 4 bits"],
      ["SIZE_SHIFT", 16n, "where the operand-size rule (SIZE_*) starts, 3 bits"],
      ["REG_BYTE", bit(19), "the reg operand is 8-bit"], ["RM_BYTE", bit(20), "the r/m operand is 8-bit"],
      ["LOCKABLE", bit(21), "a LOCK prefix is allowed (with a memory operand)"],
      ["MEM_ONLY", bit(22), "ModRM must name memory"], ["REG_ONLY", bit(23), "ModRM must name a register"],
      ["ZREG", bit(24), "the register is in the opcode's low bits"],
      ["F3_VARIANT", bit(25), "the entry is a pair in F3_VARIANTS: with F3 as last F2/F3 prefix, without"],
      ["EXACT", bit(26), "ModRM.rm selects the entry in EXACT"], ["VALID", bit(27), "the encoding exists"],
      ["RAXRM", bit(28), "the r/m operand is RAX"], ["NOSZ16", bit(29), "no 16-bit form: 66 makes it #UD"],
      ["MODREG", bit(30), "ModRM.reg names a control register (REX.R extends it)"],
      ["CC", bit(31), "the condition code is the opcode's low nibble"], ["END", bit(32), "ends a decoded block"],
      ["SIZED", bit(33), "three handler ids follow, for 16, 32 and 64 bits"],
      ["NOPREFIX", bit(34), "66, F2 and F3 make it #UD"], ["NEAR", bit(35), "a near branch: two ids, for 16 and 64 bits"],
      ["SREG", bit(36), "ModRM.reg names a segment register"], ["SREG_DEST", bit(37), "... which is written"],
    ],
  },
  {
    name: "immediate kinds", prefix: "IMM_", type: "u64", targets: ["as"], radix: 10,
    doc: "the immediate an opcode takes (INFO_IMM_SHIFT); tools/opcodes.mjs names them by the lower-case suffix",
    values: [
      ["NONE", 0n, "none"], ["B", 1n, "8-bit, sign-extended"], ["U", 2n, "8-bit, zero-extended"], ["W", 3n, "16-bit"],
      ["Z", 4n, "16 or 32 bits by operand size, sign-extended"], ["V", 5n, "16, 32 or 64 bits by operand size"],
      ["O", 6n, "a moffs address: 32 or 64 bits by address size"], ["JB", 7n, "8-bit branch displacement"],
      ["JZ", 8n, "16- or 32-bit branch displacement"], ["WU", 9n, "16-bit, then 8-bit (enter)"],
      ["ONE", 10n, "the constant 1 (shift by one)"],
    ],
  },
  {
    name: "operand-size rules", prefix: "SIZE_", type: "u64", targets: ["as"], radix: 10,
    doc: "how an opcode's operand size is chosen (INFO_SIZE_SHIFT); tools/opcodes.mjs names them by the lower-case suffix, NONE as -",
    values: [
      ["NONE", 0n, "no operand size (32-bit default)"], ["B", 1n, "8-bit"], ["W", 2n, "16-bit"], ["D", 3n, "32-bit"], ["Q", 4n, "64-bit"],
      ["V", 5n, "16/32/64 by 66 and REX.W"], ["D64", 6n, "64-bit default, 16 with 66"], ["F64", 7n, "always 64-bit"],
    ],
  },
  {
    name: "memory-operand bits", prefix: "MEM_", type: "u8", targets: ["as"],
    doc: "bits of a decoded instruction's mem field (E_MEM)",
    values: [
      ["PRESENT", 1, "the instruction has a memory operand"], ["RIPREL", 2, "RIP-relative"], ["ASZ", 4, "32-bit address size (67)"],
      ["FS", 8, "FS-relative"], ["GS", 16, "GS-relative"],
      ["SLOW", 32, "any of RIPREL, ASZ, FS, GS: the address needs more than base + index + disp"],
    ],
  },
  {
    name: "prefix bits", prefix: "PFX_", type: "u8", targets: ["as"],
    doc: "bits of a decoded instruction's pfx field (E_PFX)",
    values: [
      ["REP", 1, "F3 was the last of F2/F3"], ["REPNE", 2, "F2 was the last of F2/F3"], ["LOCK", 4, "F0"], ["OSZ", 8, "66"],
      ["ASZ", 16, "67"], ["FS", 32, "64 (FS override)"], ["GS", 64, "65 (GS override)"],
      ["REX", 128, "a REX prefix directly before the opcode"],
    ],
  },
];

/** Every constant with its generated name, for the generators and the hand-copy test. */
export const constants = groups.flatMap((g) => g.values.map(([name, value, doc, kernel]) =>
  ({ group: g, name: (g.prefix ?? "") + name, short: name, value, doc, kernel })));
