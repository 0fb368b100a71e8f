/* tmptree.c: make, fill and remove the temp directory trees the unit tests run against. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmptree.h"

/*
 * Make a fresh, empty directory named after the test below $TMPDIR (or /tmp), and put its path
 * in root. Returns 0, or -1 with errno set: it fails no assertion, so setup functions can use it.
 */
int
tmptree_make(char *root, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = snprintf(root, len, "%s/%s.XXXXXX", tmp, name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(root) ? 0 : -1;
}

/* Remove one entry of a tree; walked with FTW_DEPTH, a directory comes after all it holds. */
static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/*
 * Remove root and everything below it, following no symbolic link. Returns 0, or -1 if anything
 * could not be removed, for a teardown function to report.
 */
int
tmptree_remove(const char *root)
{
	return nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make a fresh tree for a test's setup function; returns NULL if that cannot be done. */
struct tmptree *
tmptree_new(const char *name)
{
	struct tmptree *t = calloc(1, sizeof(*t));

	if (!t || tmptree_make(t->root, sizeof(t->root), name) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* Remove a tree and free it, for a test's teardown function; returns as tmptree_remove() does. */
int
tmptree_free(struct tmptree *t)
{
	int r = tmptree_remove(t->root);

	free(t);
	return r;
}

/*
 * The setup and teardown of a test (or group) whose state is a fresh tree, named after the test
 * program: cmocka's setup and teardown functions, for the tests that need nothing more.
 */
int
tmptree_setup(void **state)
{
	*state = tmptree_new(program_invocation_short_name);
	return *state ? 0 : -1;
}

int
tmptree_teardown(void **state)
{
	return tmptree_free(*state);
}

/* Put the path of rel below root in buf; a path that does not fit fails the test. */
void
tmptree_path(const char *root, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", root, rel);

	assert_true(n > 0 && (size_t)n < len);
}

/* Make the directory rel below root, and every one above it that is missing. */
void
tmptree_mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX];

	tmptree_path(root, rel, path, sizeof(path));
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/*
 * Make the file at path hold exactly len bytes of buf, creating it if need be. A symbolic link
 * there fails the test rather than being followed, perhaps out of the tree.
 */
void
tmptree_write(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Make the file rel below root hold exactly the string s. */
void
tmptree_put(const char *root, const char *rel, const char *s)
{
	char path[PATH_MAX];

	tmptree_path(root, rel, path, sizeof(path));
	tmptree_write(path, s, strlen(s));
}

/* Make rel below root a symbolic link to target, as a bind mount or /proc's links lead on. */
void
tmptree_link(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	tmptree_path(root, rel, path, sizeof(path));
	assert_int_equal(symlink(target, path), 0);
}

/* Make rel below root a FIFO: a file whose open for reading would block. */
void
tmptree_fifo(const char *root, const char *rel)
{
	char path[PATH_MAX];

	tmptree_path(root, rel, path, sizeof(path));
	assert_int_equal(mkfifo(path, 0644), 0);
}

/*
 * Take CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH out of the effective set, when they are there,
 * so that a directory of mode 0 is closed to a root test too, as /proc closes a hardened
 * process's entries; tmptree_dac_restore() puts them back (they stay permitted meanwhile).
 * Returns 1 when they were taken out, 0 when they were not held (a test not run as root).
 */
int
tmptree_dac_drop(struct tmptree_caps *saved)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	const unsigned int dac = 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH;
	struct tmptree_caps less;

	assert_int_equal(syscall(SYS_capget, &hdr, saved->data), 0);
	if (!(saved->data[0].effective & dac))
		return 0;
	less = *saved;
	less.data[0].effective &= ~dac;
	assert_int_equal(syscall(SYS_capset, &hdr, less.data), 0);
	return 1;
}

/* Put back the effective capabilities tmptree_dac_drop() took out. */
void
tmptree_dac_restore(const struct tmptree_caps *saved)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };

	assert_int_equal(syscall(SYS_capset, &hdr, saved->data), 0);
}
