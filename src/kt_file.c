/* kt_file.c: the file layer under persist: open the directory without following links an image
 * could plant (kt_lock.c locks it), read the file, and replace, delete or mend it safely (a temp
 * file, fsync, rename, fsync of the directory), as systemd and Ansible write files. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Check that name is one component, as the functions below take it: not empty, no '/'. */
static int
check_name(const char *name)
{
	assert(name);
	return *name == '\0' || strchr(name, '/') ? -EINVAL : 0;
}

/*
 * Read the whole sysctl.d file name in the directory dirfd (at most KT_CONF_MAX bytes) into a
 * new NUL-terminated buffer that the caller frees, and its permission bits into *ret_mode when
 * that is not NULL. A symbolic link is refused (-ELOOP), as is anything but a regular file
 * (-EISDIR for a directory, -EINVAL otherwise), which is never opened for reading: a FIFO does
 * not block it, a device is not woken. Returns 0 and sets *ret_text and *ret_len, or a negative
 * errno (-ENOENT when the file does not exist).
 */
int
kt_file_load(int dirfd, const char *name, char **ret_text, size_t *ret_len,
    unsigned int *ret_mode)
{
	int r = check_name(name);

	if (r < 0)
		return r;
	r = kt_read_file(dirfd, name, KT_READ_NOFOLLOW, KT_CONF_MAX, ret_text, ret_len, ret_mode);
	return r == -ENXIO ? -EINVAL : r;	/* a socket is just not a regular file here */
}

/*
 * Go from the directory *fd down into its entry comp (len bytes), replacing *fd. With follow, a
 * symbolic link is followed; without, it is refused with -ELOOP, and so is "..". With create, a
 * missing directory is made, mode 0755 whatever the umask. Returns 0 or a negative errno.
 */
static int
step_down(int *fd, const char *comp, size_t len, int follow, int create)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW);
	char name[NAME_MAX + 1];
	struct stat st;
	int next, made = 0, r;

	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, comp, len);
	name[len] = '\0';
	if (!follow && strcmp(name, "..") == 0)
		return -EINVAL;
	next = openat(*fd, name, flags);
	if (next < 0 && errno == ENOENT && create) {
		made = mkdirat(*fd, name, 0755) == 0;
		if (!made && errno != EEXIST)
			return -errno;
		next = openat(*fd, name, flags);
	}
	if (next < 0) {
		r = -errno;
		/* O_NOFOLLOW with O_DIRECTORY says ENOTDIR of a link: say what it is. */
		if (!follow && r == -ENOTDIR && fstatat(*fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			r = -ELOOP;
		return r;
	}
	if (made && fchmod(next, 0755) < 0) {
		r = -errno;
		(void)close(next);
		return r;
	}
	(void)close(*fd);
	*fd = next;
	return 0;
}

/*
 * Open the directory path for the functions below, one component at a time. The components in
 * its first root_len bytes, a directory the user named (--root's, or --file's directory), are
 * resolved as usual, following symbolic links, and must exist: a mistyped root is not made.
 * Every component after them must be a real directory: a link there, which could lead out of an
 * image tree, is refused with -ELOOP. With create, missing directories after the root are
 * made, mode 0755 whatever the umask, as by mkdir -p.
 * Returns 0 and the descriptor in *ret_fd, or a negative errno and, when ret_stop is not NULL,
 * in *ret_stop the length of the prefix of path that names the directory that failed.
 */
int
kt_file_open_dir(const char *path, size_t root_len, int create, int *ret_fd, size_t *ret_stop)
{
	const char *p = path, *end;
	int fd, r;

	assert(path);
	assert(ret_fd);
	assert(root_len <= strlen(path));

	fd = open(*path == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (ret_stop)
			*ret_stop = *path == '/';
		return -errno;
	}
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchrnul(p, '/');
		r = step_down(&fd, p, (size_t)(end - p), (size_t)(p - path) < root_len,
		    create && (size_t)(p - path) >= root_len);
		if (r < 0) {
			(void)close(fd);
			if (ret_stop)
				*ret_stop = end - path;
			return r;
		}
		p = end;
	}
	*ret_fd = fd;
	return 0;
}

/* Write all of buf to fd. Returns 0 or a negative errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Check that name may be replaced: absent or a regular file, never a symbolic link. */
static int
check_target(int dirfd, const char *name)
{
	struct stat st;
	int r = check_name(name);

	if (r < 0)
		return r;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	return 0;
}

/* The characters of a temp file's random suffix, as mkstemp(3) uses. */
static const char temp_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
#define TEMP_RANDOM	6

/*
 * Create a temp file for name in dirfd: ".<name>.XXXXXX", a name no loader reads as it does
 * not end in .conf, with six characters from getrandom(); O_EXCL and O_NOFOLLOW, so nothing in
 * its place is ever opened. Fills tmp (tmplen bytes) and returns the descriptor, or -errno.
 */
