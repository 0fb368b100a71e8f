/* test_kt_root.c: unit tests for kt_root.c (paths of an image tree resolved inside it): the walk
 * that stands in for openat2(RESOLVE_IN_ROOT) must reach what openat2 reaches, on a temp tree. */
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
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "no_openat2.h"
#include "tmptree.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The image lives in img/ of the test's tree; outside/ is what no path of it may reach. */
struct tree {
	struct tmptree *t;
	int rootfd;
};

/* What one open reached: an error, or the identity of the file and whether it is a link. */
struct reached {
	int err;
	dev_t dev;
	ino_t ino;
	int link;
};

static const struct {
	const char *path;
	int flags;
} cases[] = {
	{ "etc/sysctl.d/a.conf", O_RDONLY },
	{ "/etc/sysctl.d/a.conf", O_RDONLY },
	{ "etc/sysctl.d/../sysctl.d/./a.conf", O_RDONLY },
	{ "etc//sysctl.d///a.conf", O_PATH },
	{ "etc/abs/a.conf", O_RDONLY },
	{ "etc/rel/a.conf", O_RDONLY },
	{ "etc/rel/../sysctl.d/a.conf", O_RDONLY },
	{ "etc/up/a.conf", O_RDONLY },
	{ "etc/top/etc/sysctl.d/a.conf", O_RDONLY },
	{ "etc/file", O_RDONLY },
	{ "etc/file", O_RDONLY | O_NOFOLLOW },
	{ "etc/file", O_PATH | O_NOFOLLOW },
	{ "etc/file/", O_RDONLY },
	{ "etc/sysctl.d/a.conf/x", O_RDONLY },
	{ "etc/sysctl.d/a.conf/", O_PATH },
	{ "etc/loop", O_RDONLY },
	{ "etc/loop", O_PATH | O_NOFOLLOW },
	{ "etc/loop/a.conf", O_RDONLY },
	{ "etc/dangling", O_RDONLY },
	{ "etc/dangling", O_PATH | O_NOFOLLOW },
	{ "etc/out/secret", O_RDONLY },
	{ "../../outside/secret", O_RDONLY },
	{ "/../outside/secret", O_RDONLY },
	{ "etc/sysctl.d", O_RDONLY | O_DIRECTORY },
	{ "etc/sysctl.d/", O_RDONLY | O_DIRECTORY },
	{ "etc/sysctl.d/a.conf", O_RDONLY | O_DIRECTORY },
	{ "etc/rel", O_RDONLY | O_DIRECTORY },
	{ "", O_RDONLY | O_DIRECTORY },
	{ "/", O_PATH },
	{ "..", O_PATH },
	{ "nosuch/a.conf", O_RDONLY },
	{ "chain/l0", O_RDONLY },	/* 40 links: the most a resolution may follow */
	{ "chain/m0", O_RDONLY },	/* 41 links */
};

/* A chain of n links prefix0 -> prefix1 -> ... -> the file a.conf. */
static void
chain(const char *root, const char *prefix, int n)
{
	char rel[64], target[64];

	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "chain/%s%d", prefix, i);
		if (i + 1 < n)
			snprintf(target, sizeof(target), "%s%d", prefix, i + 1);
		else
			snprintf(target, sizeof(target), "/etc/sysctl.d/a.conf");
		tmptree_link(root, rel, target);
	}
}

