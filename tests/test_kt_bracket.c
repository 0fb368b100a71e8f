/* test_kt_bracket.c: unit tests for kt_bracket.c: the accepted parameters, the idle times each
 * round tests, and the bracket the answers build. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

static void
test_params(void **state)
{
	struct kt_probe_params p = { KT_PROBE_MIN_DEFAULT, KT_PROBE_MAX_DEFAULT,
		KT_PROBE_CONNS_DEFAULT };

	(void)state;
	assert_int_equal(kt_probe_params_check(&p), 0);
	p = (struct kt_probe_params){ 2, 32766, 64 };
	assert_int_equal(kt_probe_params_check(&p), 0);
	p = (struct kt_probe_params){ 1, 60, 16 };
	assert_int_equal(kt_probe_params_check(&p), -ERANGE);
	p = (struct kt_probe_params){ 30, 32767, 16 };
	assert_int_equal(kt_probe_params_check(&p), -ERANGE);
	p = (struct kt_probe_params){ 30, 60, 1 };
	assert_int_equal(kt_probe_params_check(&p), -ERANGE);
	p = (struct kt_probe_params){ 30, 60, 65 };
	assert_int_equal(kt_probe_params_check(&p), -ERANGE);
	p = (struct kt_probe_params){ 30, 30, 16 };
	assert_int_equal(kt_probe_params_check(&p), -EINVAL);
	p = (struct kt_probe_params){ 60, 30, 16 };
	assert_int_equal(kt_probe_params_check(&p), -EINVAL);
}

/* Each idle time the same factor above the one before, ends included, increasing. */
static void
spread_is_geometric(long long min_ms, long long max_ms, unsigned int n, double lo, double hi)
{
	long long v[KT_PROBE_CONNS_MAX];
	unsigned int got;

	kt_spread(min_ms, max_ms, n, v, &got);
	assert_int_equal(got, n);
	assert_int_equal(v[0], min_ms);
	assert_int_equal(v[n - 1], max_ms);
	for (unsigned int i = 1; i < n; i++) {
		double ratio = (double)v[i] / (double)v[i - 1];

		assert_true(ratio > lo && ratio < hi);
	}
}

static void
test_spread(void **state)
{
	long long v[KT_PROBE_CONNS_MAX];
	unsigned int n;

	(void)state;
	/* The defaults: 240^(1/15) = 1.4411. */
	spread_is_geometric(30000, 7200000, 16, 1.4405, 1.4417);
	/* The tests' 5 s to 60 s: 12^(1/15) = 1.1802. */
	spread_is_geometric(5000, 60000, 16, 1.1797, 1.1807);
	/* The widest range and the most connections: 16383^(1/63) = 1.1666. */
	spread_is_geometric(2000, 32766000, 64, 1.1661, 1.1671);
	spread_is_geometric(2000, 3000, 2, 1.4999, 1.5001);
	/* A range too narrow for the count: no duplicates, still both ends. */
	kt_spread(2000, 2003, 16, v, &n);
	assert_int_equal(n, 4);
	assert_int_equal(v[0], 2000);
	assert_int_equal(v[1], 2001);
	assert_int_equal(v[3], 2003);
}

static void
test_refine(void **state)
{
	long long v[KT_PROBE_CONNS_MAX];
	unsigned int n;

	(void)state;
	kt_refine(13300, 15700, 16, v, &n);
	assert_int_equal(n, 16);
	assert_true(v[0] > 13300 && v[15] < 15700);
	for (unsigned int i = 1; i < n; i++)
		assert_true(v[i] - v[i - 1] >= KT_PROBE_STEP_MS);
	/* 200 ms holds three steps of 50. */
	kt_refine(1000, 1200, 16, v, &n);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 1050);
	assert_int_equal(v[1], 1100);
	assert_int_equal(v[2], 1150);
	kt_refine(1000, 1099, 16, v, &n);
	assert_int_equal(n, 0);
}

static void
test_bracket(void **state)
{
	struct kt_bracket b;

	(void)state;
	kt_bracket_init(&b);
	assert_int_equal(b.lo_ms, 0);
	assert_int_equal(b.hi_ms, -1);
	assert_true(kt_bracket_open(&b, 1));
	assert_int_equal(kt_bracket_kept(&b, 10000), 1);
	assert_int_equal(kt_bracket_kept(&b, 9000), 0);
	assert_int_equal(b.lo_ms, 10000);
	assert_false(kt_bracket_open(&b, 10000));
	assert_true(kt_bracket_open(&b, 1000000));
	assert_int_equal(kt_bracket_lost(&b, 20000, KT_LOSS_DROP), 1);
	assert_int_equal(kt_bracket_lost(&b, 15000, KT_LOSS_RESET), 1);
	assert_int_equal(kt_bracket_lost(&b, 16000, KT_LOSS_DROP), 0);
	assert_int_equal(b.hi_ms, 15000);
	assert_int_equal(b.loss, KT_LOSS_RESET);
	assert_true(kt_bracket_open(&b, 12000));
	assert_false(kt_bracket_open(&b, 15000));
}

/* Answers that contradict the bracket say so and leave it as it was. */
static void
test_bracket_contradiction(void **state)
{
	struct kt_bracket b, saved;

	(void)state;
	kt_bracket_init(&b);
	assert_int_equal(kt_bracket_lost(&b, 5000, KT_LOSS_DROP), 1);
	assert_int_equal(kt_bracket_kept(&b, 2000), 1);
	saved = b;
	assert_int_equal(kt_bracket_kept(&b, 5000), -EDOM);
	assert_int_equal(kt_bracket_kept(&b, 6000), -EDOM);
	assert_int_equal(kt_bracket_lost(&b, 2000, KT_LOSS_RESET), -EDOM);
	assert_int_equal(kt_bracket_lost(&b, 1000, KT_LOSS_RESET), -EDOM);
	assert_memory_equal(&b, &saved, sizeof(b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_refine),
		cmocka_unit_test(test_bracket),
		cmocka_unit_test(test_bracket_contradiction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
