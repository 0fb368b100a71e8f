/* test_kt_netns.c: unit tests for kt_netns.c: opening network namespaces without opening anything
 * else, and listing them from temp trees laid out like /run/netns and /proc. */
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
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

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
	struct kt_netns_unseen unseen = { 12345, 0 };
	struct stat own;
	int fd = FD_SENTINEL;

	(void)state;
	own_netns(&own);
	assert_int_equal(kt_netns_list(KT_NETNS_DIR, KT_PROC_DIR, &list, &n, &unseen), 0);
	assert_non_null(list);
	assert_true(n >= 1);
	assert_true(unseen.n != 12345);
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

	assert_int_equal(kt_netns_reopen(KT_NETNS_DIR, KT_PROC_DIR, own_entry, &fd), 0);
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
	assert_int_equal(kt_netns_reopen(KT_NETNS_DIR, KT_PROC_DIR, &ns, &fd), -ESRCH);
	assert_int_equal(fd, FD_SENTINEL);

	snprintf(ns.name, sizeof(ns.name), "nosuch-ka-tune-test");
	assert_int_equal(kt_netns_reopen(KT_NETNS_DIR, KT_PROC_DIR, &ns, &fd), -ESRCH);
	assert_int_equal(fd, FD_SENTINEL);

	/* The pid is there, but its namespace is not the one listed. */
	ns = (struct kt_netns){ .dev = own.st_dev, .ino = own.st_ino + 1, .pid = getpid() };
	assert_int_equal(kt_netns_reopen(KT_NETNS_DIR, KT_PROC_DIR, &ns, &fd), -ESRCH);
	assert_int_equal(fd, FD_SENTINEL);
	assert_int_equal(kt_netns_is_current(&ns), 0);
	assert_int_equal(next_fd(), before);

	ns.ino = own.st_ino;
	assert_int_equal(kt_netns_reopen(KT_NETNS_DIR, KT_PROC_DIR, &ns, &fd), 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);
	assert_int_equal(kt_netns_is_current(&ns), 1);
}

/* A test that would hang (a blocking open) is killed after this many seconds, and so fails. */
#define HANG_LIMIT	10

/* Watch path for being opened; returns the inotify fd to hand to assert_not_opened(). */
static int
watch_open(const char *path)
{
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, path, IN_OPEN) >= 0);
	return in;
}

/* The file watched by in was not opened (O_PATH does not count: it opens nothing). */
static void
assert_not_opened(int in, const char *what)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (read(in, buf, sizeof(buf)) > 0)
		fail_msg("%s was opened", what);
	assert_int_equal(close(in), 0);
}

/* kt_netns_open(path) fails with err without opening path, and within HANG_LIMIT seconds. */
static void
expect_untouched(const char *path, int err)
{
	int in = watch_open(path);

	alarm(HANG_LIMIT);
	expect_open(path, err);
	alarm(0);
	assert_not_opened(in, path);
}

/* A FIFO would block a reader's open() until a writer came; a device acts on being opened. */
static void
test_open_fifo_device_file(void **state)
{
	const struct tmptree *t = *state;
	char path[PATH_MAX];

	tmptree_fifo(t->root, "fifo");
	tmptree_path(t->root, "fifo", path, sizeof(path));
	expect_untouched(path, -ENOTNAM);

	tmptree_path(t->root, "null", path, sizeof(path));
	if (mknod(path, S_IFCHR | 0644, makedev(1, 3)) == 0)
		expect_untouched(path, -ENOTNAM);
	else
		assert_true(errno == EPERM);	/* not root: no device of our own to watch */

	tmptree_put(t->root, "file", "4026531840\n");
	tmptree_path(t->root, "file", path, sizeof(path));
	expect_untouched(path, -ENOTNAM);
	expect_untouched(t->root, -ENOTNAM);
}

