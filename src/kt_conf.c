/* kt_conf.c: read, edit and safely write the sysctl.d file that holds the keys for boot. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * The clock rate old values are judged at: 1000, the largest Linux has. The kernel keeps the
 * time and interval in jiffies, so a value it takes at this rate it takes at any other.
 */
#define JUDGE_HZ	1000

const char kt_conf_header[] =
	"# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; others are kept.\n";

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Skip the blanks and the one '-' that may start a line; say in *ret_dash whether it had one. */
static const char *
skip_prefix(const char *p, const char *end, int *ret_dash)
{
	while (p < end && is_blank(*p))
		p++;
	*ret_dash = p < end && *p == '-';
	return p + *ret_dash;
}

/*
 * Tell whether one line of a sysctl.d file (without its newline) assigns one of the three keys,
 * in any form the loaders accept: spaces and tabs around '=', a '-' prefix, the slashed name.
 * A line holding a NUL byte is nobody's: the loaders read it as two lines or stop at it.
 * Returns 1 and sets *ret_key and the value's text (trimmed) in *ret_val / *ret_vallen, else 0.
 */
int
kt_conf_line_key(const char *line, size_t len, enum kt_key *ret_key, const char **ret_val,
    size_t *ret_vallen)
{
	char name[64];
	const char *p, *end = line + len, *eq, *kend;
	int dash;

	assert(line);
	if (memchr(line, '\0', len))
		return 0;
	p = skip_prefix(line, end, &dash);
	eq = memchr(p, '=', end - p);
	if (!eq)
		return 0;
	for (kend = eq; kend > p && is_blank(kend[-1]); kend--)
		;
	if (kend == p || (size_t)(kend - p) >= sizeof(name))
		return 0;
	memcpy(name, p, kend - p);
	name[kend - p] = '\0';
	if (kt_key_from_name(name, ret_key) < 0)
		return 0;
	for (p = eq + 1; p < end && is_blank(*p); p++)
		;
	while (end > p && is_blank(end[-1]))
		end--;
	*ret_val = p;
	*ret_vallen = end - p;
	return 1;
}

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
kt_conf_load(int dirfd, const char *name, char **ret_text, size_t *ret_len,
    unsigned int *ret_mode)
{
	int r = check_name(name);

	if (r < 0)
		return r;
	r = kt_read_file(dirfd, name, KT_READ_NOFOLLOW, KT_CONF_MAX, ret_text, ret_len, ret_mode);
	return r == -ENXIO ? -EINVAL : r;	/* a socket is just not a regular file here */
}

/* A growing output buffer, enough for kt_conf_edit(). */
struct buf {
	char *p;
	size_t len, cap;
};

static int
put(struct buf *b, const char *s, size_t n)
{
	if (!b->p || n > b->cap - b->len) {
		size_t cap = b->cap * 2 + n;
		char *p = realloc(b->p, cap + 1);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Append "key = value\n" as sysctl.d(5) writes it, after a '-' if the line it replaces had one. */
static int
put_assignment(struct buf *b, enum kt_key key, int val, int dash)
{
	char num[KT_VALUE_LEN];
	const char *name = kt_key(key)->name;
	int n = 0;

	/* Digits backwards, then forwards: the values here are validated, never negative. */
	assert(val >= 0);
	do
		num[n++] = '0' + val % 10;
	while ((val /= 10) > 0);
	if ((dash && put(b, "-", 1) < 0) || put(b, name, strlen(name)) < 0 || put(b, " = ", 3) < 0)
		return -ENOMEM;
	while (n > 0)
		if (put(b, &num[--n], 1) < 0)
			return -ENOMEM;
	return put(b, "\n", 1);
}

/* Whether text holds nothing but blank lines. */
static int
all_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_blank(s[i]) && s[i] != '\n')
			return 0;
	return 1;
}

/* Whether a line (without its newline) is our header, also when written with a CR before it. */
static int
is_header(const char *line, size_t len)
{
	size_t hlen = sizeof(kt_conf_header) - 2;	/* without its newline */

	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len == hlen && memcmp(line, kt_conf_header, hlen) == 0;
}