static int
setup(void **state)
{
	struct tree *tr = calloc(1, sizeof(*tr));
	char img[PATH_MAX];

	if (!tr || !(tr->t = tmptree_new("test_kt_root"))) {
		free(tr);
		return -1;
	}
	*state = tr;
	tmptree_mkdirs(tr->t->root, "img/etc/sysctl.d");
	tmptree_mkdirs(tr->t->root, "img/chain");
	tmptree_mkdirs(tr->t->root, "outside");
	tmptree_put(tr->t->root, "img/etc/sysctl.d/a.conf", "a\n");
	tmptree_put(tr->t->root, "outside/secret", "secret\n");
	tmptree_path(tr->t->root, "img", img, sizeof(img));
	tmptree_link(img, "etc/abs", "/etc/sysctl.d");
	tmptree_link(img, "etc/rel", "sysctl.d");
	tmptree_link(img, "etc/up", "../../../../etc/sysctl.d");
	tmptree_link(img, "etc/top", "/../../..");
	tmptree_link(img, "etc/file", "sysctl.d/a.conf");
	tmptree_link(img, "etc/loop", "loop");
	tmptree_link(img, "etc/dangling", "nowhere");
	tmptree_link(img, "etc/out", "../../outside");
	chain(img, "l", 40);
	chain(img, "m", 41);
	tr->rootfd = open(img, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return tr->rootfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	struct tree *tr = *state;
	int r = tmptree_free(tr->t);

	(void)close(tr->rootfd);
	free(tr);
	return r;
}

static struct reached
reach(int r, int fd)
{
	struct reached got = { .err = r };
	struct stat st;

	if (r < 0)
		return got;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	got.dev = st.st_dev;
	got.ino = st.st_ino;
	got.link = S_ISLNK(st.st_mode);
	assert_int_equal(close(fd), 0);
	return got;
}

/* Where openat2(RESOLVE_IN_ROOT) gets with path and flags. */
static struct reached
by_openat2(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		skip();
	return reach(fd < 0 ? -errno : 0, (int)fd);
}

static struct reached
by_walk(int rootfd, const char *path, int flags)
{
	int fd = -1, r = kt_root_walk(rootfd, path, flags, &fd);

	return reach(r, fd);
}

static void
assert_same(const char *how, const char *path, struct reached want, struct reached got)
{
	if (want.err != got.err || want.dev != got.dev || want.ino != got.ino ||
	    want.link != got.link)
		fail_msg("%s \"%s\": got %d (%ju, link %d), openat2 got %d (%ju, link %d)", how,
		    path, got.err, (uintmax_t)got.ino, got.link, want.err, (uintmax_t)want.ino,
		    want.link);
}

/* The walk reaches, or fails on, what openat2 does, for every case. */
static void
test_walk_like_openat2(void **state)
{
	const struct tree *tr = *state;

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_same("walk", cases[i].path, by_openat2(tr->rootfd, cases[i].path,
		    cases[i].flags), by_walk(tr->rootfd, cases[i].path, cases[i].flags));
}

/* The secret outside the image is never reached, by any case. */
static void
test_never_outside(void **state)
{
	const struct tree *tr = *state;
	struct reached secret;
	char path[PATH_MAX];
	int fd;

	tmptree_path(tr->t->root, "outside/secret", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	secret = reach(fd < 0 ? -errno : 0, fd);
	assert_int_equal(secret.err, 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct reached got = by_walk(tr->rootfd, cases[i].path, cases[i].flags);

		assert_false(got.err == 0 && got.ino == secret.ino && got.dev == secret.dev);
	}
}

/*
 * Where the kernel refuses openat2() (here a seccomp filter, as a container runtime's), the
 * open falls back to the walk and reaches the same files. The child writes what it reached.
 */
static void
test_fallback_without_openat2(void **state)
{
	const struct tree *tr = *state;
	struct reached got[NELEM(cases)];
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ok = no_openat2() == 0 && syscall(SYS_openat2, tr->rootfd, "etc",
		    &(struct open_how){ .flags = O_PATH }, sizeof(struct open_how)) < 0 &&
		    errno == ENOSYS;

		for (size_t i = 0; ok && i < NELEM(cases); i++) {
			int fd = -1, r = kt_root_open(tr->rootfd, cases[i].path, cases[i].flags,
			    &fd);
			struct stat st;

			got[i] = (struct reached){ .err = r };
			if (r == 0 && fstat(fd, &st) == 0)
				got[i] = (struct reached){ 0, st.st_dev, st.st_ino,
					S_ISLNK(st.st_mode) };
		}
		_exit(ok && write(p[1], got, sizeof(got)) == (ssize_t)sizeof(got) ? 0 : 1);
	}
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(read(p[0], got, sizeof(got)), (ssize_t)sizeof(got));
	assert_int_equal(close(p[0]), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (size_t i = 0; i < NELEM(cases); i++)
		assert_same("fallback", cases[i].path, by_openat2(tr->rootfd, cases[i].path,
		    cases[i].flags), got[i]);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_walk_like_openat2),
		T(test_never_outside),
		T(test_fallback_without_openat2),
	};

	return cmocka_run_group_tests_name("kt_root", tests, NULL, NULL);
}
