/* The kernel's vsnprintf family. Conversions %d %i %u %o %x %X %c %s %p %%, flags - + space # 0,
 * width and precision (digits or *), lengths hh h l ll L z t. Where the kernel (lib/vsprintf.c)
 * differs from C, this follows the kernel:
 *
 *   - an integer prints at least one digit: "%.0d" of 0 is "0";
 *   - a '.' without digits leaves the precision unset ("%.s" prints the whole string), and a
 *     negative precision from '*' counts as 0;
 *   - '0' pads with zeros even beside a precision: "%05.2d" of 1 is "00001";
 *   - '#' prefixes "0x" to every hex number, 0 included ("0x0"), and "0" to non-zero octal,
 *     ahead of the precision's zeros: "%#.3o" of 8 is "0010";
 *   - %c and %s pad with spaces only;
 *   - %s of NULL prints "(null)", of any other address below 4096 or of an error pointer
 *     "(efault)"; the precision cuts these like any string;
 *   - %n, %j, floating point and every other unknown conversion end the output where they
 *     stand: the arguments after them could no longer be matched (the kernel also WARNs);
 *   - a size above INT_MAX stores nothing and returns 0 (a negative length gone unsigned).
 *
 * Pointers: %px prints the address in lowercase hex, 16 digits zero-padded unless a width is
 * given. %p prints the same: the kernel prints a hash of the address instead, to keep its
 * layout secret; this guest has nothing to hide, and a real address can be looked up.
 * %pS and %pB print "name+0xoff/0xsize", %ps "name", from format_symbol(), or "0x<hex>" when
 * no symbol covers the address. Any other %p<letters> prints as %p, its letters skipped as the
 * kernel skips them. Widths are clamped to the kernel's 2^23 - 1, precisions to 2^15 - 1.
 */
#include "vsprintf.h"

#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_copy(dst, src) __builtin_va_copy(dst, src)

#define INT_MAX 0x7fffffff
#define FIELD_WIDTH_MAX ((1 << 23) - 1)
#define PRECISION_MAX ((1 << 15) - 1)
#define PAGE_SIZE 4096UL
#define MAX_ERRNO 4095UL
/* Room for a symbol's "name+0xoff/0xsize"; longer names are cut. */
#define KSYM_SYMBOL_LEN 256

/* A conversion's flags (the kernel's names). */
#define SIGN	1	/* %d %i */
#define LEFT	2	/* '-' */
#define PLUS	4	/* '+' */
#define SPACE	8	/* ' ' */
#define ZEROPAD	16	/* '0' */
#define SMALL	32	/* lowercase hex */
#define SPECIAL	64	/* '#': 0x or 0 prefix */

struct printf_spec {
	unsigned char flags;
	unsigned char base;	/* 8, 10 or 16 */
	unsigned char size;	/* bytes of an integer argument: 1, 2, 4 or 8 */
	int field_width;	/* -1: none */
	int precision;		/* -1: none */
};

/* The output: everything is counted, only what fits before the final NUL is stored. */
struct sink {
	char *buf;
	size_t size;	/* bytes of buf, the NUL included */
	size_t len;	/* characters produced so far */
};

