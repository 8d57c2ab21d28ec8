/* sort.c — quicksort, merge sort and insertion sort over pseudo-random data of several
 * element widths. Proves: compares and moves at 16/32/64 bits (signed and unsigned), array
 * indexing, recursion, and that all three algorithms agree. Every result is verified in the
 * program itself (sorted, and a permutation of the input) and summarised as checksums. */
#include "rt.h"

#define N_BIG 6000   /* quicksort / merge sort */
#define N_SMALL 700  /* insertion sort is quadratic: keep -O0 runs short */

static i32 src32[N_BIG], a32[N_BIG], b32[N_BIG], tmp32[N_BIG];
static u64 src64[N_BIG], a64[N_BIG], tmp64[N_BIG];
static i16 a16[N_SMALL];

static void quicksort_i32(i32 *v, i64 lo, i64 hi) {
  while (lo < hi) {
    /* Median of three as pivot, Hoare partition; recurse into the smaller half so the
     * stack depth stays logarithmic. */
    i64 mid = lo + (hi - lo) / 2;
    i32 x = v[lo], y = v[mid], z = v[hi];
    i32 pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    i64 i = lo - 1, j = hi + 1;
    for (;;) {
      do i++; while (v[i] < pivot);
      do j--; while (v[j] > pivot);
      if (i >= j) break;
      i32 t = v[i]; v[i] = v[j]; v[j] = t;
    }
    if (j - lo < hi - j) {
      quicksort_i32(v, lo, j);
      lo = j + 1;
    } else {
      quicksort_i32(v, j + 1, hi);
      hi = j;
    }
  }
}

static void merge_sort_i32(i32 *v, i32 *tmp, usize n) {
  if (n < 2) return;
  usize h = n / 2;
  merge_sort_i32(v, tmp, h);
  merge_sort_i32(v + h, tmp, n - h);
  usize i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = v[j] < v[i] ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

/* Bottom-up merge sort of unsigned 64-bit keys: the loop form, no recursion. */
static void merge_sort_u64(u64 *v, u64 *tmp, usize n) {
  for (usize width = 1; width < n; width *= 2) {
    for (usize lo = 0; lo < n; lo += 2 * width) {
      usize mid = lo + width < n ? lo + width : n;
      usize hi = lo + 2 * width < n ? lo + 2 * width : n;
      usize i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = v[j] < v[i] ? v[j++] : v[i++];
      while (i < mid) tmp[k++] = v[i++];
      while (j < hi) tmp[k++] = v[j++];
    }
    memcpy(v, tmp, n * sizeof *v);
  }
}

static void insertion_sort_i32(i32 *v, usize n) {
  for (usize i = 1; i < n; i++) {
    i32 x = v[i];
    usize j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

static void insertion_sort_i16(i16 *v, usize n) {
  for (usize i = 1; i < n; i++) {
    i16 x = v[i];
    usize j = i;
    for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

/* Order-independent fingerprint (sum and xor of a scrambled value): equal before and after
 * sorting iff nothing was lost or duplicated, with overwhelming probability. */
static u64 bag_hash(const void *p, usize n, usize size) {
  const u8 *b = p;
  u64 sum = 0, x = 0;
  for (usize i = 0; i < n; i++) {
    u64 v = 0;
    memcpy(&v, b + i * size, size);
    u64 s = v * 0xff51afd7ed558ccdUL;
    sum += s ^ (s >> 29);
    x ^= s;
  }
  return sum ^ (x << 1);
}

static u64 seq_hash(const void *p, usize n, usize size) {
  const u8 *b = p;
  u64 h = 0;
  for (usize i = 0; i < n * size; i++) h = mix(h, b[i]);
  return h;
}

static int failures;

static void check(const char *what, int ok) {
  put_str(STDOUT, what);
  put_str(STDOUT, ok ? ": ok\n" : ": FAILED\n");
  if (!ok) failures++;
}

int main(void) {
  u64 seed = 12345;
  for (int i = 0; i < N_BIG; i++) {
    /* Signed values with many duplicates and both signs exercise the pivot logic. */
    src32[i] = (i32)(rng_below(&seed, 20001)) - 10000;
    src64[i] = rng_next(&seed);
    if (i % 7 == 0) src64[i] >>= 40; /* small values mixed with huge ones */
  }
  for (int i = 0; i < N_SMALL; i++) a16[i] = (i16)rng_next(&seed);

  u64 bag32 = bag_hash(src32, N_BIG, 4);
  memcpy(a32, src32, sizeof a32);
  memcpy(b32, src32, sizeof b32);
  quicksort_i32(a32, 0, N_BIG - 1);
  merge_sort_i32(b32, tmp32, N_BIG);

  int sorted = 1;
  for (int i = 1; i < N_BIG; i++) sorted &= a32[i - 1] <= a32[i];
  check("quicksort i32 sorted", sorted);
  check("quicksort i32 permutation", bag_hash(a32, N_BIG, 4) == bag32);
  check("merge sort i32 equals quicksort", memcmp(a32, b32, sizeof a32) == 0);
  out_dec("i32 min", a32[0]);
  out_dec("i32 max", a32[N_BIG - 1]);
  out_dec("i32 median", a32[N_BIG / 2]);
  out_hex("i32 sorted hash", seq_hash(a32, N_BIG, 4));

  memcpy(b32, src32, N_SMALL * sizeof *b32);
  insertion_sort_i32(b32, N_SMALL);
  sorted = 1;
  for (int i = 1; i < N_SMALL; i++) sorted &= b32[i - 1] <= b32[i];
  check("insertion sort i32 sorted", sorted);
  check("insertion sort i32 permutation", bag_hash(b32, N_SMALL, 4) == bag_hash(src32, N_SMALL, 4));
  out_hex("i32 prefix sorted hash", seq_hash(b32, N_SMALL, 4));

  u64 bag64 = bag_hash(src64, N_BIG, 8);
  memcpy(a64, src64, sizeof a64);
  merge_sort_u64(a64, tmp64, N_BIG);
  sorted = 1;
  for (int i = 1; i < N_BIG; i++) sorted &= a64[i - 1] <= a64[i];
  check("merge sort u64 sorted (unsigned compares)", sorted);
  check("merge sort u64 permutation", bag_hash(a64, N_BIG, 8) == bag64);
  out_hex("u64 min", a64[0]);
  out_hex("u64 max", a64[N_BIG - 1]);
  out_hex("u64 sorted hash", seq_hash(a64, N_BIG, 8));

  u64 bag16 = bag_hash(a16, N_SMALL, 2);
  insertion_sort_i16(a16, N_SMALL);
  sorted = 1;
  for (int i = 1; i < N_SMALL; i++) sorted &= a16[i - 1] <= a16[i];
  check("insertion sort i16 sorted", sorted);
  check("insertion sort i16 permutation", bag_hash(a16, N_SMALL, 2) == bag16);
  out_dec("i16 min", a16[0]);
  out_dec("i16 max", a16[N_SMALL - 1]);

  if (failures) {
    put_str(STDERR, "sort: checks failed\n");
    return 1;
  }
  put_str(STDERR, "sort: all checks passed\n");
  return 0;
}
