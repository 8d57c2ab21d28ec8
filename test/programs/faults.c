/* faults.c — one way to die per command-line word, for the CLI tests. Each fault sits in its
 * own function, so the emulator's report can name it (<fault_ud2+0x..>), and the same binary
 * run natively dies of the same signal, which the tests check as well.
 *   ud2 -> #UD, SIGILL       div0 -> #DE, SIGFPE      overflow-div -> #DE (INT64_MIN / -1)
 *   null -> #PF write, SIGSEGV   kernel -> #PF read of a kernel address, SIGSEGV
 *   nx -> #PF executing a data page   hlt, cli -> #GP (privileged), SIGSEGV
 *   stack -> unbounded recursion past the 8 MiB stack limit, SIGSEGV
 *   loop -> never ends (for --max-insns)   hello -> prints to both streams, exits 3 */
#include "rt.h"

/* volatile globals: the compiler cannot see that the pointer is NULL or the divisor zero,
 * so it emits the faulting instruction instead of a trap or nothing at all. */
static int *volatile null_ptr;
static volatile i64 zero, minus_one = -1, int64_min = -9223372036854775807L - 1;
static volatile u64 spins;
/* ret, in a writable non-executable data page. */
static u8 data_code[16] = {0xc3};

static NOINLINE void fault_ud2(void) { __asm__ volatile("ud2"); }
static NOINLINE i64 fault_div0(i64 x) { return x / zero; }
static NOINLINE i64 fault_overflow_div(void) { return int64_min / minus_one; }
static NOINLINE void fault_null(void) { *null_ptr = 42; }
static NOINLINE u64 fault_kernel(void) { return *(volatile u64 *)0xffffffff81000000UL; }
static NOINLINE void fault_nx(void) { ((void (*)(void))(void *)data_code)(); }
static NOINLINE void fault_hlt(void) { __asm__ volatile("hlt"); }
static NOINLINE void fault_cli(void) { __asm__ volatile("cli"); }
/* Each frame keeps 256 bytes live, so the limit is reached after ~30000 calls. */
static NOINLINE u64 fault_stack(u64 n) {
  volatile u8 frame[256];
  frame[n & 255] = (u8)n;
  if (n == (u64)zero - 1) return 0; /* never true; keeps gcc from calling this infinite */
  return fault_stack(n + 1) + frame[(n * 7) & 255];
}
static NOINLINE void spin_forever(void) {
  for (;;) spins++;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    put_str(STDERR, "usage: faults ud2|div0|overflow-div|null|kernel|nx|hlt|cli|stack|loop|hello\n");
    return 2;
  }
  const char *m = argv[1];
  put_str(STDOUT, "about to: ");
  put_str(STDOUT, m);
  put_char(STDOUT, '\n');
  rt_flush(STDOUT); /* so the line appears even though the process dies */
  if (str_eq(m, "ud2")) fault_ud2();
  else if (str_eq(m, "div0")) out_dec("x", fault_div0(argc));
  else if (str_eq(m, "overflow-div")) out_dec("x", fault_overflow_div());
  else if (str_eq(m, "null")) fault_null();
  else if (str_eq(m, "kernel")) out_hex("x", fault_kernel());
  else if (str_eq(m, "nx")) fault_nx();
  else if (str_eq(m, "hlt")) fault_hlt();
  else if (str_eq(m, "cli")) fault_cli();
  else if (str_eq(m, "stack")) out_dec("x", (i64)fault_stack(0));
  else if (str_eq(m, "loop")) spin_forever();
  else if (str_eq(m, "hello")) {
    put_str(STDOUT, "hello, stdout\n");
    put_str(STDERR, "hello, stderr\n");
    return 3;
  }
  put_str(STDERR, "faults: survived\n");
  return 1;
}
