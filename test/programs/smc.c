/* smc.c — self-modifying code, the way kernels patch their own text: machine code is written
 * into an RWX buffer, run, rewritten and run again. Proves that every store into code that
 * was already decoded is noticed before that code runs again:
 *   - rewriting a function's immediate, and one opcode byte (add <-> sub);
 *   - a static-key style toggle between a 5-byte jmp and a 5-byte nop;
 *   - retargeting a call rel32 (a static-call trampoline);
 *   - code that stores into the very next instruction of its own basic block;
 *   - an instruction straddling a page boundary, patched on the second page;
 *   - data stores right next to code (same 128-byte chunk) that must not break that code;
 *   - whole instructions replaced by one atomic 8-byte xchg (text_poke style) and by
 *     rep movsb copying a new function body over the old one.
 * Built with an RWX section (the section name trick below), linked with
 * -Wl,--no-warn-rwx-segments. */
#include "rt.h"

/* "#" comments out the flags gcc appends, so the assembler sees our "awx" (writable code). */
__attribute__((section(".jit,\"awx\",@progbits#"), aligned(4096))) static u8 jit[3 * 4096];

typedef u32 (*fn0)(void);
typedef u32 (*fn2)(u32, u32);

static u8 *emit_at;
static void emit(const u8 *bytes, usize n) {
  for (usize i = 0; i < n; i++) *emit_at++ = bytes[i];
}
static void emit32(u32 v) { emit((const u8 *)&v, 4); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }

static u64 digest;
static void note(const char *what, u64 v) {
  digest = mix(digest, v);
  out_hex(what, v);
}

