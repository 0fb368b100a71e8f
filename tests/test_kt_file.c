/* test_kt_file.c: unit tests for kt_file.c, the file layer under persist (open the directory,
 * lock, load, save, clean, mend the mode, delete) on temp trees. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* Out-params are pre-filled with these, to see that a failure leaves them alone. */
#define INT_SENTINEL	(-7777)
#define SIZE_SENTINEL	((size_t)7777)

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define HEADER_LINE	"# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; " \
			"others are kept."
#define HEADER		HEADER_LINE "\n"
#define N_TIME		"net.ipv4.tcp_keepalive_time"
#define N_INTVL		"net.ipv4.tcp_keepalive_intvl"
#define N_PROBES	"net.ipv4.tcp_keepalive_probes"
/* Lines as persist writes them. */
#define L_TIME		N_TIME " = 600\n"
#define L_INTVL		N_INTVL " = 30\n"
#define L_PROBES	N_PROBES " = 5\n"

/* A text pointer no call of the library could return. */
static char text_sentinel[] = "sentinel";

/* --- temp trees -------------------------------------------------------------------------- */

/* A fresh directory for each test; the cwd, umask and file size limit are put back after it. */
struct tree {
	char root[PATH_MAX];
	int dirfd;		/* root, open */
	int cwd;
	mode_t umask;
	struct rlimit fsize;
};

/* Read a whole file into a new NUL-terminated buffer, without the library. */
static char *
slurp(const char *path, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	assert_int_equal(n, 0);
	assert_int_equal(close(fd), 0);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* Whether the file at path holds exactly the string s. */
static void
assert_file_is(const char *path, const char *s)
{
	size_t len;
	char *buf = slurp(path, &len);

	assert_string_equal(buf, s);
	assert_int_equal(len, strlen(s));
	free(buf);
}

static int
not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Whether dir holds exactly the entries in names (sorted, separated by spaces): no temp files. */
static void
assert_dir_is(const char *dir, const char *names)
{
	struct dirent **list;
	char got[1024] = "";
	size_t used = 0;
	int n = scandir(dir, &list, not_dots, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		int w = snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
		    list[i]->d_name);

		assert_true(w >= 0 && (size_t)w < sizeof(got) - used);
		used += w;
		free(list[i]);
	}
	free(list);
	assert_string_equal(got, names);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

static ino_t
inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_ino;
}

static void
assert_link_to(const char *link, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->cwd < 0 || getrlimit(RLIMIT_FSIZE, &t->fsize) < 0 ||
	    tmptree_make(t->root, sizeof(t->root), "test_kt_file") < 0) {
		if (t->cwd >= 0)
			close(t->cwd);
		free(t);
		return -1;
	}
	t->dirfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		close(t->cwd);
		rmdir(t->root);
		free(t);
		return -1;
	}
	t->umask = umask(022);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tree *t = *state;
	int r = 0;

	if (fchdir(t->cwd) < 0)
		r = -1;
	close(t->cwd);
	close(t->dirfd);
	umask(t->umask);
	if (setrlimit(RLIMIT_FSIZE, &t->fsize) < 0 || signal(SIGXFSZ, SIG_DFL) == SIG_ERR)
		r = -1;
	if (tmptree_remove(t->root) < 0)
		r = -1;
	free(t);
	return r;
}

/* --- kt_file_load ------------------------------------------------------------------------ */

static void
assert_load_fails(int dirfd, const char *name, int err)
{
	char *text = text_sentinel;
	size_t len = SIZE_SENTINEL;
	unsigned int mode = (unsigned int)INT_SENTINEL;

	assert_int_equal(kt_file_load(dirfd, name, &text, &len, &mode), err);
	assert_ptr_equal(text, text_sentinel);
	assert_int_equal(len, SIZE_SENTINEL);
	assert_int_equal(mode, (unsigned int)INT_SENTINEL);
}

