/* test_kt_proc.c: unit tests for kt_proc.c (reading, writing, applying and setting keys under
 * the lock) on temp trees. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

#define INT_SENTINEL	(-7777)
/* Content no write by the library could produce, to see that a file was not written. */
#define UNTOUCHED	"untouched\n"

static const char *const file_of[KT_NKEYS] = {
	[KT_TIME] = "net/ipv4/tcp_keepalive_time",
	[KT_INTVL] = "net/ipv4/tcp_keepalive_intvl",
	[KT_PROBES] = "net/ipv4/tcp_keepalive_probes",
};

static void
key_file(const struct tmptree *t, enum kt_key key, char *buf, size_t len)
{
	tmptree_path(t->root, file_of[key], buf, len);
}

/* Make the file of a key hold exactly s, creating it if need be. */
static void
put(const struct tmptree *t, enum kt_key key, const char *s)
{
	tmptree_put(t->root, file_of[key], s);
}

/* Whether the file of a key holds exactly s. */
static void
assert_holds(const struct tmptree *t, enum kt_key key, const char *s)
{
	char path[PATH_MAX], buf[256];
	ssize_t n;
	int fd;

	key_file(t, key, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_int_equal(close(fd), 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, s);
}

/* Remove the file of a key, so that the key is missing. */
static void
remove_key(const struct tmptree *t, enum kt_key key)
{
	char path[PATH_MAX];

	key_file(t, key, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

/* Replace the file of a key with a directory: opening it to write then fails with EISDIR. */
static void
make_dir(const struct tmptree *t, enum kt_key key)
{
	char path[PATH_MAX];

	key_file(t, key, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int
is_dir(const struct tmptree *t, enum kt_key key)
{
	char path[PATH_MAX];
	struct stat st;

	key_file(t, key, path, sizeof(path));
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
exists(const struct tmptree *t, enum kt_key key)
{
	char path[PATH_MAX];

	key_file(t, key, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* Each test's tree is laid out like /proc/sys: net/ipv4/tcp_keepalive_{time,intvl,probes}. */
static int
setup(void **state)
{
	struct tmptree *t = tmptree_new("test_kt_proc");

	if (!t)
		return -1;
	*state = t;
	tmptree_mkdirs(t->root, "net/ipv4");
	put(t, KT_TIME, "7200\n");
	put(t, KT_INTVL, "75\n");
	put(t, KT_PROBES, "9\n");
	return 0;
}

static void
test_read_good(void **state)
{
	const struct tmptree *t = *state;
	int v;

	v = INT_SENTINEL;
	assert_int_equal(kt_read(t->root, KT_TIME, &v), 0);
	assert_int_equal(v, 7200);
	v = INT_SENTINEL;
	assert_int_equal(kt_read(t->root, KT_INTVL, &v), 0);
	assert_int_equal(v, 75);
	v = INT_SENTINEL;
	assert_int_equal(kt_read(t->root, KT_PROBES, &v), 0);
	assert_int_equal(v, 9);
}

/* The kernel takes 0 and negative numbers; they are read back as they are, not judged. */
static void
test_read_out_of_range_as_is(void **state)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "0\n", 0 },
		{ "-5\n", -5 },
		{ "32768\n", 32768 },
		{ "-2147483648\n", INT_MIN },
		{ "2147483647\n", INT_MAX },
		{ "600", 600 },
	};
	const struct tmptree *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int k = 0; k < KT_NKEYS; k++) {
			int v = INT_SENTINEL;

			put(t, k, cases[i].s);
			assert_int_equal(kt_read(t->root, k, &v), 0);
			assert_int_equal(v, cases[i].want);
		}
	}
}

static void
test_read_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"abc\n",
		"-\n",
		"12a\n",
		" 12\n",
		"12 \n",
		"7200\n\n",
		"+7200\n",
		"0x10\n",
		"1m30s\n",
		"2147483648\n",
		"-2147483649\n",
	};
	const struct tmptree *t = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int v = INT_SENTINEL;
		int r;

		put(t, KT_INTVL, bad[i]);
		r = kt_read(t->root, KT_INTVL, &v);
		if (r != -EBADMSG || v != INT_SENTINEL)
			fail_msg("file \"%s\": returned %d and %d, want %d and untouched", bad[i],
			    r, v, -EBADMSG);
	}
}

