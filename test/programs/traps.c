/* traps.c — one command-line word per way the CPU and Linux turn an instruction into a signal
 * (or let it run), for the tests that compare the emulator with the native run:
 *   int0 int1 int6 inte int11 int20 int81  int n through a DPL-0 gate: #GP, SIGSEGV
 *   int3 int3-short icebp                  #BP, #DB: SIGTRAP      int4  #OF: SIGSEGV
 *   int80                                  the i386 system call gate (DPL 3): write(1, ...)
 *   tf                                     popf sets TF: the next instruction (a write) runs,
 *                                          then the single-step trap: SIGTRAP
 *   tf-clear                               a popf that clears TF still traps after itself
 *   tf-rep                                 rep stosb steps once per iteration
 *   tf-iret                                iretq loading TF: the target's first instruction runs
 *   tf-int3                                int3 while stepping: #BP, not #DB
 *   tf-exit                                exit while stepping: the system call ends the process
 *   ac ac-push ac-string ac-cmpxchg8b      EFLAGS.AC and a misaligned access: #AC, SIGBUS
 *   ac-aligned ac-off                      aligned accesses with AC set, or AC cleared again: run on
 *   stack4m stack7m                        a store that far below rsp: Linux grows the stack
 *   stack9m                                beyond the 8 MiB stack limit: SIGSEGV
 *   nr-1 nr-x32                            system call -1, and one with the x32 bit: -ENOSYS
 *   null-read                              reads address 0: SIGSEGV (also built as a static PIE)
 *   where                                  whether main lies above the first 64 KiB
 * Each prints "about to: WORD" first, and "survived" if it gets through. */
#include "rt.h"

/* pushf; or TF into the image; popf: TF is set from the next instruction on. */
#define SET_TF "pushf\n orq $0x100, (%%rsp)\n popf\n"
#define SET_AC "pushf\n orq $0x40000, (%%rsp)\n popf\n"

static NOINLINE void trap_tf(void) {
  /* write(1, "A\n", 2) runs stepped and completes; the trap follows before the second write. */
  __asm__ volatile(SET_TF "syscall\n mov $1, %%eax\n mov %%rbx, %%rsi\n syscall"
                   : : "a"(1L), "D"(1L), "S"("A\n"), "b"("B\n"), "d"(2L) : "rcx", "r11", "memory");
}

static NOINLINE void trap_tf_clear(void) {
  /* The inner popf sets TF, the outer one (saved with TF clear) clears it: still a trap. */
  __asm__ volatile("pushf\n" SET_TF "popf\n syscall" : : "a"(1L), "D"(1L), "S"("A\n"), "d"(2L) : "rcx", "r11", "memory");
}

static NOINLINE void trap_tf_rep(void) {
  static u8 buf[16];
  __asm__ volatile(SET_TF "rep stosb" : : "a"(0x55L), "D"(buf), "c"(5L) : "memory");
}

static NOINLINE void trap_tf_iret(void) {
  /* An iretq frame to the next label with TF set in its RFLAGS; the write there runs, then the trap. */
  __asm__ volatile(
      "mov %%rsp, %%r8\n"
      "pushq $0x2b\n push %%r8\n pushf\n orq $0x100, (%%rsp)\n pushq $0x33\n lea 1f(%%rip), %%r9\n push %%r9\n"
      "iretq\n"
      "1: syscall\n mov $1, %%eax\n syscall"
      : : "a"(1L), "D"(1L), "S"("I\n"), "d"(2L) : "rcx", "r8", "r9", "r11", "memory");
}

static NOINLINE void trap_tf_int3(void) { __asm__ volatile(SET_TF "int3" ::: "memory"); }
static NOINLINE void trap_tf_exit(void) { __asm__ volatile(SET_TF "syscall" : : "a"(60L), "D"(7L) : "rcx", "r11", "memory"); }

static NOINLINE u32 trap_ac(void) {
  static volatile u8 buf[16];
  __asm__ volatile(SET_AC ::: "memory");
  return *(volatile u32 *)(buf + 1);
}

static NOINLINE void trap_ac_push(void) { __asm__ volatile(SET_AC "sub $1, %%rsp\n push %%rax\n pop %%rax\n add $1, %%rsp" ::: "memory"); }

static NOINLINE void trap_ac_string(void) {
  static u16 src[8], dst[8];
  __asm__ volatile(SET_AC "rep movsw" : : "S"((u8 *)src + 1), "D"(dst), "c"(3L) : "memory");
}

