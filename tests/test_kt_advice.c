/* test_kt_advice.c: unit tests for kt_advice.c (idle-timeout profiles, checks and suggestions). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define LL_SENTINEL	(-777777777777LL)
#define CONNTRACK	"net/netfilter/nf_conntrack_tcp_timeout_established"

/* A profile no function hands out, to see that a failure leaves an out-param alone. */
static const struct kt_profile sentinel = { "sentinel", "not a profile", -1 };

static const struct {
	const char *name;
	long long idle;		/* 0: read live */
} builtin[] = {
	{ "aws-nat", 350 },
	{ "azure-lb", 240 },
	{ "gcp-nat", 1200 },
	{ "aliyun-nat", 900 },
	{ "conntrack", 0 },
};

/* Each test's tree is laid out like /proc/sys, with the directory of conntrack's timeout. */
static int
setup(void **state)
{
	struct tmptree *t = tmptree_new("test_kt_advice");

	if (!t)
		return -1;
	*state = t;
	tmptree_mkdirs(t->root, "net/netfilter");
	return 0;
}

static void
test_profile_find(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(builtin); i++) {
		const struct kt_profile *p = &sentinel;

		assert_int_equal(kt_profile_find(builtin[i].name, &p), 0);
		assert_ptr_equal(p, kt_profile_at(i));
		assert_string_equal(p->name, builtin[i].name);
		assert_int_equal(p->idle_timeout, builtin[i].idle);
		assert_non_null(p->what);
		assert_true(p->what[0] != '\0');
	}
}

static void
test_profile_find_unknown(void **state)
{
	static const char *const bad[] = {
		"", "nosuch", "aws", "AWS-NAT", "aws-nat ", " aws-nat", "aws_nat", "aws-nat\n",
		"conntrack2", "gcp",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		const struct kt_profile *p = &sentinel;

		assert_int_equal(kt_profile_find(bad[i], &p), -ENOENT);
		assert_ptr_equal(p, &sentinel);
	}
}

/* Listing goes through every profile once, in a fixed order, and stops with NULL. */
static void
test_profile_at(void **state)
{
	size_t n = 0;

	(void)state;
	for (const struct kt_profile *p; (p = kt_profile_at(n)); n++) {
		const struct kt_profile *found = &sentinel;

		assert_true(n < NELEM(builtin));
		assert_string_equal(p->name, builtin[n].name);
		assert_int_equal(kt_profile_find(p->name, &found), 0);
		assert_ptr_equal(found, p);
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(kt_profile_at(j)->name, p->name);
	}
	assert_int_equal(n, NELEM(builtin));
	assert_null(kt_profile_at(NELEM(builtin)));
	assert_null(kt_profile_at(1000));
	assert_null(kt_profile_at(SIZE_MAX));
}

/* A fixed profile's timeout is its own: the root is not looked at. */
static void
test_profile_timeout_fixed(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(builtin); i++) {
		const struct kt_profile *p;
		long long secs = LL_SENTINEL;

		if (builtin[i].idle == 0)
			continue;
		assert_int_equal(kt_profile_find(builtin[i].name, &p), 0);
		assert_int_equal(kt_profile_timeout(p, "/nonexistent-ka-tune-test", &secs), 0);
		assert_int_equal(secs, builtin[i].idle);
	}
}

/* conntrack's timeout is read from the root; not loaded, or below 1 s, is an error. */
static void
test_profile_timeout_conntrack(void **state)
{
	static const struct {
		const char *text;
		int err;
		long long want;
	} cases[] = {
		{ "300\n", 0, 300 },
		{ "432000\n", 0, 432000 },
		{ "1\n", 0, 1 },
		{ "2147483647\n", 0, INT_MAX },
		{ "0\n", -ERANGE, 0 },
		{ "-5\n", -ERANGE, 0 },
		{ "abc\n", -EBADMSG, 0 },
		{ "", -EBADMSG, 0 },
	};
	const struct tmptree *t = *state;
	const struct kt_profile *p;
	long long secs = LL_SENTINEL;

	assert_int_equal(kt_profile_find("conntrack", &p), 0);
	assert_int_equal(kt_profile_timeout(p, t->root, &secs), -ENOENT);
	assert_int_equal(secs, LL_SENTINEL);

	for (size_t i = 0; i < NELEM(cases); i++) {
		int r;

		tmptree_put(t->root, CONNTRACK, cases[i].text);
		secs = LL_SENTINEL;
		r = kt_profile_timeout(p, t->root, &secs);
		if (r != cases[i].err || secs != (r == 0 ? cases[i].want : LL_SENTINEL))
			fail_msg("\"%s\": returned %d and %lld, want %d and %lld", cases[i].text, r,
			    secs, cases[i].err, cases[i].err ? LL_SENTINEL : cases[i].want);
	}
}

