/* bits.c — integer semantics at every width, over edge values and random pairs.
 * Proves: 8/16/32/64-bit add/sub/mul, signed and unsigned division and remainder, shifts
 * (logical and arithmetic) and rotates, sign/zero extension, compares and conditional moves,
 * overflow detection (jo/seto, jc/setc), 128-bit multiply (mul/imul one-operand forms) and
 * 128-bit add/shift, popcount/ctz/clz/bswap/parity and the x&(x-1) family, and atomics
 * (xchg, lock xadd, lock cmpxchg). Built additionally with -mpopcnt -mbmi -mlzcnt so the
 * popcnt, tzcnt and lzcnt instructions (and BMI1 forms like andn/blsr) appear.
 * Each category folds its results into one checksum, so any single wrong bit shows up. */
#include "rt.h"

static u64 vals[48];
static usize nvals;

static void init_vals(void) {
  static const u64 edges[] = {
      0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
      0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff, 0x8000000000000000,
      0xffffffffffffffff, (u64)-2, (u64)-3, (u64)-7, (u64)-128, (u64)-129, (u64)-32768,
      (u64)-32769, 0x123456789abcdef0, 0x00ff00ff00ff00ff, 0x8000000000000001, 63, 64, 65, 31, 33};
  for (usize i = 0; i < ARRAY_LEN(edges); i++) vals[nvals++] = edges[i];
  u64 s = 2024;
  while (nvals < ARRAY_LEN(vals)) {
    u64 r = rng_next(&s);
    vals[nvals] = nvals & 1 ? r : r >> (r & 63); /* random magnitudes too */
    nvals++;
  }
}

/* One function per width so the compiler emits width-specific code. The division guards
 * avoid the two cases C leaves undefined (and x86 traps on): /0 and MIN / -1. */
#define ARITH_FN(NAME, U, S, MINV)                                              \
  static NOINLINE u64 NAME(u64 ra, u64 rb) {                                    \
    U a = (U)ra, b = (U)rb;                                                      \
    S sa = (S)a, sb = (S)b;                                                      \
    u64 h = 0;                                                                   \
    h = mix(h, (U)(a + b));                                                      \
    h = mix(h, (U)(a - b));                                                      \
    h = mix(h, (U)(a * b));                                                      \
    h = mix(h, (U)(a & b) ^ (U)(a | b) << 1 ^ (U)(a ^ b) << 2);                  \
    h = mix(h, (U)-a ^ (U)~b);                                                   \
    h = mix(h, (a < b) | (a <= b) << 1 | (a > b) << 2 | (a == b) << 3);          \
    h = mix(h, (sa < sb) | (sa <= sb) << 1 | (sa > sb) << 2 | (sa >= sb) << 3);  \
    h = mix(h, (U)(sa < sb ? sa : sb) ^ (U)(a > b ? a : b) << 1);                \
    if (b != 0) {                                                                \
      h = mix(h, (U)(a / b));                                                    \
      h = mix(h, (U)(a % b));                                                    \
      if (!(sa == (S)(MINV) && sb == -1)) {                                      \
        h = mix(h, (U)(S)(sa / sb));                                             \
        h = mix(h, (U)(S)(sa % sb));                                             \
      }                                                                          \
    }                                                                            \
    unsigned n = (unsigned)(rb % (sizeof(U) * 8));                               \
    h = mix(h, (U)(a << n));                                                     \
    h = mix(h, (U)(a >> n));                                                     \
    h = mix(h, (U)(S)(sa >> n));                                                 \
    h = mix(h, n ? (U)((U)(a << n) | (U)(a >> (sizeof(U) * 8 - n))) : a);        \
    h = mix(h, n ? (U)((U)(a >> n) | (U)(a << (sizeof(U) * 8 - n))) : a);        \
    S r;                                                                         \
    h = mix(h, __builtin_add_overflow(sa, sb, &r) | (u64)(U)r << 1);             \
    h = mix(h, __builtin_sub_overflow(sa, sb, &r) | (u64)(U)r << 1);             \
    h = mix(h, __builtin_mul_overflow(sa, sb, &r) | (u64)(U)r << 1);             \
    U ur;                                                                        \
    h = mix(h, __builtin_add_overflow(a, b, &ur) | (u64)ur << 1);                \
    h = mix(h, __builtin_sub_overflow(a, b, &ur) | (u64)ur << 1);                \
    h = mix(h, __builtin_mul_overflow(a, b, &ur) | (u64)ur << 1);                \
    return h;                                                                    \
  }

