// The machine-state layout: the one description both sides are generated from.
//
// Everything the CPU core keeps lives at fixed addresses in the wasm instance's linear
// memory. `npm run gen` turns this file into assembly/gen/layout.ts (constants for the core)
// and src/gen/layout.ts (offsets and typed views for TypeScript). The core exports a hash of
// this description and the driver refuses to run a module whose hash differs from its own.

/** Regions of linear memory, in address order. Sizes are bytes. */
export const regions = [
  { name: "MACHINE", base: 0x0000_1000, size: 0x1000, doc: "machine-wide fields (machineFields)" },
  { name: "ACTIVE", base: 0x0000_2000, size: 0x400, doc: "CPU block of the vCPU now running; copied in and out around run()" },
  { name: "CPUS", base: 0x0000_3000, size: 64 * 0x400, doc: "saved CPU blocks, one per vCPU (cpuFields)" },
  { name: "IOBUF", base: 0x0002_0000, size: 0x1_0000, doc: "scratch buffer for host <-> core transfers (decoder tests, fetch bytes)" },
  {
    name: "XMCLOG", base: 0x0004_0000, size: 0x4_0000,
    doc: "ring of recent stores to code, for cross-modifying-code checks (XMC_RECORD_SIZE each)",
  },
  { name: "EVLOG", base: 0x0008_0000, size: 0x8_0000, doc: "ring of machine events for the host (EVENT_SIZE each)" },
  { name: "TLBS", base: 0x0010_0000, size: 64 * 0x8000, doc: "software TLBs, one 32 KiB set per vCPU (TlbLayout)" },
  {
    name: "DCACHE", base: 0x0040_0000, size: 0x80_0000,
    doc: "decoded basic blocks, direct-mapped by physical address (BLOCK_SLOT_SIZE each)",
  },
  { name: "ASDATA", base: 0x00C0_0000, size: 0x40_0000, doc: "AssemblyScript static data (memoryBase) and stack" },
  { name: "RAM", base: 0x0100_0000, size: 0, doc: "guest physical memory; its size is a machine option; page and chunk maps follow it" },
];

export const CPU_BLOCK_SIZE = 0x400;
export const MAX_CPUS = 64;
export const DCACHE_ENTRY_SIZE = 32;
/** A cached block: a header the size of an entry, then up to BLOCK_SLOT_SIZE / 32 - 1 entries. */
export const BLOCK_SLOT_SIZE = 1024;
export const XMC_RECORD_SIZE = 64;
/** Agent id of the host (TypeScript) when it writes guest memory. */
export const HOST_AGENT = 0xFFFF;
export const EVENT_SIZE = 64;

/** Fields of the MACHINE region. Offsets are assigned in order, aligned to the type size. */
export const machineFields = [
  ["layoutHash", "u32", "hash of this layout, checked by the driver"],
  ["ncpus", "u32", "number of vCPUs"],
  ["ramSize", "u32", "bytes of guest RAM"],
  ["options", "u32", "option bits (MachineOption)"],
  ["pageMap", "u32", "address of the per-4KiB-page code map (after RAM)"],
  ["pageGen", "u32", "address of the per-page code generation counters (u32 each)"],
  ["chunkMap", "u32", "address of the per-128-byte chunk code map (after the page map)"],
  ["xmcHead", "u64", "number of cross-modifying-code records ever written (next record's sequence)"],
  ["xmcEvented", "u64", "log records already reported as CODE_WRITE events"],
  ["xmcPolicy", "u32", "what a hazard does (XmcPolicy)"],
  ["hostAgent", "u32", "agent id the host uses when it writes guest memory (a vCPU index or HOST_AGENT)"],
  ["rngState", "u64", "seeded generator for torn-byte hazards"],
  ["evHead", "u64", "number of events ever written to the event ring"],
  ["evEnabled", "u32", "event kinds to record (bit per EventKind)"],
  ["decodes", "u64", "instructions decoded into the cache (statistic)"],
  ["invalidations", "u64", "cache entries dropped by stores to code (statistic)"],
  ["hazards", "u64", "cross-modifying-code hazards detected (statistic)"],
  ["vendor", "u32", "the CPU vendor profile the core models (CpuVendor)"],
];