static int
make_temp(int dirfd, const char *name, char *tmp, size_t tmplen)
{
	size_t nlen = strlen(name);
	unsigned char rnd[TEMP_RANDOM];
	char *x;

	if (nlen + 3 + TEMP_RANDOM > tmplen)
		return -ENAMETOOLONG;
	tmp[0] = '.';
	memcpy(tmp + 1, name, nlen);
	tmp[nlen + 1] = '.';
	x = tmp + nlen + 2;
	x[TEMP_RANDOM] = '\0';
	for (int tries = 0; tries < 100; tries++) {
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < TEMP_RANDOM; i++)
			x[i] = temp_chars[rnd[i] % (sizeof(temp_chars) - 1)];
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/* Whether entry is a temp file of name's: exactly ".<name>." and the suffix make_temp() uses. */
static int
is_temp_of(const char *entry, const char *name)
{
	size_t nlen = strlen(name);

	if (entry[0] != '.' || strncmp(entry + 1, name, nlen) != 0 || entry[nlen + 1] != '.')
		return 0;
	entry += nlen + 2;
	return strlen(entry) == TEMP_RANDOM && strspn(entry, temp_chars) == TEMP_RANDOM;
}

/*
 * Remove the temp files of name that runs killed before their rename left in dirfd: regular
 * files named exactly ".<name>.XXXXXX" as kt_file_save() names them. Call it holding the lock,
 * so that no live run's temp file is taken for a stale one. Returns 0 or a negative errno.
 */
int
kt_file_clean(int dirfd, const char *name)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r;

	if ((r = check_name(name)) < 0)
		return r;
	if ((r = kt_read_dir(dirfd, &d)) < 0)
		return r;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!is_temp_of(de->d_name, name))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
	}
	if (!de && errno != 0)
		r = -errno;
	(void)closedir(d);
	return r;
}

/*
 * Make the signals that end a run by default (SIGINT, SIGTERM, SIGHUP, SIGQUIT) wait, for a
 * step that must not stop halfway; *ret_saved is the mask to put back with sigprocmask().
 */
void
kt_hold_signals(sigset_t *ret_saved)
{
	sigset_t block;

	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGHUP);
	(void)sigaddset(&block, SIGQUIT);
	(void)sigprocmask(SIG_BLOCK, &block, ret_saved);
}

/*
 * Replace the file name in dirfd with text, atomically: a temp file in the same directory, full
 * write, mode 0644 whatever the umask, fsync, rename over name. Follow it with kt_file_sync(),
 * which makes the rename durable. A symbolic link at name is refused (-ELOOP), never replaced.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT wait while the temp file exists, so that they do not
 * leave it behind. On failure the old file is intact and the temp file removed.
 * Returns 0 or a negative errno.
 */
int
kt_file_save(int dirfd, const char *name, const char *text, size_t len)
{
	char tmp[NAME_MAX + 1];
	sigset_t old;
	int fd, r;

	assert(text || len == 0);

	r = check_target(dirfd, name);
	if (r < 0)
		return r;
	kt_hold_signals(&old);
	fd = make_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		return fd;
	}
	r = write_all(fd, text, len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/*
 * Flush the directory dirfd, so that a rename or deletion in it survives a crash. A failure
 * after kt_file_save() or kt_file_delete() leaves their change made but perhaps not durable.
 * Returns 0 or a negative errno.
 */
int
kt_file_sync(int dirfd)
{
	return fsync(dirfd) < 0 ? -errno : 0;
}

/*
 * Give the file name in dirfd (a regular file, never a symbolic link) mode 0644, the mode
 * kt_file_save() writes, and make that durable. The file is pinned with O_PATH, so a mode that
 * forbids reading it (0, say) is mended too, and the change goes through /proc/self/fd to that
 * very inode. Returns 0 or a negative errno.
 */
int
kt_file_fix_mode(int dirfd, const char *name)
{
	char proc[64];
	struct stat st;
	int fd, r = 0;

	if ((r = check_name(name)) < 0)
		return r;
	fd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
	else if (snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd) >= (int)sizeof(proc))
		r = -ENAMETOOLONG;
	else if (chmod(proc, 0644) < 0)
		r = -errno;
	(void)close(fd);
	if (r < 0)
		return r;
	/* Now readable by its owner whatever it was: open it to make the change durable. */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

/*
 * Delete the file name in dirfd (a regular file, never a symbolic link); kt_file_sync() makes
 * that durable. Returns 0 or a negative errno (-ENOENT when it is already gone).
 */
int
kt_file_delete(int dirfd, const char *name)
{
	int r = check_target(dirfd, name);

	if (r == 0 && unlinkat(dirfd, name, 0) < 0)
		r = -errno;
	return r;
}


/* See include/katune.h. */
int
kt_replace_file(const char *path, const char *text, size_t len, unsigned int lock_timeout_ms,
    int *ret_sync_err)
{
	char dir[PATH_MAX];
	const char *slash, *name;
	size_t dlen;
	int dirfd, r;

	assert(path && ret_sync_err);
	assert(text || len == 0);

	slash = strrchr(path, '/');
	name = slash ? slash + 1 : path;
	/* The directory: up to the last '/' ("/" for "/x"), or "." for a bare name. */
	dlen = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	if (*name == '\0')
		return -EISDIR;
	if (dlen >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, dlen ? path : ".", dlen ? dlen : 1);
	dir[dlen ? dlen : 1] = '\0';
	r = kt_file_open_dir(dir, strlen(dir), 0, &dirfd, NULL);
	if (r < 0)
		return r;
	r = kt_lock_wait(dirfd, lock_timeout_ms);
	if (r == 0)
		r = kt_file_clean(dirfd, name);
	if (r == 0)
		r = kt_file_save(dirfd, name, text, len);
	if (r == 0)
		*ret_sync_err = kt_file_sync(dirfd);
	(void)close(dirfd);
	return r;
}
