/* test_kt_value.c: unit tests for kt_value.c (parsing, validating and formatting values). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

/* Out-params are pre-filled with these, to see that a failure leaves them alone. */
#define INT_SENTINEL	(-7777)
#define LL_SENTINEL	(-777777777777LL)

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct good {
	const char *s;
	int want;
};

struct bad {
	const char *s;
	int err;
};

static void
check_good(int (*parse)(const char *, int *), const struct good *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = INT_SENTINEL;

		int r = parse(g[i].s, &v);

		if (r != 0 || v != g[i].want)
			fail_msg("\"%s\": returned %d and %d, want 0 and %d", g[i].s, r, v,
			    g[i].want);
	}
}

static void
check_bad(int (*parse)(const char *, int *), const struct bad *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = INT_SENTINEL;

		int r = parse(b[i].s, &v);

		if (r != b[i].err || v != INT_SENTINEL)
			fail_msg("\"%s\": returned %d and %d, want %d and %d untouched", b[i].s,
			    r, v, b[i].err, INT_SENTINEL);
	}
}

static void
test_duration_good(void **state)
{
	static const struct good g[] = {
		{ "90", 90 },
		{ "0", 0 },
		{ "1", 1 },
		{ "10m", 600 },
		{ "1m30s", 90 },
		{ "2h", 7200 },
		{ "1d", 86400 },
		{ "1d2h3m4s", 86400 + 2 * 3600 + 3 * 60 + 4 },
		{ "45s", 45 },
		{ "0s", 0 },
		{ "0m30s", 30 },
		{ "1d4s", 86404 },
		{ "2h11m15s", 7875 },
		{ "100m", 6000 },
		{ "90s", 90 },
		{ "2147483647", INT_MAX },
		{ "2147483647s", INT_MAX },
		{ "24855d3h14m7s", INT_MAX },
		{ "24855d", 24855 * 86400 },
		{ "596523h", 596523 * 3600 },
		{ "35791394m", 35791394 * 60 },
	};

	(void)state;
	check_good(kt_parse_duration, g, NELEM(g));
}

static void
test_duration_bad(void **state)
{
	static const struct bad b[] = {
		{ "", -EINVAL },
		{ " 1", -EINVAL },
		{ "1 ", -EINVAL },
		{ "1\n", -EINVAL },
		{ "+1", -EINVAL },
		{ "-1", -EINVAL },
		{ "0x10", -EINVAL },
		{ "010", -EINVAL },
		{ "00", -EINVAL },
		{ "01m", -EINVAL },
		{ "1m05s", -EINVAL },
		{ "1.5", -EINVAL },
		{ "1.5m", -EINVAL },
		{ "1m30", -EINVAL },
		{ "1s1m", -EINVAL },
		{ "1m1h", -EINVAL },
		{ "1h1h", -EINVAL },
		{ "1s1s", -EINVAL },
		{ "1h2d", -EINVAL },
		{ "1x", -EINVAL },
		{ "m", -EINVAL },
		{ "s", -EINVAL },
		{ "1ms", -EINVAL },
		{ "1M", -EINVAL },
		{ "1H", -EINVAL },
		{ "1 m", -EINVAL },
		{ "1m 30s", -EINVAL },
		{ "1w", -EINVAL },
		{ "1d-1h", -EINVAL },
		{ "1e3", -EINVAL },
		{ "2147483648", -ERANGE },
		{ "2147483648s", -ERANGE },
		{ "24856d", -ERANGE },
		{ "24855d3h14m8s", -ERANGE },
		{ "596524h", -ERANGE },
		{ "99999999999999999999", -ERANGE },
		{ "99999999999999999999d", -ERANGE },
		/* Syntax is judged before range. */
		{ "1x99999999999", -EINVAL },
		{ "99999999999x", -EINVAL },
		{ "99999999999d1", -EINVAL },
		{ "24856d1d", -EINVAL },
	};

	(void)state;
	check_bad(kt_parse_duration, b, NELEM(b));
}

static void
test_count_good(void **state)
{
	static const struct good g[] = {
		{ "9", 9 },
		{ "0", 0 },
		{ "1", 1 },
		{ "127", 127 },
		{ "128", 128 },
		{ "2147483647", INT_MAX },
	};

	(void)state;
	check_good(kt_parse_count, g, NELEM(g));
}

