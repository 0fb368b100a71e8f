/* test_kt_bpf.c: unit tests for kt_bpf.c that touch no cgroup: bad values refused before the
 * kernel is asked anything, and disable of a removed cgroup where nothing was ever pinned. The
 * attachments themselves are tested end to end, on cgroups of the test's own, in
 * tests/cgroup.sh. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* A value out of range: -ERANGE before the cgroup (here no open one) is looked at; the out
 * parameters are untouched, but for the failure's details, cleared. */
static void
test_range(void **state)
{
	struct kt_cgroup cg = { -1, 1, "" };
	struct kt_values v = { KT_BIT(KT_PROBES), { 0, 0, KT_PROBES_MAX + 1 } };
	struct kt_bpf_result res, keep;
	struct kt_bpf_fail fail;

	(void)state;
	memset(&keep, 0x55, sizeof(keep));
	res = keep;
	assert_int_equal(kt_bpf_enable(KT_BPF_DIR, &cg, &v, 0, &res, &fail), -ERANGE);
	assert_int_equal(kt_bpf_enable(KT_BPF_DIR, &cg, &v, KT_BPF_DRY_RUN, &res, &fail), -ERANGE);
	assert_memory_equal(&res, &keep, sizeof(res));
	assert_string_equal(fail.reason, "");
	assert_string_equal(fail.other, "");
}

/* A cgroup that is gone, and no bpffs where the pins would be: nothing of ka-tune's was ever
 * there, so there is nothing to do. */
static void
test_disable_nothing(void **state)
{
	const struct tmptree *t = *state;
	struct kt_bpf_result res;
	char dir[PATH_MAX];

	tmptree_path(t->root, "ka-tune", dir, sizeof(dir));
	memset(&res, 0x55, sizeof(res));
	assert_int_equal(kt_bpf_disable(dir, "system.slice/gone.service", NULL, 0, &res), 0);
	assert_int_equal(res.change, KT_BPF_UNCHANGED);
	assert_int_equal(res.pruned, 0);
	assert_int_equal(res.before.mask, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
		cmocka_unit_test_setup_teardown(test_disable_nothing,
		    tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