/* Every byte but NUL, no newline at the end: read back exactly, NUL-terminated, with its mode. */
static void
test_load_exact(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], bytes[255], *text = text_sentinel;
	size_t len = SIZE_SENTINEL;
	unsigned int mode = 0;

	for (int i = 0; i < 255; i++)
		bytes[i] = (char)(i + 1);
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	tmptree_write(path, bytes, sizeof(bytes));
	assert_int_equal(chmod(path, 02640), 0);
	assert_int_equal(kt_file_load(t->dirfd, "a.conf", &text, &len, &mode), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(text, bytes, sizeof(bytes));
	assert_int_equal(text[len], '\0');
	assert_int_equal(mode, 02640);
	free(text);

	/* An empty file is an empty string; the mode may be left out. */
	text = text_sentinel;
	len = SIZE_SENTINEL;
	tmptree_write(path, "", 0);
	assert_int_equal(kt_file_load(t->dirfd, "a.conf", &text, &len, NULL), 0);
	assert_true(text != text_sentinel);
	assert_int_equal(len, 0);
	assert_int_equal(text[0], '\0');
	free(text);
}

/* A missing file is -ENOENT; a name that is not one component is refused. */
static void
test_load_missing(void **state)
{
	const struct tree *t = *state;

	assert_load_fails(t->dirfd, "missing.conf", -ENOENT);
	assert_load_fails(t->dirfd, "missing/a.conf", -EINVAL);
	assert_load_fails(t->dirfd, "", -EINVAL);
	assert_load_fails(t->dirfd, "/etc/passwd", -EINVAL);
}

/* A symbolic link is refused whether it points to a file or nowhere; neither is changed. */
static void
test_load_symlink(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	tmptree_put(t->root, "target.conf", L_TIME);
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("target.conf", path), 0);
	assert_load_fails(t->dirfd, "link.conf", -ELOOP);
	tmptree_path(t->root, "dangling.conf", path, sizeof(path));
	assert_int_equal(symlink("nowhere.conf", path), 0);
	assert_load_fails(t->dirfd, "dangling.conf", -ELOOP);
	tmptree_path(t->root, "target.conf", path, sizeof(path));
	assert_file_is(path, L_TIME);
	assert_dir_is(t->root, "dangling.conf link.conf target.conf");
}

static void
test_load_directory(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_load_fails(t->dirfd, "d.conf", -EISDIR);
	assert_load_fails(t->dirfd, ".", -EISDIR);
}

/* A FIFO with no writer is refused at once; an alarm kills the test if it hangs instead. */
static void
test_load_fifo(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	int dev;

	tmptree_path(t->root, "fifo.conf", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0644), 0);
	alarm(10);
	assert_load_fails(t->dirfd, "fifo.conf", -EINVAL);
	alarm(0);
	assert_true(S_ISFIFO(mode_of(path)));
	/* A character device is not a regular file either, not even the null device. */
	dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dev >= 0);
	assert_load_fails(dev, "null", -EINVAL);
	assert_int_equal(close(dev), 0);
}

/* KT_CONF_MAX bytes are read; one more is too many. */
static void
test_load_size(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], *big = malloc(KT_CONF_MAX + 1), *text = text_sentinel;
	size_t len = SIZE_SENTINEL;

	assert_non_null(big);
	for (size_t i = 0; i < KT_CONF_MAX + 1; i++)
		big[i] = i % 64 == 63 ? '\n' : 'a' + i % 26;
	tmptree_path(t->root, "big.conf", path, sizeof(path));
	tmptree_write(path, big, KT_CONF_MAX);
	assert_int_equal(kt_file_load(t->dirfd, "big.conf", &text, &len, NULL), 0);
	assert_int_equal(len, KT_CONF_MAX);
	assert_memory_equal(text, big, KT_CONF_MAX);
	assert_int_equal(text[len], '\0');
	free(text);

	tmptree_write(path, big, KT_CONF_MAX + 1);
	assert_load_fails(t->dirfd, "big.conf", -EFBIG);
	free(big);
}