static NOINLINE void trap_ac_cmpxchg8b(void) {
  static u64 words[2] __attribute__((aligned(16)));
  /* An 8-byte operand 4 bytes off its alignment. */
  __asm__ volatile(SET_AC "lock cmpxchg8b (%%rsi)" : : "S"((u8 *)words + 4), "a"(0), "d"(0), "b"(1), "c"(0) : "memory");
}

static NOINLINE u64 trap_ac_aligned(void) {
  static volatile u64 words[2];
  __asm__ volatile(SET_AC ::: "memory");
  words[1] = 42;
  u64 v = words[1];
  __asm__ volatile("pushf\n andq $~0x40000, (%%rsp)\n popf" ::: "memory");
  return v;
}

static NOINLINE u32 trap_ac_off(void) {
  static volatile u8 buf[16] = {1, 2, 3, 4, 5};
  __asm__ volatile(SET_AC "pushf\n andq $~0x40000, (%%rsp)\n popf" ::: "memory");
  return *(volatile u32 *)(buf + 1);
}

/* A store `below` bytes under rsp. */
static NOINLINE void touch_below_rsp(u64 below) {
  volatile u8 *p;
  __asm__ volatile("mov %%rsp, %0" : "=r"(p));
  p[-(i64)below] = 1;
}

static i64 raw_syscall(u64 nr) {
  i64 ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  return ret;
}

static NOINLINE int fault_null_read(void) { return *(volatile int *)0; }

int main(int argc, char **argv) {
  if (argc < 2) {
    put_str(STDERR, "usage: traps WORD (see traps.c)\n");
    return 2;
  }
  const char *m = argv[1];
  put_str(STDOUT, "about to: ");
  put_str(STDOUT, m);
  put_char(STDOUT, '\n');
  rt_flush(STDOUT);
  if (str_eq(m, "int0")) __asm__ volatile("int $0");
  else if (str_eq(m, "int1")) __asm__ volatile("int $1");
  else if (str_eq(m, "int3")) __asm__ volatile("int $3");
  else if (str_eq(m, "int3-short")) __asm__ volatile("int3");
  else if (str_eq(m, "int4")) __asm__ volatile("int $4");
  else if (str_eq(m, "int6")) __asm__ volatile("int $6");
  else if (str_eq(m, "inte")) __asm__ volatile("int $0xe");
  else if (str_eq(m, "int11")) __asm__ volatile("int $0x11");
  else if (str_eq(m, "int20")) __asm__ volatile("int $0x20");
  else if (str_eq(m, "int81")) __asm__ volatile("int $0x81");
  else if (str_eq(m, "icebp")) __asm__ volatile(".byte 0xf1");
  else if (str_eq(m, "int80")) {
    i64 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(4L), "b"(1L), "c"((i64) "i386 write\n"), "d"(11L) : "memory");
    out_dec("int80 returned", r);
  } else if (str_eq(m, "tf")) trap_tf();
  else if (str_eq(m, "tf-clear")) trap_tf_clear();
  else if (str_eq(m, "tf-rep")) trap_tf_rep();
  else if (str_eq(m, "tf-iret")) trap_tf_iret();
  else if (str_eq(m, "tf-int3")) trap_tf_int3();
  else if (str_eq(m, "tf-exit")) trap_tf_exit();
  else if (str_eq(m, "ac")) out_dec("read", trap_ac());
  else if (str_eq(m, "ac-push")) trap_ac_push();
  else if (str_eq(m, "ac-string")) trap_ac_string();
  else if (str_eq(m, "ac-cmpxchg8b")) trap_ac_cmpxchg8b();
  else if (str_eq(m, "ac-aligned")) out_dec("read", (i64)trap_ac_aligned());
  else if (str_eq(m, "ac-off")) out_hex("read", trap_ac_off());
  else if (str_eq(m, "stack4m")) touch_below_rsp(4 << 20);
  else if (str_eq(m, "stack7m")) touch_below_rsp(7 << 20);
  else if (str_eq(m, "stack9m")) touch_below_rsp(9 << 20);
  else if (str_eq(m, "nr-1")) out_dec("system call -1 returned", raw_syscall(~0UL));
  else if (str_eq(m, "nr-x32")) out_dec("system call 0x40000001 returned", raw_syscall(0x40000001UL));
  else if (str_eq(m, "null-read")) out_dec("read", fault_null_read());
  else if (str_eq(m, "where")) out_dec("main above 64 KiB", (u64)(usize)&main >= 0x10000);
  else {
    put_str(STDERR, "traps: unknown word\n");
    return 2;
  }
  put_str(STDOUT, "survived\n");
  return 0;
}
