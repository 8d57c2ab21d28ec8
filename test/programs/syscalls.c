/* syscalls.c — the system calls the emulator implements, given buffers a user program may not
 * read: kernel addresses, non-canonical ones, unmapped pages, a buffer running off the end of
 * its mapping, and read-only data (which write() may read). Prints each call's return value;
 * run natively and emulated, the two must print the same (Linux: -EFAULT = -14, -EBADF = -9).
 * The i386 system-call gate (int $0x80) takes 32-bit arguments: a kernel-looking upper half
 * of a pointer register is not part of its argument.
 * Usage: syscalls [i386] — the i386 cases need the kernel's IA-32 emulation. */
#include "rt.h"

extern char _end[]; /* the end of the program's last segment: the next page is unmapped */

static const char ro[] = "read-only data\n";

static i64 raw(u64 nr, u64 a, u64 b, u64 c) {
  i64 ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

/* int $0x80: eax = i386 number, ebx, ecx, edx = arguments (only their low halves count). */
static i64 raw32(u64 nr, u64 a, u64 b, u64 c) {
  i64 ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return (i64)(i32)ret;
}

static void report(const char *label, i64 v) {
  rt_flush(STDOUT); /* the buffered label must not mix with what the call itself writes */
  out_dec(label, v);
  rt_flush(STDOUT);
}

int main(int argc, char **argv) {
  u64 end_page = ((u64)_end + 4095) & ~4095UL;
  rt_flush(STDOUT);
  report("write kernel (the GDT's page in tramplab)", raw(1, 1, 0xffff800000000000UL, 56));
  report("write kernel text", raw(1, 1, 0xffffffff81000000UL, 16));
  report("write kernel, count 0", raw(1, 1, 0xffff800000000000UL, 0));
  report("write non-canonical low", raw(1, 1, 0x0000800000000000UL, 8));
  report("write non-canonical high", raw(1, 1, 0x8000000000000000UL, 8));
  report("write non-canonical, count 0", raw(1, 1, 0x0000800000000000UL, 0));
  report("write past the user limit", raw(1, 1, 0x7ffffffff000UL, 8));
  report("write past the user limit, count 0", raw(1, 1, 0x7ffffffff001UL, 0));
  report("write NULL", raw(1, 1, 0, 8));
  report("write NULL, count 0", raw(1, 1, 0, 0));
  report("write unmapped", raw(1, 1, 0x10000000UL, 8));
  report("write unmapped, count 0", raw(1, 1, 0x10000000UL, 0));
  report("write running off the mapping", raw(1, 1, end_page - 10, 20));
  report("write ending at the mapping's end", raw(1, 2, end_page - 1, 1));
  report("write huge count", raw(1, 1, (u64)ro, 0x8000000000000000UL));
  report("write bad fd, kernel buffer", raw(1, 7, 0xffff800000000000UL, 8));
  report("write read-only data", raw(1, 1, (u64)ro, sizeof ro - 1));
  report("write through stdout's upper half (rax 1 | 1 << 32)", raw(1 | 1UL << 32, 1, (u64)ro, 5));
  if (argc > 1 && str_eq(argv[1], "i386")) {
    report("i386 write unmapped", raw32(4, 1, 0x10000000UL, 8));
    report("i386 write top of 4 GiB", raw32(4, 1, 0xffffffffUL, 2));
    report("i386 write read-only data", raw32(4, 1, (u64)ro, sizeof ro - 1));
    report("i386 write, pointer with a kernel upper half", raw32(4, 1, 0xffff800000000000UL | (u64)ro, 5));
    report("i386 write bad fd", raw32(4, 9, (u64)ro, 4));
  }
  return 0;
}