/* --- kt_file_save ------------------------------------------------------------------------ */

/* A new file gets mode 0644 even under umask 077, and exactly the text. */
static void
test_save_new(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	const char *text = HEADER L_TIME L_INTVL L_PROBES;

	tmptree_path(t->root, "90-ka-tune.conf", path, sizeof(path));
	umask(077);
	assert_int_equal(kt_file_save(t->dirfd, "90-ka-tune.conf", text, strlen(text)), 0);
	assert_true(S_ISREG(mode_of(path)));
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_file_is(path, text);
	assert_dir_is(t->root, "90-ka-tune.conf");
}

/* An existing file is replaced by a new inode; a hard link to the old one keeps the old text. */
static void
test_save_replace(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], old_link[PATH_MAX];
	ino_t old;

	tmptree_put(t->root, "a.conf", "old text\n");
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	tmptree_path(t->root, "old", old_link, sizeof(old_link));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(link(path, old_link), 0);
	old = inode_of(path);

	assert_int_equal(kt_file_save(t->dirfd, "a.conf", "new\n", 4), 0);
	assert_file_is(path, "new\n");
	assert_true(inode_of(path) != old);
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_file_is(old_link, "old text\n");
	assert_dir_is(t->root, "a.conf old");

	/* Shorter and empty texts leave nothing of the longer ones. */
	assert_int_equal(kt_file_save(t->dirfd, "a.conf", "x", 1), 0);
	assert_file_is(path, "x");
	assert_int_equal(kt_file_save(t->dirfd, "a.conf", "", 0), 0);
	assert_file_is(path, "");
	assert_int_equal(kt_file_save(t->dirfd, "a.conf", NULL, 0), 0);
	assert_file_is(path, "");
	assert_dir_is(t->root, "a.conf old");
}

/*
 * A write that fails part way (here on the file size limit, which binds root too) leaves the old
 * file as it was, and removes the temp file.
 */
static void
test_save_write_fails(void **state)
{
	const struct tree *t = *state;
	struct rlimit small = t->fsize;
	char path[PATH_MAX], big[4096];
	ino_t old;

	tmptree_put(t->root, "a.conf", "old\n");
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	old = inode_of(path);
	memset(big, 'x', sizeof(big));
	small.rlim_cur = 100;
	assert_true(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(kt_file_save(t->dirfd, "a.conf", big, sizeof(big)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &t->fsize), 0);
	assert_file_is(path, "old\n");
	assert_true(inode_of(path) == old);
	assert_dir_is(t->root, "a.conf");
}

/* A symbolic link is never written through nor replaced, dangling or not. */
static void
test_save_symlink(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], target[PATH_MAX];

	tmptree_put(t->root, "target.conf", "target\n");
	tmptree_path(t->root, "target.conf", target, sizeof(target));
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("target.conf", path), 0);
	assert_int_equal(kt_file_save(t->dirfd, "link.conf", "new\n", 4), -ELOOP);
	assert_link_to(path, "target.conf");
	assert_file_is(target, "target\n");

	tmptree_path(t->root, "dangling.conf", path, sizeof(path));
	assert_int_equal(symlink("created.conf", path), 0);
	assert_int_equal(kt_file_save(t->dirfd, "dangling.conf", "new\n", 4), -ELOOP);
	assert_link_to(path, "created.conf");
	assert_dir_is(t->root, "dangling.conf link.conf target.conf");
}