int main(void) {
  int failures = 0;

  /* 1. mov $imm32, %eax; ret — then rewrite the immediate many times. */
  u8 *f1 = jit;
  emit_at = f1;
  emit((const u8[]){0xb8}, 1);
  emit32(0);
  emit((const u8[]){0xc3}, 1);
  u64 sum = 0;
  for (u32 i = 0; i < 2000; i++) {
    put32(f1 + 1, i * 2654435761u);
    u32 got = ((fn0)f1)();
    if (got != i * 2654435761u) failures++;
    sum += got;
  }
  note("patched immediates sum", sum);

  /* 2. mov %edi,%eax; add %esi,%eax; ret — flip add (01) to sub (29) and back. */
  u8 *f2 = jit + 64;
  emit_at = f2;
  emit((const u8[]){0x89, 0xf8, 0x01, 0xf0, 0xc3}, 5);
  u64 acc = 0;
  for (u32 i = 0; i < 100; i++) {
    f2[2] = i & 1 ? 0x29 : 0x01;
    u32 r = ((fn2)f2)(1000 + i, 7 * i);
    if (r != (i & 1 ? 1000 + i - 7 * i : 1000 + i + 7 * i)) failures++;
    acc = mix(acc, r);
  }
  note("add/sub opcode flips", acc);

  /* 3. Static key: at f3, either "jmp +5" over "mov $1,%eax" or a 5-byte nop into it.
   *    f3: [jmp rel32 | nopl 0(%rax,%rax)] ; mov $1,%eax ; ret ; mov $2,%eax ; ret
   *    With the jmp (to f3+11) it returns 2; with the nop it returns 1. */
  u8 *f3 = jit + 128;
  static const u8 jmp5[5] = {0xe9, 0x06, 0, 0, 0}, nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
  emit_at = f3;
  emit(nop5, 5);
  emit((const u8[]){0xb8, 1, 0, 0, 0, 0xc3, 0xb8, 2, 0, 0, 0, 0xc3}, 12);
  u32 key_trace = 0;
  for (u32 i = 0; i < 32; i++) {
    memcpy(f3, i % 3 ? jmp5 : nop5, 5);
    key_trace = key_trace << 1 | (((fn0)f3)() - 1);
  }
  note("static key trace", key_trace);
  if (key_trace != 0x6db6db6du) failures++;

  /* 4. A trampoline: f4 = call rel32; ret. The callee is one of two small functions at
   *    t1 and t2; retarget the call by rewriting rel32. */
  u8 *t1 = jit + 256, *t2 = jit + 272, *f4 = jit + 320;
  emit_at = t1;
  emit((const u8[]){0xb8, 0x11, 0x11, 0, 0, 0xc3}, 6);
  emit_at = t2;
  emit((const u8[]){0xb8, 0x22, 0x22, 0, 0, 0xc3}, 6);
  emit_at = f4;
  emit((const u8[]){0x48, 0x83, 0xec, 0x08, 0xe8}, 5); /* sub $8,%rsp keeps the callee aligned */
  emit32(0);
  emit((const u8[]){0x48, 0x83, 0xc4, 0x08, 0xc3}, 5);
  u64 calls = 0;
  for (u32 i = 0; i < 50; i++) {
    u8 *target = i % 5 == 0 ? t1 : t2;
    put32(f4 + 5, (u32)(target - (f4 + 9)));
    calls = calls * 3 + ((fn0)f4)();
  }
  note("retargeted calls", calls);

  /* 5. Same basic block: movl $N, 1(%rip) writes the immediate of the mov right after it.
   *    c7 05 01 00 00 00 <N>   movl $N, 1(%rip)  (rip = the next instruction; +1 = its imm)
   *    b8 00 00 00 00          mov $0, %eax       (runs with N already in place)
   *    c3                      ret */
  u8 *f5 = jit + 384;
  emit_at = f5;
  emit((const u8[]){0xc7, 0x05, 0x01, 0, 0, 0}, 6);
  emit32(0);
  emit((const u8[]){0xb8, 0, 0, 0, 0, 0xc3}, 6);
  u64 self = 0;
  for (u32 i = 1; i <= 300; i++) {
    put32(f5 + 6, i * 40503u); /* from C: the store's own immediate */
    u32 got = ((fn0)f5)();
    if (got != i * 40503u) failures++;
    self = mix(self, got);
  }
  note("self-modified next instruction", self);

  /* 6. mov $imm64, %rax (48 b8 + 8 bytes) straddling the page boundary at jit + 4096, then
   *    ret on the second page. Patch only bytes on the second page. */
  u8 *f6 = jit + 4096 - 5;
  emit_at = f6;
  emit((const u8[]){0x48, 0xb8}, 2);
  u64 imm = 0x1111111111111111UL;
  emit((const u8 *)&imm, 8);
  emit((const u8[]){0xc3}, 1);
  u64 straddle = 0;
  for (u32 i = 0; i < 64; i++) {
    straddle = mix(straddle, ((u64(*)(void))f6)());
    f6[5 + (i % 5)] = (u8)(i * 37); /* bytes 3..7 of the immediate, all on the second page */
  }
  note("page-straddling immediate", straddle);

  /* 7. Data interleaved with code: a counter 16 bytes after a ret-only function, in the same
   *    128-byte chunk, written between calls. The function must keep working. */
  u8 *f7 = jit + 2 * 4096;
  f7[0] = 0x31; f7[1] = 0xc0; f7[2] = 0xc3; /* xor %eax,%eax; ret */
  volatile u64 *counter = (volatile u64 *)(f7 + 16);
  for (u32 i = 0; i < 1000; i++) {
    *counter += ((fn0)f7)() + 1;
  }
  note("data next to code", *counter);

  /* 8. One atomic 8-byte exchange rewrites "mov $imm32,%eax; ret; nop; nop" completely. */
  u64 *f8 = (u64 *)(jit + 2 * 4096 + 128);
  u64 xtrace = 0;
  for (u32 i = 0; i < 40; i++) {
    u64 insn = 0x9090c300000000b8UL | (u64)(i * 977u) << 8; /* b8 imm32 c3 90 90 */
    __atomic_exchange_n(f8, insn, __ATOMIC_SEQ_CST);
    xtrace = mix(xtrace, ((fn0)(void *)f8)());
  }
  note("xchg-patched function", xtrace);

  /* 9. rep movsb copies one of two function bodies over the code at f9. */
  static const u8 body_a[] = {0x8d, 0x04, 0x37, 0xc3};       /* lea (%rdi,%rsi),%eax; ret */
  static const u8 body_b[] = {0x89, 0xf8, 0x0f, 0xaf, 0xc6, 0xc3}; /* mov %edi,%eax; imul %esi,%eax; ret */
  u8 *f9 = jit + 2 * 4096 + 256;
  u64 movs = 0;
  for (u32 i = 0; i < 40; i++) {
    const u8 *src = i & 2 ? body_b : body_a;
    usize n = i & 2 ? sizeof body_b : sizeof body_a;
    void *dst = f9;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    movs = mix(movs, ((fn2)f9)(i + 3, i + 5));
  }
  note("rep movsb-copied function", movs);

  note("digest", digest);
  put_str(STDERR, failures ? "smc: FAILED\n" : "smc: ok\n");
  return failures;
}
