/* cpuid.c — prints the CPU's vendor string and family, as CPUID leaves 0 and 1 report them.
 * Natively it names the host's CPU; emulated, the machine's vendor profile (--cpu-vendor). */
#include "rt.h"

static void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

int main(void) {
  u32 a, b, c, d;
  cpuid(0, &a, &b, &c, &d);
  char vendor[13];
  u32 parts[3] = { b, d, c };
  for (int i = 0; i < 12; i++) vendor[i] = (char)(parts[i / 4] >> (8 * (i % 4)));
  vendor[12] = 0;
  cpuid(1, &a, &b, &c, &d);
  u32 family = (a >> 8) & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  put_str(STDOUT, vendor);
  put_str(STDOUT, " family ");
  put_u64(STDOUT, family);
  put_str(STDOUT, "\n");
  return 0;
}
