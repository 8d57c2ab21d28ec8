/* args.c — reads its command line and exits with a status computed from it. Proves: the
 * initial stack layout (argc, the argv pointer array and its NULL terminator, the envp array
 * after it), strings passed through unchanged (empty, UTF-8, punctuation), and that the exit
 * status reaches the caller (low 8 bits). Usage: args [WORDS...]; numbers are summed. */
#include "rt.h"

int main(int argc, char **argv) {
  out_dec("argc", argc);
  if (argv[argc] != NULL) {
    put_str(STDERR, "args: argv is not NULL-terminated\n");
    return 99;
  }
  /* envp follows argv's NULL; the tests run both sides with an empty environment. */
  char **envp = argv + argc + 1;
  int envc = 0;
  while (envp[envc]) envc++;
  out_dec("envc", envc);

  i64 sum = 0;
  u32 h = 2166136261u;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    put_str(STDOUT, "argv[");
    put_u64(STDOUT, (u64)i);
    put_str(STDOUT, "] = \"");
    put_str(STDOUT, a);
    put_str(STDOUT, "\" (");
    put_u64(STDOUT, strlen(a));
    put_str(STDOUT, " bytes)\n");
    if ((a[0] >= '0' && a[0] <= '9') || (a[0] == '-' && a[1] >= '0' && a[1] <= '9')) sum += parse_i64(a);
    for (const char *p = a; *p; p++) h = (h ^ (u8)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u; /* argument separator */
  }
  /* Arguments in reverse, to stderr: a second stream with different content. */
  for (int i = argc - 1; i >= 1; i--) {
    put_str(STDERR, argv[i]);
    put_char(STDERR, i > 1 ? ' ' : '\n');
  }
  out_dec("sum", sum);
  out_hex("hash", h);
  /* The status mixes the sum and the hash; exit keeps its low 8 bits (so 0..255). */
  int status = (int)((u64)sum + (h >> 24)) & 0xff;
  out_dec("status", status);
  return status;
}
