/* insns.c — instruction forms compilers rarely emit, run from inline assembly over many
 * register inputs, with the architecturally defined flags captured after each. Proves:
 * shifts and rotates by 1, by CL and by an immediate at 8/16/32/64 bits (CF/OF/SF/ZF/PF),
 * rcl/rcr through carry, shld/shrd, bt/bts/btr/btc on registers and on memory with bit
 * offsets beyond the addressed word, high-byte registers, 8- and 16-bit division, mul/imul
 * flags, inc/dec keeping CF, neg, adc/sbb chains, xadd/cmpxchg, lahf/sahf, the cbw/cwd
 * families, bswap, setcc and cmovcc for all 16 conditions (including cmov's 32-bit zero
 * extension when the condition is false), and string instructions in both directions.
 * Undefined flags are masked out, so native and emulated runs must agree exactly. */
#include "rt.h"

#define CF 0x1UL
#define PF 0x4UL
#define AF 0x10UL
#define ZF 0x40UL
#define SF 0x80UL
#define OF 0x800UL
#define ARITH (CF | PF | AF | ZF | SF | OF)

struct st {
  u64 a, b, c, d, f;
};

/* Runs INSN with rax..rdx and the arithmetic flags taken from s; returns the registers and
 * the flags masked to MASK. The asm steps over the red zone before pushing. */
#define CASE(NAME, INSN, MASK)                                                              \
  static NOINLINE struct st NAME(struct st s) {                                             \
    u64 fl = (s.f & ARITH) | 0x202;                                                         \
    __asm__ volatile("sub $128, %%rsp\n\tpush %[fl]\n\tpopf\n\t" INSN                       \
                     "\n\tpushf\n\tpop %[fl]\n\tadd $128, %%rsp"                            \
                     : "+a"(s.a), "+b"(s.b), "+c"(s.c), "+d"(s.d), [fl] "+r"(fl)            \
                     :                                                                      \
                     : "memory", "cc");                                                     \
    s.f = fl & (MASK);                                                                      \
    return s;                                                                               \
  }