/** Fields of one CPU block. The register file comes first so byte offsets of registers are small. */
export const cpuFields = [
  ["regs", "u64", "RAX RCX RDX RBX RSP RBP RSI RDI R8-R15, then a zero slot and a scratch slot", 18],
  ["rip", "u64", "instruction pointer"],
  ["rflags", "u64", "flags, materialized whenever the core is not running"],
  ["cr0", "u64", "control register 0 (PG, WP, PE ...)"],
  ["cr2", "u64", "page-fault linear address"],
  ["cr3", "u64", "page-table root"],
  ["cr4", "u64", "control register 4"],
  ["efer", "u64", "extended feature enables (SCE, LME, LMA, NXE)"],
  ["fsBase", "u64", "FS segment base"],
  ["gsBase", "u64", "GS segment base"],
  ["kernelGsBase", "u64", "value swapgs exchanges with gsBase"],
  ["star", "u64", "syscall/sysret selectors"],
  ["lstar", "u64", "64-bit syscall entry point"],
  ["cstar", "u64", "compatibility-mode syscall entry (unused)"],
  ["sfmask", "u64", "RFLAGS bits cleared by syscall"],
  ["gdtBase", "u64", "GDTR base"],
  ["idtBase", "u64", "IDTR base"],
  ["trBase", "u64", "TSS base loaded by ltr"],
  ["gdtLimit", "u32", "GDTR limit"],
  ["idtLimit", "u32", "IDTR limit"],
  ["cs", "u32", "code selector"],
  ["ss", "u32", "stack selector"],
  ["ds", "u32", "data segment selectors DS, ES, FS, GS (bases of DS/ES ignored in 64-bit mode)"],
  ["es", "u32", "ES selector"],
  ["fs", "u32", "FS selector (its base is fsBase)"],
  ["gs", "u32", "GS selector (its base is gsBase)"],
  ["tr", "u32", "task register selector"],
  ["cpl", "u32", "current privilege level, 0 or 3"],
  ["insns", "u64", "instructions retired by this vCPU"],
  ["exitReason", "u32", "why run() returned (Exit)"],
  ["exitVector", "u32", "exception vector or hypercall number of the last exit"],
  ["exitError", "u64", "error code of the last exception"],
  ["exitAddr", "u64", "faulting linear address, or other exit detail"],
  ["exitRip", "u64", "RIP of the instruction that caused the exit"],
  ["cpuIndex", "u32", "this vCPU's number"],
  ["halted", "u32", "1 while parked by hlt until an interrupt"],
  ["shadow", "u32", "bit 0: the instruction after sti or mov ss, interrupts are held off; bit 1: RFLAGS.TF mirrored (single-step)"],
  ["clock", "u64", "virtual time of this vCPU in ticks: instructions retired plus time halted"],
  ["irr", "u64", "interrupt requests pending, one bit per vector", 4],
  ["isr", "u64", "interrupts in service (cleared by EOI), one bit per vector", 4],
  ["timerLvt", "u32", "local timer: vector, bit 16 masked, bit 17 periodic"],
  ["timerInitial", "u64", "local timer period or one-shot count, in ticks"],
  ["timerDeadline", "u64", "clock value at which the timer fires next; 0 = stopped"],
  ["serialSeq", "u64", "cross-modifying-code log position at this vCPU's last serialization"],
];

/** The header of a cached block (one entry in size). */
export const blockFields = [
  ["tag", "u32", "physical address + 1 of the block's first instruction; 0 = empty"],
  ["gen", "u32", "the page's code generation when the block was decoded"],
  ["count", "u32", "instructions in the block"],
  ["end", "u32", "page offset just past the last instruction"],
];

