/* kt_boot.c: work out what a sysctl loader (systemd-sysctl or procps sysctl --system) will set
 * the three keys to at boot, from the sysctl.d files, and which line of which file says so. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* The directories both loaders read, in order of precedence (/lib/sysctl.d is skipped where it
 * is /usr/lib/sysctl.d, as on merged-/usr systems). */
static const char *const conf_dirs[] = {
	KT_CONF_DIR, "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
	"/lib/sysctl.d",
};
#define NDIRS (sizeof(conf_dirs) / sizeof(conf_dirs[0]))

/* One line of a file that bears on our keys: an assignment, a glob, or a "-key" exclusion. */
struct line {
	size_t file;		/* index in boot->files */
	unsigned int lineno;
	char *key;		/* as the loader normalises it: slashed for systemd, a path for procps */
	char *value;		/* NULL for an exclusion */
	int glob;
	unsigned int reach;	/* the keys its write lands on, or its glob matches */
	enum kt_assign_state state[KT_NKEYS];	/* what became of it, for each key it names */
};

/* A file found in a sysctl.d directory. */
struct file {
	char *path;		/* as shown to users: the loader's path, without the root */
	char *name;		/* its basename, the key of precedence */
	int dir;		/* index in conf_dirs, or NDIRS for /etc/sysctl.conf */
	int hidden;		/* a file of the same name in an earlier directory wins */
	int isdir;		/* a directory named *.conf */
};

