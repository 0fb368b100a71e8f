/* test_kt_unit.c: unit tests for kt_unit.c: which cgroup paths are a systemd service's or
 * slice's, and the drop-ins enable --persist writes and disable removes, in a temp tree laid
 * out like /etc/systemd/system: their text, unchanged when the same, all or none. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

#define BIN	"/usr/sbin/ka-tune"

/* Where systemd puts services and slices, and the unit each is. */
static void
test_unit_of_cgroup(void **state)
{
	static const struct {
		const char *rel, *unit;
		enum kt_unit_kind kind;
	} good[] = {
		{ "system.slice/nginx.service", "nginx.service", KT_UNIT_SERVICE },
		{ "docker.slice", "docker.slice", KT_UNIT_SLICE },
		{ "machine.slice/machine-web.slice", "machine-web.slice", KT_UNIT_SLICE },
		{ "system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service",
		    KT_UNIT_SERVICE },
		{ "user.slice/user-1000.slice/user@1000.service", "user@1000.service",
		    KT_UNIT_SERVICE },
		{ "system.slice/a\\x2db.service", "a\\x2db.service", KT_UNIT_SERVICE },
		{ "early.service", "early.service", KT_UNIT_SERVICE },
	};
	char unit[KT_UNIT_NAME_LEN];
	enum kt_unit_kind kind;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(kt_unit_of_cgroup(good[i].rel, unit, sizeof(unit), &kind), 0);
		assert_string_equal(unit, good[i].unit);
		assert_int_equal(kind, good[i].kind);
	}
	assert_int_equal(kt_unit_of_cgroup("docker.slice", unit, 12, &kind), -ENAMETOOLONG);
}

/* Scopes (transient), directories of other managers, slices out of their place. */
static void
test_not_a_unit(void **state)
{
	static const char *const bad[] = {
		"", "system.slice/docker-0123.scope", "docker/0123", "a-b.slice", "system.slice/",
		"system.slice/other.slice", "system.slice/x.service/y.service", "foo.slice/bar",
		"system.slice/a b.service", ".service", "system.slice//x.service",
		"user.slice/user-1000.slice/user@1000.service/app.slice/x.service",
		"machine.slice/machine-.slice", "x.slice/x-y.slice/x-z.slice",
	};
	char unit[KT_UNIT_NAME_LEN] = "keep";
	enum kt_unit_kind kind = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kt_unit_of_cgroup(bad[i], unit, sizeof(unit), &kind), -EINVAL);
	assert_string_equal(unit, "keep");
	assert_int_equal(kind, 77);
}

/* The text of the file rel below the tree, to free; NULL when there is none. */
static char *
text_of(const struct tmptree *t, const char *rel)
{
	char path[PATH_MAX], *text;
	FILE *f;
	long n;

	tmptree_path(t->root, rel, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	(void)fclose(f);
	return text;
}

/* Whether the file rel below the tree holds exactly want. */
static void
holds(const struct tmptree *t, const char *rel, const char *want)
{
	char *text = text_of(t, rel);

	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

#define HEADER \
	"# ka-tune(8) wrote this file for `ka-tune enable --cgroup ... --persist`, and\n" \
	"# `ka-tune disable --cgroup ...` removes it.\n"

/* A service: one drop-in that runs ka-tune before each start; again: unchanged; other values:
 * changed; removed, its directory with it, but not another's drop-in beside it. */
static void
test_service(void **state)
{
	const struct tmptree *t = *state;
	struct kt_values v = { KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 600, 0, 4 } };
	struct kt_unit_result res;
	struct kt_unit_fail fail;
	char dir[PATH_MAX];
	struct stat st;

	tmptree_mkdirs(t->root, "etc");
	tmptree_path(t->root, "etc", dir, sizeof(dir));
	assert_int_equal(kt_unit_files(dir, BIN, "system.slice/web.service", &v, 0, &res,
	    &fail), 0);
	assert_string_equal(res.unit, "web.service");
	assert_int_equal(res.kind, KT_UNIT_SERVICE);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_CHANGED);
	assert_int_equal(res.files[0].existed, 0);
	assert_true(strstr(res.files[0].path, "/etc/web.service.d/50-ka-tune.conf") != NULL);
	holds(t, "etc/web.service.d/50-ka-tune.conf", HEADER "[Service]\n"
	    "ExecStartPre=-+" BIN " enable --cgroup system.slice/web.service --time 600 "
	    "--probes 4\n");
	tmptree_path(t->root, "etc/web.service.d/50-ka-tune.conf", dir, sizeof(dir));
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	tmptree_path(t->root, "etc", dir, sizeof(dir));
	assert_int_equal(kt_unit_files(dir, BIN, "system.slice/web.service", &v, 0, &res,
	    &fail), 0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_UNCHANGED);
	v.mask = 0;
	assert_int_equal(kt_unit_files(dir, BIN, "system.slice/web.service", &v, 1, &res,
	    &fail), 0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_CHANGED);	/* would be */
	assert_int_equal(res.files[0].existed, 1);
	assert_int_equal(kt_unit_files(dir, BIN, "system.slice/web.service", &v, 0, &res,
	    &fail), 0);
	holds(t, "etc/web.service.d/50-ka-tune.conf", HEADER "[Service]\n"
	    "ExecStartPre=-+" BIN " enable --cgroup system.slice/web.service\n");

	tmptree_put(t->root, "etc/web.service.d/10-mine.conf", "[Service]\n");
	assert_int_equal(kt_unit_files(dir, NULL, "system.slice/web.service", NULL, 1, &res, &fail),
	    0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_REMOVED);	/* would be */
	assert_int_equal(kt_unit_files(dir, NULL, "system.slice/web.service", NULL, 0, &res, &fail),
	    0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_REMOVED);
	assert_null(text_of(t, "etc/web.service.d/50-ka-tune.conf"));
	holds(t, "etc/web.service.d/10-mine.conf", "[Service]\n");
	assert_int_equal(kt_unit_files(dir, NULL, "system.slice/web.service", NULL, 0, &res, &fail),
	    0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_UNCHANGED);
	tmptree_path(t->root, "etc/web.service.d/10-mine.conf", dir, sizeof(dir));
	assert_int_equal(unlink(dir), 0);
}