/* A root too long for a path is refused before anything is opened. */
static void
test_profile_timeout_long_root(void **state)
{
	char *root = malloc(PATH_MAX + 1);
	const struct kt_profile *p;
	long long secs = LL_SENTINEL;

	(void)state;
	assert_non_null(root);
	memset(root, 'x', PATH_MAX);
	root[0] = '/';
	root[PATH_MAX] = '\0';
	assert_int_equal(kt_profile_find("conntrack", &p), 0);
	assert_int_equal(kt_profile_timeout(p, root, &secs), -ENAMETOOLONG);
	assert_int_equal(secs, LL_SENTINEL);
	free(root);
}

/* A tenth of the timeout, rounded up, and never less than 5 s. */
static void
test_idle_margin(void **state)
{
	static const struct {
		long long idle, margin;
	} cases[] = {
		{ 350, 35 }, { 351, 36 }, { 359, 36 }, { 360, 36 }, { 10, 5 }, { 49, 5 },
		{ 50, 5 }, { 51, 6 }, { 60, 6 }, { 61, 7 }, { 7, 5 }, { 1, 5 }, { 240, 24 },
		{ 1200, 120 }, { 432000, 43200 }, { 432001, 43201 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		if (kt_idle_margin(cases[i].idle) != cases[i].margin)
			fail_msg("idle %lld: margin %lld, want %lld", cases[i].idle,
			    kt_idle_margin(cases[i].idle), cases[i].margin);
}

static int
behind(int time, int intvl, int probes, long long idle)
{
	const struct kt_values v = { KT_ALL, { time, intvl, probes } };

	return kt_behind_check(&v, idle);
}

/* Safe exactly while time + intvl <= idle - margin. */
static void
test_behind_check(void **state)
{
	(void)state;
	/* 350: margin 35, 315 s to spend. */
	assert_int_equal(behind(300, 15, 9, 350), 0);
	assert_int_equal(behind(240, 75, 9, 350), 0);
	assert_int_equal(behind(300, 16, 9, 350), -ETIMEDOUT);
	assert_int_equal(behind(301, 15, 9, 350), -ETIMEDOUT);
	assert_int_equal(behind(1, 1, 1, 350), 0);
	/* Probes do not count. */
	assert_int_equal(behind(300, 15, 127, 350), 0);
	/* 10: margin 5, 5 s to spend. */
	assert_int_equal(behind(4, 1, 9, 10), 0);
	assert_int_equal(behind(4, 2, 9, 10), -ETIMEDOUT);
	/* The kernel's defaults need 7275 s: an 8084 s timeout (margin 809) leaves that. */
	assert_int_equal(behind(7200, 75, 9, 8084), 0);
	assert_int_equal(behind(7200, 75, 9, 8083), -ETIMEDOUT);
	assert_int_equal(behind(7200, 75, 9, 350), -ETIMEDOUT);
	/* The largest values still add up. */
	assert_int_equal(behind(32767, 32767, 127, 72816), 0);
	assert_int_equal(behind(32767, 32767, 127, 72815), -ETIMEDOUT);
	/* A timeout too short for any values. */
	assert_int_equal(behind(1, 1, 1, 6), -ETIMEDOUT);
	assert_int_equal(behind(1, 1, 1, 7), 0);
}

/* Values outside their ranges are judged before the timeout is. */
static void
test_behind_check_invalid(void **state)
{
	static const struct kt_values bad[] = {
		{ KT_ALL, { 0, 15, 9 } },
		{ KT_ALL, { 300, 0, 9 } },
		{ KT_ALL, { 300, 15, 0 } },
		{ KT_ALL, { 300, 15, 128 } },
		{ KT_ALL, { -5, 15, 9 } },
		{ KT_ALL, { 32768, 1, 1 } },
		{ KT_ALL, { 1, 32768, 1 } },
		{ KT_ALL, { INT_MAX, INT_MAX, INT_MAX } },
		{ KT_ALL, { INT_MIN, 1, 1 } },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		assert_int_equal(kt_behind_check(&bad[i], 350), -ERANGE);
		assert_int_equal(kt_behind_check(&bad[i], 1000000), -ERANGE);
	}
}

static void
expect_suggest(long long idle, long long detect, int time, int intvl, int probes)
{
	struct kt_values v = { 0, { -1, -1, -1 } };
	int r = kt_suggest(idle, detect, &v);

	if (r != 0 || v.mask != KT_ALL || v.val[KT_TIME] != time || v.val[KT_INTVL] != intvl ||
	    v.val[KT_PROBES] != probes)
		fail_msg("idle %lld, detect %lld: returned %d and %d/%d/%d (mask %#x), want "
		    "%d/%d/%d", idle, detect, r, v.val[KT_TIME], v.val[KT_INTVL],
		    v.val[KT_PROBES], v.mask, time, intvl, probes);
}

/* Without a detection bound: a quarter of the budget for intvl, the rest for time, 9 probes. */
static void
test_suggest_exact(void **state)
{
	(void)state;
	expect_suggest(350, 0, 240, 75, 9);
	expect_suggest(240, 0, 162, 54, 9);
	expect_suggest(1200, 0, 1005, 75, 9);
	expect_suggest(900, 0, 735, 75, 9);
	expect_suggest(432000, 0, 7200, 75, 9);
	/* The smallest timeout: 2 s to spend. */
	expect_suggest(7, 0, 1, 1, 9);
	/* A negative bound is no bound. */
	expect_suggest(350, -1, 240, 75, 9);
}

/* Check one suggestion against every promise kt_suggest() makes. */
static void
check_suggestion(long long idle, long long detect)
{
	struct kt_values v = { 0, { -1, -1, -1 } };
	long long margin = kt_idle_margin(idle), t, i, p;
	int r = kt_suggest(idle, detect, &v);

	if (r != 0)
		fail_msg("idle %lld, detect %lld: returned %d", idle, detect, r);
	t = v.val[KT_TIME];
	i = v.val[KT_INTVL];
	p = v.val[KT_PROBES];
	if (v.mask != KT_ALL || !kt_values_valid(&v) || t > 7200 || i > 75 || p > 9 ||
	    t + i > idle - margin || (detect > 0 && t + i * p > detect) ||
	    kt_behind_check(&v, idle) != 0)
		fail_msg("idle %lld, detect %lld: suggested %lld/%lld/%lld", idle, detect, t, i, p);
}

/* The idle timeouts and detection bounds of the grid: every small one, then sparser. */
static long long
grid_next(long long x)
{
	if (x < 400)
		return x + 1;
	if (x < 5000)
		return x + 37;
	return x + x / 7;
}

/* Every idle timeout from 7 s and every bound from 2 s (or none) has valid, safe values. */
static void
test_suggest_grid(void **state)
{
	(void)state;
	for (long long idle = 7; idle <= 100000; idle = grid_next(idle)) {
		check_suggestion(idle, 0);
		check_suggestion(idle, 100000);
		for (long long detect = 2; detect <= 100000; detect = grid_next(detect))
			check_suggestion(idle, detect);
	}
	check_suggestion(100000, 100000);
	check_suggestion(7, 2);
}

/* Below 7 s, or with a bound of 1 s, no values do; the out-param is left alone. */
static void
test_suggest_impossible(void **state)
{
	static const long long detects[] = { 0, 1, 2, 100, 100000 };

	(void)state;
	for (long long idle = 1; idle < 7; idle++) {
		for (size_t d = 0; d < NELEM(detects); d++) {
			struct kt_values v = { 0x5a, { -1, -2, -3 } };

			assert_int_equal(kt_suggest(idle, detects[d], &v), -EDOM);
			assert_int_equal(v.mask, 0x5a);
			assert_int_equal(v.val[KT_TIME], -1);
			assert_int_equal(v.val[KT_INTVL], -2);
			assert_int_equal(v.val[KT_PROBES], -3);
		}
	}
	for (long long idle = 7; idle <= 100000; idle = grid_next(idle)) {
		struct kt_values v = { 0x5a, { -1, -2, -3 } };

		assert_int_equal(kt_suggest(idle, 1, &v), -EDOM);
		assert_int_equal(v.mask, 0x5a);
		assert_int_equal(v.val[KT_TIME], -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_find),
		cmocka_unit_test(test_profile_find_unknown),
		cmocka_unit_test(test_profile_at),
		cmocka_unit_test(test_profile_timeout_fixed),
		cmocka_unit_test_setup_teardown(test_profile_timeout_conntrack,
		    setup, tmptree_teardown),
		cmocka_unit_test(test_profile_timeout_long_root),
		cmocka_unit_test(test_idle_margin),
		cmocka_unit_test(test_behind_check),
		cmocka_unit_test(test_behind_check_invalid),
		cmocka_unit_test(test_suggest_exact),
		cmocka_unit_test(test_suggest_grid),
		cmocka_unit_test(test_suggest_impossible),
	};

	return cmocka_run_group_tests_name("kt_advice", tests, NULL, NULL);
}