static void
test_count_bad(void **state)
{
	static const struct bad b[] = {
		{ "", -EINVAL },
		{ "+9", -EINVAL },
		{ "-9", -EINVAL },
		{ " 9", -EINVAL },
		{ "9 ", -EINVAL },
		{ "9\n", -EINVAL },
		{ "09", -EINVAL },
		{ "00", -EINVAL },
		{ "0x9", -EINVAL },
		{ "9s", -EINVAL },
		{ "1m", -EINVAL },
		{ "9.0", -EINVAL },
		{ "nine", -EINVAL },
		{ "2147483648", -ERANGE },
		{ "99999999999999999999", -ERANGE },
	};

	(void)state;
	check_bad(kt_parse_count, b, NELEM(b));
}

/* kt_parse_uint() holds every integer option to the rules of a count, within its bounds. */
static void
test_uint(void **state)
{
	static const struct {
		const char *s;
		unsigned long long min, max;
		int err;
		unsigned long long want;
	} cases[] = {
		{ "80", 1, 65535, 0, 80 },
		{ "65535", 1, 65535, 0, 65535 },
		{ "0", 0, 5, 0, 0 },
		{ "18446744073709551615", 0, ULLONG_MAX, 0, ULLONG_MAX },
		{ "0", 1, 65535, -ERANGE, 0 },
		{ "65536", 1, 65535, -ERANGE, 0 },
		{ "18446744073709551616", 0, ULLONG_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 1, 65535, -ERANGE, 0 },
		{ " 80", 1, 65535, -EINVAL, 0 },
		{ "80 ", 1, 65535, -EINVAL, 0 },
		{ "080", 1, 65535, -EINVAL, 0 },
		{ "+80", 1, 65535, -EINVAL, 0 },
		{ "-1", 1, 65535, -EINVAL, 0 },
		{ "0x50", 1, 65535, -EINVAL, 0 },
		{ "", 1, 65535, -EINVAL, 0 },
		{ "8\n", 1, 65535, -EINVAL, 0 },
		{ "1e3", 1, 65535, -EINVAL, 0 },
		{ "\t5", 1, 65535, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned long long v = 0x5a5a5a5a;
		int r = kt_parse_uint(cases[i].s, cases[i].min, cases[i].max, &v);

		if (r != cases[i].err || v != (r == 0 ? cases[i].want : 0x5a5a5a5a))
			fail_msg("\"%s\" in %llu..%llu: returned %d and %llu", cases[i].s,
			    cases[i].min, cases[i].max, r, v);
	}
}

static void
check_value(enum kt_key key, const char *s, int err, int want)
{
	int v = INT_SENTINEL;

	int r = kt_parse_value(key, s, &v);

	if (r != err || v != (err == 0 ? want : INT_SENTINEL))
		fail_msg("key %d, \"%s\": returned %d and %d, want %d and %d", key, s, r, v,
		    err, err == 0 ? want : INT_SENTINEL);
}

static void
test_value_time_intvl(void **state)
{
	static const enum kt_key keys[] = { KT_TIME, KT_INTVL };

	(void)state;
	for (size_t i = 0; i < NELEM(keys); i++) {
		enum kt_key k = keys[i];

		check_value(k, "1", 0, 1);
		check_value(k, "1s", 0, 1);
		check_value(k, "32767", 0, 32767);
		check_value(k, "9h6m7s", 0, 32767);
		check_value(k, "10m", 0, 600);
		check_value(k, "2h", 0, 7200);
		check_value(k, "0", -ERANGE, 0);
		check_value(k, "0s", -ERANGE, 0);
		check_value(k, "32768", -ERANGE, 0);
		check_value(k, "9h6m8s", -ERANGE, 0);
		check_value(k, "1d", -ERANGE, 0);
		check_value(k, "2147483648", -ERANGE, 0);
		check_value(k, "", -EINVAL, 0);
		check_value(k, "-1", -EINVAL, 0);
		check_value(k, "1m30", -EINVAL, 0);
		check_value(k, "010", -EINVAL, 0);
	}
}

static void
test_value_probes(void **state)
{
	(void)state;
	check_value(KT_PROBES, "1", 0, 1);
	check_value(KT_PROBES, "9", 0, 9);
	check_value(KT_PROBES, "127", 0, 127);
	check_value(KT_PROBES, "0", -ERANGE, 0);
	check_value(KT_PROBES, "128", -ERANGE, 0);
	check_value(KT_PROBES, "2147483648", -ERANGE, 0);
	/* Probes are a count: units are not taken. */
	check_value(KT_PROBES, "9s", -EINVAL, 0);
	check_value(KT_PROBES, "1m", -EINVAL, 0);
	check_value(KT_PROBES, "09", -EINVAL, 0);
	check_value(KT_PROBES, "+9", -EINVAL, 0);
	check_value(KT_PROBES, "", -EINVAL, 0);
}

static void
test_kernel_int_good(void **state)
{
	static const struct good g[] = {
		{ "7200\n", 7200 },
		{ "7200", 7200 },
		{ "-5\n", -5 },
		{ "-5", -5 },
		{ "0", 0 },
		{ "0\n", 0 },
		{ "9\n", 9 },
		{ "2147483647", INT_MAX },
		{ "2147483647\n", INT_MAX },
		{ "-2147483648\n", INT_MIN },
		{ "-2147483648", INT_MIN },
	};

	(void)state;
	check_good(kt_parse_kernel_int, g, NELEM(g));
}

static void
test_kernel_int_bad(void **state)
{
	static const struct bad b[] = {
		{ "", -EINVAL },
		{ "\n", -EINVAL },
		{ "-", -EINVAL },
		{ "-\n", -EINVAL },
		{ "--5", -EINVAL },
		{ "+5", -EINVAL },
		{ "12\n\n", -EINVAL },
		{ "\n12", -EINVAL },
		{ "1\n2", -EINVAL },
		{ " 12", -EINVAL },
		{ "12 ", -EINVAL },
		{ "12 \n", -EINVAL },
		{ "12\r\n", -EINVAL },
		{ "12a", -EINVAL },
		{ "0x10", -EINVAL },
		{ "5-", -EINVAL },
		{ "1.0", -EINVAL },
		{ "2147483648", -ERANGE },
		{ "2147483648\n", -ERANGE },
		{ "-2147483649\n", -ERANGE },
		{ "-21474836480", -ERANGE },
		{ "-21474836480\n", -ERANGE },
		{ "123456789012", -ERANGE },
		{ "1234567890123\n", -ERANGE },
		{ "99999999999999999999\n", -ERANGE },
	};

	(void)state;
	check_bad(kt_parse_kernel_int, b, NELEM(b));
}

static void
test_value_valid(void **state)
{
	(void)state;
	assert_int_equal(kt_value_valid(KT_TIME, 1), 1);
	assert_int_equal(kt_value_valid(KT_TIME, 7200), 1);
	assert_int_equal(kt_value_valid(KT_TIME, 32767), 1);
	assert_int_equal(kt_value_valid(KT_TIME, 0), 0);
	assert_int_equal(kt_value_valid(KT_TIME, -1), 0);
	assert_int_equal(kt_value_valid(KT_TIME, 32768), 0);
	assert_int_equal(kt_value_valid(KT_TIME, INT_MIN), 0);
	assert_int_equal(kt_value_valid(KT_TIME, INT_MAX), 0);
	assert_int_equal(kt_value_valid(KT_INTVL, 1), 1);
	assert_int_equal(kt_value_valid(KT_INTVL, 75), 1);
	assert_int_equal(kt_value_valid(KT_INTVL, 32767), 1);
	assert_int_equal(kt_value_valid(KT_INTVL, 0), 0);
	assert_int_equal(kt_value_valid(KT_INTVL, 32768), 0);
	assert_int_equal(kt_value_valid(KT_PROBES, 1), 1);
	assert_int_equal(kt_value_valid(KT_PROBES, 9), 1);
	assert_int_equal(kt_value_valid(KT_PROBES, 127), 1);
	assert_int_equal(kt_value_valid(KT_PROBES, 0), 0);
	assert_int_equal(kt_value_valid(KT_PROBES, 128), 0);
	assert_int_equal(kt_value_valid(KT_PROBES, -5), 0);
}

static void
test_values_valid_mask(void **state)
{
	struct kt_values v = { KT_ALL, { 7200, 75, 9 } };

	(void)state;
	assert_int_equal(kt_values_valid(&v), 1);

	v.val[KT_PROBES] = 128;
	assert_int_equal(kt_values_valid(&v), 0);
	v.mask = KT_BIT(KT_TIME) | KT_BIT(KT_INTVL);
	assert_int_equal(kt_values_valid(&v), 1);

	v.val[KT_TIME] = 0;
	assert_int_equal(kt_values_valid(&v), 0);
	v.mask = KT_BIT(KT_INTVL);
	assert_int_equal(kt_values_valid(&v), 1);

	v.val[KT_INTVL] = -5;
	assert_int_equal(kt_values_valid(&v), 0);
	v.mask = 0;
	assert_int_equal(kt_values_valid(&v), 1);

	v = (struct kt_values){ KT_BIT(KT_PROBES), { -1, 32768, 127 } };
	assert_int_equal(kt_values_valid(&v), 1);
	v.mask = KT_ALL;
	assert_int_equal(kt_values_valid(&v), 0);
}

static void
test_detection_time(void **state)
{
	struct kt_values v = { KT_ALL, { 7200, 75, 9 } };
	long long secs = LL_SENTINEL;

	(void)state;
	assert_int_equal(kt_detection_time(&v, &secs), 0);
	assert_int_equal(secs, 7875);

	v = (struct kt_values){ KT_ALL, { 1, 1, 1 } };
	assert_int_equal(kt_detection_time(&v, &secs), 0);
	assert_int_equal(secs, 2);

	v = (struct kt_values){ KT_ALL, { 32767, 32767, 127 } };
	assert_int_equal(kt_detection_time(&v, &secs), 0);
	assert_int_equal(secs, 32767LL + 32767LL * 127);
}

static void
test_detection_time_refused(void **state)
{
	static const struct kt_values bad[] = {
		{ KT_ALL, { 0, 75, 9 } },
		{ KT_ALL, { 7200, 0, 9 } },
		{ KT_ALL, { 7200, 75, 0 } },
		{ KT_ALL, { -5, 75, 9 } },
		{ KT_ALL, { 32768, 75, 9 } },
		{ KT_ALL, { 7200, 32768, 9 } },
		{ KT_ALL, { 7200, 75, 128 } },
		{ KT_ALL, { INT_MAX, INT_MAX, INT_MAX } },
		{ KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), { 7200, 75, 9 } },
		{ KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 7200, 75, 9 } },
		{ KT_BIT(KT_INTVL) | KT_BIT(KT_PROBES), { 7200, 75, 9 } },
		{ 0, { 7200, 75, 9 } },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		long long secs = LL_SENTINEL;

		int r = kt_detection_time(&bad[i], &secs);

		if (r != -ERANGE || secs != LL_SENTINEL)
			fail_msg("case %zu: returned %d and %lld, want %d and untouched", i, r,
			    secs, -ERANGE);
	}
}