/* A file longer than any int the kernel prints is refused, even when it starts like one. */
static void
test_read_too_long(void **state)
{
	static const char *const bad[] = {
		"-2147483648\n\n",
		"12345678901234\n",
		"7200\n                                                                    \n",
		"0000000000000000000000000000000000000000000000000000000000000000000000007\n",
	};
	const struct tmptree *t = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int v = INT_SENTINEL;

		put(t, KT_TIME, bad[i]);
		assert_int_equal(kt_read(t->root, KT_TIME, &v), -EBADMSG);
		assert_int_equal(v, INT_SENTINEL);
	}
}

static void
test_read_missing(void **state)
{
	const struct tmptree *t = *state;
	char root[PATH_MAX + 16];
	int v = INT_SENTINEL;

	remove_key(t, KT_PROBES);
	assert_int_equal(kt_read(t->root, KT_PROBES, &v), -ENOENT);
	assert_int_equal(v, INT_SENTINEL);

	/* The other keys still read. */
	assert_int_equal(kt_read(t->root, KT_TIME, &v), 0);
	assert_int_equal(v, 7200);

	v = INT_SENTINEL;
	snprintf(root, sizeof(root), "%s/nonexistent", t->root);
	assert_int_equal(kt_read(root, KT_TIME, &v), -ENOENT);
	assert_int_equal(v, INT_SENTINEL);
}

/* A directory where the file should be opens, but reading it fails: the error is passed on. */
static void
test_read_directory(void **state)
{
	const struct tmptree *t = *state;
	int v = INT_SENTINEL;

	make_dir(t, KT_TIME);
	assert_int_equal(kt_read(t->root, KT_TIME, &v), -EISDIR);
	assert_int_equal(v, INT_SENTINEL);
}

/* A root too long for a path is refused before anything is opened. */
static void
test_read_write_long_root(void **state)
{
	char *root = malloc(PATH_MAX + 1);
	int v = INT_SENTINEL;

	(void)state;
	assert_non_null(root);
	memset(root, 'x', PATH_MAX);
	root[0] = '/';
	root[PATH_MAX] = '\0';
	assert_int_equal(kt_read(root, KT_TIME, &v), -ENAMETOOLONG);
	assert_int_equal(v, INT_SENTINEL);
	assert_int_equal(kt_write(root, KT_TIME, 600), -ENAMETOOLONG);
	free(root);
}

static void
test_write_exact(void **state)
{
	const struct tmptree *t = *state;
	int v = INT_SENTINEL;

	/* Longer old content shows the file is truncated, not overwritten in place. */
	put(t, KT_TIME, "1234567890\n");
	assert_int_equal(kt_write(t->root, KT_TIME, 600), 0);
	assert_holds(t, KT_TIME, "600\n");
	assert_holds(t, KT_INTVL, "75\n");
	assert_holds(t, KT_PROBES, "9\n");
	assert_int_equal(kt_read(t->root, KT_TIME, &v), 0);
	assert_int_equal(v, 600);

	assert_int_equal(kt_write(t->root, KT_INTVL, 30), 0);
	assert_holds(t, KT_INTVL, "30\n");
	assert_int_equal(kt_write(t->root, KT_PROBES, 5), 0);
	assert_holds(t, KT_PROBES, "5\n");
}

