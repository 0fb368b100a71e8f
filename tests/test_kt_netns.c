/* test_kt_netns.c: unit tests for kt_netns.c (opening and listing network namespaces). */
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define FD_SENTINEL	(-77)

/* The lowest free descriptor: the same before and after a call means it leaked none. */
static int
next_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	return fd;
}

/* Whether a comes before b in the order kt_netns_list() gives: by inode, then device. */
static int
listed_before(const struct kt_netns *a, const struct kt_netns *b)
{
	return a->ino < b->ino || (a->ino == b->ino && a->dev < b->dev);
}

/* The identity of the test's own network namespace. */
static void
own_netns(struct stat *st)
{
	assert_int_equal(stat("/proc/self/ns/net", st), 0);
}

/* Whether fd refers to the test's own network namespace. */
static int
is_own(int fd)
{
	struct stat own, st;

	own_netns(&own);
	assert_int_equal(fstat(fd, &st), 0);
	return st.st_dev == own.st_dev && st.st_ino == own.st_ino;
}

static void
expect_open(const char *spec, int err)
{
	int fd = FD_SENTINEL, before = next_fd();
	int r = kt_netns_open(spec, &fd);

	if (r != err || fd != FD_SENTINEL)
		fail_msg("\"%s\": returned %d and fd %d, want %d and untouched", spec, r, fd, err);
	assert_int_equal(next_fd(), before);
}

static void
test_open_bad_names(void **state)
{
	char name[301];

	(void)state;
	expect_open("", -EINVAL);
	expect_open(".", -EINVAL);
	expect_open("..", -EINVAL);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect_open(name, -ENAMETOOLONG);
	expect_open("nosuch-ka-tune-test", -ENOENT);
	expect_open("/nonexistent-ka-tune-test/ns", -ENOENT);
}

/* A path must lead to a network namespace, not to any file or to another kind of namespace. */
static void
test_open_not_netns(void **state)
{
	(void)state;
	expect_open("/etc/hostname", -ENOTNAM);
	expect_open("/proc/self/ns/uts", -ENOTNAM);
	expect_open("/proc/self/ns/mnt", -ENOTNAM);
	expect_open("/dev/null", -ENOTNAM);
}

static void
test_open_path(void **state)
{
	int fd = FD_SENTINEL, before = next_fd();

	(void)state;
	assert_int_equal(kt_netns_open("/proc/self/ns/net", &fd), 0);
	assert_true(fd >= 0);
	assert_true(is_own(fd));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(close(fd), 0);
	assert_int_equal(next_fd(), before);
}

static void
test_open_pid(void **state)
{
	static const long gone[] = { 0, -1, LONG_MIN, LONG_MAX, 4194305 };
	int fd;

	(void)state;
	for (size_t i = 0; i < NELEM(gone); i++) {
		int before = next_fd();

		fd = FD_SENTINEL;
		assert_int_equal(kt_netns_open_pid(gone[i], &fd), -ESRCH);
		assert_int_equal(fd, FD_SENTINEL);
		assert_int_equal(next_fd(), before);
	}
	fd = FD_SENTINEL;
	assert_int_equal(kt_netns_open_pid(getpid(), &fd), 0);
	assert_true(fd >= 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);
}

/* The list holds the caller's own namespace, once, and is ordered by inode. */
static void
test_list(void **state)
{
	struct kt_netns *list = NULL, *own_entry = NULL;
	size_t n = 0;
	unsigned int unseen = 12345;
	struct stat own;
	int fd = FD_SENTINEL;

	(void)state;
	own_netns(&own);
	assert_int_equal(kt_netns_list(&list, &n, &unseen), 0);
	assert_non_null(list);
	assert_true(n >= 1);
	assert_true(unseen != 12345);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			assert_true(listed_before(&list[i - 1], &list[i]));
		if (list[i].dev == own.st_dev && list[i].ino == own.st_ino) {
			assert_null(own_entry);
			own_entry = &list[i];
		}
		assert_true(list[i].name[0] != '\0' || list[i].pid > 0);
		assert_non_null(memchr(list[i].name, '\0', sizeof(list[i].name)));
	}
	assert_non_null(own_entry);
	assert_true(own_entry->pid > 0 && own_entry->pid <= getpid());

	assert_int_equal(kt_netns_is_current(own_entry), 1);
	for (size_t i = 0; i < n; i++)
		if (&list[i] != own_entry)
			assert_int_equal(kt_netns_is_current(&list[i]), 0);

	assert_int_equal(kt_netns_reopen(own_entry, &fd), 0);
	assert_true(fd >= 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);
	free(list);
}

/* An entry whose process or name is gone, or whose pid now shows another namespace, is gone. */
static void
test_reopen_gone(void **state)
{
	struct kt_netns ns;
	struct stat own;
	int fd, before = next_fd();

	(void)state;
	own_netns(&own);

	ns = (struct kt_netns){ .dev = own.st_dev, .ino = own.st_ino, .pid = 0 };
	fd = FD_SENTINEL;
	assert_int_equal(kt_netns_reopen(&ns, &fd), -ESRCH);
	assert_int_equal(fd, FD_SENTINEL);

	snprintf(ns.name, sizeof(ns.name), "nosuch-ka-tune-test");
	assert_int_equal(kt_netns_reopen(&ns, &fd), -ESRCH);
	assert_int_equal(fd, FD_SENTINEL);

	/* The pid is there, but its namespace is not the one listed. */
	ns = (struct kt_netns){ .dev = own.st_dev, .ino = own.st_ino + 1, .pid = getpid() };
	assert_int_equal(kt_netns_reopen(&ns, &fd), -ESRCH);
	assert_int_equal(fd, FD_SENTINEL);
	assert_int_equal(kt_netns_is_current(&ns), 0);
	assert_int_equal(next_fd(), before);

	ns.ino = own.st_ino;
	assert_int_equal(kt_netns_reopen(&ns, &fd), 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);
	assert_int_equal(kt_netns_is_current(&ns), 1);
}

/* Each error the functions return is explained on its own, for an operator. */
static void
test_strerror(void **state)
{
	static const int errs[] = { -ENOENT, -ESRCH, -ENOTNAM, -EPERM, -EACCES, -EINVAL };

	(void)state;
	for (size_t i = 0; i < NELEM(errs); i++) {
		const char *s = kt_netns_strerror(errs[i]);

		assert_non_null(s);
		assert_true(s[0] != '\0');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, kt_netns_strerror(errs[j]));
	}
	assert_string_equal(kt_netns_strerror(-EIO), strerror(EIO));
	assert_string_equal(kt_netns_strerror(-ENOMEM), strerror(ENOMEM));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_bad_names),
		cmocka_unit_test(test_open_not_netns),
		cmocka_unit_test(test_open_path),
		cmocka_unit_test(test_open_pid),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_reopen_gone),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("kt_netns", tests, NULL, NULL);
}
