/* hash.c — FNV-1a (32 and 64 bit), CRC-32 (table driven and bit by bit), SipHash-2-4,
 * Adler-32 and a 64-bit finaliser over strings and generated buffers. Proves: byte loads,
 * 32/64-bit multiply with wrap-around, xor/shift/rotate chains, table lookups, unsigned
 * modulo, and little-endian word assembly. Known check values are verified in-program. */
#include "rt.h"

static u32 fnv1a32(const u8 *p, usize n) {
  u32 h = 2166136261u;
  for (usize i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static u64 fnv1a64(const u8 *p, usize n) {
  u64 h = 14695981039346656037UL;
  for (usize i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211UL;
  return h;
}

static u32 crc_table[256];

static void crc32_init(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static u32 crc32_table(const u8 *p, usize n) {
  u32 c = 0xffffffffu;
  for (usize i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

/* The same polynomial one bit at a time, written with a mask instead of a branch. */
static u32 crc32_bitwise(const u8 *p, usize n) {
  u32 c = 0xffffffffu;
  for (usize i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static u32 adler32(const u8 *p, usize n) {
  u32 a = 1, b = 0;
  for (usize i = 0; i < n; i++) {
    a = (a + p[i]) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

static inline u64 rotl64(u64 x, int r) { return (x << r) | (x >> (64 - r)); }

static u64 load_le64(const u8 *p) {
  u64 v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

#define SIPROUND                                                    \
  do {                                                              \
    v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);   \
    v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                        \
    v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                        \
    v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);   \
  } while (0)

/* SipHash-2-4: 2 compression rounds per 8-byte word, 4 finalisation rounds. */
static u64 siphash24(const u8 key[16], const u8 *p, usize n) {
  u64 k0 = load_le64(key), k1 = load_le64(key + 8);
  u64 v0 = k0 ^ 0x736f6d6570736575UL, v1 = k1 ^ 0x646f72616e646f6dUL;
  u64 v2 = k0 ^ 0x6c7967656e657261UL, v3 = k1 ^ 0x7465646279746573UL;
  usize whole = n & ~(usize)7;
  for (usize i = 0; i < whole; i += 8) {
    u64 m = load_le64(p + i);
    v3 ^= m;
    SIPROUND; SIPROUND;
    v0 ^= m;
  }
  /* Last word: remaining bytes, with the length in the top byte. */
  u64 b = (u64)n << 56;
  for (usize i = whole; i < n; i++) b |= (u64)p[i] << (8 * (i - whole));
  v3 ^= b;
  SIPROUND; SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND; SIPROUND; SIPROUND; SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

static u64 fmix64(u64 k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdUL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53UL;
  k ^= k >> 33;
  return k;
}

static u8 big[65536];
static int failures;

static void expect32(const char *what, u32 got, u32 want) {
  put_str(STDOUT, what);
  put_char(STDOUT, ' ');
  put_hex(STDOUT, got, 8);
  if (got != want) {
    put_str(STDOUT, " (expected ");
    put_hex(STDOUT, want, 8);
    put_char(STDOUT, ')');
    failures++;
  }
  put_char(STDOUT, '\n');
}

int main(void) {
  static const char *texts[] = {"", "a", "foobar", "123456789", "The quick brown fox jumps over the lazy dog",
                                "\xff\xfe\x80\x7f\x00tail"};
  crc32_init();

  /* Published check values for "123456789" and the empty string. */
  const u8 *digits = (const u8 *)"123456789";
  expect32("crc32(123456789)", crc32_table(digits, 9), 0xcbf43926u);
  expect32("crc32 bitwise(123456789)", crc32_bitwise(digits, 9), 0xcbf43926u);
  expect32("adler32(Wikipedia)", adler32((const u8 *)"Wikipedia", 9), 0x11e60398u);
  expect32("fnv1a32()", fnv1a32(digits, 0), 0x811c9dc5u);
  expect32("fnv1a32(a)", fnv1a32((const u8 *)"a", 1), 0xe40c292cu);

  for (usize t = 0; t < ARRAY_LEN(texts); t++) {
    const u8 *s = (const u8 *)texts[t];
    usize n = strlen(texts[t]);
    if (t == ARRAY_LEN(texts) - 1) n = 9; /* embedded NUL: use the explicit length */
    out_dec("text", (i64)t);
    out_hex("  fnv1a32", fnv1a32(s, n));
    out_hex("  fnv1a64", fnv1a64(s, n));
    out_hex("  crc32", crc32_table(s, n));
    out_hex("  adler32", adler32(s, n));
    if (crc32_table(s, n) != crc32_bitwise(s, n)) failures++;
  }

  /* SipHash over the reference key 00..0f and messages 00, 00 01, ... of every length up
   * to 64, so each tail length and the multi-word path are covered. */
  u8 key[16], msg[64];
  for (int i = 0; i < 16; i++) key[i] = (u8)i;
  for (int i = 0; i < 64; i++) msg[i] = (u8)i;
  u64 acc = 0;
  for (usize n = 0; n <= 64; n++) {
    u64 h = siphash24(key, msg, n);
    if (n < 4 || n == 15 || n == 63) {
      put_str(STDOUT, "siphash24 len ");
      put_u64(STDOUT, n);
      put_char(STDOUT, ' ');
      put_hex(STDOUT, h, 16);
      put_char(STDOUT, '\n');
    }
    acc = mix(acc, h);
  }
  out_hex("siphash24 all lengths", acc);
  /* The reference implementation's vectors for lengths 0 and 15. */
  if (siphash24(key, msg, 0) != 0x726fdb47dd0e0e31UL || siphash24(key, msg, 15) != 0xa129ca6149be45e5UL) {
    put_str(STDOUT, "siphash24 reference vectors FAILED\n");
    failures++;
  }

  /* A large buffer: pseudo-random bytes, hashed whole and in pieces. */
  u64 seed = 99;
  for (usize i = 0; i < sizeof big; i += 8) {
    u64 r = rng_next(&seed);
    memcpy(big + i, &r, 8);
  }
  out_hex("big fnv1a64", fnv1a64(big, sizeof big));
  out_hex("big crc32", crc32_table(big, sizeof big));
  out_hex("big adler32", adler32(big, sizeof big));
  out_hex("big siphash24", siphash24(key, big, sizeof big));
  u64 pieces = 0;
  for (usize off = 0; off < 4096; off += 97) pieces = mix(pieces, fnv1a32(big + off, off % 211));
  out_hex("big fnv pieces", pieces);

  u64 f = 0;
  for (u64 i = 0; i < 1000; i++) f ^= fmix64(i * 0x9e3779b97f4a7c15UL) >> (i & 31);
  out_hex("fmix64 fold", f);

  put_str(STDERR, failures ? "hash: check values FAILED\n" : "hash: check values ok\n");
  return failures ? 1 : 0;
}
