/* rt.h — the tiny freestanding runtime every test program links against (see rt.c).
 *
 * The programs are compiled with -nostdlib -ffreestanding, so nothing of libc exists: this
 * header supplies fixed-width integer types, the raw system calls the emulator supports
 * (write, exit), buffered printing helpers and a deterministic PRNG. Output is buffered so a
 * program makes a handful of write() calls rather than one per number, which keeps both the
 * native and the emulated runs fast and makes the system-call sequence irrelevant to results.
 */
#ifndef RT_H
#define RT_H

typedef signed char i8;
typedef short i16;
typedef int i32;
typedef long i64;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef unsigned long usize;
typedef __int128 i128;
typedef unsigned __int128 u128;

#define NULL ((void *)0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NOINLINE __attribute__((noinline))

enum { STDOUT = 1, STDERR = 2 };

/* Raw system calls. */
i64 sys_write(int fd, const void *buf, usize len);
_Noreturn void sys_exit(int status);

/* Flushes both output buffers, then exits. _start calls this with main's return value. */
_Noreturn void rt_exit(int status);

/* Buffered output to fd 1 or 2. */
void put_char(int fd, char c);
void put_str(int fd, const char *s);
void put_mem(int fd, const void *p, usize n);
void put_u64(int fd, u64 v);
void put_i64(int fd, i64 v);
/* Lower-case hex with a 0x prefix, zero-padded to at least `digits` digits. */
void put_hex(int fd, u64 v, int digits);
void rt_flush(int fd);

/* Common shorthand: "label value\n" on stdout, decimal or hex. */
void out_dec(const char *label, i64 v);
void out_hex(const char *label, u64 v);
static inline void out_str(const char *s) { put_str(STDOUT, s); }

/* What gcc may call even in freestanding code (struct copies, loop idioms). */
void *memcpy(void *dst, const void *src, usize n);
void *memmove(void *dst, const void *src, usize n);
void *memset(void *dst, int c, usize n);
int memcmp(const void *a, const void *b, usize n);
usize strlen(const char *s);

/* Small string helpers shared by several programs. */
int str_eq(const char *a, const char *b);
/* Parses an optionally signed decimal; stops at the first non-digit. */
i64 parse_i64(const char *s);

/* splitmix64: a deterministic generator, identical natively and emulated. */
u64 rng_next(u64 *state);
/* A value in [0, bound) (bound > 0); modulo bias does not matter for tests. */
u64 rng_below(u64 *state, u64 bound);

/* Mixes a value into a running checksum (order dependent). */
static inline u64 mix(u64 h, u64 v) {
  h ^= v + 0x9e3779b97f4a7c15UL + (h << 6) + (h >> 2);
  return h;
}

/* Each program defines main, as int main(void) or int main(int argc, char **argv). */

#endif
