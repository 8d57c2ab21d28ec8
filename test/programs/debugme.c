// A program for the debugger's tests (test/debug/program*.test.ts): a loop with locals and a
// call for `next` and `info locals`, output to show once, an exit status; with the argument
// "crash" it dereferences a null pointer (SIGSEGV).
#include "rt.h"

static int square(int x) {
  return x * x;
}

int main(int argc, char **argv) {
  int total = 0;
  for (int i = 0; i < 3; i++)
    total += square(i + argc);
  out_dec("total", total);
  if (argc > 1 && str_eq(argv[1], "crash")) {
    volatile int *p = (volatile int *)0;
    total += *p;
  }
  return total & 7;
}