struct kt_boot {
	enum kt_loader loader;
	struct file *files;
	size_t nfiles, capfiles;
	struct line *lines;
	size_t nlines, caplines;
	struct kt_boot_key keys[KT_NKEYS];
	int err;		/* the first file that could not be read, and why */
	const char *err_file;
};

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 32;
	np = reallocarray(*p, ncap, size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* --- reading the tree ------------------------------------------------------------------------ */

/*
 * Open a file of the tree. With a root, the path and its symbolic links are resolved inside
 * root, as they would be on the machine booted from it.
 */
static int
open_in_root(int rootfd, const char *path, int flags)
{
	int fd, r;

	if (rootfd < 0) {
		fd = open(path, flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	r = kt_root_open(rootfd, path, flags, &fd);
	return r < 0 ? r : fd;
}

static int
add_file(struct kt_boot *b, const char *dir, const char *name, int dirindex, int isdir)
{
	struct file *f;
	size_t dlen = strlen(dir), nlen = strlen(name);

	if (grow((void **)&b->files, &b->capfiles, b->nfiles, sizeof(*b->files)) < 0)
		return -ENOMEM;
	f = &b->files[b->nfiles];
	*f = (struct file){ .dir = dirindex, .isdir = isdir };
	f->path = malloc(dlen + 1 + nlen + 1);
	if (!f->path)
		return -ENOMEM;
	memcpy(f->path, dir, dlen);
	f->path[dlen] = '/';
	memcpy(f->path + dlen + 1, name, nlen + 1);
	f->name = f->path + dlen + 1;
	b->nfiles++;
	return 0;
}

/* Whether a directory entry is a file the loader reads. */
static int
wanted(enum kt_loader loader, const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	if (len < 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
		return 0;
	/*
	 * procps takes any name ending in .conf, hidden ones and all; systemd 252 skips hidden
	 * ones. Neither looks at the type: a directory, a FIFO or a device of that name is read
	 * (or fails to be) and hides the same name in later directories.
	 */
	return loader == KT_LOADER_PROCPS || de->d_name[0] != '.';
}

/* Add the .conf files of one directory; a directory that does not exist is empty. */
static int
scan_dir(struct kt_boot *b, int rootfd, int dirindex, struct stat *seen, size_t *nseen)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = open_in_root(rootfd, conf_dirs[dirindex], O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	for (size_t i = 0; i < *nseen; i++) {
		if (seen[i].st_dev == st.st_dev && seen[i].st_ino == st.st_ino) {
			(void)close(fd);	/* /lib/sysctl.d is /usr/lib/sysctl.d here */
			return 0;
		}
	}
	seen[(*nseen)++] = st;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	while (r == 0 && (de = readdir(d)))
		if (wanted(b->loader, de))
			r = add_file(b, conf_dirs[dirindex], de->d_name, dirindex,
			    de->d_type == DT_DIR);
	(void)closedir(d);
	return r;
}

static int
by_name_then_dir(const void *a, const void *b)
{
	const struct file *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->dir - y->dir;
}

/*
 * List the files in load order: sorted by name, a name in an earlier directory hiding the same
 * name later (kept, marked hidden, to report what it shadows); procps then reads /etc/sysctl.conf.
 */
static int
list_files(struct kt_boot *b, int rootfd)
{
	struct stat seen[NDIRS], st;
	size_t nseen = 0;
	int r, fd;

	for (size_t i = 0; i < NDIRS; i++) {
		r = scan_dir(b, rootfd, i, seen, &nseen);
		if (r < 0)
			return r;
	}
	if (b->nfiles > 1)
		qsort(b->files, b->nfiles, sizeof(*b->files), by_name_then_dir);
	for (size_t i = 1; i < b->nfiles; i++)
		if (strcmp(b->files[i].name, b->files[i - 1].name) == 0)
			b->files[i].hidden = 1;
	if (b->loader != KT_LOADER_PROCPS)
		return 0;
	fd = open_in_root(rootfd, "/etc/sysctl.conf", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return 0;
	r = fstat(fd, &st);
	(void)close(fd);
	if (r < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (add_file(b, "/etc", "sysctl.conf", NDIRS, 0) < 0)
		return -ENOMEM;
	return 0;
}

/* --- reading lines, as each loader does ---------------------------------------------------- */

/* Keep a setting that reaches one of our keys (the bits of those it reaches in reach). */
static int
add_line(struct kt_boot *b, size_t file, unsigned int lineno, const struct kt_setting *s,
    unsigned int reach)
{
	struct line *l;

	if (grow((void **)&b->lines, &b->caplines, b->nlines, sizeof(*b->lines)) < 0)
		return -ENOMEM;
	l = &b->lines[b->nlines];
	*l = (struct line){ .file = file, .lineno = lineno, .glob = s->glob, .reach = reach };
	l->key = strdup(s->name);
	l->value = s->value ? strdup(s->value) : NULL;
	if (!l->key || (s->value && !l->value)) {
		free(l->key);
		free(l->value);
		return -ENOMEM;
	}
	b->nlines++;
	return 0;
}

/* Read a file's text (len bytes) line by line as the loader does, keeping what bears on us. */
static int
parse_text(struct kt_boot *b, size_t file, const char *text, size_t len)
{
	struct kt_sysctld_iter it;
	struct kt_sysctld_line line;
	char *buf = malloc(len + 1);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	kt_sysctld_begin(&it, b->loader, text, len);
	while (r == 0 && kt_sysctld_next(&it, &line)) {
		struct kt_setting s;
		unsigned int reach = 0;

		if (!kt_sysctld_parse(b->loader, &line, buf, &s))
			continue;
		for (int k = 0; k < KT_NKEYS; k++)
			if (kt_sysctld_reaches(b->loader, &s, k, NULL, 0))
				reach |= KT_BIT(k);
		if (reach)
			r = add_line(b, file, line.lineno, &s, reach);
	}
	free(buf);
	return r;
}

/*
 * Parse every listed file. A file the loader could not read either (gone, a dangling link, a
 * directory) holds nothing; any other failure is kept in b->err for the caller to report.
 */
static int
parse_files(struct kt_boot *b, int rootfd)
{
	for (size_t i = 0; i < b->nfiles; i++) {
		char *text;
		size_t len;
		int r;

		if (b->files[i].isdir)
			continue;
		r = kt_read_file(rootfd < 0 ? AT_FDCWD : rootfd, b->files[i].path,
		    KT_READ_NULL_EMPTY | (rootfd < 0 ? 0 : KT_READ_IN_ROOT), KT_CONF_MAX, &text,
		    &len, NULL);
		if (r == -ENOENT || r == -EISDIR || r == -ELOOP)
			continue;
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			if (!b->err) {
				b->err = r;
				b->err_file = b->files[i].path;
			}
			continue;
		}
		r = parse_text(b, i, text, len);
		free(text);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- applying, as each loader does ------------------------------------------------------------- */

/*
 * Whether a glob line g is kept off key k because a line names k in the very words the loader
 * compares a glob's matches with (procps: path strings; systemd: normalised names).
 */
static int
named(const struct kt_boot *b, const struct line *g, enum kt_key k)
{
	struct kt_setting s = { .name = g->key, .glob = 1 };
	char spelled[PATH_MAX];

	if (!kt_sysctld_reaches(b->loader, &s, k, spelled, sizeof(spelled)))
		return 0;
	for (size_t i = 0; i < b->nlines; i++)
		if (!b->lines[i].glob && !b->files[b->lines[i].file].hidden &&
		    strcmp(b->lines[i].key, spelled) == 0)
			return 1;
	return 0;
}

/* Whether a write of line l lands on key k (for a glob: whether it matches k). */
static int
matches(const struct line *l, enum kt_key k)
{
	return (l->reach & KT_BIT(k)) != 0;
}

/* The running state of one key while the loader's writes are replayed. */
struct replay {
	int val;
	long winner;		/* index of the line whose write set val, or -1 */
};

/* One write of line li's value to key k, as the kernel takes or refuses it. */
static void
write_key(struct kt_boot *b, struct replay *st, enum kt_key k, size_t li, long hz)
{
	struct line *l = &b->lines[li];
	int v;

	if (kt_kernel_parse(k, l->value, hz, &v) < 0) {
		l->state[k] = KT_ASSIGN_REJECTED;
		return;
	}
	if (st->winner >= 0)
		b->lines[st->winner].state[k] = KT_ASSIGN_OVERRIDDEN;
	st->val = v;
	st->winner = (long)li;
	l->state[k] = KT_ASSIGN_APPLIED;
}

/*
 * procps 4.0: every line is kept in a list in load order and written in that order, so each
 * assignment of a key is written and the last one the kernel takes stays. A glob skips a key
 * that any line (an assignment or a "-key" exclusion) names exactly.
 */
static void
replay_procps(struct kt_boot *b, struct replay *st, long hz)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		for (size_t i = 0; i < b->nlines; i++) {
			struct line *l = &b->lines[i];

			if (b->files[l->file].hidden || !matches(l, k))
				continue;
			if (!l->value)
				l->state[k] = KT_ASSIGN_EXCLUDED;
			else if (l->glob && named(b, l, k))
				l->state[k] = KT_ASSIGN_EXPLICIT;
			else
				write_key(b, &st[k], k, i, hz);
		}
	}
}

/*
 * systemd-sysctl 252: lines go into an ordered hashmap keyed by the normalised name (a glob by
 * its pattern). A line with the value already there only joins it; another value (or none)
 * replaces the entry and moves it to the end. Then each entry is written once, in order; a glob
 * skips a key that has an entry of its own, and an entry without a value writes nothing.
 */
static int
replay_systemd(struct kt_boot *b, struct replay *st, long hz)
{
	size_t *entry = calloc(b->nlines ? b->nlines : 1, sizeof(*entry)), n = 0;

	if (!entry)
		return -ENOMEM;
	for (size_t i = 0; i < b->nlines; i++) {
		const struct line *l = &b->lines[i];
		size_t e;

		if (b->files[l->file].hidden)
			continue;
		for (e = 0; e < n && strcmp(b->lines[entry[e]].key, l->key) != 0; e++)
			;
		if (e < n) {
			const char *old = b->lines[entry[e]].value;

			for (int k = 0; k < KT_NKEYS; k++)
				if (matches(&b->lines[entry[e]], k))
					b->lines[entry[e]].state[k] = KT_ASSIGN_OVERRIDDEN;
			if (old && l->value && strcmp(old, l->value) == 0) {
				entry[e] = i;	/* same value: the entry keeps its place */
				continue;
			}
			memmove(&entry[e], &entry[e + 1], (n - e - 1) * sizeof(*entry));
			n--;
		}
		entry[n++] = i;
	}
	for (size_t e = 0; e < n; e++) {
		struct line *l = &b->lines[entry[e]];

		for (int k = 0; k < KT_NKEYS; k++) {
			if (!matches(l, k))
				continue;
			if (!l->value)
				l->state[k] = KT_ASSIGN_EXCLUDED;
			else if (l->glob && named(b, l, k))
				l->state[k] = KT_ASSIGN_EXPLICIT;
			else
				write_key(b, &st[k], k, entry[e], hz);
		}
	}
	free(entry);
	return 0;
}

/* Gather, for each key, the lines that bear on it and what became of each. */
static int
collect(struct kt_boot *b, const struct replay *st)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		struct kt_boot_key *bk = &b->keys[k];
		size_t n = 0;

		for (size_t i = 0; i < b->nlines; i++)
			if (matches(&b->lines[i], k))
				n++;
		bk->assigns = calloc(n ? n : 1, sizeof(*bk->assigns));
		if (!bk->assigns)
			return -ENOMEM;
		bk->val = st[k].val;
		for (size_t i = 0; i < b->nlines; i++) {
			const struct line *l = &b->lines[i];
			struct kt_assign *a;

			if (!matches(l, k))
				continue;
			a = &bk->assigns[bk->nassigns++];
			*a = (struct kt_assign){
				.file = b->files[l->file].path,
				.line = l->lineno,
				.key = l->key,
				.value = l->value,
				.glob = l->glob,
				.state = b->files[l->file].hidden ? KT_ASSIGN_HIDDEN : l->state[k],
			};
			if ((long)i == st[k].winner)
				bk->from = a;
		}
	}
	return 0;
}

/*
 * Work out what loader will set the three keys to at boot from the sysctl.d tree under root ("" or
 * NULL for this machine), for a kernel with the given HZ (kt_kernel_hz()). Returns 0 and sets
 * *ret (to free with kt_boot_free()), or a negative errno. Files that could not be read are
 * reported by kt_boot_error().
 */
int
kt_boot_read(const char *root, enum kt_loader loader, long hz, struct kt_boot **ret)
{
	struct replay st[KT_NKEYS];
	struct kt_boot *b;
	int rootfd = -1, r;

	assert(ret);
	assert(loader == KT_LOADER_SYSTEMD || loader == KT_LOADER_PROCPS);

	if (root && *root && strcmp(root, "/") != 0) {
		rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return -errno;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	b->loader = loader;
	for (int k = 0; k < KT_NKEYS; k++)
		st[k] = (struct replay){ .val = kt_key(k)->kernel_default, .winner = -1 };
	r = list_files(b, rootfd);
	if (r == 0)
		r = parse_files(b, rootfd);
	if (r == 0)
		r = loader == KT_LOADER_PROCPS ? (replay_procps(b, st, hz), 0)
					       : replay_systemd(b, st, hz);
	if (r == 0)
		r = collect(b, st);
	if (r < 0) {
		kt_boot_free(b);
		goto out;
	}
	*ret = b;
out:
	if (rootfd >= 0)
		(void)close(rootfd);
	return r;
}

/* What the loader sets key k to at boot, the line that says so, and every line about it. */
const struct kt_boot_key *
kt_boot_key(const struct kt_boot *b, enum kt_key k)
{
	assert(b);
	assert(k < KT_NKEYS);
	return &b->keys[k];
}

/* The first file that could not be read while working the boot values out, and why; or 0. */
int
kt_boot_error(const struct kt_boot *b, const char **ret_file)
{
	assert(b);
	if (b->err && ret_file)
		*ret_file = b->err_file;
	return b->err;
}

void
kt_boot_free(struct kt_boot *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nfiles; i++)
		free(b->files[i].path);
	for (size_t i = 0; i < b->nlines; i++) {
		free(b->lines[i].key);
		free(b->lines[i].value);
	}
	for (int k = 0; k < KT_NKEYS; k++)
		free(b->keys[k].assigns);
	free(b->files);
	free(b->lines);
	free(b);
}

/*
 * The loader that runs at boot: systemd-sysctl where systemd runs the machine (or, for an image
 * tree, where the image has systemd-sysctl), procps' sysctl --system elsewhere.
 */
enum kt_loader
kt_boot_default_loader(const char *root)
{
	static const char *const probes[] = {
		"/usr/lib/systemd/systemd-sysctl", "/lib/systemd/systemd-sysctl",
	};
	char path[PATH_MAX];
	struct stat st;

	if (!root || !*root || strcmp(root, "/") == 0)
		return stat("/run/systemd/system", &st) == 0 ? KT_LOADER_SYSTEMD
							      : KT_LOADER_PROCPS;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (snprintf(path, sizeof(path), "%s%s", root, probes[i]) < (int)sizeof(path) &&
		    lstat(path, &st) == 0)
			return KT_LOADER_SYSTEMD;
	return KT_LOADER_PROCPS;
}

const char *
kt_loader_name(enum kt_loader loader)
{
	return loader == KT_LOADER_SYSTEMD ? "systemd" : "procps";
}

/*
 * Parse a loader's name as given on the command line ("systemd" or "procps"). Returns 0 and sets
 * *ret, or -EINVAL.
 */
int
kt_loader_from_name(const char *name, enum kt_loader *ret)
{
	assert(name);
	assert(ret);
	if (strcmp(name, "systemd") == 0)
		*ret = KT_LOADER_SYSTEMD;
	else if (strcmp(name, "procps") == 0)
		*ret = KT_LOADER_PROCPS;
	else
		return -EINVAL;
	return 0;
}

/*
 * The kernel's tick rate, which bounds the time and interval (at most INT_MAX / HZ seconds):
 * CONFIG_HZ from /boot/config-<release>, or 1000, the highest a kernel is built with, when that
 * file is not there. Only values above 2147483 seconds depend on it.
 */
long
kt_kernel_hz(void)
{
	char path[PATH_MAX], line[256];
	struct utsname u;
	long hz = 1000;
	FILE *f;

	if (uname(&u) < 0 ||
	    snprintf(path, sizeof(path), "/boot/config-%s", u.release) >= (int)sizeof(path))
		return hz;
	f = fopen(path, "re");
	if (!f)
		return hz;
	while (fgets(line, sizeof(line), f)) {
		const char *errstr = NULL;
		long long v;

		if (strncmp(line, "CONFIG_HZ=", 10) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		v = strtonum(line + 10, 1, 100000, &errstr);
		if (!errstr)
			hz = (long)v;
		break;
	}
	(void)fclose(f);
	return hz;
}