static void
test_save_not_a_file(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(kt_file_save(t->dirfd, "d.conf", "new\n", 4), -EISDIR);
	assert_true(S_ISDIR(mode_of(path)));
	assert_dir_is(path, "");

	/* A name is one component: never a path, never empty. */
	assert_int_equal(kt_file_save(t->dirfd, "d.conf/", "new\n", 4), -EINVAL);
	assert_int_equal(kt_file_save(t->dirfd, "d.conf/x", "new\n", 4), -EINVAL);
	assert_int_equal(kt_file_save(t->dirfd, "", "new\n", 4), -EINVAL);

	tmptree_path(t->root, "fifo.conf", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(kt_file_save(t->dirfd, "fifo.conf", "new\n", 4), -EINVAL);
	assert_true(S_ISFIFO(mode_of(path)));
	assert_dir_is(t->root, "d.conf fifo.conf");
}

/*
 * The temp file is ".NAME.XXXXXX" beside the target, created with O_EXCL and O_NOFOLLOW: a
 * symbolic link of that pattern already there is neither followed nor replaced.
 */
static void
test_save_temp_name(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	tmptree_path(t->root, ".a.conf.AAAAAA", path, sizeof(path));
	assert_int_equal(symlink("/nonexistent/x", path), 0);
	assert_int_equal(kt_file_save(t->dirfd, "a.conf", "new\n", 4), 0);
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	assert_file_is(path, "new\n");
	assert_dir_is(t->root, ".a.conf.AAAAAA a.conf");
	assert_int_equal(fstatat(t->dirfd, ".a.conf.AAAAAA", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A name too long for a temp file beside it. */
	memset(path, 'n', NAME_MAX);
	path[NAME_MAX] = '\0';
	assert_int_equal(kt_file_save(t->dirfd, path, "new\n", 4), -ENAMETOOLONG);
	fd = openat(t->dirfd, path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ENOENT);
}

/* A bare name is a file in the current directory; a relative directory is the cwd's. */
static void
test_relative_path(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], *text = text_sentinel;
	size_t len = SIZE_SENTINEL;
	int fd = INT_SENTINEL;

	assert_int_equal(chdir(t->root), 0);
	assert_int_equal(kt_file_open_dir(".", 1, 0, &fd, NULL), 0);
	assert_int_equal(kt_file_save(fd, "rel.conf", "rel\n", 4), 0);
	tmptree_path(t->root, "rel.conf", path, sizeof(path));
	assert_file_is(path, "rel\n");
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_dir_is(t->root, "rel.conf");

	assert_int_equal(kt_file_load(fd, "rel.conf", &text, &len, NULL), 0);
	assert_int_equal(len, 4);
	assert_string_equal(text, "rel\n");
	free(text);

	assert_int_equal(kt_file_delete(fd, "rel.conf"), 0);
	assert_dir_is(t->root, "");
	assert_int_equal(close(fd), 0);

	fd = INT_SENTINEL;
	assert_int_equal(kt_file_open_dir("a/b", 0, 1, &fd, NULL), 0);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	tmptree_path(t->root, "a/b", path, sizeof(path));
	assert_true(S_ISDIR(mode_of(path)));
}

/* --- kt_file_clean ------------------------------------------------------------------------ */

/* Only regular files named exactly as kt_file_save() names its temp files are removed. */
static void
test_clean(void **state)
{
	static const char *const stale[] = {
		".a.conf.AbC123", ".a.conf.zzzzzz", ".a.conf.000000",
	};
	static const char *const kept[] = {
		"a.conf", ".a.conf.AbC12", ".a.conf.AbC1234", ".a.conf.AbC_23", ".a.conf.AbC-23",
		"a.conf.AbC123", "..a.conf.AbC123", ".b.conf.AbC123", ".a.conf.AbC123~",
		".a.confXAbC123", ".a.conf..AbC12",
	};
	const struct tree *t = *state;
	char path[PATH_MAX];

	for (size_t i = 0; i < NELEM(stale); i++)
		tmptree_put(t->root, stale[i], "stale\n");
	for (size_t i = 0; i < NELEM(kept); i++)
		tmptree_put(t->root, kept[i], "kept\n");
	/* Names of the pattern that are not regular files: not ours. */
	tmptree_path(t->root, ".a.conf.LINK01", path, sizeof(path));
	assert_int_equal(symlink("a.conf", path), 0);
	tmptree_path(t->root, ".a.conf.DIR001", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(kt_file_clean(t->dirfd, "a.conf"), 0);
	assert_dir_is(t->root, "..a.conf.AbC123 .a.conf..AbC12 .a.conf.AbC-23 .a.conf.AbC12 "
			       ".a.conf.AbC1234 .a.conf.AbC123~ .a.conf.AbC_23 .a.conf.DIR001 "
			       ".a.conf.LINK01 .a.confXAbC123 .b.conf.AbC123 a.conf a.conf.AbC123");
	assert_int_equal(kt_file_clean(t->dirfd, "a.conf"), 0);
	assert_int_equal(kt_file_clean(t->dirfd, "a/b"), -EINVAL);
}

/* --- kt_file_fix_mode -------------------------------------------------------------------- */

/* The mode is set to 0644 in place: same inode, same text; links and non-files are refused. */
static void
test_fix_mode(void **state)
{
	static const unsigned int modes[] = { 0600, 0664, 0755, 04644, 0, 0644 };
	const struct tree *t = *state;
	char path[PATH_MAX];
	ino_t ino;

	tmptree_put(t->root, "a.conf", L_TIME);
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	ino = inode_of(path);
	umask(077);
	for (size_t i = 0; i < NELEM(modes); i++) {
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(kt_file_fix_mode(t->dirfd, "a.conf"), 0);
		assert_int_equal(mode_of(path) & 07777, 0644);
		assert_true(inode_of(path) == ino);
		assert_file_is(path, L_TIME);
	}

	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("a.conf", path), 0);
	assert_int_equal(kt_file_fix_mode(t->dirfd, "link.conf"), -ELOOP);
	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(kt_file_fix_mode(t->dirfd, "d.conf"), -EISDIR);
	assert_int_equal(mode_of(path) & 07777, 0700);
	assert_int_equal(kt_file_fix_mode(t->dirfd, "missing.conf"), -ENOENT);
	assert_int_equal(kt_file_fix_mode(t->dirfd, "d.conf/x"), -EINVAL);
	assert_dir_is(t->root, "a.conf d.conf link.conf");
}

/* --- kt_file_delete ---------------------------------------------------------------------- */

static void
test_delete(void **state)
{
	const struct tree *t = *state;

	tmptree_put(t->root, "a.conf", L_TIME);
	tmptree_put(t->root, "b.conf", L_TIME);
	assert_int_equal(kt_file_delete(t->dirfd, "a.conf"), 0);
	assert_dir_is(t->root, "b.conf");
	assert_int_equal(kt_file_delete(t->dirfd, "a.conf"), -ENOENT);
	assert_dir_is(t->root, "b.conf");
	assert_int_equal(kt_file_delete(t->dirfd, "missing/a.conf"), -EINVAL);
}

static void
test_delete_refused(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], target[PATH_MAX];

	tmptree_put(t->root, "target.conf", "target\n");
	tmptree_path(t->root, "target.conf", target, sizeof(target));
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("target.conf", path), 0);
	assert_int_equal(kt_file_delete(t->dirfd, "link.conf"), -ELOOP);
	assert_link_to(path, "target.conf");
	assert_file_is(target, "target\n");

	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(kt_file_delete(t->dirfd, "d.conf"), -EISDIR);
	assert_true(S_ISDIR(mode_of(path)));
	assert_dir_is(t->root, "d.conf link.conf target.conf");
}