/* Values are not judged on the way out: the kernel decides. */
static void
test_write_any_int(void **state)
{
	const struct tmptree *t = *state;

	assert_int_equal(kt_write(t->root, KT_PROBES, 0), 0);
	assert_holds(t, KT_PROBES, "0\n");
	assert_int_equal(kt_write(t->root, KT_PROBES, -5), 0);
	assert_holds(t, KT_PROBES, "-5\n");
	assert_int_equal(kt_write(t->root, KT_TIME, INT_MIN), 0);
	assert_holds(t, KT_TIME, "-2147483648\n");
	assert_int_equal(kt_write(t->root, KT_INTVL, INT_MAX), 0);
	assert_holds(t, KT_INTVL, "2147483647\n");
}

/* Writing never creates a file: a missing key is -ENOENT and stays missing. */
static void
test_write_missing(void **state)
{
	const struct tmptree *t = *state;
	char root[PATH_MAX + 16];

	remove_key(t, KT_INTVL);
	assert_int_equal(kt_write(t->root, KT_INTVL, 600), -ENOENT);
	assert_false(exists(t, KT_INTVL));

	snprintf(root, sizeof(root), "%s/nonexistent", t->root);
	assert_int_equal(kt_write(root, KT_TIME, 600), -ENOENT);
	assert_holds(t, KT_TIME, "7200\n");
}

static void
test_write_directory(void **state)
{
	const struct tmptree *t = *state;

	make_dir(t, KT_PROBES);
	assert_int_equal(kt_write(t->root, KT_PROBES, 5), -EISDIR);
	assert_true(is_dir(t, KT_PROBES));
}

static void
fill_failure(struct kt_failure *f)
{
	memset(f, 0xa5, sizeof(*f));
}

static void
assert_failure_untouched(const struct kt_failure *f)
{
	struct kt_failure same;

	fill_failure(&same);
	assert_memory_equal(f, &same, sizeof(same));
}

static void
test_apply_all(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_failure fail;

	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), 0);
	assert_failure_untouched(&fail);
	assert_holds(t, KT_TIME, "600\n");
	assert_holds(t, KT_INTVL, "30\n");
	assert_holds(t, KT_PROBES, "5\n");
}

/* Keys whose value does not change are not written: their files could not be. */
static void
test_apply_only_changes(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 600, 75, 9 } };
	struct kt_failure fail;

	make_dir(t, KT_INTVL);
	remove_key(t, KT_PROBES);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), 0);
	assert_failure_untouched(&fail);
	assert_holds(t, KT_TIME, "600\n");
	assert_true(is_dir(t, KT_INTVL));
	assert_false(exists(t, KT_PROBES));
}

/* An unchanged key's file keeps whatever it held, byte for byte. */
static void
test_apply_unchanged_not_rewritten(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 7200, 30, 9 } };
	struct kt_failure fail;

	put(t, KT_TIME, UNTOUCHED);
	put(t, KT_PROBES, UNTOUCHED);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), 0);
	assert_failure_untouched(&fail);
	assert_holds(t, KT_TIME, UNTOUCHED);
	assert_holds(t, KT_INTVL, "30\n");
	assert_holds(t, KT_PROBES, UNTOUCHED);
}

/* Nothing to change means nothing is opened, even when no key exists at all. */
static void
test_apply_nothing_to_do(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	struct kt_failure fail;
	char root[PATH_MAX + 16];

	snprintf(root, sizeof(root), "%s/nonexistent", t->root);
	fill_failure(&fail);
	assert_int_equal(kt_apply(root, &old, &old, &fail), 0);
	assert_failure_untouched(&fail);
}

/* Only keys in want's mask are written; the others' values are not even looked at. */
static void
test_apply_mask(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_BIT(KT_PROBES), { 0, -1, 5 } };
	struct kt_failure fail;

	make_dir(t, KT_TIME);
	put(t, KT_INTVL, UNTOUCHED);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), 0);
	assert_failure_untouched(&fail);
	assert_true(is_dir(t, KT_TIME));
	assert_holds(t, KT_INTVL, UNTOUCHED);
	assert_holds(t, KT_PROBES, "5\n");
}