/* Shift/rotate by 1 (opcodes D0/D1), by CL (D2/D3) and by imm8 (C0/C1) at every width. */
#define SHIFT_CASES(OP, FLAGS1, FLAGSN)                                                     \
  CASE(OP##_1_8, #OP "b %%al", FLAGS1)                                                      \
  CASE(OP##_1_16, #OP "w %%ax", FLAGS1)                                                     \
  CASE(OP##_1_32, #OP "l %%eax", FLAGS1)                                                    \
  CASE(OP##_1_64, #OP "q %%rax", FLAGS1)                                                    \
  CASE(OP##_cl_8, #OP "b %%cl, %%al", FLAGSN)                                               \
  CASE(OP##_cl_16, #OP "w %%cl, %%ax", FLAGSN)                                              \
  CASE(OP##_cl_32, #OP "l %%cl, %%eax", FLAGSN)                                             \
  CASE(OP##_cl_64, #OP "q %%cl, %%rax", FLAGSN)                                             \
  CASE(OP##_i_8, #OP "b $5, %%al", FLAGSN)                                                  \
  CASE(OP##_i_64, #OP "q $37, %%rax", FLAGSN)

/* Count 1: OF is defined; AF never is for shifts. Larger counts: OF is not either. */
SHIFT_CASES(shl, ARITH & ~AF, CF | PF | ZF | SF)
SHIFT_CASES(shr, ARITH & ~AF, CF | PF | ZF | SF)
SHIFT_CASES(sar, ARITH & ~AF, CF | PF | ZF | SF)
/* Rotates change only CF (and OF for count 1); the other flags pass through. */
SHIFT_CASES(rol, ARITH, ARITH & ~OF)
SHIFT_CASES(ror, ARITH, ARITH & ~OF)
SHIFT_CASES(rcl, ARITH, ARITH & ~OF)
SHIFT_CASES(rcr, ARITH, ARITH & ~OF)

CASE(shld_64, "shldq %%cl, %%rbx, %%rax", CF | PF | ZF | SF)
CASE(shrd_64, "shrdq %%cl, %%rbx, %%rax", CF | PF | ZF | SF)
CASE(shld_32, "shldl %%cl, %%ebx, %%eax", CF | PF | ZF | SF)
CASE(shrd_16, "shrdw $3, %%bx, %%ax", CF | PF | ZF | SF)
CASE(bt_reg, "btq %%rcx, %%rax", CF)
CASE(bts_reg, "btsl %%ecx, %%eax", CF)
CASE(btr_reg, "btrw %%cx, %%ax", CF)
CASE(btc_imm, "btcq $45, %%rax", CF)
CASE(high_bytes, "addb %%ah, %%bl\n\txchgb %%ch, %%dl\n\tsubb %%bh, %%ah", ARITH)
CASE(div8, "testb %%cl, %%cl\n\tjz 1f\n\tmovzwl %%ax, %%eax\n\tcmpb %%cl, %%ah\n\tjae 1f\n\tdivb %%cl\n1:", 0)
CASE(idiv16, "testw %%cx, %%cx\n\tjz 1f\n\tmovswl %%ax, %%eax\n\tcwtd\n\tcmpw $-1, %%cx\n\tje 1f\n\tidivw %%cx\n1:", 0)
CASE(mul16, "mulw %%cx", CF | OF)
CASE(imul8, "imulb %%cl", CF | OF)
CASE(imul32_imm, "imull $-7, %%ecx, %%eax", CF | OF)
CASE(imul16_rr, "imulw %%cx, %%ax", CF | OF)
CASE(incdec, "incb %%al\n\tdecw %%bx\n\tincl %%ecx\n\tdecq %%rdx", ARITH)
CASE(neg16, "negw %%ax", ARITH)
CASE(adc_sbb, "addq %%rcx, %%rax\n\tadcq %%rdx, %%rbx\n\tsbbl %%ecx, %%edx\n\tadcb $0x7f, %%cl", ARITH)
CASE(xadd_cmpxchg, "xaddl %%ecx, %%eax\n\tcmpxchgq %%rdx, %%rbx", ARITH)
CASE(cmpxchg_fail32, "cmpxchgl %%ecx, %%ebx", ARITH)
CASE(lahf_sahf, "sahf\n\tlahf\n\tmovzbl %%ah, %%ebx", ARITH)
CASE(extend, "cbtw\n\tmov %%rax, %%rbx\n\tmov %%ecx, %%eax\n\tcltq\n\tcqto\n\tmov %%rdx, %%rcx\n\tcwtl", 0)
CASE(bswaps, "bswapl %%eax\n\tbswapq %%rbx", 0)
CASE(cmov32_false, "cmpq %%rcx, %%rcx\n\tcmovnel %%edx, %%eax\n\tcmovel %%ebx, %%ecx", ARITH)

/* All 16 conditions on the same input flags: a copy of them stays on the stack and is
 * reloaded before each test, since the shifts that collect the results change flags. */
#define CC(c) "popf\n\tpushf\n\tset" #c " %%bl\n\tshlq $1, %%rbx\n\tpopf\n\tpushf\n\t" \
              "cmov" #c "q %%rdx, %%rcx\n\trolq $7, %%rdx\n\t"
CASE(conditions, "pushf\n\t" CC(o) CC(no) CC(b) CC(ae) CC(e) CC(ne) CC(be) CC(a) CC(s) CC(ns) CC(p) CC(np)
                 CC(l) CC(ge) CC(le) CC(g) "popf", 0)

static u64 mem[8];

/* Bit offsets in a register address bits far outside the named word (signed offsets). */
static NOINLINE u64 bt_memory(i64 bit) {
  u64 *base = &mem[4], h = 0;
  u8 cf;
  for (int i = 0; i < 8; i++) mem[i] = 0x0123456789abcdefUL * (u64)(i + 1);
  __asm__ volatile("btsq %2, %1\n\tsetc %0" : "=q"(cf), "+m"(*base) : "r"(bit) : "memory", "cc");
  h = mix(h, cf);
  __asm__ volatile("btcl %k2, %1\n\tsetc %0" : "=q"(cf), "+m"(*base) : "r"(bit / 2) : "memory", "cc");
  h = mix(h, cf);
  __asm__ volatile("btrw %w2, %1\n\tsetc %0" : "=q"(cf), "+m"(*base) : "r"(bit / 4) : "memory", "cc");
  h = mix(h, cf);
  for (int i = 0; i < 8; i++) h = mix(h, mem[i]);
  return h;
}

/* Forward and backward string operations with and without rep, and rep with rcx = 0. */
static NOINLINE u64 strings(u64 n) {
  u8 buf[96];
  for (int i = 0; i < 96; i++) buf[i] = (u8)(i * 7);
  void *d = buf + 40, *s = buf + 8;
  u64 c = n, h = 0;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
  h = mix(h, (u64)((u8 *)d - buf) ^ (u64)((u8 *)s - buf) << 8 ^ c << 16);
  d = buf + 90, c = n / 4;
  __asm__ volatile("std\n\trep stosw\n\tcld" : "+D"(d), "+c"(c) : "a"(0xbeef) : "memory");
  h = mix(h, (u64)((u8 *)d - buf));
  d = buf, c = 96;
  __asm__ volatile("repne scasb" : "+D"(d), "+c"(c) : "a"(n) : "memory", "cc");
  h = mix(h, (u64)((u8 *)d - buf) ^ c << 8);
  d = buf + 48, s = buf + 49, c = 40;
  __asm__ volatile("repe cmpsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory", "cc");
  h = mix(h, c);
  s = buf + 95;
  u64 acc = 0;
  __asm__ volatile("std\n\tlodsb\n\tlodsw\n\tcld" : "+S"(s), "+a"(acc) : : "memory");
  h = mix(h, acc ^ (u64)((u8 *)s - buf) << 32);
  for (int i = 0; i < 96; i++) h = mix(h, buf[i]);
  return h;
}

typedef struct st (*case_fn)(struct st);
#define ENTRY(x) {#x, x}
#define SHIFT_ENTRIES(OP)                                                                   \
  ENTRY(OP##_1_8), ENTRY(OP##_1_16), ENTRY(OP##_1_32), ENTRY(OP##_1_64), ENTRY(OP##_cl_8),  \
  ENTRY(OP##_cl_16), ENTRY(OP##_cl_32), ENTRY(OP##_cl_64), ENTRY(OP##_i_8), ENTRY(OP##_i_64)

static const struct {
  const char *name;
  case_fn fn;
} cases[] = {
    SHIFT_ENTRIES(shl), SHIFT_ENTRIES(shr), SHIFT_ENTRIES(sar), SHIFT_ENTRIES(rol),
    SHIFT_ENTRIES(ror), SHIFT_ENTRIES(rcl), SHIFT_ENTRIES(rcr),
    ENTRY(shld_64), ENTRY(shrd_64), ENTRY(shld_32), ENTRY(shrd_16), ENTRY(bt_reg),
    ENTRY(bts_reg), ENTRY(btr_reg), ENTRY(btc_imm), ENTRY(high_bytes), ENTRY(div8),
    ENTRY(idiv16), ENTRY(mul16), ENTRY(imul8), ENTRY(imul32_imm), ENTRY(imul16_rr),
    ENTRY(incdec), ENTRY(neg16), ENTRY(adc_sbb), ENTRY(xadd_cmpxchg), ENTRY(cmpxchg_fail32),
    ENTRY(lahf_sahf), ENTRY(extend), ENTRY(bswaps), ENTRY(cmov32_false), ENTRY(conditions),
};

int main(void) {
  static const u64 vals[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
                             0xffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x0123456789abcdef,
                             0xfedcba9876543210, 0x00000000deadbeef, 0x5555555555555555};
  u64 seed = 5;
  for (usize k = 0; k < ARRAY_LEN(cases); k++) {
    u64 h = 0;
    for (usize i = 0; i < ARRAY_LEN(vals); i++) {
      for (u64 cnt = 0; cnt < 20; cnt++) {
        /* Counts 1..width-1 matter most; the CL register also feeds the bt/div cases. */
        u64 r = rng_next(&seed);
        struct st in = {vals[i], r, cnt < 14 ? (cnt * 5 + 1) % 64 : r >> 3, rng_next(&seed), r >> 40};
        if (cnt & 1) in.c = (in.c & ~0xffUL) | (((cnt * 3) & 7) + 1);
        struct st out = cases[k].fn(in);
        h = mix(mix(mix(mix(mix(h, out.a), out.b), out.c), out.d), out.f);
      }
    }
    put_str(STDOUT, cases[k].name);
    put_char(STDOUT, ' ');
    put_hex(STDOUT, h, 16);
    put_char(STDOUT, '\n');
  }
  u64 h = 0;
  for (i64 bit = -300; bit < 300; bit += 7) h = mix(h, bt_memory(bit));
  out_hex("bt memory, far bit offsets", h);
  h = 0;
  for (u64 n = 0; n < 48; n += 5) h = mix(h, strings(n));
  out_hex("string instructions", h);
  return 0;
}