/* --- kt_file_open_dir -------------------------------------------------------------------- */

/* Open path (root_len bytes of it followed) and check the result: the error and where, or 0. */
static void
check_open_dir(const char *path, size_t root_len, int create, int want_err, size_t want_stop)
{
	int fd = INT_SENTINEL, r;
	size_t stop = SIZE_SENTINEL;

	r = kt_file_open_dir(path, root_len, create, &fd, &stop);
	if (r != want_err || (r < 0 && (fd != INT_SENTINEL || stop != want_stop)) ||
	    (r == 0 && (fd < 0 || stop != SIZE_SENTINEL)))
		fail_msg("%s (%zu, create %d): returned %d, fd %d, stop %zu; want %d, stop %zu",
		    path, root_len, create, r, fd, stop, want_err, want_stop);
	if (r == 0) {
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(close(fd), 0);
	}
}

/*
 * Missing directories are made with mode 0755 whatever the umask, the root's too; existing ones
 * keep their mode. Without create, the first missing one is named.
 */
static void
test_open_dir_create(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], root[PATH_MAX];

	tmptree_path(t->root, "img", root, sizeof(root));
	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, strlen(root), 0, -ENOENT, strlen(root));
	assert_dir_is(t->root, "");

	umask(077);
	assert_int_equal(mkdir(root, 0700), 0);
	check_open_dir(path, strlen(root), 0, -ENOENT, strlen(root) + 4);
	check_open_dir(path, strlen(root), 1, 0, 0);
	assert_true(S_ISDIR(mode_of(path)));
	assert_int_equal(mode_of(path) & 07777, 0755);
	tmptree_path(t->root, "img/etc", path, sizeof(path));
	assert_int_equal(mode_of(path) & 07777, 0755);
	assert_int_equal(mode_of(root) & 07777, 0700);
	assert_dir_is(path, "sysctl.d");

	/* The root itself, missing, is not made: a mistyped one would make a whole tree. */
	tmptree_path(t->root, "new/img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, strlen(t->root) + 8, 1, -ENOENT, strlen(t->root) + 4);
	tmptree_path(t->root, "new", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);

	/* Again: all there already. Doubled and trailing slashes change nothing. */
	tmptree_path(t->root, "img//etc/sysctl.d/", path, sizeof(path));
	check_open_dir(path, strlen(root), 1, 0, 0);
	check_open_dir(path, strlen(root), 0, 0, 0);
	check_open_dir("/", 0, 0, 0, 0);
	check_open_dir("/", 1, 1, 0, 0);
	assert_dir_is(t->root, "img");
}

