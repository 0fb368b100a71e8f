/* test_kt_bpf_prog.c: unit tests for kt_bpf_prog.c that need no privilege: the policy word the
 * program reads (values packed, ranges kept, values not given left out) and the list of
 * possible CPUs its per-CPU counters are summed over. The program itself meets the kernel's
 * verifier in test_kt_bpf_verifier.c and real sockets in tests/cgroup.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

/* Each value has a field of its own; unpacking gives back what was packed. */
static void
test_pack(void **state)
{
	struct kt_values v = { KT_ALL, { 600, 30, 4 } }, back;
	uint64_t w = 77;

	(void)state;
	assert_int_equal(kt_bpf_policy_pack(&v, &w), 0);
	assert_true(w == (600 | 30ull << 16 | 4ull << 32));
	kt_bpf_policy_unpack(w, &back);
	assert_memory_equal(&v, &back, sizeof(v));

	v = (struct kt_values){ KT_ALL, { KT_TIME_MAX, KT_INTVL_MAX, KT_PROBES_MAX } };
	assert_int_equal(kt_bpf_policy_pack(&v, &w), 0);
	kt_bpf_policy_unpack(w, &back);
	assert_memory_equal(&v, &back, sizeof(v));
}

/* A value not given is 0 in the word, and not given once unpacked: the sysctl applies. */
static void
test_not_given(void **state)
{
	struct kt_values v = { KT_BIT(KT_INTVL), { 999, 45, 999 } }, back;
	uint64_t w = 77;

	(void)state;
	assert_int_equal(kt_bpf_policy_pack(&v, &w), 0);
	assert_true(w == 45ull << 16);
	kt_bpf_policy_unpack(w, &back);
	assert_int_equal(back.mask, KT_BIT(KT_INTVL));
	assert_int_equal(back.val[KT_INTVL], 45);
	assert_int_equal(back.val[KT_TIME], 0);

	v.mask = 0;
	assert_int_equal(kt_bpf_policy_pack(&v, &w), 0);
	assert_true(w == 0);
	kt_bpf_policy_unpack(w, &back);
	assert_int_equal(back.mask, 0);
}

/* Out of range: refused, *ret_word untouched. */
static void
test_range(void **state)
{
	static const struct kt_values bad[] = {
		{ KT_BIT(KT_TIME), { 0, 0, 0 } },
		{ KT_BIT(KT_TIME), { KT_TIME_MAX + 1, 0, 0 } },
		{ KT_BIT(KT_INTVL), { 0, -1, 0 } },
		{ KT_BIT(KT_PROBES), { 0, 0, KT_PROBES_MAX + 1 } },
	};
	uint64_t w = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kt_bpf_policy_pack(&bad[i], &w), -ERANGE);
	assert_true(w == 77);
}

/* /sys/devices/system/cpu/possible as the kernel writes it, and what it never writes. */
static void
test_possible_cpus(void **state)
{
	static const char *const bad[] = {
		"", "\n", "x", "1-0\n", "0-\n", "0,\n", "0-1 \n", "0-1\n\n", "0-70000\n", "-1\n",
	};
	unsigned int n = 77;

	(void)state;
	assert_int_equal(kt_bpf_possible_cpus("0\n", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(kt_bpf_possible_cpus("0-1\n", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(kt_bpf_possible_cpus("0-3,8-11\n", &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(kt_bpf_possible_cpus("0,2,4-5", &n), 0);
	assert_int_equal(n, 4);
	n = 77;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kt_bpf_possible_cpus(bad[i], &n), -EBADMSG);
	assert_int_equal(n, 77);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_not_given),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_possible_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
