/* test_kt_read.c: unit tests for kt_read.c (reading a whole file: bounded, never blocking, never
 * opening a FIFO or a device for reading) on temp trees. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* A text pointer the library never returns, to see that a failure leaves *ret_text alone. */
static char sentinel[] = "sentinel";

/* Read rel below the tree (as a root with KT_READ_IN_ROOT), expecting err; 0 returns the text. */
static char *
read_in(const struct tmptree *t, const char *rel, unsigned int flags, size_t max, int err,
    size_t *ret_len)
{
	char *text = sentinel;
	size_t len = 7777;
	unsigned int mode = 7777;
	int dirfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	assert_true(dirfd >= 0);
	r = kt_read_file(dirfd, rel, flags, max, &text, &len, &mode);
	assert_int_equal(close(dirfd), 0);
	if (r != err)
		fail_msg("%s: returned %d, want %d", rel, r, err);
	if (r < 0) {
		assert_ptr_equal(text, sentinel);
		assert_int_equal(len, 7777);
		assert_int_equal(mode, 7777);
		return NULL;
	}
	assert_true(text != sentinel);
	assert_int_equal(text[len], '\0');
	assert_true(mode <= 07777);
	if (ret_len)
		*ret_len = len;
	return text;
}

/* Every byte value, NUL included, comes back exactly; the mode too. */
static void
test_exact(void **state)
{
	const struct tmptree *t = *state;
	char bytes[256], path[PATH_MAX], *text;
	size_t len;
	unsigned int mode;
	int dirfd;

	for (int i = 0; i < 256; i++)
		bytes[i] = (char)i;
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	tmptree_write(path, bytes, sizeof(bytes));
	text = read_in(t, "a.conf", 0, KT_CONF_MAX, 0, &len);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(text, bytes, sizeof(bytes));
	free(text);

	assert_int_equal(chmod(path, 0640), 0);
	dirfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(kt_read_file(dirfd, "a.conf", 0, 4096, &text, &len, &mode), 0);
	assert_int_equal(mode, 0640);
	free(text);
	assert_int_equal(kt_read_file(dirfd, "a.conf", 0, 4096, &text, &len, NULL), 0);
	free(text);
	assert_int_equal(close(dirfd), 0);

	tmptree_put(t->root, "empty.conf", "");
	text = read_in(t, "empty.conf", 0, KT_CONF_MAX, 0, &len);
	assert_int_equal(len, 0);
	free(text);
}

/* max bytes are read; one more is -EFBIG; small and odd bounds hold too. */
static void
test_bound(void **state)
{
	static const size_t maxes[] = { 0, 1, 2, 4093, 4094, 4095, 4096, 4097, 10000, KT_CONF_MAX };
	const struct tmptree *t = *state;
	char path[PATH_MAX], *big = malloc(KT_CONF_MAX + 1), *text;
	size_t len;

	assert_non_null(big);
	for (size_t i = 0; i <= KT_CONF_MAX; i++)
		big[i] = (char)('a' + i % 26);
	tmptree_path(t->root, "big.conf", path, sizeof(path));
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		size_t max = maxes[i];

		tmptree_write(path, big, max);
		text = read_in(t, "big.conf", 0, max, 0, &len);
		assert_int_equal(len, max);
		assert_memory_equal(text, big, max);
		free(text);
		tmptree_write(path, big, max + 1);
		read_in(t, "big.conf", 0, max, -EFBIG, NULL);
	}
	free(big);
}

/* Links are followed, or refused as the last component with KT_READ_NOFOLLOW. */
static void
test_links(void **state)
{
	const struct tmptree *t = *state;
	char path[PATH_MAX], *text;

	tmptree_put(t->root, "a.conf", "a\n");
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("a.conf", path), 0);
	text = read_in(t, "link.conf", 0, 100, 0, NULL);
	assert_string_equal(text, "a\n");
	free(text);
	read_in(t, "link.conf", KT_READ_NOFOLLOW, 100, -ELOOP, NULL);
	tmptree_path(t->root, "dangling.conf", path, sizeof(path));
	assert_int_equal(symlink("nowhere", path), 0);
	read_in(t, "dangling.conf", 0, 100, -ENOENT, NULL);
	read_in(t, "dangling.conf", KT_READ_NOFOLLOW, 100, -ELOOP, NULL);
	tmptree_path(t->root, "loop.conf", path, sizeof(path));
	assert_int_equal(symlink("loop.conf", path), 0);
	read_in(t, "loop.conf", 0, 100, -ELOOP, NULL);
	read_in(t, "missing.conf", 0, 100, -ENOENT, NULL);

	/* Inside a root, an absolute link stays in it. */
	tmptree_mkdirs(t->root, "etc");
	tmptree_put(t->root, "etc/b.conf", "b\n");
	tmptree_path(t->root, "etc/abs.conf", path, sizeof(path));
	assert_int_equal(symlink("/etc/b.conf", path), 0);
	text = read_in(t, "/etc/abs.conf", KT_READ_IN_ROOT, 100, 0, NULL);
	assert_string_equal(text, "b\n");
	free(text);
	read_in(t, "etc/abs.conf", 0, 100, -ENOENT, NULL);
}

