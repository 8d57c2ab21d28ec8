/* rt.c — process entry, raw system calls, buffered output and the memory/string functions
 * gcc expects to exist. Linked into every test program and the "mix" benchmark workload. */
#include "rt.h"

/* Linux starts a static program at _start with rsp pointing at argc, then the argv pointers,
 * a NULL, the envp pointers, a NULL and the auxiliary vector. rsp is 16-byte aligned there;
 * the ABI wants it 16-byte aligned before a call, so realigning is only a safety net. rbp is
 * zeroed to terminate frame-pointer chains. */
__asm__(
    ".text\n"
    ".globl _start\n"
    ".type _start, @function\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov (%rsp), %rdi\n"         /* argc */
    "  lea 8(%rsp), %rsi\n"        /* argv */
    "  and $-16, %rsp\n"
    "  call main\n"
    "  mov %eax, %edi\n"
    "  call rt_exit\n"
    "  ud2\n"
    ".size _start, . - _start\n");

/* System call numbers and the kernel ABI: rax = number, args in rdi, rsi, rdx; the kernel
 * clobbers rcx (return rip) and r11 (rflags). */
i64 sys_write(int fd, const void *buf, usize len) {
  i64 ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(1L), "D"((i64)fd), "S"(buf), "d"(len) : "rcx", "r11", "memory");
  return ret;
}

_Noreturn void sys_exit(int status) {
  for (;;) __asm__ volatile("syscall" : : "a"(60L), "D"((i64)status) : "rcx", "r11", "memory");
}

/* One buffer per stream; flushed when full and at exit. */
struct outbuf {
  usize len;
  char data[4096];
};
static struct outbuf bufs[2];

void rt_flush(int fd) {
  struct outbuf *b = &bufs[fd - 1];
  usize done = 0;
  while (done < b->len) {
    i64 n = sys_write(fd, b->data + done, b->len - done);
    if (n <= 0) break; /* nowhere to report it; drop the rest */
    done += (usize)n;
  }
  b->len = 0;
}

_Noreturn void rt_exit(int status) {
  rt_flush(STDOUT);
  rt_flush(STDERR);
  sys_exit(status);
}

void put_char(int fd, char c) {
  struct outbuf *b = &bufs[fd - 1];
  if (b->len == sizeof b->data) rt_flush(fd);
  b->data[b->len++] = c;
}

void put_mem(int fd, const void *p, usize n) {
  const char *s = p;
  for (usize i = 0; i < n; i++) put_char(fd, s[i]);
}

void put_str(int fd, const char *s) {
  while (*s) put_char(fd, *s++);
}

void put_u64(int fd, u64 v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put_char(fd, tmp[--n]);
}

void put_i64(int fd, i64 v) {
  if (v < 0) {
    put_char(fd, '-');
    /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
    put_u64(fd, -(u64)v);
  } else {
    put_u64(fd, (u64)v);
  }
}

void put_hex(int fd, u64 v, int digits) {
  static const char xd[] = "0123456789abcdef";
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = xd[v & 15];
    v >>= 4;
  } while (v);
  put_str(fd, "0x");
  for (int i = n; i < digits; i++) put_char(fd, '0');
  while (n) put_char(fd, tmp[--n]);
}

void out_dec(const char *label, i64 v) {
  put_str(STDOUT, label);
  put_char(STDOUT, ' ');
  put_i64(STDOUT, v);
  put_char(STDOUT, '\n');
}

void out_hex(const char *label, u64 v) {
  put_str(STDOUT, label);
  put_char(STDOUT, ' ');
  put_hex(STDOUT, v, 16);
  put_char(STDOUT, '\n');
}

/* gcc recognises these very loops as memset/memcpy idioms and would turn them into calls to
 * themselves; the attribute switches that transformation off for the bodies below. */
#define NO_IDIOMS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_IDIOMS void *memcpy(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  for (usize i = 0; i < n; i++) d[i] = s[i];
  return dst;
}

NO_IDIOMS void *memmove(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  if (d < s) {
    for (usize i = 0; i < n; i++) d[i] = s[i];
  } else if (d > s) {
    /* Overlap with the destination above the source: copy from the end. */
    for (usize i = n; i > 0; i--) d[i - 1] = s[i - 1];
  }
  return dst;
}

NO_IDIOMS void *memset(void *dst, int c, usize n) {
  u8 *d = dst;
  for (usize i = 0; i < n; i++) d[i] = (u8)c;
  return dst;
}

int memcmp(const void *a, const void *b, usize n) {
  const u8 *x = a, *y = b;
  for (usize i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

NO_IDIOMS usize strlen(const char *s) {
  usize n = 0;
  while (s[n]) n++;
  return n;
}

int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

i64 parse_i64(const char *s) {
  int neg = 0;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  u64 v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
  return neg ? (i64)-v : (i64)v;
}

u64 rng_next(u64 *state) {
  u64 z = (*state += 0x9e3779b97f4a7c15UL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
  return z ^ (z >> 31);
}

u64 rng_below(u64 *state, u64 bound) { return rng_next(state) % bound; }

/* libgcc's population count, which gcc calls for __builtin_popcount* when the target has no
 * popcnt instruction; -nostdlib leaves libgcc out, so provide it here (SWAR bit counting). */
int __popcountdi2(u64 x);
int __popcountdi2(u64 x) {
  x = x - ((x >> 1) & 0x5555555555555555UL);
  x = (x & 0x3333333333333333UL) + ((x >> 2) & 0x3333333333333333UL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fUL;
  return (int)((x * 0x0101010101010101UL) >> 56);
}
