/* test_kt_converge.c: unit tests for kt_converge.c, set --persist's transaction, on a temp tree
 * that holds both the keys (proc/) and the boot file (etc/sysctl.d/): both change or neither. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

#define HEADER	"# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; " \
		"others are kept.\n"
#define TEXT(t, i, p)	HEADER "net.ipv4.tcp_keepalive_time = " #t "\n" \
			"net.ipv4.tcp_keepalive_intvl = " #i "\n" \
			"net.ipv4.tcp_keepalive_probes = " #p "\n"
#define ETC	"etc/sysctl.d"
#define CONF	ETC "/90-ka-tune.conf"

static const char *const key_rel[KT_NKEYS] = {
	"proc/net/ipv4/tcp_keepalive_time",
	"proc/net/ipv4/tcp_keepalive_intvl",
	"proc/net/ipv4/tcp_keepalive_probes",
};

struct fixture {
	struct tmptree *t;
	char proc[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
	struct kt_persist_req req;
	struct kt_persist_result res;
	struct kt_values old;
	struct kt_sp_fail fail;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !(f->t = tmptree_new("test_kt_converge"))) {
		free(f);
		return -1;
	}
	tmptree_mkdirs(f->t->root, "proc/net/ipv4");
	tmptree_put(f->t->root, key_rel[KT_TIME], "7200\n");
	tmptree_put(f->t->root, key_rel[KT_INTVL], "75\n");
	tmptree_put(f->t->root, key_rel[KT_PROBES], "9\n");
	tmptree_mkdirs(f->t->root, ETC);
	tmptree_path(f->t->root, "proc", f->proc, sizeof(f->proc));
	tmptree_path(f->t->root, ETC, f->dir, sizeof(f->dir));
	tmptree_path(f->t->root, CONF, f->path, sizeof(f->path));
	f->req = (struct kt_persist_req){
		.dir = f->dir, .root_len = strlen(f->t->root), .name = "90-ka-tune.conf",
		.path = f->path, .want = { KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 600, 0, 5 } },
		.lock_timeout_ms = 1000, .boot_root = f->t->root, .loader = KT_LOADER_SYSTEMD,
		.boot_path = KT_CONF_PATH,
	};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int r = tmptree_free(f->t);

	kt_persist_free(&f->res);
	free(f);
	return r;
}

/* Run the transaction, expecting err. */
static void
run(struct fixture *f, int err)
{
	int r;

	kt_persist_free(&f->res);
	memset(&f->fail, 0xa5, sizeof(f->fail));
	memset(&f->old, 0xa5, sizeof(f->old));
	r = kt_set_persist(f->proc, &f->req, 1000, &f->old, &f->res, &f->fail);
	if (r != err)
		fail_msg("kt_set_persist() returned %d (part %d), want %d", r, f->fail.part, err);
}

/* Whether rel holds exactly text; NULL: there is no such file. */
static void
assert_file(const struct fixture *f, const char *rel, const char *text)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;

	tmptree_path(f->t->root, rel, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!text) {
		assert_true(fd < 0 && errno == ENOENT);
		return;
	}
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal(close(fd), 0);
	assert_string_equal(buf, text);
}

static void
assert_keys(const struct fixture *f, const char *t, const char *i, const char *p)
{
	assert_file(f, key_rel[KT_TIME], t);
	assert_file(f, key_rel[KT_INTVL], i);
	assert_file(f, key_rel[KT_PROBES], p);
}

/* Both change: the keys given, and the file with them and the running value of the other. */
static void
test_both(void **state)
{
	struct fixture *f = *state;

	run(f, 0);
	assert_keys(f, "600\n", "75\n", "5\n");
	assert_file(f, CONF, TEXT(600, 75, 5));
	assert_int_equal(f->old.mask, KT_ALL);
	assert_int_equal(f->old.val[KT_TIME], 7200);
	assert_int_equal(f->old.val[KT_INTVL], 75);
	assert_int_equal(f->old.val[KT_PROBES], 9);
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
	assert_int_equal(f->res.keys[KT_INTVL].plan, KT_PLAN_ADDED);
	assert_null(f->res.before);

	/* Again: nothing to change, and the text before is the one written. */
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_UNCHANGED);
	assert_string_equal(f->res.before, TEXT(600, 75, 5));
	assert_int_equal(f->old.val[KT_TIME], 600);
}

/* A dry run reads both, plans, and writes neither. */
static void
test_dry_run(void **state)
{
	struct fixture *f = *state;

	f->req.flags |= KT_PERSIST_DRY_RUN;
	run(f, 0);
	assert_keys(f, "7200\n", "75\n", "9\n");
	assert_file(f, CONF, NULL);
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
	assert_string_equal(f->res.text, TEXT(600, 75, 5));
	assert_int_equal(f->old.val[KT_TIME], 7200);
}