ARITH_FN(arith8, u8, i8, -128)
ARITH_FN(arith16, u16, i16, -32768)
ARITH_FN(arith32, u32, i32, -2147483647 - 1)
ARITH_FN(arith64, u64, i64, (-9223372036854775807L - 1))

/* Shifts by a count in a register, including counts >= the width (masked by hardware, so
 * C code must mask too) and the 8/16-bit forms, whose flags and masking differ. */
static NOINLINE u64 shifts(u64 a, u64 b) {
  u64 h = 0;
  unsigned c = (unsigned)b;
  h = mix(h, a << (c & 63));
  h = mix(h, a >> (c & 63));
  h = mix(h, (u64)((i64)a >> (c & 63)));
  h = mix(h, (u32)a << (c & 31));
  h = mix(h, (u64)((i32)a >> (c & 31)));
  h = mix(h, (u16)((u16)a << (c & 15)));
  h = mix(h, (u16)((i16)a >> (c & 15)));
  h = mix(h, (u8)((u8)a >> (c & 7)));
  h = mix(h, (u8)((i8)a >> (c & 7)));
  /* Double-width shifts: gcc uses shld/shrd for 128-bit values. */
  u128 w = (u128)a << 64 | b;
  h = mix(h, (u64)(w << (c & 127)));
  h = mix(h, (u64)(w >> (c & 127)));
  h = mix(h, (u64)((w >> (c & 63)) >> 1));
  h = mix(h, (u64)((i128)w >> (c & 127)));
  return h;
}

static NOINLINE u64 extend(u64 a) {
  u64 h = 0;
  h = mix(h, (u64)(i64)(i8)a);
  h = mix(h, (u64)(i64)(i16)a);
  h = mix(h, (u64)(i64)(i32)a);
  h = mix(h, (u64)(u8)a ^ (u64)(u16)a << 8 ^ (u64)(u32)a << 16);
  h = mix(h, (u64)(i32)(i8)a ^ (u64)(u32)(i16)a << 32);
  i64 s = (i64)a;
  h = mix(h, (u64)(s < 0 ? -s : s));
  h = mix(h, (u64)((i32)a < 0 ? -(i64)(i32)a : (i32)a));
  return h;
}

static NOINLINE u64 wide_mul(u64 a, u64 b) {
  u64 h = 0;
  u128 p = (u128)a * b;
  h = mix(h, (u64)p);
  h = mix(h, (u64)(p >> 64));
  i128 q = (i128)(i64)a * (i64)b;
  h = mix(h, (u64)q);
  h = mix(h, (u64)((u128)q >> 64));
  h = mix(h, (u64)((i64)(i32)a * (i64)(i32)b));
  h = mix(h, (u64)(u32)a * (u32)b);
  /* 128-bit add/sub with carry propagation (add/adc, sub/sbb) and a 128-bit compare. */
  u128 x = (u128)a << 64 | b, y = (u128)b << 64 | a;
  h = mix(h, (u64)((x + y) >> 64) ^ (u64)(x + y));
  h = mix(h, (u64)((x - y) >> 64) ^ (u64)(x - y));
  h = mix(h, (x < y) | (x == y) << 1);
  return h;
}

