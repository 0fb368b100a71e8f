/* kt_read.c: the one way ka-tune reads a whole file: bounded in size, never blocking, and never
 * opening for reading anything but a regular file (a FIFO would block, a device may act on being
 * opened: a watchdog starts, a tape rewinds); and a directory's entries. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* What a read opens a file with: no controlling terminal, no waiting. */
#define READ_FLAGS	(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/*
 * Read what fd holds, at most max bytes, into a new NUL-terminated buffer. hint is the size
 * fstat() gives (0 for the files of /proc), for the first allocation. Returns 0 and sets
 * *ret_text (to free) and *ret_len, or -EFBIG beyond max, -ENOMEM, or read()'s error.
 */
static int
read_all(int fd, size_t hint, size_t max, char **ret_text, size_t *ret_len)
{
	/* Room for max bytes, one more to tell a file of max bytes from a longer one, a NUL. */
	size_t len = 0, cap = (hint > 0 ? (hint < max ? hint : max) :
	    (max < 4094 ? max : 4094)) + 2;
	char *text = malloc(cap), *p;
	ssize_t n;

	if (!text)
		return -ENOMEM;
	for (;;) {
		if (len == cap - 1) {
			cap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			if (!(p = realloc(text, cap))) {
				free(text);
				return -ENOMEM;
			}
			text = p;
		}
		n = read(fd, text + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max)
			break;
	}
	if (n < 0 || len > max) {
		int err = n < 0 ? -errno : -EFBIG;

		free(text);
		return err;
	}
	text[len] = '\0';
	*ret_text = text;
	*ret_len = len;
	return 0;
}

/*
 * Say what a file that is not a regular one is to a reader: -EISDIR for a directory, -ENXIO for
 * a socket (what open(2) says of one), -EINVAL for a FIFO or a device, which are not opened.
 */
static int
not_regular(mode_t mode)
{
	if (S_ISDIR(mode))
		return -EISDIR;
	if (S_ISSOCK(mode))
		return -ENXIO;
	return -EINVAL;
}

/* Whether st is the null device, /dev/null: empty, whoever reads it. */
static int
is_null_device(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/* What the null device holds: an empty string, to free. */
static int
read_nothing(char **ret_text, size_t *ret_len)
{
	char *text = strdup("");

	if (!text)
		return -ENOMEM;
	*ret_text = text;
	*ret_len = 0;
	return 0;
}

/* Open path below dirfd as flags ask (KT_READ_IN_ROOT, KT_READ_NOFOLLOW) with open_flags. */
static int
open_as_asked(int dirfd, const char *path, unsigned int flags, int open_flags, int *ret_fd)
{
	int fd;

	if (flags & KT_READ_NOFOLLOW)
		open_flags |= O_NOFOLLOW;
	if (flags & KT_READ_IN_ROOT)
		return kt_root_open(dirfd, path, open_flags, ret_fd);
	fd = openat(dirfd, path, open_flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/*
 * Open for reading the regular file that pathfd (an O_PATH descriptor) stands for, as it is:
 * through /proc/self/fd, which reaches that very inode whatever happened to its name since. Where
 * /proc is not mounted, the name is opened again, and must still be the same file.
 */
static int
reopen(int pathfd, const struct stat *st, int dirfd, const char *path, unsigned int flags,
    int *ret_fd)
{
	char proc[32];
	struct stat now;
	int fd, r;

	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, READ_FLAGS);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	r = open_as_asked(dirfd, path, flags, READ_FLAGS, &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		(void)close(fd);
		return -EAGAIN;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * Read the whole file path (relative to dirfd, or resolved inside it as a root with
 * KT_READ_IN_ROOT), at most max bytes, into a new NUL-terminated buffer the caller frees.
 * The file is first opened with O_PATH, which opens nothing, and read only if it is a regular
 * file: a directory is -EISDIR, a socket -ENXIO, a FIFO or device -EINVAL, none of them opened
 * for reading. KT_READ_NOFOLLOW refuses a symbolic link as the last component (-ELOOP);
 * KT_READ_PROC opens a file of /proc at once, as it cannot be a device; with KT_READ_NULL_EMPTY
 * the null device reads as empty, as it would, without being opened.
 * Returns 0 and sets *ret_text, *ret_len and, when not NULL, *ret_mode (its permission bits); or
 * a negative errno: -ENOENT, -ELOOP, -EACCES, -EFBIG beyond max, -ENOMEM, -EAGAIN when the file
 * was replaced while it was opened, and those above.
 */
int
kt_read_file(int dirfd, const char *path, unsigned int flags, size_t max, char **ret_text,
    size_t *ret_len, unsigned int *ret_mode)
{
	struct stat st;
	int pathfd, fd = -1, r;

	assert(path);
	assert(ret_text);
	assert(ret_len);

	/* With KT_READ_PROC, the one descriptor is open for reading from the start. */
	r = open_as_asked(dirfd, path, flags, (flags & KT_READ_PROC) ? READ_FLAGS : O_PATH,
	    &pathfd);
	if (r < 0)
		return r;
	if (fstat(pathfd, &st) < 0)
		r = -errno;
	else if (S_ISLNK(st.st_mode))	/* O_PATH | O_NOFOLLOW opened the link itself */
		r = -ELOOP;
	else if ((flags & KT_READ_NULL_EMPTY) && is_null_device(&st))
		r = read_nothing(ret_text, ret_len);
	else if (!S_ISREG(st.st_mode))
		r = not_regular(st.st_mode);
	else if (flags & KT_READ_PROC)
		r = read_all(pathfd, (size_t)st.st_size, max, ret_text, ret_len);
	else if ((r = reopen(pathfd, &st, dirfd, path, flags, &fd)) == 0)
		r = read_all(fd, (size_t)st.st_size, max, ret_text, ret_len);
	if (r == 0 && ret_mode)
		*ret_mode = st.st_mode & 07777;
	if (fd >= 0)
		(void)close(fd);
	(void)close(pathfd);
	return r;
}

/*
 * Open a stream over the entries of the directory dirfd (O_PATH will do), from its first entry,
 * leaving dirfd open and its own position alone. Returns 0 and sets *ret (closedir() it), or a
 * negative errno (-ENOENT: a /proc directory whose process is gone).
 */
int
kt_read_dir(int dirfd, DIR **ret)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	*ret = d;
	return 0;
}
