/* bignum.c — arbitrary-precision arithmetic: 2^1000, 200!, Fibonacci(1500) and 3^400
 * printed in decimal. Proves: carry chains (add/adc, sub/sbb), 32x32->64 and 64x64->128
 * multiplies, 64/32 division for decimal conversion, and long loops over limb arrays.
 * Results are cross-checked two ways (e.g. 3^400 by squaring and by repeated multiply; the
 * decimal string converted back) and against published digit sums. */
#include "rt.h"

#define LIMBS 64 /* 64 x 64 bits = 4096 bits, enough for every number below */

typedef struct {
  u64 w[LIMBS]; /* little-endian 64-bit limbs */
} big;

static void big_set(big *a, u64 v) {
  memset(a, 0, sizeof *a);
  a->w[0] = v;
}

static int big_is_zero(const big *a) {
  for (int i = 0; i < LIMBS; i++)
    if (a->w[i]) return 0;
  return 1;
}

/* r = a + b; returns the carry out. */
static u64 big_add(big *r, const big *a, const big *b) {
  u64 carry = 0;
  for (int i = 0; i < LIMBS; i++) {
    u64 s = a->w[i] + carry;
    u64 c1 = s < carry;
    u64 t = s + b->w[i];
    carry = c1 | (t < s);
    r->w[i] = t;
  }
  return carry;
}

/* r = a - b (a >= b); returns the borrow out, using the builtin so gcc can use sbb. */
static u64 big_sub(big *r, const big *a, const big *b) {
  u64 borrow = 0;
  for (int i = 0; i < LIMBS; i++) {
    u64 d;
    u64 b1 = __builtin_sub_overflow(a->w[i], b->w[i], &d);
    u64 b2 = __builtin_sub_overflow(d, borrow, &d);
    r->w[i] = d;
    borrow = b1 | b2;
  }
  return borrow;
}

/* a *= m for a single 64-bit m, with 128-bit partial products. */
static void big_mul_small(big *a, u64 m) {
  u64 carry = 0;
  for (int i = 0; i < LIMBS; i++) {
    u128 p = (u128)a->w[i] * m + carry;
    a->w[i] = (u64)p;
    carry = (u64)(p >> 64);
  }
}

/* r = a * b, schoolbook, truncated to LIMBS limbs. r must not alias a or b. */
static void big_mul(big *r, const big *a, const big *b) {
  memset(r, 0, sizeof *r);
  for (int i = 0; i < LIMBS; i++) {
    if (!a->w[i]) continue;
    u64 carry = 0;
    for (int j = 0; i + j < LIMBS; j++) {
      u128 p = (u128)a->w[i] * b->w[j] + r->w[i + j] + carry;
      r->w[i + j] = (u64)p;
      carry = (u64)(p >> 64);
    }
  }
}

/* a /= d for a 32-bit divisor; returns the remainder. Works on 32-bit halves so each step
 * is a 64-by-32 division, which never overflows. */
static u32 big_div_small(big *a, u32 d) {
  u64 rem = 0;
  for (int i = LIMBS - 1; i >= 0; i--) {
    u64 hi = (rem << 32) | (a->w[i] >> 32);
    u64 qh = hi / d;
    rem = hi % d;
    u64 lo = (rem << 32) | (a->w[i] & 0xffffffffu);
    u64 ql = lo / d;
    rem = lo % d;
    a->w[i] = qh << 32 | ql;
  }
  return (u32)rem;
}

/* Decimal digits of a into buf (most significant first); returns the length. */
static usize big_to_dec(const big *a, char *buf) {
  static big t;
  t = *a; /* struct copy */
  char rev[1400];
  usize n = 0;
  do {
    u32 chunk = big_div_small(&t, 1000000000u);
    for (int k = 0; k < 9; k++) {
      rev[n++] = (char)('0' + chunk % 10);
      chunk /= 10;
    }
  } while (!big_is_zero(&t));
  while (n > 1 && rev[n - 1] == '0') n--;
  for (usize i = 0; i < n; i++) buf[i] = rev[n - 1 - i];
  buf[n] = 0;
  return n;
}

static void big_from_dec(big *a, const char *s) {
  big_set(a, 0);
  while (*s) {
    big_mul_small(a, 10);
    big d;
    big_set(&d, (u64)(*s++ - '0'));
    big_add(a, a, &d);
  }
}

static char dec[1400];
static int failures;

static void show(const char *name, const big *a, u64 want_digit_sum) {
  usize n = big_to_dec(a, dec);
  u64 sum = 0;
  for (usize i = 0; i < n; i++) sum += (u64)(dec[i] - '0');
  put_str(STDOUT, name);
  put_str(STDOUT, " = ");
  put_str(STDOUT, dec);
  put_str(STDOUT, "\n  digits ");
  put_u64(STDOUT, n);
  put_str(STDOUT, ", digit sum ");
  put_u64(STDOUT, sum);
  put_char(STDOUT, '\n');
  if (want_digit_sum && sum != want_digit_sum) failures++;
  /* Round trip: parse the decimal string back and compare limb by limb. */
  big back;
  big_from_dec(&back, dec);
  if (memcmp(&back, a, sizeof back) != 0) {
    put_str(STDOUT, "  decimal round trip FAILED\n");
    failures++;
  }
}

static big a, b, c, t;

int main(void) {
  /* 2^1000 by doubling with additions; its digit sum is 1366. */
  big_set(&a, 1);
  for (int i = 0; i < 1000; i++) big_add(&a, &a, &a);
  show("2^1000", &a, 1366);

  /* 200! by small multiplies; 100! has digit sum 648, checked on the way. */
  big_set(&a, 1);
  for (u64 i = 2; i <= 200; i++) {
    big_mul_small(&a, i);
    if (i == 100) show("100!", &a, 648);
  }
  show("200!", &a, 0);
  /* Dividing 200! by 200, 199, ..., 2 must leave exactly 1 with no remainders. */
  u32 rems = 0;
  for (u32 i = 200; i >= 2; i--) rems |= big_div_small(&a, i);
  big_set(&t, 1);
  if (rems || memcmp(&a, &t, sizeof a) != 0) failures++;
  out_dec("200! / 200 / ... / 2 remainders", rems);

  /* Fibonacci(1500) by additions; F(n+1) - F(n) must give back F(n-1). */
  big_set(&a, 0);
  big_set(&b, 1);
  for (int i = 0; i < 1500; i++) {
    big_add(&c, &a, &b);
    a = b;
    b = c;
  }
  show("F(1500)", &a, 0);
  big_sub(&t, &b, &a);
  big_sub(&c, &a, &t);
  show("F(1498)", &c, 0);

  /* 3^400 two ways: repeated multiply by 3, and square-and-multiply with full products. */
  big_set(&a, 1);
  for (int i = 0; i < 400; i++) big_mul_small(&a, 3);
  big_set(&b, 1);
  big_set(&c, 3);
  for (unsigned e = 400; e; e >>= 1) {
    if (e & 1) {
      big_mul(&t, &b, &c);
      b = t;
    }
    big_mul(&t, &c, &c);
    c = t;
  }
  if (memcmp(&a, &b, sizeof a) != 0) failures++;
  show("3^400", &b, 0);
  /* 0 - 1 borrows through every limb and out of the top one, leaving all ones. */
  big_set(&t, 1);
  big_set(&c, 0);
  out_dec("0 - 1 borrow", (i64)big_sub(&c, &c, &t));
  out_hex("0 - 1 top limb", c.w[LIMBS - 1]);

  put_str(STDERR, failures ? "bignum: FAILED\n" : "bignum: ok\n");
  return failures;
}