/* A file where a directory should be is -ENOTDIR, named; nothing is made past it. */
static void
test_open_dir_not_dir(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], file[PATH_MAX];

	tmptree_put(t->root, "f", "file\n");
	tmptree_path(t->root, "f", file, sizeof(file));
	check_open_dir(file, strlen(t->root), 1, -ENOTDIR, strlen(file));
	tmptree_path(t->root, "f/sub/deeper", path, sizeof(path));
	check_open_dir(path, strlen(t->root), 1, -ENOTDIR, strlen(file));
	check_open_dir(path, strlen(path), 1, -ENOTDIR, strlen(file));
	assert_file_is(file, "file\n");
	assert_dir_is(t->root, "f");
}

/*
 * Symbolic links are followed in the part the user named, and refused after it, wherever they
 * point and whether or not they dangle; nothing is made through them. ".." is refused there too.
 */
static void
test_open_dir_symlink(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], root[PATH_MAX], link[PATH_MAX];
	size_t rlen;

	tmptree_path(t->root, "img", root, sizeof(root));
	rlen = strlen(root);
	assert_int_equal(mkdir(root, 0755), 0);
	tmptree_path(t->root, "outside", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	tmptree_path(t->root, "img/etc", link, sizeof(link));
	assert_int_equal(symlink(path, link), 0);

	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, rlen, 1, -ELOOP, strlen(link));
	check_open_dir(path, rlen, 0, -ELOOP, strlen(link));
	tmptree_path(t->root, "outside", path, sizeof(path));
	assert_dir_is(path, "");

	/* The same link in the part the user named is followed. */
	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, strlen(link), 1, 0, 0);
	tmptree_path(t->root, "outside", path, sizeof(path));
	assert_dir_is(path, "sysctl.d");

	/* A dangling link, and a link to a file. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("nowhere", link), 0);
	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, rlen, 1, -ELOOP, strlen(link));
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("/dev/null", link), 0);
	check_open_dir(path, rlen, 1, -ELOOP, strlen(link));
	assert_dir_is(root, "etc");
	assert_link_to(link, "/dev/null");

	/* A link as the root itself is followed. */
	tmptree_path(t->root, "outside/x", path, sizeof(path));
	tmptree_path(t->root, "rootlink", link, sizeof(link));
	tmptree_path(t->root, "outside", root, sizeof(root));
	assert_int_equal(symlink(root, link), 0);
	tmptree_path(t->root, "rootlink/x", path, sizeof(path));
	check_open_dir(path, strlen(link), 1, 0, 0);
	tmptree_path(t->root, "outside/x", path, sizeof(path));
	assert_true(S_ISDIR(mode_of(path)));

	/* ".." after the root would climb out of it. */
	tmptree_path(t->root, "outside/../outside", path, sizeof(path));
	check_open_dir(path, strlen(root), 0, -EINVAL, strlen(root) + 3);
	check_open_dir(path, strlen(path), 0, 0, 0);
}

