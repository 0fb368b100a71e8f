/* kt_value.c: parse and validate keepalive values given by users or read from files and the
 * kernel, and format them back. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Read the run of decimal digits at *p into *ret_n and advance *p past it. A run that is empty
 * or starts with 0 and goes on (octal look-alikes such as 010) is -EINVAL. A number above
 * INT_MAX sets *too_big instead of failing, so that the rest can still be checked for syntax.
 */
static int
take_number(const char **p, long long *ret_n, int *too_big)
{
	const char *s = *p;
	long long n = 0;

	if (!is_digit(*s))
		return -EINVAL;
	if (s[0] == '0' && is_digit(s[1]))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		n = n * 10 + (*s - '0');
		if (n > INT_MAX) {
			*too_big = 1;
			n = INT_MAX;
		}
	}
	*p = s;
	*ret_n = n;
	return 0;
}

/*
 * Parse a duration such as "600", "10m", "1m30s", "2h" or "1d" into seconds: either a plain
 * number of seconds, or numbers each followed by a unit, units in the order d, h, m, s and each at
 * most once. Anything else (spaces, signs, 0x or leading zeros, fractions, junk) is refused.
 * Returns 0 and sets *ret_secs, -EINVAL for bad syntax, or -ERANGE above INT_MAX seconds.
 */
int
kt_parse_duration(const char *s, int *ret_secs)
{
	static const struct {
		char unit;
		int secs;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	const size_t nunits = sizeof(units) / sizeof(units[0]);
	const char *p = s;
	long long total = 0, n;
	size_t next = 0, u;
	int too_big = 0, r;

	assert(s);
	assert(ret_secs);

	do {
		r = take_number(&p, &n, &too_big);
		if (r < 0)
			return r;
		if (*p == '\0' && next == 0) {
			total = n;		/* a plain number of seconds */
			break;
		}
		for (u = next; u < nunits && units[u].unit != *p; u++)
			;
		if (u == nunits)
			return -EINVAL;
		total += n * units[u].secs;
		if (total > INT_MAX) {
			too_big = 1;
			total = INT_MAX;
		}
		next = u + 1;
		p++;
	} while (*p != '\0');

	if (too_big)
		return -ERANGE;
	*ret_secs = (int)total;
	return 0;
}

/*
 * Parse an unsigned decimal number as every integer option is given: digits only, no sign,
 * blank, 0x or leading zero ("0" itself is a number), between min and max. Returns 0 and sets
 * *ret, -EINVAL for bad syntax, or -ERANGE outside min..max.
 */
int
kt_parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *ret)
{
	unsigned long long n = 0;
	int too_big = 0;

	assert(s);
	assert(ret);

	if (!is_digit(*s) || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		if (n > (ULLONG_MAX - (unsigned int)(*s - '0')) / 10)
			too_big = 1;
		else
			n = n * 10 + (unsigned int)(*s - '0');
	}
	if (*s != '\0')
		return -EINVAL;
	if (too_big || n < min || n > max)
		return -ERANGE;
	*ret = n;
	return 0;
}

/*
 * Parse a plain count such as "9" by kt_parse_uint()'s rules. Returns 0 and sets *ret_count,
 * -EINVAL for bad syntax, or -ERANGE above INT_MAX.
 */
int
kt_parse_count(const char *s, int *ret_count)
{
	unsigned long long n;
	int r;

	assert(ret_count);

	r = kt_parse_uint(s, 0, INT_MAX, &n);
	if (r < 0)
		return r;
	*ret_count = (int)n;
	return 0;
}

/*
 * Parse a value for a key, as given on the command line or in a file: a duration for the time
 * and interval, a count for probes, in the key's accepted range (kt_key()->min..max).
 * Returns 0 and sets *ret_val, -EINVAL for bad syntax, or -ERANGE outside the range.
 */
int
kt_parse_value(enum kt_key key, const char *s, int *ret_val)
{
	int v, r;

	assert(key < KT_NKEYS);
	assert(ret_val);

	r = kt_key(key)->duration ? kt_parse_duration(s, &v) : kt_parse_count(s, &v);
	if (r < 0)
		return r;
	if (!kt_value_valid(key, v))
		return -ERANGE;
	*ret_val = v;
	return 0;
}

/*
 * Parse an integer as the kernel prints it in /proc/sys: an optional minus, decimal digits and
 * one optional newline. Returns 0 and sets *ret_val, or -EINVAL for anything else (-ERANGE when
 * it is longer than any int, leading zeros included, or does not fit one).
 */
int
kt_parse_kernel_int(const char *s, int *ret_val)
{
	char buf[KT_VALUE_LEN];
	const char *errstr = NULL, *digits;
	size_t len;
	long long n;

	assert(s);
	assert(ret_val);

	len = strlen(s);
	if (len > 0 && s[len - 1] == '\n')
		len--;
	digits = s[0] == '-' ? s + 1 : s;
	if (len == 0 || digits == s + len || strspn(digits, "0123456789") != len - (digits - s))
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, s, len);
	buf[len] = '\0';
	n = strtonum(buf, INT_MIN, INT_MAX, &errstr);
	if (errstr)
		return -ERANGE;
	*ret_val = (int)n;
	return 0;
}