/** One record of the event ring (EVENT_SIZE bytes); a..e mean what EventKind says (docs/events.md). */
export const eventFields = [
  ["seq", "u64", "event number since the machine started"],
  ["clock", "u64", "the vCPU's virtual time"],
  ["kind", "u32", "EventKind"],
  ["cpu", "u32", "vCPU index, or HOST_AGENT"],
  ["a", "u64", "first detail"],
  ["b", "u64", "second detail"],
  ["c", "u64", "third detail"],
  ["d", "u64", "fourth detail"],
  ["e", "u64", "fifth detail"],
];

/** One record of the cross-modifying-code log (XMC_RECORD_SIZE bytes). */
export const xmcFields = [
  ["seq", "u64", "record number"],
  ["store", "u64", "number of the store it belongs to (a long host write spans several records)"],
  ["pa", "u32", "physical address of the first byte"],
  ["agent", "u16", "who wrote: a vCPU index or HOST_AGENT"],
  ["len", "u16", "bytes written, at most 16"],
  ["old", "u8", "bytes before the store", 16],
  ["new", "u8", "bytes after the store", 16],
];

/** Byte offsets of the decoded-instruction record (DCACHE_ENTRY_SIZE bytes). */
export const entryFields = [
  ["next", "u16", "page offset of the next instruction (past this one)"],
  ["op", "u16", "handler id (gen/opcodes)"],
  ["len", "u8", "instruction length in bytes"],
  ["osz", "u8", "operand size: 0 = 8, 1 = 16, 2 = 32, 3 = 64 bits"],
  ["reg", "u8", "register-file byte offset of the ModRM.reg (or opcode) register"],
  ["rm", "u8", "register-file byte offset of the ModRM.rm register (register form)"],
  ["mem", "u8", "memory-operand bits (MemBits); 0 = register form"],
  ["base", "u8", "register-file byte offset of the base register (zero slot if none)"],
  ["index", "u8", "register-file byte offset of the index register (zero slot if none)"],
  ["scale", "u8", "index shift 0-3"],
  ["pfx", "u8", "prefix bits (PfxBits)"],
  ["sub", "u8", "ModRM.reg digit, condition code, or other small operand"],
  ["flags", "u8", "instruction bits (EntryFlag)"],
  ["disp", "i32", "displacement"],
  ["aux", "u32", "second immediate or handler detail"],
  ["imm", "u64", "immediate, sign- or zero-extended as the opcode says"],
];

/** Small enumerations both sides use, generated as constants (AS) and const objects (TS). */
export const enums = {
  Exit: {
    doc: "why run() returned",
    values: [["NONE", 0], ["BUDGET", 1], ["SYSCALL", 2], ["FAULT", 3], ["HALT", 4], ["HYPERCALL", 5],
      ["BREAKPOINT", 6], ["WATCHPOINT", 7], ["HAZARD", 8], ["TRIPLE_FAULT", 9], ["UNSUPPORTED", 10]],
  },
  Option: {
    doc: "bits of the machine's options field",
    values: [["SYSCALL_EXITS", 1], ["FAULT_EXITS", 2]],
  },
  CpuVendor: {
    doc: "whose documented behaviour the core follows where the two vendors' CPUs differ (docs/cpu.md)",
    values: [["INTEL", 0], ["AMD", 1]],
  },
  EntryFlag: {
    doc: "bits of a decoded instruction's flags field",
    values: [["STACK", 1]],
  },
  Unsupported: {
    doc: "what an UNSUPPORTED exit ran into (exitVector)",
    values: [["COMPAT_MODE", 1]],
  },
  XmcPolicy: {
    doc: "what a cross-modifying-code hazard does: report and go on with old, new or torn bytes, or stop",
    values: [["NEW", 0], ["OLD", 1], ["TORN", 2], ["STOP", 3]],
  },
  EventKind: {
    doc: "kinds of records in the event ring",
    values: [["EXCEPTION", 1], ["INTERRUPT", 2], ["IRET", 3], ["HYPERCALL", 4], ["SERIALIZE", 5], ["CODE_WRITE", 6],
      ["HAZARD", 7], ["TRIPLE_FAULT", 8], ["HALT", 9], ["IPI", 10], ["EOI", 11], ["TLB_FLUSH", 12],
      // Recorded by the host's kernel control plane, not by the core:
      ["SWITCH", 32], ["WAKEUP", 33], ["OOPS", 34], ["LOCKUP", 35], ["POKE", 36], ["GP", 37], ["FREE", 38],
      ["OPS", 39], ["RECURSION", 40], ["WARN", 41], ["MAP_PAGE", 42]],
  },
  Serialize: {
    doc: "why a vCPU serialized (SERIALIZE events)",
    values: [["IRET", 1], ["CPUID", 2], ["INTERRUPT", 3], ["CR_WRITE", 4], ["WRMSR", 5], ["DESCRIPTOR", 6], ["HOST", 7]],
  },
};