/* A symbolic link to a namespace leads to it, as a bind mount does. */
static void
test_open_link(void **state)
{
	const struct tmptree *t = *state;
	char path[PATH_MAX];
	int fd = FD_SENTINEL;

	tmptree_link(t->root, "link", "/proc/self/ns/net");
	tmptree_path(t->root, "link", path, sizeof(path));
	assert_int_equal(kt_netns_open(path, &fd), 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);
	tmptree_link(t->root, "uts", "/proc/self/ns/uts");
	tmptree_path(t->root, "uts", path, sizeof(path));
	expect_open(path, -ENOTNAM);
}

/* Whether a spec is a path or a name, the rule of ip(8): a '/' makes it a path. */
static void
test_is_path(void **state)
{
	(void)state;
	assert_true(kt_netns_is_path("../x"));
	assert_true(kt_netns_is_path("./x"));
	assert_true(kt_netns_is_path("/run/netns/blue"));
	assert_true(kt_netns_is_path("x/"));
	assert_false(kt_netns_is_path("blue"));
	assert_false(kt_netns_is_path(".."));
	assert_false(kt_netns_is_path(""));
	expect_open("../nonexistent-ka-tune-test", -ENOENT);
}

/* List the tree's "netns" and "proc" directories, failing the test on an error. */
static void
list_tree(const struct tmptree *t, struct kt_netns **list, size_t *n,
    struct kt_netns_unseen *unseen)
{
	char netns[PATH_MAX], proc[PATH_MAX];

	tmptree_path(t->root, "netns", netns, sizeof(netns));
	tmptree_path(t->root, "proc", proc, sizeof(proc));
	alarm(HANG_LIMIT);
	assert_int_equal(kt_netns_list(netns, proc, list, n, unseen), 0);
	alarm(0);
}

/*
 * A tree like /run/netns and /proc: two names and two processes for one namespace, next to
 * files that are none (a FIFO among them, which must not hang the listing) and entries that
 * are no process. The one namespace is listed once, with its first name and lowest pid.
 */
static void
test_list_tree(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netns_unseen unseen = { 99, 99 };
	struct kt_netns *list = NULL;
	struct stat own;
	size_t n = 0;

	own_netns(&own);
	tmptree_mkdirs(t->root, "netns");
	tmptree_link(t->root, "netns/web", "/proc/self/ns/net");
	tmptree_link(t->root, "netns/db", "/proc/self/ns/net");
	tmptree_link(t->root, "netns/uts", "/proc/self/ns/uts");
	tmptree_fifo(t->root, "netns/fifo");
	tmptree_put(t->root, "netns/stale", "");
	tmptree_mkdirs(t->root, "proc/123/ns");
	tmptree_mkdirs(t->root, "proc/45/ns");
	tmptree_mkdirs(t->root, "proc/7/ns");
	tmptree_mkdirs(t->root, "proc/8/ns");
	tmptree_mkdirs(t->root, "proc/99999999/ns");
	tmptree_mkdirs(t->root, "proc/sys");
	tmptree_link(t->root, "proc/123/ns/net", "/proc/self/ns/net");
	tmptree_link(t->root, "proc/45/ns/net", "/proc/self/ns/net");
	tmptree_link(t->root, "proc/99999999/ns/net", "/proc/self/ns/net");
	tmptree_fifo(t->root, "proc/8/ns/net");
	tmptree_link(t->root, "proc/self", "123");

	list_tree(t, &list, &n, &unseen);
	assert_int_equal(n, 1);
	assert_true(list[0].dev == own.st_dev && list[0].ino == own.st_ino);
	assert_string_equal(list[0].name, "db");
	assert_int_equal(list[0].pid, 45);
	assert_int_equal(unseen.n, 0);
	assert_int_equal(unseen.pid, 0);
	free(list);
}

/* No netns directory: no names, no error; no proc directory: an error, nothing set. */
static void
test_list_missing_dirs(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netns_unseen unseen = { 99, 99 };
	struct kt_netns *list = NULL;
	char netns[PATH_MAX], proc[PATH_MAX];
	size_t n = 12345;

	tmptree_mkdirs(t->root, "proc/1/ns");
	tmptree_link(t->root, "proc/1/ns/net", "/proc/self/ns/net");
	list_tree(t, &list, &n, &unseen);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "");
	assert_int_equal(list[0].pid, 1);
	free(list);

	list = NULL;
	n = 12345;
	unseen.n = 99;
	tmptree_path(t->root, "netns", netns, sizeof(netns));
	tmptree_path(t->root, "nosuch", proc, sizeof(proc));
	assert_int_equal(kt_netns_list(netns, proc, &list, &n, &unseen), -ENOENT);
	assert_null(list);
	assert_int_equal(n, 12345);
	assert_int_equal(unseen.n, 99);
}

