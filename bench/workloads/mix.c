/* mix.c — the "mix" benchmark workload: rounds of a sieve of Eratosthenes, a merge sort, an
 * insertion sort and FNV-1a hashing, i.e. a mix of loads, stores, compares, unpredictable
 * branches and multiplies. Usage: mix [ROUNDS] (default 112, about 0.5 G instructions).
 * Every round does the same work on the same data (the generator is re-seeded), so the
 * instruction count is base + ROUNDS * per_round, up to the few hundred instructions that
 * printing the digest varies by: the benchmark measures the two constants in the emulator
 * and can then give the count for any ROUNDS. The printed digest lets it check that every
 * engine computed the same thing. Links with test/programs/rt.c. */
#include "rt.h"

#define SIEVE_N 100000
#define SORT_N 4000
#define INSERT_N 400
#define HASH_BYTES 32768

static u8 composite[SIEVE_N];
static u32 keys[SORT_N], tmp[SORT_N];
static u8 bytes[HASH_BYTES];

static u64 sieve(void) {
  memset(composite, 0, sizeof composite);
  u64 count = 0;
  for (u32 i = 2; i < SIEVE_N; i++) {
    if (composite[i]) continue;
    count++;
    for (u32 j = i * 2; j < SIEVE_N; j += i) composite[j] = 1;
  }
  return count;
}

static void merge_sort(u32 *v, u32 *t, usize n) {
  if (n < 2) return;
  usize h = n / 2;
  merge_sort(v, t, h);
  merge_sort(v + h, t, n - h);
  usize i = 0, j = h, k = 0;
  while (i < h && j < n) t[k++] = v[j] < v[i] ? v[j++] : v[i++];
  while (i < h) t[k++] = v[i++];
  while (j < n) t[k++] = v[j++];
  for (k = 0; k < n; k++) v[k] = t[k];
}

static void insertion_sort(u32 *v, usize n) {
  for (usize i = 1; i < n; i++) {
    u32 x = v[i];
    usize j = i;
    for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

static u64 fnv1a(const u8 *p, usize n) {
  u64 h = 14695981039346656037UL;
  for (usize i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211UL;
  return h;
}

static u64 round_once(void) {
  u64 seed = 42, d = sieve();
  for (usize i = 0; i < SORT_N; i++) keys[i] = (u32)rng_next(&seed);
  merge_sort(keys, tmp, SORT_N);
  d = mix(d, keys[SORT_N / 2]);
  for (usize i = 0; i < INSERT_N; i++) tmp[i] = (u32)rng_next(&seed);
  insertion_sort(tmp, INSERT_N);
  d = mix(d, tmp[INSERT_N / 3]);
  for (usize i = 0; i < HASH_BYTES; i++) bytes[i] = (u8)(keys[i % SORT_N] >> (i & 24));
  return mix(d, fnv1a(bytes, HASH_BYTES));
}

int main(int argc, char **argv) {
  i64 rounds = argc > 1 ? parse_i64(argv[1]) : 112;
  u64 digest = 0;
  for (i64 r = 0; r < rounds; r++) digest = mix(digest, round_once()); /* same work each round */
  out_hex("mix digest", digest);
  return 0;
}