/* A slice: the instance's drop-in says what to enable (a unit name's '\' doubled, as Exec and
 * Environment lines unescape), the slice's wants it; removed, both go, directories too. */
static void
test_slice(void **state)
{
	const struct tmptree *t = *state;
	struct kt_values v = { KT_ALL, { 600, 30, 4 } };
	struct kt_unit_result res;
	struct kt_unit_fail fail;
	char dir[PATH_MAX];

	tmptree_mkdirs(t->root, "etc");
	tmptree_path(t->root, "etc", dir, sizeof(dir));
	assert_int_equal(kt_unit_files(dir, BIN, "a.slice/a-b\\x2dc.slice", &v, 0, &res, &fail), 0);
	assert_int_equal(res.kind, KT_UNIT_SLICE);
	assert_int_equal(res.n, 2);
	holds(t, "etc/ka-tune-slice@a-b\\x2dc.slice.service.d/50-ka-tune.conf", HEADER
	    "[Service]\nEnvironment=KA_TUNE_CGROUP=a.slice/a-b\\\\x2dc.slice "
	    "\"KA_TUNE_VALUES=--time 600 --intvl 30 --probes 4\"\n");
	holds(t, "etc/a-b\\x2dc.slice.d/50-ka-tune.conf", HEADER
	    "[Unit]\nWants=ka-tune-slice@a-b\\x2dc.slice.service\n");
	v.mask = 0;
	assert_int_equal(kt_unit_files(dir, BIN, "a.slice/a-b\\x2dc.slice", &v, 0, &res, &fail), 0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_CHANGED);
	assert_int_equal(res.files[1].outcome, KT_PERSIST_UNCHANGED);
	holds(t, "etc/ka-tune-slice@a-b\\x2dc.slice.service.d/50-ka-tune.conf", HEADER
	    "[Service]\nEnvironment=KA_TUNE_CGROUP=a.slice/a-b\\\\x2dc.slice\n");
	assert_int_equal(kt_unit_files(dir, NULL, "a.slice/a-b\\x2dc.slice", NULL, 0, &res, &fail),
	    0);
	assert_int_equal(res.files[0].outcome, KT_PERSIST_REMOVED);
	assert_int_equal(res.files[1].outcome, KT_PERSIST_REMOVED);
	tmptree_path(t->root, "etc/a-b\\x2dc.slice.d", dir, sizeof(dir));
	assert_int_equal(access(dir, F_OK), -1);
}

/* All or none: when the slice's drop-in cannot be written (a file where its directory goes),
 * the instance's, written first, is removed again; nothing is left. Refused before anything:
 * what is no unit's cgroup, a binary path an Exec line would read otherwise. */
static void
test_all_or_none(void **state)
{
	const struct tmptree *t = *state;
	struct kt_values v = { KT_BIT(KT_TIME), { 600, 0, 0 } };
	struct kt_unit_result res;
	struct kt_unit_fail fail;
	char dir[PATH_MAX];

	tmptree_mkdirs(t->root, "etc");
	tmptree_put(t->root, "etc/web.slice.d", "not a directory");
	tmptree_path(t->root, "etc", dir, sizeof(dir));
	memset(&fail, 0, sizeof(fail));
	assert_int_equal(kt_unit_files(dir, BIN, "web.slice", &v, 0, &res, &fail), -ENOTDIR);
	assert_true(strstr(fail.path, "/etc/web.slice.d/50-ka-tune.conf") != NULL);
	assert_int_equal(fail.unrestored, 0);
	assert_null(text_of(t, "etc/ka-tune-slice@web.slice.service.d/50-ka-tune.conf"));
	tmptree_path(t->root, "etc/ka-tune-slice@web.slice.service.d", dir, sizeof(dir));
	assert_int_equal(access(dir, F_OK), -1);

	tmptree_path(t->root, "etc", dir, sizeof(dir));
	assert_int_equal(kt_unit_files(dir, BIN, "system.slice/x.scope", &v, 0, &res, &fail),
	    -EINVAL);
	assert_int_equal(kt_unit_files(dir, "/opt/my ka-tune", "x.slice", &v, 0, &res, &fail),
	    -EINVAL);
	assert_int_equal(kt_unit_files(dir, "ka-tune", "x.slice", &v, 0, &res, &fail), -EINVAL);
	tmptree_path(t->root, "etc/web.slice.d", dir, sizeof(dir));
	assert_int_equal(unlink(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_of_cgroup),
		cmocka_unit_test(test_not_a_unit),
		cmocka_unit_test_setup_teardown(test_service, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_slice, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_all_or_none, tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
