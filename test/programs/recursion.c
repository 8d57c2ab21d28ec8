/* recursion.c — Ackermann, naive Fibonacci, N-queens, Towers of Hanoi, mutual recursion and
 * one deliberately deep recursion. Proves: call/ret and the return-address stack under
 * heavy use, callee-saved registers across calls, stack-passed arguments (more than six),
 * and — through the deep recursion, which needs ~2.5 MiB of stack — that the stack grows on
 * demand the way Linux grows it (the emulator starts with 128 KiB mapped), also when one
 * 600 KB frame is touched at its far end first. */
#include "rt.h"

static u64 calls;

static NOINLINE u64 ackermann(u64 m, u64 n) {
  calls++;
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

static NOINLINE u64 fib(u32 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* Bit-mask N-queens: cols, diagonals and anti-diagonals as masks. */
static u64 queens(u32 n, u32 cols, u32 d1, u32 d2) {
  u32 all = (1u << n) - 1;
  if (cols == all) return 1;
  u64 count = 0;
  for (u32 free = all & ~(cols | d1 | d2); free; free &= free - 1) {
    u32 bit = free & -free;
    count += queens(n, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1);
  }
  return count;
}

/* Hanoi with the pegs as arguments; the move count must be 2^n - 1, and a checksum of the
 * moves pins down their order. */
static u64 hanoi_sum;
static u64 hanoi(u32 n, u32 from, u32 to, u32 via) {
  if (n == 0) return 0;
  u64 k = hanoi(n - 1, from, via, to);
  hanoi_sum = mix(hanoi_sum, n << 4 | from << 2 | to);
  return k + 1 + hanoi(n - 1, via, to, from);
}

static NOINLINE int is_odd(u32 n);
static NOINLINE int is_even(u32 n) { return n == 0 ? 1 : is_odd(n - 1); }
static NOINLINE int is_odd(u32 n) { return n == 0 ? 0 : is_even(n - 1); }

/* Eight arguments: the last two travel on the stack. */
static NOINLINE i64 many_args(i64 a, i64 b, i64 c, i64 d, i64 e, i64 f, i64 g, i64 h) {
  return a - b + c * 2 - d + e * 3 - f + g * 5 - h * 7;
}

static NOINLINE i64 sum_args(int depth, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f, i64 g, i64 h) {
  if (depth == 0) return many_args(a, b, c, d, e, f, g, h);
  return sum_args(depth - 1, b, c, d, e, f, g, h, a + depth) + many_args(h, g, f, e, d, c, b, a);
}

/* Each level keeps a 96-byte array live across the call, so 20000 levels need well over
 * the initially mapped stack. The array is also read back after the call returns. */
static NOINLINE u64 deep(u32 n) {
  volatile u8 pad[96];
  for (u32 i = 0; i < sizeof pad; i++) pad[i] = (u8)(n + i);
  if (n == 0) return 0;
  u64 below = deep(n - 1);
  return below + pad[n % sizeof pad];
}

/* One 600 KB frame, touched from its lowest address (the new stack pointer) upwards: the
 * first access lands far below everything mapped so far. */
static NOINLINE u64 big_frame(u32 seed) {
  volatile u8 buf[600000];
  u64 sum = 0;
  for (u32 i = 0; i < sizeof buf; i += 1000) buf[i] = (u8)(seed + i / 1000);
  for (u32 i = 0; i < sizeof buf; i += 1000) sum += buf[i];
  return sum;
}

int main(void) {
  for (u64 m = 0; m <= 3; m++) {
    for (u64 n = 0; n <= 4; n++) {
      calls = 0;
      u64 r = ackermann(m, n);
      put_str(STDOUT, "A(");
      put_u64(STDOUT, m);
      put_char(STDOUT, ',');
      put_u64(STDOUT, n);
      put_str(STDOUT, ") = ");
      put_u64(STDOUT, r);
      put_str(STDOUT, " in ");
      put_u64(STDOUT, calls);
      put_str(STDOUT, " calls\n");
    }
  }
  out_dec("fib(24)", (i64)fib(24));
  for (u32 n = 4; n <= 9; n++) {
    put_str(STDOUT, "queens(");
    put_u64(STDOUT, n);
    put_str(STDOUT, ") = ");
    put_u64(STDOUT, queens(n, 0, 0, 0));
    put_char(STDOUT, '\n');
  }
  u64 moves = hanoi(15, 1, 3, 2);
  out_dec("hanoi(15) moves", (i64)moves);
  out_hex("hanoi(15) move digest", hanoi_sum);
  out_dec("is_even(10001)", is_even(10001));
  out_dec("sum_args", sum_args(200, 1, -2, 3, -4, 5, -6, 7, -8));
  out_dec("deep(20000)", (i64)deep(20000));
  out_dec("big_frame(3)", (i64)big_frame(3));

  int ok = moves == (1u << 15) - 1 && queens(8, 0, 0, 0) == 92;
  put_str(STDERR, ok ? "recursion: ok\n" : "recursion: FAILED\n");
  return ok ? 0 : 1;
}
