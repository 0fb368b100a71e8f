/* test_kt_cgroup.c: unit tests for kt_cgroup.c: the cgroup2 mount found in mount tables of
 * every shape, cgroups opened (the real mount, read only) and refused, and the walk over a
 * cgroup tree and its processes, on temp trees laid out like one. No privilege needed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* kt_cgroup_mount() on a mount table holding text; its result, the mount in buf. */
static int
mount_of(const struct tmptree *t, const char *text, char *buf, size_t len)
{
	char path[PATH_MAX];

	tmptree_put(t->root, "mountinfo", text);
	tmptree_path(t->root, "mountinfo", path, sizeof(path));
	return kt_cgroup_mount(path, buf, len);
}

/* Debian 12 with systemd's hybrid hierarchy: v1 controllers, cgroup2 under unified/. */
static const char hybrid[] =
    "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw\n";

static void
test_mount_hybrid(void **state)
{
	char buf[PATH_MAX];

	assert_int_equal(mount_of(*state, hybrid, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/unified");
}

static void
test_mount_unified(void **state)
{
	char buf[PATH_MAX];

	assert_int_equal(mount_of(*state, "29 23 0:26 / /sys/fs/cgroup rw,nosuid,relatime shared:4 "
	    "- cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup");
}

/* A subtree bind-mounted first loses to the whole hierarchy, and that to no earlier one; a
 * mount point's octal escapes are undone; a subtree alone is taken. */
static void
test_mount_whole_wins(void **state)
{
	char buf[PATH_MAX];

	assert_int_equal(mount_of(*state,
	    "50 23 0:26 /system.slice /run/x rw - cgroup2 cgroup2 rw\n"
	    "51 23 0:26 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n"
	    "52 23 0:26 / /later rw - cgroup2 cgroup2 rw\n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/mnt/cg two");
	assert_int_equal(mount_of(*state,
	    "50 23 0:26 /system.slice /run/x rw - cgroup2 cgroup2 rw\n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/x");
}

/* No cgroup2 line (a "cgroup2" elsewhere in a line does not count), a short buffer, no file:
 * errors, and buf untouched. */
static void
test_mount_none(void **state)
{
	char buf[8] = "keep";

	assert_int_equal(mount_of(*state, "32 31 0:29 / /sys/fs/cgroup2 rw - cgroup cgroup rw\n"
	    "bad line\n\n33 31 0:29 / /x rw - tmpfs cgroup2 rw", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "keep");
	assert_int_equal(mount_of(*state, hybrid, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_string_equal(buf, "keep");
	assert_int_equal(kt_cgroup_mount("/nonexistent/mountinfo", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "keep");
}

/* The real cgroup2 mount, only opened: its root is "" with an id; what is not a cgroup below
 * it is refused, each with its own error, and *ret is untouched. */
static void
test_open(void **state)
{
	const struct tmptree *t = *state;
	char mount[PATH_MAX], fifo[PATH_MAX];
	struct kt_cgroup cg, keep;

	if (kt_cgroup_mount(KT_MOUNTINFO, mount, sizeof(mount)) < 0)
		skip();
	assert_int_equal(kt_cgroup_open(mount, mount, &cg), 0);
	assert_string_equal(cg.rel, "");
	assert_true(cg.id != 0);
	kt_cgroup_close(&cg);
	kt_cgroup_close(&cg);
	assert_int_equal(cg.fd, -1);

	tmptree_fifo(t->root, "fifo");
	tmptree_path(t->root, "fifo", fifo, sizeof(fifo));
	memset(&keep, 0x55, sizeof(keep));
	cg = keep;
	assert_int_equal(kt_cgroup_open(mount, t->root, &cg), -EMEDIUMTYPE);
	assert_int_equal(kt_cgroup_open(mount, fifo, &cg), -ENOTDIR);	/* and did not block */
	assert_int_equal(kt_cgroup_open(mount, "no-such-cgroup.unit-test", &cg), -ENOENT);
	assert_int_equal(kt_cgroup_open(mount, "", &cg), -EINVAL);
	assert_int_equal(kt_cgroup_open(mount, "cgroup.procs", &cg), -ENOTDIR);
	assert_int_equal(kt_cgroup_open("/elsewhere", mount, &cg), -EXDEV);
	assert_memory_equal(&cg, &keep, sizeof(cg));
}

/* Open the directory rel of the tree, as a cgroup's would be. */
static int
open_dir(const struct tmptree *t, const char *rel)
{
	char path[PATH_MAX];
	int fd;

	tmptree_path(t->root, rel, path, sizeof(path));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Counts the pids a walk hands it, adds them up, and fails on the one in fail_at. */
struct seen {
	size_t n;
	long sum;
	int self;
	int fail_at;
};

static int
note(int pid, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->sum += pid;
	s->self |= pid == getpid();
	return pid == s->fail_at ? -ECANCELED : 0;
}

/* A cgroup's path below the mount, from the text alone: as kt_cgroup_open() writes it. */
static void
test_rel(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "a.slice//b.service/", buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "a.slice/b.service");
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup/", "/sys/fs/cgroup/x/y", buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "x/y");
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "/sys/fs/cgroup", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	strcpy(buf, "keep");
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "/sys/fs/cgroupx/a", buf, sizeof(buf)),
	    -EXDEV);
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "/tmp", buf, sizeof(buf)), -EXDEV);
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "a/../b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "./a", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(kt_cgroup_rel("/sys/fs/cgroup", "", buf, sizeof(buf)), -EINVAL);
	assert_string_equal(buf, "keep");
	assert_int_equal(kt_cgroup_rel("/m", "0123456789/0123456789/0123456789", buf, sizeof(buf)),
	    -ENAMETOOLONG);
	assert_int_equal(kt_cgroup_rel("/m", "0123456789/0123456789/012345678", buf, sizeof(buf)),
	    0);
}

/* A tree laid out like a cgroup's: each directory's cgroup.procs is read, depth first. */
static void
test_procs_tree(void **state)
{
	const struct tmptree *t = *state;
	struct seen s = { 0, 0, 0, 0 };
	size_t n = 12345;
	int fd;

	tmptree_mkdirs(t->root, "cg/a/b");
	tmptree_mkdirs(t->root, "cg/c");
	tmptree_put(t->root, "cg/cgroup.procs", "1\n20\n");
	tmptree_put(t->root, "cg/a/cgroup.procs", "300\n");
	tmptree_put(t->root, "cg/a/b/cgroup.procs", "");
	tmptree_put(t->root, "cg/c/cgroup.procs", "4000\n");
	tmptree_mkdirs(t->root, "cg/gone");	/* removed meanwhile: no cgroup.procs */
	fd = open_dir(t, "cg");
	assert_int_equal(kt_cgroup_procs(fd, note, &s, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.sum, 4321);

	/* fn's error stops the walk and comes back; *ret_n stays. */
	n = 12345;
	s = (struct seen){ 0, 0, 0, 300 };
	assert_int_equal(kt_cgroup_procs(fd, note, &s, &n), -ECANCELED);
	assert_int_equal(n, 12345);

	/* Anything but pids in a cgroup.procs. */
	tmptree_put(t->root, "cg/c/cgroup.procs", "4000\nx\n");
	assert_int_equal(kt_cgroup_procs(fd, note, &s, NULL), -EBADMSG);
	tmptree_put(t->root, "cg/c/cgroup.procs", "0\n");
	assert_int_equal(kt_cgroup_procs(fd, note, &s, NULL), -EBADMSG);
	(void)close(fd);
}

/* Collects the paths a walk visits, in order, each in brackets. */
static int
visit(int dirfd, const char *sub, void *arg)
{
	char *list = arg;

	assert_true(dirfd >= 0);
	(void)snprintf(list + strlen(list), 256 - strlen(list), "[%s]", sub);
	return 0;
}

/* Parents before children, sub as the path from the start, "" for the start itself. */
static void
test_walk(void **state)
{
	const struct tmptree *t = *state;
	char list[256] = "";
	int fd;

	tmptree_mkdirs(t->root, "w/a/b");
	fd = open_dir(t, "w");
	assert_int_equal(kt_cgroup_walk(fd, visit, list), 0);
	assert_string_equal(list, "[][a][a/b]");
	(void)close(fd);
}

/* The real hierarchy, read only: this process is in it. */
static void
test_procs_real(void **state)
{
	struct seen s = { 0, 0, 0, 0 };
	char mount[PATH_MAX];
	struct kt_cgroup cg;
	size_t n;

	(void)state;
	if (kt_cgroup_mount(KT_MOUNTINFO, mount, sizeof(mount)) < 0 ||
	    kt_cgroup_open(mount, mount, &cg) < 0)
		skip();
	assert_int_equal(kt_cgroup_procs(cg.fd, note, &s, &n), 0);
	assert_int_equal(n, s.n);
	assert_true(s.self);
	kt_cgroup_close(&cg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mount_hybrid, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_mount_unified,
		    tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_mount_whole_wins,
		    tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_mount_none, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_open, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_rel),
		cmocka_unit_test_setup_teardown(test_procs_tree, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_walk, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_procs_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