// ---------------------------------------------------------------- the guest kernel's structures
// Shared by the firmware (C and assembly: firmware/include/gen/layout.h) and the TypeScript
// control plane (src/gen/layout.ts). Offsets are assigned in order, aligned to the type size.

/** Handed to every vCPU at boot (RSI points at it, through the direct map). */
export const bootParamsFields = [
  ["ncpus", "u32", "number of vCPUs"],
  ["preemptModel", "u32", "PreemptModel the kernel runs with (like preempt= on the command line)"],
  ["tickPeriod", "u64", "local timer period in ticks"],
  ["percpuBase", "u64", "virtual address of vCPU 0's per-CPU area; vCPU n's is n * PERCPU_SIZE further"],
  ["pageOffset", "u64", "virtual address where the direct map of physical memory starts"],
  ["userCodeVa", "u64", "where the user-mode programs are mapped"],
  ["recursionScheme", "u32", "RecursionScheme ftrace's callback guard uses"],
  ["istLink", "u32", "1: an IST handler for a trap shares the interrupted stack's in_tracing flag (the proposal); 0: it has its own"],
  ["transitionBit", "u32", "per-task scheme: 1 tolerates one nested entry in the same context (TRACE_CTX_TRANSITION), 0 does not"],
  ["recursionEvents", "u32", "1: every recursion-guard decision is reported to the host (RECURSION hypercall)"],
  ["demandStart", "u64", "start of the kernel region whose pages the #PF handler maps on demand (MAP_PAGE hypercall)"],
  ["demandEnd", "u64", "end of that region"],
  ["userDemandStart", "u64", "the same for user memory (probes touch it from the system-call entry)"],
  ["userDemandEnd", "u64", "end of that region"],
  ["preemptRcu", "u32", "1: CONFIG_PREEMPT_RCU (rcu_read_lock() counts nesting in the task); 0: it disables preemption"],
];

/** One per vCPU, reached through GS base (PERCPU_SIZE bytes). */
export const percpuFields = [
  ["self", "u64", "this area's own virtual address (gs:0 gives a plain pointer)"],
  ["cpu", "u32", "vCPU number"],
  ["preemptCount", "u32", "preempt_count with the kernel's fields: preempt 0-7, softirq 8-15, hardirq 16-19, NMI 20-23"],
  ["resched", "u32", "bit 0 need_resched, bit 1 need_resched_lazy (for the current task)"],
  ["inIdle", "u32", "1 while the idle loop runs"],
  ["rcuWatching", "u32", "0 while RCU does not watch this vCPU (deep in the idle loop)"],
  ["current", "u64", "the task running on this vCPU"],
  ["idleTask", "u64", "this vCPU's idle task"],
  ["irqStackTop", "u64", "top of this vCPU's interrupt stack"],
  ["userRspScratch", "u64", "user RSP saved by the syscall entry"],
  ["ticks", "u64", "timer interrupts taken"],
  ["irqCount", "u64", "interrupts taken (all vectors)"],
  ["callFunctionCount", "u64", "call-function IPIs handled (the host's on_each_cpu waits on it)"],
  ["tss", "u8", "the 64-bit TSS (RSP0 at +4, IST1-7 at +36)", 104],
  ["gdt", "u64", "this vCPU's GDT: null, kernel code, kernel data, user data, user code, TSS (2 slots)", 8],
];