/* Processes whose namespace may not be looked at are counted, with the lowest pid. */
static void
test_list_unseen(void **state)
{
	const struct tmptree *t = *state;
	struct tmptree_caps caps;
	struct kt_netns_unseen unseen = { 99, 99 };
	struct kt_netns *list = NULL;
	char path[PATH_MAX];
	size_t n = 0;
	int dropped;

	static const char *const hidden[] = { "proc/300/ns", "proc/42/ns", "proc/1000/ns" };

	tmptree_mkdirs(t->root, "proc/5/ns");
	tmptree_link(t->root, "proc/5/ns/net", "/proc/self/ns/net");
	for (size_t i = 0; i < NELEM(hidden); i++) {
		tmptree_mkdirs(t->root, hidden[i]);
		tmptree_path(t->root, hidden[i], path, sizeof(path));
		assert_int_equal(chmod(path, 0), 0);
	}
	dropped = tmptree_dac_drop(&caps);
	list_tree(t, &list, &n, &unseen);
	if (dropped)
		tmptree_dac_restore(&caps);
	for (size_t i = 0; i < NELEM(hidden); i++) {
		tmptree_path(t->root, hidden[i], path, sizeof(path));
		assert_int_equal(chmod(path, 0755), 0);
	}
	assert_int_equal(n, 1);
	assert_int_equal(list[0].pid, 5);
	assert_int_equal(unseen.n, 3);
	assert_int_equal(unseen.pid, 42);
	free(list);
}

/* A listed namespace is reopened below the directories it was listed from. */
static void
test_reopen_tree(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netns_unseen unseen;
	struct kt_netns *list = NULL, ns;
	char netns[PATH_MAX], proc[PATH_MAX];
	size_t n = 0;
	int fd = FD_SENTINEL;

	tmptree_mkdirs(t->root, "netns");
	tmptree_mkdirs(t->root, "proc/77/ns");
	tmptree_link(t->root, "netns/web", "/proc/self/ns/net");
	tmptree_link(t->root, "proc/77/ns/net", "/proc/self/ns/net");
	list_tree(t, &list, &n, &unseen);
	assert_int_equal(n, 1);
	ns = list[0];
	free(list);
	tmptree_path(t->root, "netns", netns, sizeof(netns));
	tmptree_path(t->root, "proc", proc, sizeof(proc));

	assert_int_equal(kt_netns_reopen(netns, proc, &ns, &fd), 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);

	ns.name[0] = '\0';	/* by its pid */
	fd = FD_SENTINEL;
	assert_int_equal(kt_netns_reopen(netns, proc, &ns, &fd), 0);
	assert_true(is_own(fd));
	assert_int_equal(close(fd), 0);

	/* Its name now leads to a FIFO: not the namespace listed, and no hang. */
	tmptree_path(t->root, "netns/web", netns, sizeof(netns));
	assert_int_equal(unlink(netns), 0);
	tmptree_fifo(t->root, "netns/web");
	memcpy(ns.name, "web", 4);
	fd = FD_SENTINEL;
	tmptree_path(t->root, "netns", netns, sizeof(netns));
	alarm(HANG_LIMIT);
	assert_int_equal(kt_netns_reopen(netns, proc, &ns, &fd), -ENOTNAM);
	alarm(0);
	assert_int_equal(fd, FD_SENTINEL);
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
		cmocka_unit_test_setup_teardown(test_open_fifo_device_file,
		    tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_open_link, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_is_path),
		cmocka_unit_test_setup_teardown(test_list_tree, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_list_missing_dirs,
		    tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_list_unseen, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_tree, tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests_name("kt_netns", tests, NULL, NULL);
}