/* Format secs into a buffer of exactly the room needed, then see one byte less fail. */
static void
check_format(long long secs, const char *want)
{
	char buf[KT_DURATION_LEN + 8], before[sizeof(buf)];
	size_t need = strlen(want) + 1;

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(kt_format_duration(secs, buf, KT_DURATION_LEN), 0);
	assert_string_equal(buf, want);

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(kt_format_duration(secs, buf, need), 0);
	assert_string_equal(buf, want);
	assert_int_equal(buf[need], 'Z');

	memset(buf, 'Z', sizeof(buf));
	memcpy(before, buf, sizeof(buf));
	assert_int_equal(kt_format_duration(secs, buf, need - 1), -ENOBUFS);
	assert_memory_equal(buf, before, sizeof(buf));
	assert_int_equal(kt_format_duration(secs, buf, 0), -ENOBUFS);
	assert_memory_equal(buf, before, sizeof(buf));
}

static void
test_format_duration(void **state)
{
	(void)state;
	check_format(7875, "2h11m15s");
	check_format(7200, "2h");
	check_format(75, "1m15s");
	check_format(0, "0s");
	check_format(1, "1s");
	check_format(59, "59s");
	check_format(60, "1m");
	check_format(3600, "1h");
	check_format(3601, "1h1s");
	check_format(86400, "1d");
	check_format(86399, "23h59m59s");
	check_format(86401, "1d1s");
	check_format(93784, "1d2h3m4s");
	check_format(-5, "-5s");
	check_format(-60, "-1m");
	check_format(-7875, "-2h11m15s");
	check_format(INT_MAX, "24855d3h14m7s");
	check_format(LLONG_MAX, "106751991167300d15h30m7s");
	check_format(LLONG_MIN, "-106751991167300d15h30m8s");
}