/*
 * The interval cannot be written: the time, written before it, is put back, the probes after
 * it are never written, and the failure says so.
 */
static void
test_apply_rollback(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_failure fail;

	make_dir(t, KT_INTVL);
	put(t, KT_PROBES, UNTOUCHED);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), -EISDIR);
	assert_int_equal(fail.key, KT_INTVL);
	assert_int_equal(fail.err, -EISDIR);
	assert_int_equal(fail.restored, KT_BIT(KT_TIME));
	assert_int_equal(fail.unrestored, 0);
	assert_int_equal(fail.restore_err, 0);
	assert_holds(t, KT_TIME, "7200\n");
	assert_true(is_dir(t, KT_INTVL));
	assert_holds(t, KT_PROBES, UNTOUCHED);
}

/* The last key fails: both keys before it are restored. */
static void
test_apply_rollback_last(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_failure fail;

	remove_key(t, KT_PROBES);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), -ENOENT);
	assert_int_equal(fail.key, KT_PROBES);
	assert_int_equal(fail.err, -ENOENT);
	assert_int_equal(fail.restored, KT_BIT(KT_TIME) | KT_BIT(KT_INTVL));
	assert_int_equal(fail.unrestored, 0);
	assert_int_equal(fail.restore_err, 0);
	assert_holds(t, KT_TIME, "7200\n");
	assert_holds(t, KT_INTVL, "75\n");
	assert_false(exists(t, KT_PROBES));
}

/* The first key fails: nothing was written, so nothing is restored. */
static void
test_apply_fail_first(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_failure fail;

	make_dir(t, KT_TIME);
	put(t, KT_INTVL, UNTOUCHED);
	put(t, KT_PROBES, UNTOUCHED);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), -EISDIR);
	assert_int_equal(fail.key, KT_TIME);
	assert_int_equal(fail.err, -EISDIR);
	assert_int_equal(fail.restored, 0);
	assert_int_equal(fail.unrestored, 0);
	assert_int_equal(fail.restore_err, 0);
	assert_holds(t, KT_INTVL, UNTOUCHED);
	assert_holds(t, KT_PROBES, UNTOUCHED);
}

/* A key skipped as unchanged is not restored either: only written keys are. */
static void
test_apply_rollback_skips_unchanged(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };
	const struct kt_values want = { KT_ALL, { 7200, 30, 5 } };
	struct kt_failure fail;

	put(t, KT_TIME, UNTOUCHED);
	make_dir(t, KT_PROBES);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), -EISDIR);
	assert_int_equal(fail.key, KT_PROBES);
	assert_int_equal(fail.err, -EISDIR);
	assert_int_equal(fail.restored, KT_BIT(KT_INTVL));
	assert_int_equal(fail.unrestored, 0);
	assert_int_equal(fail.restore_err, 0);
	assert_holds(t, KT_TIME, UNTOUCHED);
	assert_holds(t, KT_INTVL, "75\n");
}

/* A wanted value outside its range fails the whole set before anything is written. */
static void
test_apply_out_of_range(void **state)
{
	static const struct kt_values bad[] = {
		{ KT_ALL, { 0, 30, 5 } },
		{ KT_ALL, { 600, 30, 0 } },
		{ KT_ALL, { 600, 30, 128 } },
		{ KT_ALL, { 600, 32768, 5 } },
		{ KT_ALL, { 32768, 30, 5 } },
		{ KT_ALL, { -5, 30, 5 } },
		{ KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 600, 75, 128 } },
	};
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { 7200, 75, 9 } };

	for (int k = 0; k < KT_NKEYS; k++)
		put(t, k, UNTOUCHED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kt_failure fail;

		fill_failure(&fail);
		assert_int_equal(kt_apply(t->root, &old, &bad[i], &fail), -ERANGE);
		assert_failure_untouched(&fail);
		for (int k = 0; k < KT_NKEYS; k++)
			assert_holds(t, k, UNTOUCHED);
	}
}

