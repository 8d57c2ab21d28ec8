/* interp.c — a stack-machine bytecode interpreter whose dispatch is one dense switch over
 * 32 opcodes, so gcc -O2 compiles it to an indirect jump through a table (the test checks
 * the disassembly for it). Proves: computed indirect jumps with many targets, and the
 * interpreter's own arithmetic, running small programs: primes below 3000, iterative
 * Fibonacci mod 2^32, gcd and Collatz lengths. */
#include "rt.h"

enum op {
  OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER, OP_ADD, OP_SUB,
  OP_MUL, OP_DIV, OP_MOD, OP_NEG, OP_AND, OP_OR, OP_XOR, OP_SHL,
  OP_SHR, OP_SAR, OP_EQ, OP_LT, OP_LTU, OP_JMP, OP_JZ, OP_JNZ,
  OP_LOAD, OP_STORE, OP_INC, OP_DEC, OP_PRINT, OP_ROT, OP_NOT, OP_NOP,
};

#define MAXSTACK 64

/* Runs code; returns the instruction count, or -1 on a stack or decoding error. The
 * operand of PUSH, JMP, JZ, JNZ, LOAD, STORE is the next code word. */
static NOINLINE i64 run(const i64 *code, i64 *vars, u64 *digest) {
  i64 st[MAXSTACK];
  int sp = 0;
  i64 pc = 0, steps = 0;
  for (;;) {
    i64 op = code[pc++], x;
    steps++;
    switch (op) {
      case OP_HALT: return steps;
      case OP_PUSH: st[sp++] = code[pc++]; break;
      case OP_POP: sp--; break;
      case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
      case OP_SWAP: x = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = x; break;
      case OP_OVER: st[sp] = st[sp - 2]; sp++; break;
      case OP_ADD: sp--; st[sp - 1] = (i64)((u64)st[sp - 1] + (u64)st[sp]); break;
      case OP_SUB: sp--; st[sp - 1] = (i64)((u64)st[sp - 1] - (u64)st[sp]); break;
      case OP_MUL: sp--; st[sp - 1] = (i64)((u64)st[sp - 1] * (u64)st[sp]); break;
      case OP_DIV: sp--; st[sp - 1] = st[sp] ? st[sp - 1] / st[sp] : 0; break;
      case OP_MOD: sp--; st[sp - 1] = st[sp] ? st[sp - 1] % st[sp] : 0; break;
      case OP_NEG: st[sp - 1] = (i64)-(u64)st[sp - 1]; break;
      case OP_AND: sp--; st[sp - 1] &= st[sp]; break;
      case OP_OR: sp--; st[sp - 1] |= st[sp]; break;
      case OP_XOR: sp--; st[sp - 1] ^= st[sp]; break;
      case OP_SHL: sp--; st[sp - 1] = (i64)((u64)st[sp - 1] << (st[sp] & 63)); break;
      case OP_SHR: sp--; st[sp - 1] = (i64)((u64)st[sp - 1] >> (st[sp] & 63)); break;
      case OP_SAR: sp--; st[sp - 1] >>= st[sp] & 63; break;
      case OP_EQ: sp--; st[sp - 1] = st[sp - 1] == st[sp]; break;
      case OP_LT: sp--; st[sp - 1] = st[sp - 1] < st[sp]; break;
      case OP_LTU: sp--; st[sp - 1] = (u64)st[sp - 1] < (u64)st[sp]; break;
      case OP_JMP: pc = code[pc]; break;
      case OP_JZ: pc = st[--sp] == 0 ? code[pc] : pc + 1; break;
      case OP_JNZ: pc = st[--sp] != 0 ? code[pc] : pc + 1; break;
      case OP_LOAD: st[sp++] = vars[code[pc++]]; break;
      case OP_STORE: vars[code[pc++]] = st[--sp]; break;
      case OP_INC: st[sp - 1]++; break;
      case OP_DEC: st[sp - 1]--; break;
      case OP_PRINT: *digest = mix(*digest, (u64)st[--sp]); break;
      case OP_ROT: x = st[sp - 3]; st[sp - 3] = st[sp - 2]; st[sp - 2] = st[sp - 1]; st[sp - 1] = x; break;
      case OP_NOT: st[sp - 1] = ~st[sp - 1]; break;
      case OP_NOP: break;
      default: return -1;
    }
    if (sp < 0 || sp >= MAXSTACK - 1) return -1;
  }
}

