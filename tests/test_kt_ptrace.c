/* test_kt_ptrace.c: unit tests for kt_ptrace.c on temp trees laid out like /proc: why the
 * kernel's ptrace access check refuses a process, from what /proc shows of it and the caller. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

/* Write rel/status with the ids and capability sets given (as /proc/PID/status lays them). */
static void
put_status(const struct tmptree *t, const char *rel, unsigned int uid, unsigned int euid,
    unsigned long long prm, unsigned long long eff)
{
	char text[512], path[64];

	(void)snprintf(text, sizeof(text), "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\n"
	    "Uid:\t%u\t%u\t%u\t%u\nGid:\t100\t100\t100\t100\nCapInh:\t0000000000000000\n"
	    "CapPrm:\t%016llx\nCapEff:\t%016llx\n", uid, euid, uid, uid, prm, eff);
	tmptree_mkdirs(t->root, rel);
	(void)snprintf(path, sizeof(path), "%s/status", rel);
	tmptree_put(t->root, path, text);
}

/* Ask about process 50 of the tree. */
static int
denial(const struct tmptree *t, enum kt_denial *why, int *yama)
{
	return kt_ptrace_denial(t->root, 50, why, yama);
}

/* Change the owner of rel (a status file), as the kernel shows a process dumpable (its user)
 * or not (root). */
static void
own(const struct tmptree *t, const char *rel, unsigned int uid)
{
	char path[PATH_MAX];

	tmptree_path(t->root, rel, path, sizeof(path));
	if (chown(path, uid, (gid_t)-1) < 0)
		skip();		/* not root: ownership cannot be given away */
}

static void
test_denials(void **state)
{
	const struct tmptree *t = *state;
	enum kt_denial why;
	int yama;

	put_status(t, "self", 1000, 1000, 0, 0);
	put_status(t, "50", 1001, 1001, 0, 0);
	own(t, "50/status", 1001);
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_OTHER_USER);
	assert_int_equal(yama, -1);
	/* Its effective user ours, its real one not: another user's still. */
	put_status(t, "50", 1001, 1000, 0, 0);
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_OTHER_USER);
	/* Ours, but its /proc entry is root's: not dumpable. */
	put_status(t, "50", 1000, 1000, 0, 0);
	own(t, "50/status", 0);
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_NOT_DUMPABLE);
	/* Ours, dumpable, holding a capability we lack. */
	own(t, "50/status", 1000);
	put_status(t, "50", 1000, 1000, 1ULL << 12, 0);
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_CAPS);
	/* Nothing of that: Yama, when there, else something else. */
	put_status(t, "50", 1000, 1000, 0, 0);
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_OTHER);
	tmptree_mkdirs(t->root, "sys/kernel/yama");
	tmptree_put(t->root, "sys/kernel/yama/ptrace_scope", "1\n");
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_YAMA);
	assert_int_equal(yama, 1);
	/* With CAP_SYS_PTRACE, only Yama's scope 3 or something else refuses. */
	put_status(t, "self", 1000, 1000, 1ULL << 19, 1ULL << 19);
	put_status(t, "50", 1001, 1001, 0, 0);
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_OTHER);
	tmptree_put(t->root, "sys/kernel/yama/ptrace_scope", "3\n");
	assert_int_equal(denial(t, &why, &yama), 0);
	assert_int_equal(why, KT_DENY_YAMA);
	assert_int_equal(yama, 3);
}

/* A process that is gone, or a status that is not one. */
static void
test_errors(void **state)
{
	const struct tmptree *t = *state;
	enum kt_denial why = 99;
	int yama = 99;

	put_status(t, "self", 1000, 1000, 0, 0);
	assert_int_equal(denial(t, &why, &yama), -ESRCH);
	tmptree_mkdirs(t->root, "50");
	tmptree_put(t->root, "50/status", "Name:\tx\n");
	assert_int_equal(denial(t, &why, &yama), -EBADMSG);
	assert_int_equal(why, 99);
	assert_int_equal(yama, 99);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_denials, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_errors, tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests_name("kt_ptrace", tests, NULL, NULL);
}