/** A task (the kernel's task_struct, reduced). Created by the host, used by the guest. */
export const taskFields = [
  ["pid", "u32", "task id"],
  ["kind", "u32", "TaskKind"],
  ["savedRsp", "u64", "kernel stack pointer saved by switch_to"],
  ["stackTop", "u64", "top of its kernel stack (TSS RSP0 while it runs)"],
  ["stackBase", "u64", "bottom of its kernel stack"],
  ["entry", "u64", "kernel thread: function to run; user task: user entry point"],
  ["arg", "u64", "kernel thread argument; user task: user stack pointer"],
  ["name", "u8", "name, NUL-padded", 16],
  ["trcReaderNesting", "u32", "rcu_read_lock_trace() depth (Tasks Trace RCU readers)"],
  ["trcReaderExits", "u32", "outermost rcu_read_unlock_trace() calls so far"],
  ["traceRecursion", "u32",
    "current->trace_recursion: PER_TASK NMI 0, IRQ 1, SOFTIRQ 2, NORMAL 3, TRANSITION 4; MAINLINE the same at 0 (FTRACE), 5 (LIST)"],
  ["jobDone", "u32", "set by the host when the work a hypercall queued (HOST_JOB_PENDING) is finished"],
  ["jobResult", "u64", "that work's result (0 or -errno)"],
  ["kthreadShouldStop", "u32", "kthread_stop() asked this kernel thread to stop"],
  ["exited", "u32", "set by the host when the task has exited (kthread_stop waits for it)"],
  ["exitCode", "u64", "a module kernel thread's return value"],
  ["rcuReadLockNesting", "u32", "preemptible RCU: rcu_read_lock() depth (the kernel's rcu_read_lock_nesting)"],
  ["rcuReadUnlockSpecial", "u32",
    "preemptible RCU: RcuSpecial bits the outermost rcu_read_unlock() must act on (the kernel's rcu_read_unlock_special)"],
  ["trcReaderSpecial", "u32",
    "Tasks Trace RCU: TrcSpecial bits the outermost rcu_read_unlock_trace() must act on (trc_reader_special)"],
];

/**
 * The header at the base (lowest address) of every kernel stack: task stacks, each vCPU's IRQ
 * stack and IST stacks. All stacks are STACK_SIZE bytes and STACK_SIZE-aligned, so code finds
 * the header of the stack it runs on as rsp & ~(STACK_SIZE - 1). Created by the host.
 */
export const stackHeaderFields = [
  ["magic", "u32", "STACK_MAGIC: the header is intact (an overflow runs into it first)"],
  ["kind", "u32", "StackKind"],
  ["owner", "u32", "task pid (TASK) or vCPU (IRQ, IST)"],
  ["inTracing", "u32", "the per-stack in_tracing flag: a callback is running on this stack"],
  ["link", "u64", "while an IST handler runs for a trap: the header of the interrupted stack, whose flag it shares"],
  ["recursions", "u64", "callback calls skipped on this stack because in_tracing was set"],
  ["entered", "u64", "callback calls made on this stack"],
];

/** A probe of the sys_enter tracepoint (firmware/tracepoint.c): what the host registers. */
export const tracepointFuncFields = [
  ["func", "u64", "probe(data, regs, syscall nr)"],
  ["data", "u64", "the probe's private data (struct probe_data)"],
];
export const TRACEPOINT_FUNC_SIZE = 16;

