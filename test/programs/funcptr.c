/* funcptr.c — indirect calls: a generic quicksort taking a comparator callback (like libc's
 * qsort), operation tables indexed at run time, a vtable-style struct of function pointers,
 * and structs passed and returned by value (small ones in registers, large ones through
 * memory with a hidden result pointer). Proves: call *reg / call *mem, indirect tail calls,
 * and struct copies (which gcc may turn into memcpy calls or rep movs). */
#include "rt.h"

typedef int (*cmp_fn)(const void *, const void *);

static void swap_bytes(u8 *a, u8 *b, usize size) {
  for (usize i = 0; i < size; i++) {
    u8 t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

/* Generic quicksort over elements of any size, Lomuto partition with the middle element
 * moved to the end as pivot. */
static void gsort(void *base, usize n, usize size, cmp_fn cmp) {
  u8 *b = base;
  while (n > 1) {
    swap_bytes(b + (n / 2) * size, b + (n - 1) * size, size);
    u8 *pivot = b + (n - 1) * size;
    usize store = 0;
    for (usize i = 0; i + 1 < n; i++) {
      if (cmp(b + i * size, pivot) < 0) {
        swap_bytes(b + i * size, b + store * size, size);
        store++;
      }
    }
    swap_bytes(b + store * size, pivot, size);
    gsort(b, store, size, cmp);
    b += (store + 1) * size;
    n -= store + 1;
  }
}

struct person {
  char name[12];
  i32 age;
  i64 score;
};

static int by_age(const void *a, const void *b) {
  const struct person *x = a, *y = b;
  return (x->age > y->age) - (x->age < y->age);
}
static int by_score_desc(const void *a, const void *b) {
  const struct person *x = a, *y = b;
  return (x->score < y->score) - (x->score > y->score);
}
static int by_name(const void *a, const void *b) {
  const struct person *x = a, *y = b;
  return memcmp(x->name, y->name, sizeof x->name);
}
static int cmp_u16(const void *a, const void *b) { return (int)*(const u16 *)a - (int)*(const u16 *)b; }
static int cmp_i64(const void *a, const void *b) {
  i64 x = *(const i64 *)a, y = *(const i64 *)b;
  return (x > y) - (x < y);
}

/* Operation table: the index comes from data, so the call target is only known at run time. */
static i64 op_add(i64 a, i64 b) { return a + b; }
static i64 op_sub(i64 a, i64 b) { return a - b; }
static i64 op_mul(i64 a, i64 b) { return (i64)((u64)a * (u64)b); }
static i64 op_min(i64 a, i64 b) { return a < b ? a : b; }
static i64 op_max(i64 a, i64 b) { return a > b ? a : b; }
static i64 op_xor(i64 a, i64 b) { return a ^ b; }
static i64 (*const ops[])(i64, i64) = {op_add, op_sub, op_mul, op_min, op_max, op_xor};

/* A "class" with a vtable; the shapes' area is computed in fixed point. */
struct shape;
struct shape_vt {
  i64 (*area)(const struct shape *);
  const char *(*name)(void);
};
struct shape {
  const struct shape_vt *vt;
  i64 w, h;
};
static i64 rect_area(const struct shape *s) { return s->w * s->h; }
static i64 tri_area(const struct shape *s) { return s->w * s->h / 2; }
static const char *rect_name(void) { return "rect"; }
static const char *tri_name(void) { return "triangle"; }
static const struct shape_vt rect_vt = {rect_area, rect_name}, tri_vt = {tri_area, tri_name};

/* Structs by value: 16 bytes travel in two registers, 40 bytes through memory. */
struct pair {
  i64 a, b;
};
struct big {
  i64 v[5];
};

static NOINLINE struct pair pair_swap_add(struct pair p, i64 k) { return (struct pair){p.b + k, p.a - k}; }

static NOINLINE struct big big_step(struct big x, struct pair p) {
  struct big r;
  for (int i = 0; i < 5; i++) r.v[i] = x.v[(i + 1) % 5] * 3 + p.a - p.b * i;
  return r;
}

/* Chooses a function by data and calls it in tail position (jmp *reg at -O2). */
static NOINLINE i64 apply(u32 which, i64 a, i64 b) { return ops[which % ARRAY_LEN(ops)](a, b); }

static struct person people[40];
static u16 shorts[500];
static i64 longs[500];

static u64 digest_people(void) {
  u64 h = 0;
  for (usize i = 0; i < ARRAY_LEN(people); i++) h = mix(mix(h, (u64)people[i].age), (u64)people[i].score);
  return h;
}

int main(void) {
  u64 seed = 31337;
  for (usize i = 0; i < ARRAY_LEN(people); i++) {
    struct person p = {{0}, (i32)rng_below(&seed, 90), (i64)rng_next(&seed) >> 20};
    for (int k = 0; k < 8; k++) p.name[k] = (char)('a' + rng_below(&seed, 26));
    people[i] = p; /* struct assignment */
  }
  for (usize i = 0; i < ARRAY_LEN(shorts); i++) shorts[i] = (u16)rng_next(&seed);
  for (usize i = 0; i < ARRAY_LEN(longs); i++) longs[i] = (i64)rng_next(&seed);

  static const struct {
    const char *name;
    cmp_fn cmp;
  } orders[] = {{"by age", by_age}, {"by score desc", by_score_desc}, {"by name", by_name}};
  for (usize k = 0; k < ARRAY_LEN(orders); k++) {
    gsort(people, ARRAY_LEN(people), sizeof people[0], orders[k].cmp);
    int ok = 1;
    for (usize i = 1; i < ARRAY_LEN(people); i++) ok &= orders[k].cmp(&people[i - 1], &people[i]) <= 0;
    put_str(STDOUT, "people sorted ");
    put_str(STDOUT, orders[k].name);
    put_str(STDOUT, ok ? ": ok, first " : ": FAILED, first ");
    put_mem(STDOUT, people[0].name, 8);
    put_char(STDOUT, '\n');
    out_hex("  digest", digest_people());
  }
  gsort(shorts, ARRAY_LEN(shorts), sizeof shorts[0], cmp_u16);
  gsort(longs, ARRAY_LEN(longs), sizeof longs[0], cmp_i64);
  int ok = 1;
  for (usize i = 1; i < ARRAY_LEN(shorts); i++) ok &= shorts[i - 1] <= shorts[i] && longs[i - 1] <= longs[i];
  out_dec("u16 and i64 arrays sorted", ok);
  out_dec("u16 median", shorts[250]);
  out_dec("i64 median", longs[250]);

  i64 acc = 1;
  for (u32 i = 0; i < 600; i++) acc = apply((u32)rng_next(&seed), acc, (i64)(i * 7919) - 1000);
  out_dec("op table fold", acc);

  struct shape shapes[] = {{&rect_vt, 3, 4}, {&tri_vt, 5, 7}, {&rect_vt, 100000, 100000}, {&tri_vt, -9, 4}};
  for (usize i = 0; i < ARRAY_LEN(shapes); i++) {
    put_str(STDOUT, shapes[i].vt->name());
    put_str(STDOUT, " area ");
    put_i64(STDOUT, shapes[i].vt->area(&shapes[i]));
    put_char(STDOUT, '\n');
  }

  struct pair p = {1, 2};
  struct big b = {{1, 2, 3, 4, 5}};
  for (int i = 0; i < 50; i++) {
    p = pair_swap_add(p, i);
    b = big_step(b, p);
  }
  out_dec("pair.a", p.a);
  out_dec("pair.b", p.b);
  u64 h = 0;
  for (int i = 0; i < 5; i++) h = mix(h, (u64)b.v[i]);
  out_hex("big digest", h);
  return ok ? 0 : 1;
}