/* The values the kernel had may be out of range; they are still restored as they were. */
static void
test_apply_restores_odd_old_values(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values old = { KT_ALL, { -5, 0, 9 } };
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_failure fail;

	put(t, KT_TIME, "-5\n");
	put(t, KT_INTVL, "0\n");
	make_dir(t, KT_PROBES);
	fill_failure(&fail);
	assert_int_equal(kt_apply(t->root, &old, &want, &fail), -EISDIR);
	assert_int_equal(fail.key, KT_PROBES);
	assert_int_equal(fail.restored, KT_BIT(KT_TIME) | KT_BIT(KT_INTVL));
	assert_int_equal(fail.unrestored, 0);
	assert_holds(t, KT_TIME, "-5\n");
	assert_holds(t, KT_INTVL, "0\n");
}

/* kt_set(): the lock, then kt_apply() on the values read under it. */
static void
fill_values(struct kt_values *v)
{
	memset(v, 0x5a, sizeof(*v));
}

static void
assert_values_untouched(const struct kt_values *v)
{
	struct kt_values same;

	fill_values(&same);
	assert_memory_equal(v, &same, sizeof(same));
}

/* Take a lock on the file of KT_TIME as another ka-tune would. Returns its fd, to close. */
static int
hold_lock(const struct tmptree *t)
{
	char path[PATH_MAX];
	int fd;

	key_file(t, KT_TIME, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	return fd;
}

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The values before come back, read under the lock, which is free again afterwards. */
static void
test_set(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values want = { KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 600, 0, 5 } };
	struct kt_values old;
	struct kt_failure fail;

	put(t, KT_TIME, "100\n");
	put(t, KT_INTVL, UNTOUCHED);
	fill_values(&old);
	fill_failure(&fail);
	assert_int_equal(kt_set(t->root, &want, 1000, &old, &fail), 0);
	assert_failure_untouched(&fail);
	assert_int_equal(old.mask, want.mask);
	assert_int_equal(old.val[KT_TIME], 100);
	assert_int_equal(old.val[KT_PROBES], 9);
	assert_holds(t, KT_TIME, "600\n");
	assert_holds(t, KT_INTVL, UNTOUCHED);
	assert_holds(t, KT_PROBES, "5\n");
	assert_int_equal(close(hold_lock(t)), 0);
}

/* While another holds the lock, nothing is read or written, and the wait ends in time. */
static void
test_set_lock_held(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_values old;
	struct kt_failure fail;
	long long start;
	int fd = hold_lock(t);

	fill_values(&old);
	fill_failure(&fail);
	start = now_ms();
	assert_int_equal(kt_set(t->root, &want, 200, &old, &fail), -ETIMEDOUT);
	assert_true(now_ms() - start >= 200);
	assert_true(now_ms() - start < 5000);
	assert_int_equal(fail.stage, KT_STAGE_LOCK);
	assert_int_equal(fail.key, KT_TIME);
	assert_int_equal(fail.err, -ETIMEDOUT);
	assert_int_equal(fail.restored | fail.unrestored, 0);
	assert_values_untouched(&old);
	assert_holds(t, KT_TIME, "7200\n");
	assert_holds(t, KT_INTVL, "75\n");
	assert_int_equal(close(fd), 0);
	assert_int_equal(kt_set(t->root, &want, 200, &old, &fail), 0);
	assert_holds(t, KT_INTVL, "30\n");
}