/* When the file cannot be written, the keys written are put back. */
static void
test_file_fails_keys_restored(void **state)
{
	struct fixture *f = *state;
	struct tmptree_caps caps;
	int dropped;

	assert_int_equal(chmod(f->dir, 0555), 0);
	dropped = tmptree_dac_drop(&caps);
	run(f, -EACCES);
	if (dropped)
		tmptree_dac_restore(&caps);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(f->fail.part, KT_SP_FILE);
	assert_int_equal(f->fail.file.step, KT_STEP_WRITE);
	assert_int_equal(f->fail.keys.restored, KT_BIT(KT_TIME) | KT_BIT(KT_PROBES));
	assert_int_equal(f->fail.keys.unrestored, 0);
	assert_int_equal(f->old.val[KT_TIME], 7200);
	assert_keys(f, "7200\n", "75\n", "9\n");
	assert_file(f, CONF, NULL);
}

/* A file refused before the write (a symbolic link) leaves the keys alone: none written. */
static void
test_file_refused_first(void **state)
{
	struct fixture *f = *state;

	tmptree_link(f->t->root, CONF, "/etc/hostname");
	run(f, -ELOOP);
	assert_int_equal(f->fail.part, KT_SP_FILE);
	assert_int_equal(f->fail.file.step, KT_STEP_READ);
	assert_int_equal(f->fail.keys.restored | f->fail.keys.unrestored, 0);
	assert_keys(f, "7200\n", "75\n", "9\n");
}

/* A key that cannot be written fails before the file is touched; the others are put back. */
static void
test_key_fails_file_untouched(void **state)
{
	struct fixture *f = *state;
	struct tmptree_caps caps;
	char path[PATH_MAX];
	int dropped;

	tmptree_path(f->t->root, key_rel[KT_PROBES], path, sizeof(path));
	assert_int_equal(chmod(path, 0444), 0);
	dropped = tmptree_dac_drop(&caps);
	run(f, -EACCES);
	if (dropped)
		tmptree_dac_restore(&caps);
	assert_int_equal(f->fail.part, KT_SP_KEYS);
	assert_int_equal(f->fail.keys.stage, KT_STAGE_WRITE);
	assert_int_equal(f->fail.keys.key, KT_PROBES);
	assert_int_equal(f->fail.keys.restored, KT_BIT(KT_TIME));
	assert_keys(f, "7200\n", "75\n", "9\n");
	assert_file(f, CONF, NULL);
}

/* A running value outside its range, of a key not given, is not persisted: nothing is done. */
static void
test_running_out_of_range(void **state)
{
	struct fixture *f = *state;

	tmptree_put(f->t->root, key_rel[KT_INTVL], "0\n");
	run(f, -ERANGE);
	assert_int_equal(f->fail.part, KT_SP_RANGE);
	assert_int_equal(f->fail.key, KT_INTVL);
	assert_int_equal(f->fail.val, 0);
	assert_keys(f, "7200\n", "0\n", "9\n");
	assert_file(f, CONF, NULL);

	/* Given, it is fine. */
	f->req.want.mask |= KT_BIT(KT_INTVL);
	f->req.want.val[KT_INTVL] = 30;
	run(f, 0);
	assert_keys(f, "600\n", "30\n", "5\n");
}

/* A value given outside its range is refused before anything, out-params untouched. */
static void
test_given_out_of_range(void **state)
{
	struct fixture *f = *state;
	unsigned char untouched[sizeof(f->old)];

	f->req.want.val[KT_PROBES] = 0;
	run(f, -ERANGE);
	memset(untouched, 0xa5, sizeof(untouched));
	assert_memory_equal(&f->old, untouched, sizeof(untouched));
	assert_keys(f, "7200\n", "75\n", "9\n");
}

/* While another holds the keys' lock, nothing is read or written. */
static void
test_keys_locked(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	int fd;

	tmptree_path(f->t->root, key_rel[KT_TIME], path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	kt_persist_free(&f->res);
	assert_int_equal(kt_set_persist(f->proc, &f->req, 100, &f->old, &f->res, &f->fail),
	    -ETIMEDOUT);
	assert_int_equal(f->fail.part, KT_SP_KEYS);
	assert_int_equal(f->fail.keys.stage, KT_STAGE_LOCK);
	assert_int_equal(close(fd), 0);
	assert_file(f, CONF, NULL);
	assert_keys(f, "7200\n", "75\n", "9\n");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_both),
		T(test_dry_run),
		T(test_file_fails_keys_restored),
		T(test_file_refused_first),
		T(test_key_fails_file_untouched),
		T(test_running_out_of_range),
		T(test_given_out_of_range),
		T(test_keys_locked),
	};

	return cmocka_run_group_tests_name("kt_converge", tests, NULL, NULL);
}