/*
 * Note in *e the value of a key's line. Each line overwrites what an earlier one noted, as the
 * loaders apply a file's lines in order: the last one is in force. Its value is an integer when
 * the kernel takes it as one, as it parses it ("0600" is octal); the text is kept either way.
 */
static int
note_old(struct kt_conf_edit *e, enum kt_key key, const char *val, size_t vallen)
{
	char *s = strndup(val, vallen);

	if (!s)
		return -ENOMEM;
	e->present |= KT_BIT(key);
	e->old_text[key] = val;
	e->old_len[key] = vallen;
	e->old_int &= ~KT_BIT(key);
	if (kt_kernel_parse(key, s, JUDGE_HZ, &e->old[key]) == 0)
		e->old_int |= KT_BIT(key);
	free(s);
	return 0;
}

/* Fill in which keys the edit adds, takes out, or gives another value than the one in force. */
static void
note_changed(struct kt_conf_edit *e, const struct kt_values *want)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		int had = !!(e->present & KT_BIT(k)), has = !!(want->mask & KT_BIT(k));

		if (had != has || (has && (!(e->old_int & KT_BIT(k)) || e->old[k] != want->val[k])))
			e->changed |= KT_BIT(k);
	}
}

/*
 * Make the new text of a sysctl.d file from its old text (len bytes; empty or NULL for a new
 * file): our header comment first, each key in want->mask assigned exactly once (updated where
 * it stood first, keeping a leading '-', appended when missing), every other assignment of the
 * three keys dropped, every other line kept byte for byte. With want->mask 0 the three keys and
 * the header are taken out. What *ret_edit says of old values is about the last assignment of
 * each key, the one in force at boot; its old_text points into text.
 * Returns 0 and sets the new text (to free) and what happened in *ret_edit, or -ENOMEM / -ERANGE.
 */