/* Even the longest text fits KT_DURATION_LEN. */
static void
test_format_duration_longest(void **state)
{
	char buf[KT_DURATION_LEN];

	(void)state;
	assert_int_equal(kt_format_duration(LLONG_MIN, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(kt_format_duration(LLONG_MAX, buf, sizeof(buf)), 0);
	assert_int_equal(kt_format_duration(-86399, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-23h59m59s");
}

/* Every duration formatted parses back to the same number of seconds. */
static void
test_format_parse_round_trip(void **state)
{
	(void)state;
	for (int secs = 0; secs <= 100000; secs += 7) {
		char buf[KT_DURATION_LEN];
		int back = INT_SENTINEL;

		assert_int_equal(kt_format_duration(secs, buf, sizeof(buf)), 0);
		if (kt_parse_duration(buf, &back) != 0 || back != secs)
			fail_msg("%d formats as \"%s\", which parses back as %d", secs, buf,
			    back);
	}
	for (int secs = 1; secs <= KT_TIME_MAX; secs++) {
		char buf[KT_DURATION_LEN];
		int back = INT_SENTINEL;

		assert_int_equal(kt_format_duration(secs, buf, sizeof(buf)), 0);
		if (kt_parse_value(KT_TIME, buf, &back) != 0 || back != secs)
			fail_msg("time %d formats as \"%s\", which parses back as %d", secs,
			    buf, back);
	}
	{
		char buf[KT_DURATION_LEN];
		int back = INT_SENTINEL;

		assert_int_equal(kt_format_duration(INT_MAX, buf, sizeof(buf)), 0);
		assert_int_equal(kt_parse_duration(buf, &back), 0);
		assert_int_equal(back, INT_MAX);
	}
}

/* Check what the kernel makes of a value written to key k, with the given HZ. */
static void
check_kernel(enum kt_key k, const char *s, long hz, int err, int want)
{
	int v = INT_SENTINEL;

	int r = kt_kernel_parse(k, s, hz, &v);

	if (r != err || v != (err == 0 ? want : INT_SENTINEL))
		fail_msg("key %d, \"%s\", hz %ld: returned %d and %d, want %d and %d", k, s, hz, r,
		    v, err, err == 0 ? want : INT_SENTINEL);
}

/*
 * Values as the kernel's sysctl handlers take them: base 0 (0x hex, a leading 0 octal), blanks
 * around, a minus for the time and interval only, at most INT_MAX / HZ seconds, probes 0..255.
 */
static void
test_kernel_parse(void **state)
{
	static const enum kt_key durations[] = { KT_TIME, KT_INTVL };
	static const struct good g[] = {
		{ "600", 600 },
		{ "0x10", 16 },
		{ "0X1f", 31 },
		{ "010", 8 },
		{ "-5", -5 },
		{ "0", 0 },
		{ "-0", 0 },
		{ " 7", 7 },
		{ "\t7", 7 },
		{ "7 ", 7 },
		{ "7\n", 7 },
		{ "2147483", 2147483 },
		{ "-2147483", -2147483 },
	};
	static const char *const bad[] = {
		"08", "1.5", "abc", "", " ", "-", "+5", "5s", "0x", "0xg", "--5", "5-", "1e3",
		"2147484", "-2147484", "99999999999", "99999999999999999999",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(durations); i++) {
		enum kt_key k = durations[i];

		for (size_t j = 0; j < NELEM(g); j++)
			check_kernel(k, g[j].s, 1000, 0, g[j].want);
		for (size_t j = 0; j < NELEM(bad); j++)
			check_kernel(k, bad[j], 1000, -EINVAL, 0);
		/* The bound is INT_MAX / HZ: a slower tick takes longer durations. */
		check_kernel(k, "2147484", 250, 0, 2147484);
		check_kernel(k, "8589934", 250, 0, 8589934);
		check_kernel(k, "8589935", 250, -EINVAL, 0);
		check_kernel(k, "2147483647", 1, 0, INT_MAX);
		check_kernel(k, "2147483648", 1, -EINVAL, 0);
		check_kernel(k, "99999999999999999999", 1, -EINVAL, 0);
	}

	check_kernel(KT_PROBES, "255", 1000, 0, 255);
	check_kernel(KT_PROBES, "0", 1000, 0, 0);
	check_kernel(KT_PROBES, "9", 1000, 0, 9);
	check_kernel(KT_PROBES, "0xff", 1000, 0, 255);
	check_kernel(KT_PROBES, "0377", 1000, 0, 255);
	check_kernel(KT_PROBES, " 4\n", 1000, 0, 4);
	check_kernel(KT_PROBES, "256", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "0x100", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "-1", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "-0", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "08", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "abc", 1000, -EINVAL, 0);
	check_kernel(KT_PROBES, "99999999999999999999", 1000, -EINVAL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_count_good),
		cmocka_unit_test(test_count_bad),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_value_time_intvl),
		cmocka_unit_test(test_value_probes),
		cmocka_unit_test(test_kernel_int_good),
		cmocka_unit_test(test_kernel_int_bad),
		cmocka_unit_test(test_value_valid),
		cmocka_unit_test(test_values_valid_mask),
		cmocka_unit_test(test_detection_time),
		cmocka_unit_test(test_detection_time_refused),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_duration_longest),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_kernel_parse),
	};

	return cmocka_run_group_tests_name("kt_value", tests, NULL, NULL);
}