/* A tiny assembler with labels, so the programs below read as code rather than as lists
 * of hand-computed jump targets. Forward references are patched by link(). */
struct prog {
  i64 code[256];
  int n;
  int label_at[16];
  int fix_pos[32], fix_label[32], nfix;
};

static void emit(struct prog *p, i64 w) { p->code[p->n++] = w; }
static void op(struct prog *p, enum op o) { emit(p, o); }
static void op_arg(struct prog *p, enum op o, i64 arg) { emit(p, o); emit(p, arg); }
static void label(struct prog *p, int l) { p->label_at[l] = p->n; }
static void jump(struct prog *p, enum op o, int l) {
  emit(p, o);
  p->fix_pos[p->nfix] = p->n;
  p->fix_label[p->nfix++] = l;
  emit(p, 0);
}
static void link(struct prog *p) {
  for (int i = 0; i < p->nfix; i++) p->code[p->fix_pos[i]] = p->label_at[p->fix_label[i]];
}

/* Primes below `limit` by trial division. vars: 0 = n, 1 = d, 2 = count. */
static void build_primes(struct prog *p, i64 limit) {
  enum { OUTER, INNER, PRIME, NEXT, DONE };
  op_arg(p, OP_PUSH, 2); op_arg(p, OP_STORE, 0);
  op_arg(p, OP_PUSH, 0); op_arg(p, OP_STORE, 2);
  label(p, OUTER);
  op_arg(p, OP_LOAD, 0); op_arg(p, OP_PUSH, limit); op(p, OP_LT); jump(p, OP_JZ, DONE);
  op_arg(p, OP_PUSH, 2); op_arg(p, OP_STORE, 1);
  label(p, INNER); /* d*d > n: prime */
  op_arg(p, OP_LOAD, 1); op(p, OP_DUP); op(p, OP_MUL); op_arg(p, OP_LOAD, 0); op(p, OP_SWAP); op(p, OP_LT);
  jump(p, OP_JNZ, PRIME);
  op_arg(p, OP_LOAD, 0); op_arg(p, OP_LOAD, 1); op(p, OP_MOD); jump(p, OP_JZ, NEXT); /* divisible */
  op_arg(p, OP_LOAD, 1); op(p, OP_INC); op_arg(p, OP_STORE, 1); jump(p, OP_JMP, INNER);
  label(p, PRIME);
  op_arg(p, OP_LOAD, 2); op(p, OP_INC); op_arg(p, OP_STORE, 2);
  label(p, NEXT);
  op_arg(p, OP_LOAD, 0); op(p, OP_INC); op_arg(p, OP_STORE, 0); jump(p, OP_JMP, OUTER);
  label(p, DONE);
  op_arg(p, OP_LOAD, 2); op(p, OP_PRINT); op(p, OP_HALT);
  link(p);
}

/* Fibonacci mod 2^32, `rounds` steps, with the two values kept on the stack (OVER, ROT). */
static void build_fib(struct prog *p, i64 rounds) {
  enum { LOOP };
  op_arg(p, OP_PUSH, 0); op_arg(p, OP_PUSH, 1); op_arg(p, OP_PUSH, rounds); op_arg(p, OP_STORE, 0);
  label(p, LOOP);
  op(p, OP_OVER); op(p, OP_OVER); op(p, OP_ADD); op_arg(p, OP_PUSH, 0xffffffff); op(p, OP_AND);
  op(p, OP_ROT); op(p, OP_POP);
  op_arg(p, OP_LOAD, 0); op(p, OP_DEC); op(p, OP_DUP); op_arg(p, OP_STORE, 0); jump(p, OP_JNZ, LOOP);
  op(p, OP_PRINT); op(p, OP_PRINT); op(p, OP_HALT);
  link(p);
}