int
kt_conf_edit(const char *text, size_t len, const struct kt_values *want, char **ret_text,
    size_t *ret_len, struct kt_conf_edit *ret_edit)
{
	struct kt_conf_edit e = { .present = 0 };
	struct buf b = { NULL, 0, 0 };
	const char *line, *end;
	unsigned int written = 0;
	int r = 0;

	assert(text || len == 0);
	assert(want);

	if (!kt_values_valid(want))
		return -ERANGE;
	if (!text)
		text = "";
	if (want->mask && (r = put(&b, kt_conf_header, sizeof(kt_conf_header) - 1)) < 0)
		goto fail;
	for (line = text, end = text + len; line < end; ) {
		const char *nl = memchr(line, '\n', end - line), *val;
		size_t linelen = nl ? (size_t)(nl - line) : (size_t)(end - line), vallen;
		size_t full = nl ? linelen + 1 : linelen;
		enum kt_key k;
		int dash;

		if (is_header(line, linelen)) {
			line += full;		/* our header: written above, or taken out */
			continue;
		}
		if (!kt_conf_line_key(line, linelen, &k, &val, &vallen)) {
			r = put(&b, line, full);
		} else if ((r = note_old(&e, k, val, vallen)) == 0 &&
		    (want->mask & KT_BIT(k)) && !(written & KT_BIT(k))) {
			(void)skip_prefix(line, line + linelen, &dash);
			r = put_assignment(&b, k, want->val[k], dash);
			written |= KT_BIT(k);
		}
		if (r < 0)
			goto fail;
		line += full;
	}
	for (int k = 0; k < KT_NKEYS; k++) {
		if (!(want->mask & KT_BIT(k)) || (written & KT_BIT(k)))
			continue;
		if (b.len > 0 && b.p[b.len - 1] != '\n' && (r = put(&b, "\n", 1)) < 0)
			goto fail;
		if ((r = put_assignment(&b, k, want->val[k], 0)) < 0)
			goto fail;
	}
	if ((r = put(&b, "", 0)) < 0)		/* a valid empty string even when nothing is left */
		goto fail;
	note_changed(&e, want);
	e.same = b.len == len && memcmp(b.p, text, len) == 0;
	e.empty = all_blank(b.p, b.len);
	*ret_text = b.p;
	*ret_len = b.len;
	*ret_edit = e;
	return 0;
fail:
	free(b.p);
	return r;
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
 * resolved as usual, following symbolic links; every component after them must be a real
 * directory: a link there, which could lead out of an image tree, is refused with -ELOOP. With
 * create, missing directories are made, mode 0755 whatever the umask, as by mkdir -p.
 * Returns 0 and the descriptor in *ret_fd, or a negative errno and, when ret_stop is not NULL,
 * in *ret_stop the length of the prefix of path that names the directory that failed.
 */
int
kt_conf_open_dir(const char *path, size_t root_len, int create, int *ret_fd, size_t *ret_stop)
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
		r = step_down(&fd, p, end - p, (size_t)(p - path) < root_len, create);
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

/* How long kt_conf_lock() sleeps between tries. */
#define LOCK_PAUSE_MS	50

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Take an exclusive lock that serialises ka-tune runs editing files in the directory dirfd
 * from kt_conf_open_dir(): an flock on the directory itself, so no lock file is left behind.
 * It holds until dirfd is closed. Any user who may read the directory can hold such a lock too,
 * so the wait is bounded: at most timeout_ms milliseconds, trying again every LOCK_PAUSE_MS.
 * Returns 0, -ETIMEDOUT, or another negative errno.
 */
int
kt_conf_lock(int dirfd, unsigned int timeout_ms)
{
	const struct timespec pause = { 0, LOCK_PAUSE_MS * 1000000L };
	long long end = now_ms() + timeout_ms;

	for (;;) {
		if (flock(dirfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		(void)nanosleep(&pause, NULL);
	}
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
 * files named exactly ".<name>.XXXXXX" as kt_conf_save() names them. Call it holding the lock,
 * so that no live run's temp file is taken for a stale one. Returns 0 or a negative errno.
 */
int
kt_conf_clean(int dirfd, const char *name)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r;

	if ((r = check_name(name)) < 0)
		return r;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
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
 * Replace the file name in dirfd with text, atomically: a temp file in the same directory, full
 * write, mode 0644 whatever the umask, fsync, rename over name. Follow it with kt_conf_sync(),
 * which makes the rename durable. A symbolic link at name is refused (-ELOOP), never replaced.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT wait while the temp file exists, so that they do not
 * leave it behind. On failure the old file is intact and the temp file removed.
 * Returns 0 or a negative errno.
 */
int
kt_conf_save(int dirfd, const char *name, const char *text, size_t len)
{
	char tmp[NAME_MAX + 1];
	sigset_t block, old;
	int fd, r;

	assert(text || len == 0);

	r = check_target(dirfd, name);
	if (r < 0)
		return r;
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGHUP);
	(void)sigaddset(&block, SIGQUIT);
	(void)sigprocmask(SIG_BLOCK, &block, &old);
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
 * after kt_conf_save() or kt_conf_delete() leaves their change made but perhaps not durable.
 * Returns 0 or a negative errno.
 */
int
kt_conf_sync(int dirfd)
{
	return fsync(dirfd) < 0 ? -errno : 0;
}

/*
 * Give the file name in dirfd (a regular file, never a symbolic link) mode 0644, the mode
 * kt_conf_save() writes, and make that durable. The file is pinned with O_PATH, so a mode that
 * forbids reading it (0, say) is mended too, and the change goes through /proc/self/fd to that
 * very inode. Returns 0 or a negative errno.
 */
int
kt_conf_fix_mode(int dirfd, const char *name)
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
 * Delete the file name in dirfd (a regular file, never a symbolic link); kt_conf_sync() makes
 * that durable. Returns 0 or a negative errno (-ENOENT when it is already gone).
 */
int
kt_conf_delete(int dirfd, const char *name)
{
	int r = check_target(dirfd, name);

	if (r == 0 && unlinkat(dirfd, name, 0) < 0)
		r = -errno;
	return r;
}

/* Explain an error of the kt_conf_* functions about a file, for an operator. Static string. */
const char *
kt_conf_strerror(int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return "permission denied";
	case EROFS:
		return "read-only file system";
	case ELOOP:
		return "is a symbolic link; ka-tune does not write through links (name the real "
		       "file with --file)";
	case EISDIR:
		return "is a directory";
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		return "larger than 1 MiB: not a sysctl.d file";
	default:
		return strerror(-err);
	}
}
