/* test_kt_persist.c: unit tests for kt_persist.c, persist's one transaction, on temp trees laid
 * out like a machine's root: what it plans, writes and refuses, and the boot model's verdict. */
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
#define TIME	"net.ipv4.tcp_keepalive_time"
#define INTVL	"net.ipv4.tcp_keepalive_intvl"
#define PROBES	"net.ipv4.tcp_keepalive_probes"
#define TEXT	HEADER TIME " = 600\n" INTVL " = 30\n" PROBES " = 5\n"
#define ETC	"etc/sysctl.d"
#define CONF	ETC "/90-ka-tune.conf"

static const struct kt_values want_all = { KT_ALL, { 600, 30, 5 } };

/* A tree and a request for its etc/sysctl.d/90-ka-tune.conf, as --root makes it. */
struct fixture {
	struct tmptree *t;
	char dir[PATH_MAX], path[PATH_MAX];
	struct kt_persist_req req;
	struct kt_persist_result res;
	struct kt_persist_fail fail;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !(f->t = tmptree_new("test_kt_persist"))) {
		free(f);
		return -1;
	}
	tmptree_path(f->t->root, ETC, f->dir, sizeof(f->dir));
	tmptree_path(f->t->root, CONF, f->path, sizeof(f->path));
	f->req = (struct kt_persist_req){
		.dir = f->dir, .root_len = strlen(f->t->root), .name = "90-ka-tune.conf",
		.path = f->path, .want = want_all, .flags = KT_PERSIST_CREATE,
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

/* Run the transaction, expecting err; on success the result stays in f->res. */
static void
run(struct fixture *f, int err)
{
	int r;

	kt_persist_free(&f->res);
	memset(&f->fail, 0xa5, sizeof(f->fail));
	r = kt_persist(&f->req, &f->res, &f->fail);
	if (r != err)
		fail_msg("kt_persist() returned %d (step %d, line %u), want %d", r, f->fail.step,
		    f->fail.line, err);
}

static void
assert_file(const struct fixture *f, const char *rel, const char *text)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;

	tmptree_path(f->t->root, rel, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal(close(fd), 0);
	assert_string_equal(buf, text);
}

static void
assert_plan(const struct kt_persist_result *res, enum kt_plan t, enum kt_plan i, enum kt_plan p)
{
	assert_int_equal(res->keys[KT_TIME].plan, t);
	assert_int_equal(res->keys[KT_INTVL].plan, i);
	assert_int_equal(res->keys[KT_PROBES].plan, p);
}

/* A new file: written, planned as added, mode 0644; again: unchanged, nothing written. */
static void
test_new_then_unchanged(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	umask(077);
	run(f, 0);
	umask(022);
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
	assert_plan(&f->res, KT_PLAN_ADDED, KT_PLAN_ADDED, KT_PLAN_ADDED);
	assert_string_equal(f->res.text, TEXT);
	assert_int_equal(f->res.keys[KT_TIME].line, 2);
	assert_int_equal(f->res.keys[KT_PROBES].line, 4);
	assert_int_equal(f->res.warnings, 0);
	assert_null(f->res.before);
	assert_file(f, CONF, TEXT);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_UNCHANGED);
	assert_plan(&f->res, KT_PLAN_UNCHANGED, KT_PLAN_UNCHANGED, KT_PLAN_UNCHANGED);
	assert_string_equal(f->res.before, TEXT);
	assert_int_equal(f->res.before_len, strlen(TEXT));
	assert_int_equal(f->res.keys[KT_TIME].old_int, 1);
	assert_int_equal(f->res.keys[KT_TIME].old, 600);

	f->req.want.val[KT_TIME] = 900;
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
	assert_plan(&f->res, KT_PLAN_CHANGED, KT_PLAN_UNCHANGED, KT_PLAN_UNCHANGED);
	assert_int_equal(f->res.keys[KT_TIME].old_int, 1);
	assert_int_equal(f->res.keys[KT_TIME].old, 600);
}

/* An old value the kernel would not take is given as written, whatever bytes it holds. */
static void
test_old_text(void **state)
{
	struct fixture *f = *state;

	tmptree_mkdirs(f->t->root, ETC);
	tmptree_put(f->t->root, CONF, TIME " = \033[2J soon \n");
	run(f, 0);
	assert_plan(&f->res, KT_PLAN_CHANGED, KT_PLAN_ADDED, KT_PLAN_ADDED);
	assert_int_equal(f->res.keys[KT_TIME].old_int, 0);
	assert_string_equal(f->res.keys[KT_TIME].old_text, "\033[2J soon");
	assert_int_equal(f->res.keys[KT_TIME].old_len, 9);
}