/** The private data of the firmware's faulting probe, allocated and freed by the host. */
export const probeDataFields = [
  ["magic", "u64", "PROBE_MAGIC while the data is alive"],
  ["userAddr", "u64", "user memory the probe reads (mapped on demand: the first touch of each page faults)"],
  ["pages", "u64", "how many pages it reads on each call (one u64 from each)"],
  ["hits", "u64", "probe calls completed"],
  ["efaults", "u64", "user reads that failed with -EFAULT: the fault could not be served with preemption off"],
];
export const PROBE_DATA_SIZE = 40;
export const PROBE_MAGIC = 0x9e0bed;

/** struct ftrace_ops in guest memory (allocated by the host; the guest reads it). */
export const ftraceOpsFields = [
  ["func", "u64", "the callback: func(ip, parent_ip, op, fregs)"],
  ["next", "u64", "next ops on ftrace_ops_list (the list ends at ftrace_list_end)"],
  ["flags", "u64", "FtraceOpsFlag bits"],
  ["filterHash", "u64", "sorted array of site addresses the ops traces (filter hash)"],
  ["notraceHash", "u64", "sorted array of site addresses it never traces (notrace hash)"],
  ["filterCount", "u32", "entries in filterHash; 0 = every function"],
  ["notraceCount", "u32", "entries in notraceHash"],
  ["trampoline", "u64", "its dynamic trampoline, if it has one"],
  ["trampolineSize", "u32", "bytes of that trampoline"],
  ["id", "u32", "the host's number for this ops (host callbacks are dispatched on it)"],
  ["private", "u64", "tracer data (ring buffers, counters)"],
  ["calls", "u64", "times the callback ran (counted by the tracers themselves)"],
  ["directCall", "u64", "the direct trampoline sites call (register_ftrace_direct), or 0"],
  ["savedFunc", "u64", "the ops' own callback when func is ftrace_ops_assist_func (FTRACE_OPS_FL_RCU)"],
];

/** One entry of the text-poke vector the INT3 handler searches (struct text_poke_loc). */
export const pokeLocFields = [
  ["relAddr", "i32", "site address minus _stext"],
  ["disp", "i32", "displacement of the emulated call or jump"],
  ["len", "u8", "instruction length (6 for a near Jcc)"],
  ["opcode", "u8", "what to emulate: E8 call, E9 jmp (NOP5: +0), EB jmp8 (NOP2: +0), C3 ret, CC int3, 70-7F Jcc"],
  ["text", "u8", "the new bytes (a near Jcc's without its 0F)", 5],
  ["old", "u8", "the first byte before int3 was written"],
];

/** A per-CPU ring buffer of the function tracer. */
export const traceRingFields = [
  ["head", "u64", "slots ever reserved on this vCPU (a record is complete when its commit says so)"],
  ["mask", "u64", "capacity - 1 (a power of two)"],
  ["entries", "u64", "address of the entries (TRACE_ENTRY_SIZE each)"],
];

/** One function-tracer record. */
export const traceEntryFields = [
  ["ip", "u64", "the traced function (its patch site)"],
  ["parentIp", "u64", "where it was called from"],
  ["ts", "u64", "the vCPU's virtual time (rdtsc)"],
  ["pid", "u32", "current task"],
  ["flags", "u32", "TraceFlag bits, preempt depth in bits 8-11, vCPU in bits 16-31"],
  ["commit", "u64", "slot number + 1, written last: the record is complete"],
];

export const PERCPU_SIZE = 4096;
export const STACK_SIZE = 16384;
export const STACK_HEADER_SIZE = 48;
export const STACK_MAGIC = 0x57ac4ead;
export const TASK_SIZE = 256;
export const FTRACE_OPS_SIZE = 128;
export const POKE_LOC_SIZE = 16;
export const TRACE_ENTRY_SIZE = 40;