/* Whether a value is in the accepted range of its key. */
int
kt_value_valid(enum kt_key key, int val)
{
	return val >= kt_key(key)->min && val <= kt_key(key)->max;
}

/* Whether every value a set holds is in its key's accepted range. */
int
kt_values_valid(const struct kt_values *v)
{
	assert(v);

	for (int k = 0; k < KT_NKEYS; k++)
		if ((v->mask & KT_BIT(k)) && !kt_value_valid(k, v->val[k]))
			return 0;
	return 1;
}

/*
 * Work out how long a dead peer goes unnoticed: time + intvl * probes seconds. Returns 0 and
 * sets *ret_secs, or -ERANGE when a value is missing or outside its range (the sum would mean
 * nothing then).
 */
int
kt_detection_time(const struct kt_values *v, long long *ret_secs)
{
	assert(v);
	assert(ret_secs);

	if ((v->mask & KT_ALL) != KT_ALL || !kt_values_valid(v))
		return -ERANGE;
	*ret_secs = (long long)v->val[KT_TIME] +
	    (long long)v->val[KT_INTVL] * v->val[KT_PROBES];
	return 0;
}

/*
 * Write seconds as a duration the parser accepts, largest units first: 7875 is "2h11m15s",
 * 7200 is "2h", 0 is "0s"; a negative number gets a leading minus. Returns 0, or -ENOBUFS when
 * len is short (buf is then untouched).
 */
int
kt_format_duration(long long secs, char *buf, size_t len)
{
	static const struct {
		char unit;
		long long secs;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	char out[32], digits[24];
	size_t o = 0, d;
	unsigned long long rest;

	assert(buf);

	if (secs < 0)
		out[o++] = '-';
	rest = secs < 0 ? 0ULL - (unsigned long long)secs : (unsigned long long)secs;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		unsigned long long n = rest / units[u].secs;

		rest %= units[u].secs;
		if (n == 0 && !(units[u].unit == 's' && o == (secs < 0)))
			continue;
		for (d = 0; d == 0 || n > 0; n /= 10)
			digits[d++] = '0' + n % 10;
		while (d > 0)
			out[o++] = digits[--d];
		out[o++] = units[u].unit;
	}
	if (o + 1 > len)
		return -ENOBUFS;
	memcpy(buf, out, o);
	buf[o] = '\0';
	return 0;
}

/* The value of a digit in base 16 or less, or -1. */
static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse one unsigned number at s the way the kernel's proc_get_long() does for sysctl writes:
 * base 0 (0x hex, a leading 0 octal), at most 20 characters, followed by the end or by a space,
 * tab or newline. Sets *ret_n, *ret_neg and returns 0, or -EINVAL.
 */
static int
kernel_get_long(const char *s, unsigned long long *ret_n, int *ret_neg)
{
	const char *p = s, *start;
	unsigned long long n = 0;
	unsigned int base = 10;
	int neg = 0, d;

	if (*p == '-' && p[1] != '\0') {
		neg = 1;
		p++;
	}
	if (!is_digit(*p))
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) >= 0 &&
	    digit_value(p[2]) < 16) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	for (start = p; (d = digit_value(*p)) >= 0 && (unsigned int)d < base; p++) {
		if (n > (ULLONG_MAX - d) / base)
			return -EINVAL;		/* overflow: -ERANGE inside, -EINVAL outside */
		n = n * base + d;
	}
	if (p == start)
		return -EINVAL;
	if (p - s >= 21)			/* TMPBUFLEN - 1: too long to judge */
		return -EINVAL;
	if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
		return -EINVAL;
	*ret_n = n;
	*ret_neg = neg;
	return 0;
}

/*
 * Work out what the kernel makes of a value written to a key by a sysctl loader (value as the
 * loader writes it, a newline added): the time and interval are proc_dointvec_jiffies (signed,
 * at most INT_MAX / hz seconds), probes is proc_dou8vec_minmax (0..255). Anything after the one
 * number but blanks is not judged here: loaders that write it are outside this model.
 * Returns 0 and sets *ret_val when the kernel takes it, or -EINVAL when it refuses it.
 */
int
kt_kernel_parse(enum kt_key key, const char *value, long hz, int *ret_val)
{
	unsigned long long n;
	const char *p = value;
	int neg, r;

	assert(value);
	assert(ret_val);
	assert(hz > 0);

	while (kt_c_space(*p))
		p++;
	if (*p == '\0')
		return -EINVAL;
	r = kernel_get_long(p, &n, &neg);
	if (r < 0)
		return r;
	if (key == KT_PROBES) {
		if (neg || n > 255)
			return -EINVAL;
		*ret_val = (int)n;
		return 0;
	}
	if (n > (unsigned long long)(INT_MAX / hz))
		return -EINVAL;
	*ret_val = neg ? -(int)n : (int)n;
	return 0;
}