/* A dry run makes nothing, takes no lock, and says what it would write. */
static void
test_dry_run(void **state)
{
	struct fixture *f = *state;
	int fd;

	f->req.flags |= KT_PERSIST_DRY_RUN;
	run(f, 0);		/* etc/ is not there: a directory below the root holds no file */
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
	assert_string_equal(f->res.text, TEXT);
	assert_null(f->res.boot);
	tmptree_path(f->t->root, "etc", f->path, sizeof(f->path));
	assert_int_equal(access(f->path, F_OK), -1);
	tmptree_path(f->t->root, CONF, f->path, sizeof(f->path));

	tmptree_mkdirs(f->t->root, ETC);
	fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	run(f, 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(access(f->path, F_OK), -1);
}

/*
 * The root the user named must exist: a mistyped --root makes nothing and fails, whatever the
 * run; below it, directories are made (and for --remove a missing one holds nothing).
 */
static void
test_root_must_exist(void **state)
{
	struct fixture *f = *state;
	char root[PATH_MAX];

	tmptree_path(f->t->root, "typo", root, sizeof(root));
	tmptree_path(f->t->root, "typo/" ETC, f->dir, sizeof(f->dir));
	f->req.root_len = strlen(root);
	for (int i = 0; i < 3; i++) {
		f->req.want = i == 2 ? (struct kt_values){ 0 } : want_all;
		f->req.flags = i == 1 ? KT_PERSIST_DRY_RUN : KT_PERSIST_CREATE;
		run(f, -ENOENT);
		assert_int_equal(f->fail.step, KT_STEP_OPEN_DIR);
		assert_int_equal(f->fail.stop, strlen(root));
		assert_int_equal(access(root, F_OK), -1);
	}
	assert_int_equal(mkdir(root, 0755), 0);
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_UNCHANGED);
	f->req.want = want_all;
	f->req.flags = KT_PERSIST_CREATE;
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
}

/* --remove takes our lines out, deletes a file left blank, and is then unchanged. */
static void
test_remove(void **state)
{
	struct fixture *f = *state;

	tmptree_mkdirs(f->t->root, ETC);
	tmptree_put(f->t->root, CONF, TEXT "kernel.x = 1\n");
	f->req.want = (struct kt_values){ 0 };
	f->req.flags = 0;
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_CHANGED);
	assert_plan(&f->res, KT_PLAN_REMOVED, KT_PLAN_REMOVED, KT_PLAN_REMOVED);
	/* What was taken out, and the text before, are told. */
	assert_int_equal(f->res.keys[KT_INTVL].old_int, 1);
	assert_int_equal(f->res.keys[KT_INTVL].old, 30);
	assert_string_equal(f->res.before, TEXT "kernel.x = 1\n");
	assert_file(f, CONF, "kernel.x = 1\n");
	assert_null(f->res.boot);

	tmptree_put(f->t->root, CONF, TEXT);
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_REMOVED);
	assert_null(f->res.text);
	assert_int_equal(access(f->path, F_OK), -1);
	run(f, 0);
	assert_int_equal(f->res.outcome, KT_PERSIST_UNCHANGED);
	assert_plan(&f->res, KT_PLAN_NONE, KT_PLAN_NONE, KT_PLAN_NONE);
}

/*
 * Lines a loader reads as a key in spellings the other does not are the key's: replaced, and
 * the file written is applied the same by both loaders, each from ka-tune's line.
 */