export const firmwareEnums = {
  Hypercall: {
    doc: "hypercall numbers (vmcall with rax = number; arguments in rdi, rsi, rdx, r10)",
    values: [["CONSOLE", 1], ["SCHED_TICK", 2], ["SCHEDULE", 3], ["SLEEP", 4], ["OOPS", 5], ["TASK_EXIT", 6],
      ["BOOT_DONE", 7], ["FTRACE_CALLBACK", 9], ["RECURSION", 10], ["MAP_PAGE", 11], ["WARN", 12],
      ["KMALLOC", 13], ["KFREE", 14], ["KTIME", 15], ["SPRINT_SYMBOL", 16], ["KTHREAD_CREATE", 17], ["WAKE_UP", 18],
      ["FTRACE_OPS", 19], ["SYNCHRONIZE", 20], ["CALL_RCU", 21], ["RCU_CALLBACKS", 22],
      ["RCU_UNLOCK_SPECIAL", 23], ["TRC_UNLOCK_SPECIAL", 24]],
  },
  ModOpsCall: {
    doc: "what a module asks of ftrace through HYPERCALL_FTRACE_OPS (first argument)",
    values: [["REGISTER", 0], ["UNREGISTER", 1], ["SET_FILTER", 2], ["SET_NOTRACE", 3], ["SET_FILTER_IP", 4],
      ["FREE_FILTER", 5], ["REGISTER_DIRECT", 6], ["UNREGISTER_DIRECT", 7], ["MODIFY_DIRECT", 8]],
  },
  SyncFlavour: {
    doc: "which grace period HYPERCALL_SYNCHRONIZE waits for (and HYPERCALL_CALL_RCU uses)",
    values: [["RCU", 0], ["TASKS", 1], ["TASKS_RUDE", 2], ["TASKS_TRACE", 3]],
  },
  PreemptModel: {
    doc: "the kernel's preemption models",
    values: [["NONE", 0], ["VOLUNTARY", 1], ["FULL", 2], ["LAZY", 3]],
  },
  StackKind: {
    doc: "what a kernel stack is for",
    values: [["TASK", 1], ["IRQ", 2], ["IST", 3]],
  },
  RecursionScheme: {
    doc: "how ftrace keeps callbacks from recursing (boot_params.recursionScheme)",
    values: [["PER_STACK", 0], ["PER_TASK", 1], ["NONE", 2], ["MAINLINE", 3]],
  },
  Ist: {
    doc: "IST slots of the TSS (1-based, as an IDT gate's ist field names them): exceptions handled on a stack of their own",
    values: [["DOUBLE_FAULT", 1], ["INVALID_OP", 2]],
  },
  TracepointReadSide: {
    doc: "how the sys_enter tracepoint protects its probe list while probes run",
    values: [["TRACE", 0], ["PREEMPT", 1]],
  },
  TaskKind: {
    doc: "what a task runs",
    values: [["IDLE", 0], ["KTHREAD", 1], ["USER", 2]],
  },
  RcuSpecial: {
    doc: "bits of a task's rcu_read_unlock_special (preemptible RCU; kernel/rcu/tree_plugin.h)",
    values: [["BLOCKED", 1], ["NEED_QS", 2]],
  },
  TrcSpecial: {
    doc: "bits of a task's trc_reader_special (Tasks Trace RCU, 6.x): .b.blocked in byte 0, .b.need_qs in byte 1",
    values: [["BLOCKED", 0x1], ["NEED_QS", 0x100], ["NEED_QS_CHECKED", 0x200]],
  },
  Resched: {
    doc: "bits of a per-CPU resched word",
    values: [["NEED", 1], ["LAZY", 2]],
  },
  TraceFlag: {
    doc: "function-tracer record flag bits (the trace file's flag columns)",
    values: [["IRQS_OFF", 1], ["NEED_RESCHED", 2], ["NEED_RESCHED_LAZY", 4], ["HARDIRQ", 8], ["SOFTIRQ", 16], ["NMI", 32]],
  },
  SchedReason: {
    doc: "why __schedule() runs (the SCHEDULE hypercall's second argument)",
    values: [["VOLUNTARY", 0], ["IRQ_PREEMPT", 1], ["COND_RESCHED", 2], ["PREEMPT_ENABLE", 3]],
  },
};
