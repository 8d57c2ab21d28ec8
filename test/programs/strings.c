/* strings.c — string routines on NUL-terminated byte strings: reverse, substring search
 * (naive and Boyer-Moore-Horspool), tokenizing, integer <-> text in bases 2..36 with round
 * trips, case mapping, a word-frequency table, and overlapping memmove. Proves: byte loads
 * and stores, signed/unsigned char handling, pointer arithmetic, and 64-bit division by
 * small bases (including INT64_MIN, which has no positive counterpart). */
#include "rt.h"

static void reverse(char *s, usize n) {
  for (usize i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
    char t = s[i];
    s[i] = s[j];
    s[j] = t;
  }
}

/* Writes v in the given base; returns the length. Negative values get a '-' and are
 * converted through unsigned arithmetic so INT64_MIN works. */
static usize to_text(i64 v, unsigned base, char *out) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  u64 u = v < 0 ? -(u64)v : (u64)v;
  usize n = 0;
  do {
    out[n++] = digits[u % base];
    u /= base;
  } while (u);
  if (v < 0) out[n++] = '-';
  reverse(out, n);
  out[n] = 0;
  return n;
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

static i64 from_text(const char *s, unsigned base) {
  int neg = *s == '-';
  if (neg) s++;
  u64 v = 0;
  for (; *s && digit_value(*s) < (int)base; s++) v = v * base + (u64)digit_value(*s);
  return neg ? (i64)-v : (i64)v;
}

static const char *find_naive(const char *hay, const char *needle) {
  usize m = strlen(needle);
  for (; *hay; hay++)
    if (memcmp(hay, needle, m) == 0) return hay;
  return m == 0 ? hay : NULL;
}

/* Boyer-Moore-Horspool: the shift table is indexed by unsigned bytes, which matters for
 * bytes >= 0x80 (char is signed on x86-64). */
static const char *find_bmh(const char *hay, const char *needle) {
  usize n = strlen(hay), m = strlen(needle);
  if (m == 0) return hay;
  usize shift[256];
  for (int i = 0; i < 256; i++) shift[i] = m;
  for (usize i = 0; i + 1 < m; i++) shift[(u8)needle[i]] = m - 1 - i;
  for (usize pos = 0; pos + m <= n; pos += shift[(u8)hay[pos + m - 1]])
    if (memcmp(hay + pos, needle, m) == 0) return hay + pos;
  return NULL;
}