/* Without the file to lock, or with a key that cannot be read, nothing is written. */
static void
test_set_lock_read_fail(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct kt_values old;
	struct kt_failure fail;

	put(t, KT_PROBES, "nine\n");
	fill_values(&old);
	fill_failure(&fail);
	assert_int_equal(kt_set(t->root, &want, 200, &old, &fail), -EBADMSG);
	assert_int_equal(fail.stage, KT_STAGE_READ);
	assert_int_equal(fail.key, KT_PROBES);
	assert_int_equal(fail.err, -EBADMSG);
	assert_values_untouched(&old);
	assert_holds(t, KT_TIME, "7200\n");

	remove_key(t, KT_TIME);
	fill_failure(&fail);
	assert_int_equal(kt_set(t->root, &want, 200, &old, &fail), -ENOENT);
	assert_int_equal(fail.stage, KT_STAGE_LOCK);
	assert_int_equal(fail.key, KT_TIME);
	assert_int_equal(fail.err, -ENOENT);
	assert_values_untouched(&old);
	assert_holds(t, KT_INTVL, "75\n");
}

/* A failed write is rolled back under the lock, and the values before come back too. */
static void
test_set_rollback(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values want = { KT_ALL, { 600, 30, 5 } };
	struct tmptree_caps caps;
	struct kt_values old;
	struct kt_failure fail;
	char path[PATH_MAX];
	int dropped, r;

	put(t, KT_INTVL, "60\n");
	key_file(t, KT_PROBES, path, sizeof(path));
	assert_int_equal(chmod(path, 0444), 0);		/* readable, not writable */
	fill_values(&old);
	fill_failure(&fail);
	dropped = tmptree_dac_drop(&caps);
	r = kt_set(t->root, &want, 200, &old, &fail);
	if (dropped)
		tmptree_dac_restore(&caps);
	assert_int_equal(r, -EACCES);
	assert_int_equal(fail.stage, KT_STAGE_WRITE);
	assert_int_equal(fail.key, KT_PROBES);
	assert_int_equal(fail.restored, KT_BIT(KT_TIME) | KT_BIT(KT_INTVL));
	assert_int_equal(fail.unrestored, 0);
	assert_int_equal(old.val[KT_TIME], 7200);
	assert_int_equal(old.val[KT_INTVL], 60);
	assert_int_equal(old.val[KT_PROBES], 9);
	assert_holds(t, KT_TIME, "7200\n");
	assert_holds(t, KT_INTVL, "60\n");
	assert_holds(t, KT_PROBES, "9\n");
	assert_int_equal(close(hold_lock(t)), 0);
}

/* A value out of range is refused before the lock is even taken. */
static void
test_set_out_of_range(void **state)
{
	const struct tmptree *t = *state;
	const struct kt_values want = { KT_ALL, { 600, 0, 5 } };
	struct kt_values old;
	struct kt_failure fail;
	int fd = hold_lock(t);

	fill_values(&old);
	fill_failure(&fail);
	assert_int_equal(kt_set(t->root, &want, 5000, &old, &fail), -ERANGE);
	assert_failure_untouched(&fail);
	assert_values_untouched(&old);
	assert_holds(t, KT_TIME, "7200\n");
	assert_int_equal(close(fd), 0);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, tmptree_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read_good),
		T(test_read_out_of_range_as_is),
		T(test_read_garbage),
		T(test_read_too_long),
		T(test_read_missing),
		T(test_read_directory),
		cmocka_unit_test(test_read_write_long_root),
		T(test_write_exact),
		T(test_write_any_int),
		T(test_write_missing),
		T(test_write_directory),
		T(test_apply_all),
		T(test_apply_only_changes),
		T(test_apply_unchanged_not_rewritten),
		T(test_apply_nothing_to_do),
		T(test_apply_mask),
		T(test_apply_rollback),
		T(test_apply_rollback_last),
		T(test_apply_fail_first),
		T(test_apply_rollback_skips_unchanged),
		T(test_apply_out_of_range),
		T(test_apply_restores_odd_old_values),
		T(test_set),
		T(test_set_lock_held),
		T(test_set_lock_read_fail),
		T(test_set_rollback),
		T(test_set_out_of_range),
	};

	return cmocka_run_group_tests_name("kt_proc", tests, NULL, NULL);
}
