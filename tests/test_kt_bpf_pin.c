/* test_kt_bpf_pin.c: unit tests for kt_bpf_pin.c, ka-tune's directory in the BPF file system:
 * refused where no bpffs is (no privilege needed); and, as root, in a bpffs of the test's own,
 * mounted in a private mount namespace: made 0700, trusted only so, locked, and a pin that is
 * not ka-tune's never taken for one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* Where no bpffs is, nothing is made, and listing finds nothing. */
static void
test_no_bpffs(void **state)
{
	const struct tmptree *t = *state;
	struct kt_bpf_entry *list = (struct kt_bpf_entry *)1;
	char dir[PATH_MAX];
	size_t n = 7;
	int fd = -7;

	tmptree_path(t->root, "ka-tune", dir, sizeof(dir));
	assert_int_equal(kt_pins_open(dir, KT_PINS_CREATE | KT_PINS_LOCK, &fd), -ENOMEDIUM);
	assert_int_equal(fd, -7);
	assert_int_equal(access(dir, F_OK), -1);
	tmptree_path(t->root, "missing/ka-tune", dir, sizeof(dir));
	assert_int_equal(kt_pins_open(dir, KT_PINS_CREATE, &fd), -ENOMEDIUM);
	assert_int_equal(kt_pins_open("ka-tune", 0, &fd), -EINVAL);
	assert_int_equal(kt_bpf_list(dir, &list, &n), 0);
	assert_null(list);
	assert_int_equal(n, 0);
}

static void
test_pin_path(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(kt_pin_path("/sys/fs/bpf/ka-tune", 12345, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/bpf/ka-tune/cg-12345");
	assert_int_equal(kt_pin_path("/sys/fs/bpf/ka-tune", 123456, buf, 29), -ENAMETOOLONG);
}

/*
 * As root: a private mount namespace for this process, and a bpffs of its own in the tree,
 * mounted as systemd mounts /sys/fs/bpf (mode 0700). Returns 0, or skips the test.
 */
static void
own_bpffs(const struct tmptree *t, char *dir, size_t len)
{
	char fs[PATH_MAX];

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		skip();
	tmptree_mkdirs(t->root, "bpf");
	tmptree_path(t->root, "bpf", fs, sizeof(fs));
	if (mount("bpf", fs, "bpf", 0, "mode=0700") < 0)
		skip();
	tmptree_path(t->root, "bpf/ka-tune", dir, len);
}

/* Made 0700 when asked, locked against a second ka-tune, and trusted only while 0700. */
static void
test_dir(void **state)
{
	const struct tmptree *t = *state;
	char dir[PATH_MAX], fs[PATH_MAX];
	struct stat st;
	int fd, other;

	own_bpffs(t, dir, sizeof(dir));
	assert_int_equal(kt_pins_open(dir, 0, &fd), -ENOENT);
	assert_int_equal(kt_pins_open(dir, KT_PINS_CREATE | KT_PINS_LOCK, &fd), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	other = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	(void)close(fd);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	(void)close(other);

	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(kt_pins_open(dir, 0, &fd), -EUCLEAN);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(chown(dir, 65534, 0), 0);
	assert_int_equal(kt_pins_open(dir, KT_PINS_CREATE, &fd), -EUCLEAN);
	assert_int_equal(chown(dir, 0, 0), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(symlink("/tmp", dir), 0);	/* never followed */
	assert_int_equal(kt_pins_open(dir, KT_PINS_CREATE, &fd), -ENOTDIR);
	tmptree_path(t->root, "bpf", fs, sizeof(fs));
	assert_int_equal(umount(fs), 0);
}

/* A pin named like ka-tune's that holds something else: never opened as ka-tune's link,
 * left out of the list, never pruned. */
static void
test_foreign_pin(void **state)
{
	const struct tmptree *t = *state;
	char dir[PATH_MAX], path[PATH_MAX], fs[PATH_MAX];
	struct kt_bpf_entry *list;
	struct kt_link l;
	unsigned int pruned = 7;
	size_t n;
	int fd, map;

	own_bpffs(t, dir, sizeof(dir));
	assert_int_equal(kt_pins_open(dir, KT_PINS_CREATE, &fd), 0);
	map = kt_sys_map_create(BPF_MAP_TYPE_ARRAY, 8, 1, 0, "kt_test");
	assert_true(map >= 0);
	assert_int_equal(kt_pin_path(dir, 5, path, sizeof(path)), 0);
	assert_int_equal(kt_sys_pin(map, path), 0);
	(void)close(map);
	assert_int_equal(kt_link_open(path, &l), -EEXIST);
	tmptree_path(t->root, "bpf/ka-tune/cg-6", path, sizeof(path));
	assert_int_equal(kt_link_open(path, &l), -ENOENT);
	assert_int_equal(kt_bpf_list(dir, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(kt_pins_prune(fd, dir, NULL, 0, &pruned), 0);
	assert_int_equal(pruned, 0);
	tmptree_path(t->root, "bpf/ka-tune/cg-5", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	(void)close(fd);
	tmptree_path(t->root, "bpf", fs, sizeof(fs));
	assert_int_equal(umount(fs), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_bpffs, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_pin_path),
		cmocka_unit_test_setup_teardown(test_dir, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_pin, tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