static int isdigit(int c) { return c >= '0' && c <= '9'; }
static int isalnum(int c) { return isdigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static void emit(struct sink *out, char c)
{
	if (out->len + 1 < out->size)
		out->buf[out->len] = c;
	out->len++;
}

static void emit_repeat(struct sink *out, char c, long n)
{
	while (n-- > 0)
		emit(out, c);
}

static void number(struct sink *out, unsigned long long num, struct printf_spec spec)
{
	const char *digit = (spec.flags & SMALL) ? "0123456789abcdef" : "0123456789ABCDEF";
	char tmp[22];	/* 2^64 - 1 in octal */
	const char *prefix = "";
	int ndigits = 0, prefix_len = 0, precision;
	char sign = 0;
	long pad;

	if (spec.flags & LEFT)
		spec.flags &= ~ZEROPAD;
	if (spec.flags & SIGN) {
		if ((long long)num < 0) {
			sign = '-';
			num = -num;	/* unsigned, so LLONG_MIN's magnitude fits */
		} else if (spec.flags & PLUS) {
			sign = '+';
		} else if (spec.flags & SPACE) {
			sign = ' ';
		}
	}
	if ((spec.flags & SPECIAL) && spec.base == 16) {
		prefix = (spec.flags & SMALL) ? "0x" : "0X";
		prefix_len = 2;
	} else if ((spec.flags & SPECIAL) && spec.base == 8 && num) {
		prefix = "0";
		prefix_len = 1;
	}
	do {
		tmp[ndigits++] = digit[num % spec.base];
		num /= spec.base;
	} while (num);

	precision = spec.precision > ndigits ? spec.precision : ndigits;
	pad = (long)spec.field_width - precision - (sign != 0) - prefix_len;
	if (!(spec.flags & (LEFT | ZEROPAD)))
		emit_repeat(out, ' ', pad);
	if (sign)
		emit(out, sign);
	while (*prefix)
		emit(out, *prefix++);
	if (spec.flags & ZEROPAD)
		emit_repeat(out, '0', pad);
	emit_repeat(out, '0', precision - ndigits);
	while (ndigits)
		emit(out, tmp[--ndigits]);
	if (spec.flags & LEFT)
		emit_repeat(out, ' ', pad);
}

/* At most maxlen characters of s: fewer at a NUL or at the precision; padded to the width. */
static void string(struct sink *out, const char *s, size_t maxlen, struct printf_spec spec)
{
	size_t len = 0, i;
	long pad;

	while (len < maxlen && (spec.precision < 0 || len < (size_t)spec.precision) && s[len])
		len++;
	pad = len < (size_t)FIELD_WIDTH_MAX ? spec.field_width - (long)len : 0;
	if (!(spec.flags & LEFT))
		emit_repeat(out, ' ', pad);
	for (i = 0; i < len; i++)
		emit(out, s[i]);
	if (spec.flags & LEFT)
		emit_repeat(out, ' ', pad);
}

/* What %s prints instead of reading an address that cannot hold a string; NULL if it can. */
static const char *check_pointer_msg(const char *s)
{
	unsigned long addr = (unsigned long)s;

	if (!s)
		return "(null)";
	if (addr < PAGE_SIZE || addr >= -MAX_ERRNO)
		return "(efault)";
	return 0;
}

static void character(struct sink *out, char c, struct printf_spec spec)
{
	if (!(spec.flags & LEFT))
		emit_repeat(out, ' ', spec.field_width - 1);
	emit(out, c);
	if (spec.flags & LEFT)
		emit_repeat(out, ' ', spec.field_width - 1);
}

static void symbol_string(struct sink *out, unsigned long addr, int with_offset, struct printf_spec spec)
{
	char sym[KSYM_SYMBOL_LEN];
	int len = format_symbol(sym, sizeof(sym), addr, with_offset);

	if (len <= 0) {	/* no symbol: "0x%lx" */
		struct sink tmp = { sym, sizeof(sym), 0 };
		struct printf_spec hex = { .flags = SPECIAL | SMALL, .base = 16, .field_width = -1, .precision = -1 };

		number(&tmp, addr, hex);
		len = tmp.len;
	}
	string(out, sym, len < KSYM_SYMBOL_LEN ? len : KSYM_SYMBOL_LEN - 1, spec);
}

/* fmt points after the 'p'; returns where the format goes on. */
static const char *pointer(struct sink *out, const char *fmt, void *ptr, struct printf_spec spec)
{
	switch (*fmt) {
	case 'S':
	case 'B':
		symbol_string(out, (unsigned long)ptr, 1, spec);
		break;
	case 's':
		symbol_string(out, (unsigned long)ptr, 0, spec);
		break;
	default:	/* 'x', plain %p, and the kernel's other extensions */
		spec.base = 16;
		spec.flags |= SMALL;
		if (spec.field_width < 0) {
			spec.field_width = 2 * sizeof(ptr);
			spec.flags |= ZEROPAD;
		}
		number(out, (unsigned long)ptr, spec);
	}
	while (isalnum(*fmt))
		fmt++;
	return fmt;
}

/* Decimal digits at *fmt, stopping the growth at limit (hostile formats cannot overflow). */
static int skip_atoi(const char **fmt, int limit)
{
	int n = 0;

	for (; isdigit(**fmt); (*fmt)++)
		n = n > limit ? n : n * 10 + (**fmt - '0');
	return n > limit ? limit : n;
}

static unsigned char flag_of(char c)
{
	switch (c) {
	case '-': return LEFT;
	case '+': return PLUS;
	case ' ': return SPACE;
	case '#': return SPECIAL;
	case '0': return ZEROPAD;
	default: return 0;
	}
}

/* Decodes the conversion after a '%' at fmt into spec, taking '*' widths and precisions from
 * args. Returns the address of the conversion character, or NULL for one the kernel rejects. */
static const char *format_decode(const char *fmt, struct printf_spec *spec, va_list *args)
{
	unsigned char flag;

	spec->flags = 0;
	while ((flag = flag_of(*fmt))) {
		spec->flags |= flag;
		fmt++;
	}
	spec->field_width = -1;
	if (isdigit(*fmt)) {
		spec->field_width = skip_atoi(&fmt, FIELD_WIDTH_MAX);
	} else if (*fmt == '*') {
		fmt++;
		spec->field_width = clamp(va_arg(*args, int), -FIELD_WIDTH_MAX, FIELD_WIDTH_MAX);
		if (spec->field_width < 0) {
			spec->field_width = -spec->field_width;
			spec->flags |= LEFT;
		}
	}
	spec->precision = -1;
	if (*fmt == '.') {
		fmt++;
		if (isdigit(*fmt)) {
			spec->precision = skip_atoi(&fmt, PRECISION_MAX);
		} else if (*fmt == '*') {
			fmt++;
			spec->precision = clamp(va_arg(*args, int), 0, PRECISION_MAX);
		}
	}
	spec->size = sizeof(int);
	if ((fmt[0] == 'h' && fmt[1] == 'h') || (fmt[0] == 'l' && fmt[1] == 'l')) {
		spec->size = fmt[0] == 'h' ? sizeof(char) : sizeof(long long);
		fmt += 2;
	} else if (*fmt == 'h') {
		spec->size = sizeof(short);
		fmt++;
	} else if (*fmt == 'l' || *fmt == 'L' || *fmt == 'z' || *fmt == 't') {
		spec->size = *fmt == 'L' ? sizeof(long long) : sizeof(long);	/* size_t, ptrdiff_t: long */
		fmt++;
	}
	spec->base = 10;
	switch (*fmt) {
	case 'd': case 'i': spec->flags |= SIGN; break;
	case 'o': spec->base = 8; break;
	case 'x': spec->flags |= SMALL; spec->base = 16; break;
	case 'X': spec->base = 16; break;
	case 'u': case 'c': case 's': case 'p': case '%': break;
	default: return 0;	/* also the NUL of a format ending in '%' */
	}
	return fmt;
}

/* An integer argument of spec.size bytes, sign- or zero-extended to 64 bits. */
static unsigned long long fetch_number(va_list *args, struct printf_spec spec)
{
	unsigned int v;
	int sign = spec.flags & SIGN;

	if (spec.size == sizeof(long long))
		return va_arg(*args, unsigned long long);
	/* Narrower arguments arrive promoted to int. */
	v = va_arg(*args, unsigned int);
	if (spec.size == sizeof(char))
		return sign ? (unsigned long long)(signed char)v : (unsigned char)v;
	if (spec.size == sizeof(short))
		return sign ? (unsigned long long)(short)v : (unsigned short)v;
	return sign ? (unsigned long long)(int)v : v;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	struct sink out = { buf, size, 0 };
	struct printf_spec spec;
	const char *conv;
	va_list ap;

	if (size > INT_MAX)
		return 0;
	/* A local copy: a va_list parameter is really a pointer, so &args would not be a va_list *. */
	va_copy(ap, args);
	while (*fmt) {
		if (*fmt != '%') {
			emit(&out, *fmt++);
			continue;
		}
		conv = format_decode(fmt + 1, &spec, &ap);
		if (!conv)
			break;
		fmt = conv + 1;
		switch (*conv) {
		case '%':
			emit(&out, '%');
			break;
		case 'c':
			character(&out, (char)va_arg(ap, int), spec);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			const char *msg = check_pointer_msg(s);

			string(&out, msg ? msg : s, (size_t)-1, spec);
			break;
		}
		case 'p':
			fmt = pointer(&out, fmt, va_arg(ap, void *), spec);
			break;
		default:
			number(&out, fetch_number(&ap, spec), spec);
		}
	}
	va_end(ap);
	if (size)
		buf[out.len < size ? out.len : size - 1] = '\0';
	return out.len > INT_MAX ? INT_MAX : (int)out.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(buf, size, fmt, args);
	va_end(args);
	return n;
}

int vscnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	int n;

	if (!size)
		return 0;
	n = vsnprintf(buf, size, fmt, args);
	return (size_t)n < size ? n : (int)(size - 1);
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vscnprintf(buf, size, fmt, args);
	va_end(args);
	return n;
}
