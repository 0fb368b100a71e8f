/* kt_conf.c: read, edit and safely write the sysctl.d file that holds the keys for boot. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "katune.h"

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

/*
 * Read a whole sysctl.d file (at most KT_CONF_MAX bytes) into a new NUL-terminated buffer that
 * the caller frees. A symbolic link is refused (-ELOOP), as is anything but a regular file
 * (-EISDIR for a directory, -EINVAL otherwise). Returns 0 and sets *ret_text and *ret_len, or a
 * negative errno (-ENOENT when the file does not exist).
 */
int
kt_conf_load(const char *path, char **ret_text, size_t *ret_len)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r = 0;

	assert(path);
	assert(ret_text);
	assert(ret_len);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	text = malloc(KT_CONF_MAX + 1);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, text + len, KT_CONF_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
		if (len > KT_CONF_MAX) {
			r = -EFBIG;
			goto out;
		}
	}
	text[len] = '\0';
out:
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		free(text);
		return r;
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
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

/* Append "key = value\n" as sysctl.d(5) writes it, after a '-' when the line it replaces had one. */
static int
put_assignment(struct buf *b, enum kt_key key, int val, int dash)
{
	char num[KT_VALUE_LEN];
	const char *name = kt_key_name(key);
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

/* Split path into its directory (a new string, "." for a bare name) and its last component. */
static int
split_path(const char *path, char **ret_dir, const char **ret_base)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash) {
		dir = strdup(".");
		*ret_base = path;
	} else {
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		*ret_base = slash + 1;
	}
	if (!dir)
		return -ENOMEM;
	if (**ret_base == '\0') {
		free(dir);
		return -EISDIR;
	}
	*ret_dir = dir;
	return 0;
}

/*
 * Take an exclusive lock that serialises ka-tune runs editing files in path's directory (an
 * flock on the directory itself, so no lock file is left behind). Returns 0 and the descriptor
 * to close to unlock in *ret_fd, or a negative errno.
 */
int
kt_conf_lock(const char *path, int *ret_fd)
{
	const char *base;
	char *dir;
	int fd, r;

	assert(path);
	assert(ret_fd);

	r = split_path(path, &dir, &base);
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			(void)close(fd);
			return r;
		}
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

/* Check that path may be replaced: absent or a regular file, never a symbolic link. */
static int
check_target(int dirfd, const char *base)
{
	struct stat st;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	return 0;
}

/* Make a temp file beside the target: O_EXCL, an unpredictable name. Fills tmp, returns an fd. */
static int
make_temp(const char *dir, const char *base, char *tmp, size_t tmplen)
{
	size_t dlen = strlen(dir), blen = strlen(base);
	int fd;

	/* "<dir>/.<base>.XXXXXX": a name no loader reads, as it does not end in .conf. */
	if (dlen + 2 + blen + 8 > tmplen)
		return -ENAMETOOLONG;
	memcpy(tmp, dir, dlen);
	tmp[dlen] = '/';
	tmp[dlen + 1] = '.';
	memcpy(tmp + dlen + 2, base, blen);
	memcpy(tmp + dlen + 2 + blen, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Replace the file at path with text, atomically and durably: a temp file in the same directory,
 * full write, mode 0644 whatever the umask, fsync, rename over path, fsync the directory. A
 * symbolic link at path is refused (-ELOOP), never replaced. On failure the old file is intact
 * and the temp file removed; the one exception is a failed fsync of the directory, after which
 * the new file is in place but may not survive a crash (-EIO is returned all the same).
 * Returns 0 or a negative errno.
 */
int
kt_conf_save(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	const char *base;
	char *dir;
	int dirfd = -1, fd = -1, r;

	assert(path);
	assert(text || len == 0);

	r = split_path(path, &dir, &base);
	if (r < 0)
		return r;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		goto out;
	}
	r = check_target(dirfd, base);
	if (r < 0)
		goto out;
	fd = make_temp(dir, base, tmp, sizeof(tmp));
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = write_all(fd, text, len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		goto out;
	}
	if (fsync(dirfd) < 0)
		r = -errno;
out:
	if (dirfd >= 0)
		(void)close(dirfd);
	free(dir);
	return r;
}

/*
 * Delete the file at path (a regular file, never through a symbolic link) and make that
 * durable. Returns 0 or a negative errno (-ENOENT when it is already gone).
 */
int
kt_conf_delete(const char *path)
{
	const char *base;
	char *dir;
	int dirfd, r;

	assert(path);

	r = split_path(path, &dir, &base);
	if (r < 0)
		return r;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dirfd < 0)
		return -errno;
	r = check_target(dirfd, base);
	if (r == 0 && unlinkat(dirfd, base, 0) < 0)
		r = -errno;
	if (r == 0 && fsync(dirfd) < 0)
		r = -errno;
	(void)close(dirfd);
	return r;
}

/*
 * Create dir and its missing parents, mode 0755, as mkdir -p does. Returns 0 or a negative
 * errno (-ENOTDIR when a component is not a directory).
 */
int
kt_mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len;

	assert(dir);

	len = strlen(dir);
	if (len == 0)
		return -ENOENT;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (stat(buf, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Explain an error of the kt_conf_* functions about a file, for an operator. Static string. */
const char *
kt_conf_strerror(int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return "permission denied (writing it needs root)";
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