static NOINLINE u64 bit_tricks(u64 a) {
  u64 h = 0;
  u32 a32 = (u32)a;
  h = mix(h, (u64)__builtin_popcountl(a) | (u64)__builtin_popcount(a32) << 8);
  h = mix(h, (u64)__builtin_parityl(a) | (u64)__builtin_parity(a32) << 1);
  if (a) h = mix(h, (u64)__builtin_ctzl(a) | (u64)__builtin_clzl(a) << 8);
  if (a32) h = mix(h, (u64)__builtin_ctz(a32) | (u64)__builtin_clz(a32) << 8);
  h = mix(h, __builtin_bswap64(a));
  h = mix(h, __builtin_bswap32(a32));
  h = mix(h, __builtin_bswap16((u16)a));
  h = mix(h, a & (a - 1));  /* clear lowest set bit (blsr) */
  h = mix(h, a & -a);       /* isolate lowest set bit (blsi) */
  h = mix(h, a ^ (a - 1));  /* mask up to lowest set bit (blsmsk) */
  h = mix(h, ~a & (a >> 3)); /* and-not (andn) */
  h = mix(h, (a >> 5) & 0x3ff); /* bit field extract */
  /* Count bits the slow way and compare, so a wrong popcount cannot hide in a checksum. */
  int slow = 0;
  for (u64 t = a; t; t >>= 1) slow += (int)(t & 1);
  if (slow != __builtin_popcountl(a)) h = ~h;
  return h;
}

static NOINLINE u64 atomics(u64 a, u64 b) {
  u64 cell = a, h = 0;
  h = mix(h, __atomic_exchange_n(&cell, b, __ATOMIC_SEQ_CST));
  h = mix(h, __atomic_fetch_add(&cell, a, __ATOMIC_SEQ_CST));
  u64 expected = cell;
  h = mix(h, (u64)__atomic_compare_exchange_n(&cell, &expected, a ^ b, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  expected = ~cell;
  h = mix(h, (u64)__atomic_compare_exchange_n(&cell, &expected, 5, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  h = mix(h, expected ^ cell);
  u32 c32 = (u32)a;
  h = mix(h, __atomic_fetch_sub(&c32, (u32)b, __ATOMIC_SEQ_CST) ^ c32);
  u8 c8 = (u8)a;
  h = mix(h, __atomic_exchange_n(&c8, (u8)b, __ATOMIC_SEQ_CST) ^ c8);
  return h;
}

int main(void) {
  init_vals();
  u64 a8 = 0, a16 = 0, a32 = 0, a64 = 0, sh = 0, wm = 0, at = 0, ex = 0, bt = 0;
  for (usize i = 0; i < nvals; i++) {
    ex = mix(ex, extend(vals[i]));
    bt = mix(bt, bit_tricks(vals[i]));
    for (usize j = 0; j < nvals; j++) {
      u64 a = vals[i], b = vals[j];
      a8 = mix(a8, arith8(a, b));
      a16 = mix(a16, arith16(a, b));
      a32 = mix(a32, arith32(a, b));
      a64 = mix(a64, arith64(a, b));
      sh = mix(sh, shifts(a, b));
      wm = mix(wm, wide_mul(a, b));
      at = mix(at, atomics(a, b));
    }
  }
  out_hex("arith 8-bit", a8);
  out_hex("arith 16-bit", a16);
  out_hex("arith 32-bit", a32);
  out_hex("arith 64-bit", a64);
  out_hex("shifts", sh);
  out_hex("sign/zero extension", ex);
  out_hex("128-bit multiply", wm);
  out_hex("bit tricks", bt);
  out_hex("atomics", at);

  /* A few results spelled out, as documentation of what the checksums cover. */
  u128 p = (u128)0xffffffffffffffffUL * 0xffffffffffffffffUL;
  out_hex("(2^64-1)^2 high", (u64)(p >> 64));
  out_hex("(2^64-1)^2 low", (u64)p);
  out_dec("-7 / 2", (i64)vals[22] / 2);
  out_dec("-7 % 2", (i64)vals[22] % 2);
  out_dec("popcount(0x123456789abcdef0)", __builtin_popcountl(vals[27]));
  return 0;
}