/* gcd(a, b) by Euclid, then the Collatz length of c into var 1. */
static void build_gcd_collatz(struct prog *p, i64 a, i64 b, i64 c) {
  enum { GCD, GCD_DONE, COLLATZ, EVEN, DONE };
  op_arg(p, OP_PUSH, a); op_arg(p, OP_PUSH, b);
  label(p, GCD);
  op(p, OP_DUP); jump(p, OP_JZ, GCD_DONE); op(p, OP_SWAP); op(p, OP_OVER); op(p, OP_MOD); jump(p, OP_JMP, GCD);
  label(p, GCD_DONE);
  op(p, OP_POP); op(p, OP_PRINT);
  op_arg(p, OP_PUSH, c); op_arg(p, OP_STORE, 0); op_arg(p, OP_PUSH, 0); op_arg(p, OP_STORE, 1);
  label(p, COLLATZ);
  op_arg(p, OP_LOAD, 0); op_arg(p, OP_PUSH, 1); op(p, OP_EQ); jump(p, OP_JNZ, DONE);
  op_arg(p, OP_LOAD, 1); op(p, OP_INC); op_arg(p, OP_STORE, 1);
  op_arg(p, OP_LOAD, 0); op_arg(p, OP_PUSH, 1); op(p, OP_AND); jump(p, OP_JZ, EVEN);
  op_arg(p, OP_LOAD, 0); op_arg(p, OP_PUSH, 3); op(p, OP_MUL); op(p, OP_INC); op_arg(p, OP_STORE, 0);
  jump(p, OP_JMP, COLLATZ);
  label(p, EVEN);
  op_arg(p, OP_LOAD, 0); op_arg(p, OP_PUSH, 1); op(p, OP_SAR); op_arg(p, OP_STORE, 0); jump(p, OP_JMP, COLLATZ);
  label(p, DONE);
  op(p, OP_NOP);
  link(p);
  p->n--; /* the caller appends more code after DONE */
}

/* Every remaining opcode once, on values where signedness matters. */
static void build_misc(struct prog *p) {
  op_arg(p, OP_PUSH, -5); op_arg(p, OP_PUSH, 2); op(p, OP_DIV); op(p, OP_PRINT);
  op_arg(p, OP_PUSH, -5); op_arg(p, OP_PUSH, 2); op(p, OP_MOD); op(p, OP_PRINT);
  op_arg(p, OP_PUSH, -1); op_arg(p, OP_PUSH, 1); op(p, OP_LTU); op(p, OP_PRINT);
  op_arg(p, OP_PUSH, -1); op_arg(p, OP_PUSH, 1); op(p, OP_LT); op(p, OP_PRINT);
  op_arg(p, OP_PUSH, -256); op_arg(p, OP_PUSH, 4); op(p, OP_SHR); op_arg(p, OP_PUSH, 3); op(p, OP_SHL);
  op(p, OP_NEG); op(p, OP_NOT); op(p, OP_PRINT);
  op_arg(p, OP_PUSH, 0x5a); op_arg(p, OP_PUSH, 0xff); op(p, OP_XOR); op_arg(p, OP_PUSH, 0x0f); op(p, OP_OR);
  op(p, OP_PRINT);
  op_arg(p, OP_PUSH, -100); op_arg(p, OP_PUSH, 3); op(p, OP_SAR); op(p, OP_PRINT);
  op(p, OP_HALT);
}

static struct prog progs[4];

static void report(const char *name, i64 steps) {
  put_str(STDOUT, name);
  put_str(STDOUT, ": ");
  put_i64(STDOUT, steps);
  put_str(STDOUT, " steps\n");
}

int main(void) {
  i64 vars[8] = {0};
  u64 digest = 0;

  build_primes(&progs[0], 3000);
  report("primes below 3000", run(progs[0].code, vars, &digest));
  out_dec("  count", vars[2]);

  build_fib(&progs[1], 500);
  report("fibonacci mod 2^32", run(progs[1].code, vars, &digest));

  build_gcd_collatz(&progs[2], 1071, 462, 27);
  op_arg(&progs[2], OP_LOAD, 1); op(&progs[2], OP_PRINT);
  build_misc(&progs[2]);
  report("gcd, collatz, misc", run(progs[2].code, vars, &digest));
  out_dec("  collatz(27) length", vars[1]);
  out_hex("printed values digest", digest);

  /* An undefined opcode must land in the default case. */
  op_arg(&progs[3], OP_PUSH, 1);
  emit(&progs[3], 77);
  report("bad opcode", run(progs[3].code, vars, &digest));

  int ok = vars[2] == 430 && vars[1] == 111;
  put_str(STDERR, ok ? "interp: ok\n" : "interp: FAILED\n");
  return ok ? 0 : 1;
}
