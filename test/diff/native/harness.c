// Runs differential-test cases on the host CPU; the file formats are described in
// test/diff/layout.ts, which also supplies the -D constants.
//
//   harness run  IN OUT          run every case in IN, write one result record per case
//   harness dump IN INDEX OUT    run case INDEX only, write its final data region (raw bytes)
//
// The code and data regions sit at the same fixed virtual addresses the emulator uses in
// flat mode, so RIP-relative operands, return addresses and pointers agree on both sides.
// Everything else below 64 MiB stays unmapped: a stray access faults here, which the
// emulator (all of its RAM mapped) would not do, so the generator never makes one.
//
// Build constants (-D): CODE_BASE CODE_SIZE DATA_BASE DATA_SIZE FS_BASE GS_BASE CODE_MAX.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpuid.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define IN_MAGIC 0x49444c54u   // "TLDI"
#define OUT_MAGIC 0x4f444c54u  // "TLDO"
#define NO_FAULT 0xffffffffu

struct case_in {
  uint64_t regs[16];  // rax rcx rdx rbx rsp rbp rsi rdi r8..r15
  uint64_t rflags;
  uint64_t seed;      // xorshift64* seed for the data region
  uint32_t code_off;  // the snippet starts at CODE_BASE + code_off
  uint32_t code_len;
  uint8_t code[CODE_MAX];
};

struct case_out {
  uint64_t regs[16];
  uint64_t rflags;
  uint64_t rip;       // after the snippet, or the RIP the exception frame reported
  uint64_t err;       // error code (REG_ERR) of a fault
  uint64_t hash;      // FNV-1a 64 of the data region
  uint32_t vector;    // x86 vector (REG_TRAPNO), NO_FAULT when the snippet completed
  uint32_t signo;
};

_Static_assert(sizeof(struct case_out) == 168, "case_out layout");

// Defined in snippet.S.
void run_snippet(const struct case_in *in, struct case_out *out);
void snippet_exit(void);
void fault_entry(int, siginfo_t *, void *);
extern uint64_t host_fs, snippet_entry;

static sigjmp_buf fault_jump;
static struct case_out *current_out;

// Called from fault_entry once FS is glibc's again. Registers come from the exception frame.
void on_fault(int sig, siginfo_t *si, void *ucv) {
  (void)si;
  const greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;
  static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
    REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
  struct case_out *o = current_out;
  for (int i = 0; i < 16; i++) o->regs[i] = (uint64_t)g[order[i]];
  o->rflags = (uint64_t)g[REG_EFL];
  o->rip = (uint64_t)g[REG_RIP];
  o->err = (uint64_t)g[REG_ERR];
  o->vector = (uint32_t)g[REG_TRAPNO];
  o->signo = (uint32_t)sig;
  siglongjmp(fault_jump, 1);
}

// xorshift64*: the TypeScript side (test/diff/prng.ts) fills its copy the same way.
static void fill_data(uint64_t seed) {
  uint64_t x = seed ? seed : 0x9e3779b97f4a7c15ull;
  uint64_t *p = (uint64_t *)DATA_BASE;
  for (size_t i = 0; i < DATA_SIZE / 8; i++) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p[i] = x * 0x2545f4914f6cdd1dull;
  }
}