/*
 * A FIFO is refused without being opened for reading: with a writer holding it and data in it,
 * the data is still there afterwards, and nothing blocked (an alarm kills a hang).
 */
static void
test_fifo_not_opened(void **state)
{
	const struct tmptree *t = *state;
	char path[PATH_MAX], buf[16];
	int fd;

	tmptree_fifo(t->root, "fifo.conf");
	tmptree_path(t->root, "fifo.conf", path, sizeof(path));
	alarm(10);
	read_in(t, "fifo.conf", 0, 100, -EINVAL, NULL);		/* no writer */
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x = 1\n", 6), 6);
	read_in(t, "fifo.conf", 0, 100, -EINVAL, NULL);
	read_in(t, "fifo.conf", KT_READ_NULL_EMPTY, 100, -EINVAL, NULL);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "x = 1\n", 6);
	alarm(0);
	assert_int_equal(close(fd), 0);
}

/*
 * Device nodes are refused unopened; the null device reads as empty when asked. Made with
 * mknod(2), which needs CAP_MKNOD and a file system that allows devices: skipped otherwise.
 */
static void
test_devices(void **state)
{
	const struct tmptree *t = *state;
	char path[PATH_MAX], *text;
	size_t len;

	tmptree_path(t->root, "zero.conf", path, sizeof(path));
	if (mknod(path, S_IFCHR | 0644, makedev(1, 5)) < 0)
		skip();
	read_in(t, "zero.conf", 0, 100, -EINVAL, NULL);
	read_in(t, "zero.conf", KT_READ_NULL_EMPTY, 100, -EINVAL, NULL);
	tmptree_path(t->root, "null.conf", path, sizeof(path));
	assert_int_equal(mknod(path, S_IFCHR | 0644, makedev(1, 3)), 0);
	read_in(t, "null.conf", 0, 100, -EINVAL, NULL);
	text = read_in(t, "null.conf", KT_READ_NULL_EMPTY, 100, 0, &len);
	assert_int_equal(len, 0);
	free(text);
}

/* A directory is -EISDIR; a socket -ENXIO, what open(2) says of it. */
static void
test_other_types(void **state)
{
	const struct tmptree *t = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	tmptree_mkdirs(t->root, "d.conf");
	read_in(t, "d.conf", 0, 100, -EISDIR, NULL);
	read_in(t, ".", 0, 100, -EISDIR, NULL);
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock.conf", t->root);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		skip();
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	read_in(t, "sock.conf", 0, 100, -ENXIO, NULL);
	assert_int_equal(close(fd), 0);
}

/*
 * A file its reader may not read is -EACCES. Root reads anything, so the test drops
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH meanwhile.
 */
static void
test_unreadable(void **state)
{
	const struct tmptree *t = *state;
	struct tmptree_caps caps;
	char path[PATH_MAX];
	int dropped;

	tmptree_put(t->root, "secret.conf", "x\n");
	tmptree_path(t->root, "secret.conf", path, sizeof(path));
	assert_int_equal(chmod(path, 0), 0);
	dropped = tmptree_dac_drop(&caps);
	read_in(t, "secret.conf", 0, 100, -EACCES, NULL);
	if (dropped)
		tmptree_dac_restore(&caps);
}

/* KT_READ_PROC reads a file of /proc, whose size says 0, all the same. */
static void
test_proc(void **state)
{
	char *text = sentinel;
	size_t len = 0;

	(void)state;
	assert_int_equal(kt_read_file(AT_FDCWD, "/proc/self/stat", KT_READ_PROC, 4096, &text, &len,
	    NULL), 0);
	assert_true(len > 0 && strlen(text) == len);
	assert_true(text[len - 1] == '\n');
	free(text);
	assert_int_equal(kt_read_file(AT_FDCWD, "/proc/self/stat", 0, 4096, &text, &len, NULL), 0);
	free(text);
	assert_int_equal(kt_read_file(AT_FDCWD, "/proc/self/stat", KT_READ_PROC, 3, &text, &len,
	    NULL), -EFBIG);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, tmptree_setup, tmptree_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exact),
		T(test_bound),
		T(test_links),
		T(test_fifo_not_opened),
		T(test_devices),
		T(test_other_types),
		T(test_unreadable),
		cmocka_unit_test(test_proc),
	};

	return cmocka_run_group_tests_name("kt_read", tests, NULL, NULL);
}