static void
test_spellings_replaced(void **state)
{
	static const char *const loaded[] = {
		"\v" TIME " = 1\n", TIME "\f = 1\n", "--" TIME " = 1\n", "- " TIME " = 1\n",
		"net.ipv4..tcp_keepalive_time = 1\n", "net/ipv4//tcp_keepalive_time = 1\n",
		"net/ipv4/../ipv4/tcp_keepalive_time = 1\n", "-" TIME "\n", TIME " = 1\r\r\n",
	};
	struct fixture *f = *state;

	tmptree_mkdirs(f->t->root, ETC);
	for (size_t i = 0; i < sizeof(loaded) / sizeof(loaded[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "# keep\n%s%s", TEXT, loaded[i]);
		tmptree_put(f->t->root, CONF, text);
		run(f, 0);
		assert_file(f, CONF, HEADER "# keep\n" TIME " = 600\n" INTVL " = 30\n" PROBES
		    " = 5\n");
		for (int l = 0; l < 2; l++) {
			struct kt_boot *b;

			assert_int_equal(kt_boot_read_text(l ? KT_LOADER_PROCPS : KT_LOADER_SYSTEMD,
			    f->path, f->res.text, f->res.len, 1000, &b), 0);
			assert_int_equal(kt_boot_key(b, KT_TIME)->val, 600);
			assert_int_equal(kt_boot_key(b, KT_TIME)->from->line, 3);
			kt_boot_free(b);
		}
	}
}

/* A line split in two with a key's part and more is refused: nothing changes. */
static void
test_split_line_refused(void **state)
{
	static const char text[] = "# a\nkernel.x = 1\r" TIME " = 1\n";
	struct fixture *f = *state;

	tmptree_mkdirs(f->t->root, ETC);
	tmptree_put(f->t->root, CONF, text);
	run(f, -EBADMSG);
	assert_int_equal(f->fail.step, KT_STEP_EDIT);
	assert_int_equal(f->fail.line, 2);
	assert_int_equal(f->fail.key, KT_TIME);
	assert_file(f, CONF, text);
}

/*
 * A glob spelled so that procps does not take ka-tune's line for the name it matches, after
 * that line, would win for procps: refused, naming the line of the file as it stands.
 */
static void
test_check_refuses_glob(void **state)
{
	static const char text[] = "# a\n\n" TIME " = 1\n# b\nnet//ipv4/tcp_keepalive_* = 9\n";
	struct fixture *f = *state;

	tmptree_mkdirs(f->t->root, ETC);
	tmptree_put(f->t->root, CONF, text);
	run(f, -EBADMSG);
	assert_int_equal(f->fail.step, KT_STEP_CHECK);
	assert_int_equal(f->fail.loader, KT_LOADER_PROCPS);
	assert_int_equal(f->fail.key, KT_TIME);
	assert_int_equal(f->fail.line, 5);
	assert_file(f, CONF, text);

	/* Before ka-tune's lines, it does no harm; spelled plainly, it is kept off by them. */
	tmptree_put(f->t->root, CONF, "net//ipv4/tcp_keepalive_* = 9\n");
	run(f, 0);
	tmptree_put(f->t->root, CONF, TEXT "net.ipv4.tcp_keepalive_* = 9\n");
	run(f, 0);
	assert_int_equal(f->res.overridden, 0);
}

/*
 * A name no loader reads is written, with a warning; so is a file the loader does not read
 * where it is: a hidden one, to systemd-sysctl, but not to procps.
 */
static void
test_not_conf(void **state)
{
	struct fixture *f = *state;

	f->req.name = "x.txt";
	f->req.boot_path = KT_CONF_DIR "/x.txt";
	run(f, 0);
	assert_int_equal(f->res.warnings, KT_PERSIST_WARN_NOT_CONF);
	f->req.name = ".x.conf";
	f->req.boot_path = KT_CONF_DIR "/.x.conf";
	run(f, 0);
	assert_int_equal(f->res.warnings, KT_PERSIST_WARN_NOT_READ);
	f->req.loader = KT_LOADER_PROCPS;
	run(f, 0);
	assert_int_equal(f->res.warnings, 0);
	assert_non_null(f->res.assign[KT_TIME]);
}

/*
 * After a write, the boot model says which keys a later file overrides, with the line ka-tune
 * wrote; a glob in the file, or a later one that does not apply, is no override.
 */
static void
test_boot_verdict(void **state)
{
	struct fixture *f = *state;
	const struct kt_boot_key *bk;

	tmptree_mkdirs(f->t->root, ETC);
	tmptree_put(f->t->root, ETC "/99-later.conf", TIME " = 1200\n");
	tmptree_put(f->t->root, CONF, "net.ipv4.tcp_keepalive_* = 5\n");
	run(f, 0);
	assert_int_equal(f->res.overridden, KT_BIT(KT_TIME));
	bk = kt_boot_key(f->res.boot, KT_TIME);
	assert_string_equal(bk->from->file, "/etc/sysctl.d/99-later.conf");
	assert_int_equal(bk->val, 1200);
	assert_non_null(f->res.assign[KT_TIME]);
	assert_int_equal(f->res.assign[KT_TIME]->line, 3);
	assert_int_equal(f->res.assign[KT_TIME]->state, KT_ASSIGN_OVERRIDDEN);

	/* Not a file the loader reads: no verdict. */
	f->req.boot_path = NULL;
	run(f, 0);
	assert_null(f->res.boot);
	assert_int_equal(f->res.overridden, 0);
}

/* A lock held elsewhere is waited for, then the run fails; a symbolic link is never read. */
static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX];
	int fd;

	tmptree_mkdirs(f->t->root, ETC);
	fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	f->req.lock_timeout_ms = 100;
	run(f, -ETIMEDOUT);
	assert_int_equal(f->fail.step, KT_STEP_LOCK);
	assert_int_equal(close(fd), 0);

	tmptree_put(f->t->root, "target.conf", "x\n");
	tmptree_path(f->t->root, "target.conf", target, sizeof(target));
	assert_int_equal(symlink(target, f->path), 0);
	run(f, -ELOOP);
	assert_int_equal(f->fail.step, KT_STEP_READ);
	assert_file(f, "target.conf", "x\n");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_then_unchanged),
		T(test_old_text),
		T(test_dry_run),
		T(test_root_must_exist),
		T(test_remove),
		T(test_spellings_replaced),
		T(test_split_line_refused),
		T(test_check_refuses_glob),
		T(test_not_conf),
		T(test_boot_verdict),
		T(test_refusals),
	};

	return cmocka_run_group_tests_name("kt_persist", tests, NULL, NULL);
}