/* Splits s in place at any of the delimiter bytes; like strtok_r. */
static char *next_token(char **state, const char *delims) {
  char *s = *state;
  while (*s && find_naive(delims, (char[]){*s, 0}) != NULL) s++;
  if (!*s) return NULL;
  char *start = s;
  while (*s && !find_naive(delims, (char[]){*s, 0})) s++;
  if (*s) *s++ = 0;
  *state = s;
  return start;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

struct word {
  char text[24];
  u32 count;
};
static struct word table[128];

static void count_word(const char *w) {
  u32 h = 2166136261u;
  for (const char *p = w; *p; p++) h = (h ^ (u8)lower(*p)) * 16777619u;
  for (u32 i = h % ARRAY_LEN(table);; i = (i + 1) % ARRAY_LEN(table)) {
    struct word *e = &table[i];
    if (e->count == 0) {
      usize k = 0;
      for (; w[k] && k + 1 < sizeof e->text; k++) e->text[k] = lower(w[k]);
      e->text[k] = 0;
    }
    char tmp[24];
    usize k = 0;
    for (; w[k] && k + 1 < sizeof tmp; k++) tmp[k] = lower(w[k]);
    tmp[k] = 0;
    if (str_eq(e->text, tmp)) {
      e->count++;
      return;
    }
  }
}

static int failures;

int main(void) {
  char buf[200];
  /* Round trips through every base for edge and random values. */
  static const i64 edges[] = {0, 1, -1, 9, 10, -10, 35, 36, 255, 256, 65535, -65536, 2147483647, -2147483648L,
                              4294967296L, 9223372036854775807L, -9223372036854775807L - 1};
  u64 seed = 7, acc = 0;
  int trips = 0;
  for (int round = 0; round < 60; round++) {
    i64 v = round < (int)ARRAY_LEN(edges) ? edges[round] : (i64)(rng_next(&seed) >> (round % 60));
    if (round % 3 == 0 && round >= (int)ARRAY_LEN(edges)) v = -v;
    for (unsigned base = 2; base <= 36; base++) {
      usize n = to_text(v, base, buf);
      if (from_text(buf, base) != v) failures++;
      acc = mix(acc, n);
      for (usize i = 0; i < n; i++) acc = mix(acc, (u8)buf[i]);
      trips++;
    }
  }
  out_dec("integer/text round trips", trips);
  out_hex("integer/text digest", acc);
  to_text(-9223372036854775807L - 1, 10, buf);
  put_str(STDOUT, "INT64_MIN base 10 ");
  put_str(STDOUT, buf);
  to_text(-9223372036854775807L - 1, 16, buf);
  put_str(STDOUT, "\nINT64_MIN base 16 ");
  put_str(STDOUT, buf);
  to_text(255, 2, buf);
  put_str(STDOUT, "\n255 base 2 ");
  put_str(STDOUT, buf);
  put_char(STDOUT, '\n');
  out_dec("parse_i64(-00123x)", parse_i64("-00123x"));

  const char *text =
      "It was the best of times, it was the worst of times, it was the age of wisdom, "
      "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
      "incredulity, it was the season of Light, it was the season of Darkness \xc3\xa9t\xc3\xa9.";
  static const char *needles[] = {"worst", "epoch of b", "Darkness", "\xc3\xa9t\xc3\xa9", "times, it", "absent", "", "."};
  for (usize i = 0; i < ARRAY_LEN(needles); i++) {
    const char *a = find_naive(text, needles[i]), *b = find_bmh(text, needles[i]);
    if (a != b) failures++;
    put_str(STDOUT, "find \"");
    put_str(STDOUT, needles[i]);
    put_str(STDOUT, "\" at ");
    put_i64(STDOUT, a ? a - text : -1);
    put_char(STDOUT, '\n');
  }

  /* Tokenize a copy and count words case-insensitively. */
  char copy[400];
  memcpy(copy, text, strlen(text) + 1);
  char *state = copy, *tok;
  int ntok = 0;
  while ((tok = next_token(&state, " ,.")) != NULL) {
    count_word(tok);
    ntok++;
  }
  out_dec("tokens", ntok);
  for (usize i = 0; i < ARRAY_LEN(table); i++) {
    if (table[i].count > 1) {
      put_str(STDOUT, "  ");
      put_str(STDOUT, table[i].text);
      put_char(STDOUT, ' ');
      put_u64(STDOUT, table[i].count);
      put_char(STDOUT, '\n');
    }
  }

  /* Reverse twice is the identity; a palindrome is its own reverse. */
  memcpy(copy, text, strlen(text) + 1);
  reverse(copy, strlen(copy));
  put_str(STDOUT, "reversed head: ");
  put_mem(STDOUT, copy, 24);
  put_char(STDOUT, '\n');
  reverse(copy, strlen(copy));
  if (!str_eq(copy, text)) failures++;
  char pal[] = "amanaplanacanalpanama";
  reverse(pal, strlen(pal));
  out_dec("palindrome", str_eq(pal, "amanaplanacanalpanama"));

  /* Overlapping moves in both directions. */
  char mv[] = "0123456789abcdef";
  memmove(mv + 3, mv, 10);
  put_str(STDOUT, "memmove up: ");
  put_str(STDOUT, mv);
  memmove(mv, mv + 5, 11);
  put_str(STDOUT, "\nmemmove down: ");
  put_str(STDOUT, mv);
  put_char(STDOUT, '\n');
  out_dec("memcmp signs", memcmp("abc", "abd", 3) * 100 + memcmp("\x80", "\x7f", 1) * 10 + memcmp("x", "x", 1));

  if (failures) put_str(STDERR, "strings: FAILED\n");
  return failures ? 1 : 0;
}