/* --- kt_replace_file --------------------------------------------------------------------- */

/* A path is replaced whole, mode 0644, stale temp files cleared; links and missing dirs refused. */
static void
test_replace_file(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], dir[PATH_MAX];
	int sync_err = 1;

	tmptree_path(t->root, "m.prom", path, sizeof(path));
	tmptree_put(t->root, ".m.prom.AbC123", "stale\n");
	umask(077);
	assert_int_equal(kt_replace_file(path, "a 1\n", 4, 1000, &sync_err), 0);
	umask(022);
	assert_int_equal(sync_err, 0);
	assert_file_is(path, "a 1\n");
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_dir_is(t->root, "m.prom");
	assert_int_equal(kt_replace_file(path, "b 2\n", 4, 1000, &sync_err), 0);
	assert_file_is(path, "b 2\n");

	/* A bare name is in the current directory. */
	assert_int_equal(fchdir(t->dirfd), 0);
	assert_int_equal(kt_replace_file("n.prom", "", 0, 1000, &sync_err), 0);
	assert_file_is(path, "b 2\n");
	assert_dir_is(t->root, "m.prom n.prom");

	/* Refused, and nothing made: a link, a directory, a missing directory, no name. */
	tmptree_link(t->root, "l.prom", "m.prom");
	tmptree_path(t->root, "l.prom", path, sizeof(path));
	assert_int_equal(kt_replace_file(path, "x\n", 2, 1000, &sync_err), -ELOOP);
	tmptree_mkdirs(t->root, "d.prom");
	tmptree_path(t->root, "d.prom", path, sizeof(path));
	assert_int_equal(kt_replace_file(path, "x\n", 2, 1000, &sync_err), -EISDIR);
	tmptree_path(t->root, "nodir/x.prom", path, sizeof(path));
	assert_int_equal(kt_replace_file(path, "x\n", 2, 1000, &sync_err), -ENOENT);
	tmptree_path(t->root, "d.prom/", dir, sizeof(dir));
	assert_int_equal(kt_replace_file(dir, "x\n", 2, 1000, &sync_err), -EISDIR);
	assert_dir_is(t->root, "d.prom l.prom m.prom n.prom");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_load_exact),
		T(test_load_missing),
		T(test_load_symlink),
		T(test_load_directory),
		T(test_load_fifo),
		T(test_load_size),
		T(test_save_new),
		T(test_save_replace),
		T(test_save_write_fails),
		T(test_save_symlink),
		T(test_save_not_a_file),
		T(test_save_temp_name),
		T(test_relative_path),
		T(test_clean),
		T(test_fix_mode),
		T(test_delete),
		T(test_delete_refused),
		T(test_open_dir_create),
		T(test_open_dir_not_dir),
		T(test_open_dir_symlink),
		T(test_replace_file),
	};

	return cmocka_run_group_tests_name("kt_file", tests, NULL, NULL);
}