static uint64_t fnv1a64(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void run_case(const struct case_in *c, struct case_out *o) {
  memset(o, 0, sizeof *o);
  o->vector = NO_FAULT;
  fill_data(c->seed);
  uint8_t *at = (uint8_t *)(CODE_BASE + (uint64_t)c->code_off);
  memcpy(at, c->code, c->code_len);
  // jmp *disp32(%rip) to the absolute address of snippet_exit, stored 8-byte aligned right
  // behind it: a snippet may leave RFLAGS.AC set, and the jump's read must not be misaligned.
  uint64_t exit_addr = (uint64_t)(uintptr_t)&snippet_exit;
  uint8_t *after = at + c->code_len + 6;
  uint8_t *literal = (uint8_t *)(((uintptr_t)after + 7) & ~(uintptr_t)7);
  int32_t disp = (int32_t)(literal - after);
  const uint8_t jmp_abs[2] = { 0xff, 0x25 };
  memcpy(at + c->code_len, jmp_abs, sizeof jmp_abs);
  memcpy(at + c->code_len + 2, &disp, 4);
  memcpy(literal, &exit_addr, 8);
  snippet_entry = (uint64_t)(uintptr_t)at;
  current_out = o;
  if (sigsetjmp(fault_jump, 1) == 0) {
    run_snippet(c, o);
    o->rip = (uint64_t)(uintptr_t)(at + c->code_len);
  }
  o->hash = fnv1a64((const uint8_t *)DATA_BASE, DATA_SIZE);
}

static void map_fixed(uint64_t addr, size_t size, int prot) {
  void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)addr) {
    fprintf(stderr, "harness: cannot map 0x%llx\n", (unsigned long long)addr);
    exit(2);
  }
}

static void setup(void) {
  map_fixed(CODE_BASE, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
  map_fixed(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE);
  if (syscall(SYS_arch_prctl, ARCH_GET_FS, &host_fs) != 0 ||
      syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)GS_BASE) != 0) {
    perror("harness: arch_prctl");
    exit(2);
  }
  // Faults must not push a signal frame onto the snippet's stack (it is in the data region).
  static uint8_t altstack[1 << 16];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  if (sigaltstack(&ss, NULL) != 0) { perror("harness: sigaltstack"); exit(2); }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fault_entry;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  alarm(300); // a snippet that never ends is a generator bug; do not hang the test run
}

static void *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = malloc(*len ? *len : 1);
  if (fread(buf, 1, *len, f) != *len) { perror(path); exit(2); }
  fclose(f);
  return buf;
}

// The host's CPU vendor string from CPUID leaf 0 (EBX, EDX, ECX), e.g. GenuineIntel.
static int print_vendor(void) {
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  char v[13];
  memcpy(v, &b, 4);
  memcpy(v + 4, &d, 4);
  memcpy(v + 8, &c, 4);
  v[12] = 0;
  printf("%s\n", v);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "vendor") == 0) return print_vendor();
  int dump = argc == 5 && strcmp(argv[1], "dump") == 0;
  if (!dump && !(argc == 4 && strcmp(argv[1], "run") == 0)) {
    fprintf(stderr, "usage: harness run IN OUT | harness dump IN INDEX OUT | harness vendor\n");
    return 2;
  }
  size_t len;
  uint32_t *hdr = read_file(argv[2], &len);
  if (len < 16 || hdr[0] != IN_MAGIC || hdr[2] != sizeof(struct case_in) ||
      len != 16 + (size_t)hdr[1] * sizeof(struct case_in)) {
    fprintf(stderr, "harness: %s is not a case file for this build (record %zu bytes)\n",
            argv[2], sizeof(struct case_in));
    return 2;
  }
  uint32_t count = hdr[1];
  const struct case_in *cases = (const struct case_in *)(hdr + 4);
  setup();
  FILE *out = fopen(argv[dump ? 4 : 3], "wb");
  if (!out) { perror("harness: output"); return 2; }
  struct case_out r;
  if (dump) {
    uint32_t index = (uint32_t)strtoul(argv[3], NULL, 0);
    if (index >= count) { fprintf(stderr, "harness: no case %u\n", index); return 2; }
    run_case(&cases[index], &r);
    fwrite((const void *)DATA_BASE, 1, DATA_SIZE, out);
  } else {
    uint32_t ohdr[4] = { OUT_MAGIC, count, sizeof r, 0 };
    fwrite(ohdr, sizeof ohdr, 1, out);
    for (uint32_t i = 0; i < count; i++) {
      run_case(&cases[i], &r);
      fwrite(&r, sizeof r, 1, out);
    }
  }
  return fclose(out) == 0 ? 0 : 2;
}
