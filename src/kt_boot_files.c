/* kt_boot_files.c: which files a sysctl loader reads at boot, in which order, and what it makes
 * of each that it cannot read: the sysctl.d directories, names that hide the same name later,
 * /etc/sysctl.conf for procps, all resolved inside an image tree when there is one. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* The directories both loaders read, in order of precedence. */
static const char *const conf_dirs[] = {
	KT_CONF_DIR, "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
	"/lib/sysctl.d",
};
#define NDIRS	(sizeof(conf_dirs) / sizeof(conf_dirs[0]))

/* What procps reads after every sysctl.d file. */
#define SYSCTL_CONF_DIR	"/etc"
#define SYSCTL_CONF_NAME	"sysctl.conf"
#define SYSCTL_CONF	SYSCTL_CONF_DIR "/" SYSCTL_CONF_NAME

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	np = reallocarray(*p, ncap, size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Note what became of a file or directory the loader could not read (or ka-tune, kind). */
static int
note(struct kt_bootfiles *f, const char *path, int err, enum kt_boot_problem kind)
{
	if (grow((void **)&f->notes, &f->capnotes, f->nnotes, sizeof(*f->notes)) < 0)
		return -ENOMEM;
	f->notes[f->nnotes++] = (struct kt_boot_note){ .file = path, .err = err, .kind = kind };
	return 0;
}

static int
add_file(struct kt_bootfiles *f, const char *dir, const char *name, int dirindex)
{
	struct kt_bootfile *bf;
	size_t dlen = strlen(dir), nlen = strlen(name);

	if (grow((void **)&f->files, &f->cap, f->n, sizeof(*f->files)) < 0)
		return -ENOMEM;
	bf = &f->files[f->n];
	*bf = (struct kt_bootfile){ .dir = dirindex };
	bf->path = malloc(dlen + 1 + nlen + 1);
	if (!bf->path)
		return -ENOMEM;
	memcpy(bf->path, dir, dlen);
	bf->path[dlen] = '/';
	memcpy(bf->path + dlen + 1, name, nlen + 1);
	bf->name = bf->path + dlen + 1;
	f->n++;
	return 0;
}

/*
 * Whether a directory entry is a file the loader reads. procps takes any name ending in .conf,
 * hidden ones and all; systemd 252 skips hidden ones. Neither looks at the type: a directory, a
 * FIFO or a device of that name is read (or fails to be) and hides the same name later.
 */
static int
wanted(enum kt_loader loader, const char *name)
{
	size_t len = strlen(name);

	if (len < 5 || strcmp(name + len - 5, ".conf") != 0)
		return 0;
	return loader == KT_LOADER_PROCPS || name[0] != '.';
}

/*
 * Add the files of directory i; seen holds the directories read so far (/lib/sysctl.d is
 * /usr/lib/sysctl.d on merged-/usr systems: once is enough). A directory that is not there is
 * empty; one that cannot be opened is skipped, as both loaders skip it, and noted.
 */
static int
scan_dir(struct kt_bootfiles *f, int rootfd, enum kt_loader loader, size_t i, struct stat *seen,
    size_t *nseen)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, r;

	r = kt_root_open(rootfd, conf_dirs[i], O_RDONLY | O_DIRECTORY, &fd);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return note(f, conf_dirs[i], r, r == -ELOOP ? KT_BOOT_SKIPPED : KT_BOOT_UNREAD);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		(void)close(fd);
		return note(f, conf_dirs[i], r, KT_BOOT_UNREAD);
	}
	for (size_t j = 0; j < *nseen; j++) {
		if (seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino) {
			(void)close(fd);
			return 0;
		}
	}
	seen[(*nseen)++] = st;
	if (!(d = fdopendir(fd))) {
		(void)close(fd);
		return -ENOMEM;
	}
	r = 0;
	while (r == 0 && (errno = 0, de = readdir(d)))
		if (wanted(loader, de->d_name))
			r = add_file(f, conf_dirs[i], de->d_name, (int)i);
	if (r == 0 && !de && errno)
		r = note(f, conf_dirs[i], -errno, KT_BOOT_UNREAD);
	(void)closedir(d);
	return r;
}

static int
by_name_then_dir(const void *a, const void *b)
{
	const struct kt_bootfile *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->dir - y->dir;
}

/*
 * List the files loader reads at boot from the tree at rootfd, in load order: sorted by name, a
 * name in an earlier directory hiding the same name later (kept, marked hidden, to report what
 * it hides); procps then reads /etc/sysctl.conf, if it is a regular file. Returns 0 or -ENOMEM;
 * directories that cannot be read are in f->notes.
 */
int
kt_bootfiles_list(int rootfd, enum kt_loader loader, struct kt_bootfiles *f)
{
	struct stat seen[NDIRS], st;
	size_t nseen = 0;
	int r, fd;

	for (size_t i = 0; i < NDIRS; i++)
		if ((r = scan_dir(f, rootfd, loader, i, seen, &nseen)) < 0)
			return r;
	if (f->n > 1)
		qsort(f->files, f->n, sizeof(*f->files), by_name_then_dir);
	for (size_t i = 1; i < f->n; i++)
		if (strcmp(f->files[i].name, f->files[i - 1].name) == 0)
			f->files[i].hidden = 1;
	if (loader != KT_LOADER_PROCPS || kt_root_open(rootfd, SYSCTL_CONF, O_PATH, &fd) < 0)
		return 0;
	r = fstat(fd, &st);
	(void)close(fd);
	if (r < 0 || !S_ISREG(st.st_mode))
		return 0;
	return add_file(f, SYSCTL_CONF_DIR, SYSCTL_CONF_NAME, (int)NDIRS);
}

/*
 * Whether the loader complains, at boot, that it cannot read a file for the reason err (what
 * kt_read_file() gives): systemd logs "Failed to open file" (or "to read" a directory) but not
 * for a dangling link; procps says "cannot open" even then, and nothing of a directory.
 */
static int
loader_complains(enum kt_loader loader, int err)
{
	if (err == -ENOENT)
		return loader == KT_LOADER_PROCPS;
	if (err == -EISDIR)
		return loader == KT_LOADER_SYSTEMD;
	return 1;
}

/*
 * Read file i of the listing as the loader would, at most KT_CONF_MAX bytes, into a new
 * NUL-terminated buffer the caller frees. A file the loader cannot open either (a dangling or
 * looping link, a directory, a socket) holds nothing, and is noted KT_BOOT_SKIPPED when the
 * loader says so at boot; one ka-tune cannot or will not read (permission, I/O, over 1 MiB, a
 * FIFO or a device, which it never opens) is noted KT_BOOT_UNREAD: the loader may read it. The
 * null device reads as empty. Returns 0 and sets *ret_text and *ret_len; 1 when there is
 * nothing to read; or -ENOMEM.
 */
int
kt_bootfiles_read(int rootfd, enum kt_loader loader, struct kt_bootfiles *f, size_t i,
    char **ret_text, size_t *ret_len)
{
	const char *path = f->files[i].path;
	int r;

	assert(i < f->n);
	r = kt_read_file(rootfd, path, KT_READ_IN_ROOT | KT_READ_NULL_EMPTY, KT_CONF_MAX,
	    ret_text, ret_len, NULL);
	if (r == 0 || r == -ENOMEM)
		return r;
	if (f->files[i].hidden)
		return 1;	/* read only to show what it holds: the loader never opens it */
	switch (r) {
	case -ENOENT:
	case -ENOTDIR:
	case -ENAMETOOLONG:
	case -ELOOP:
	case -EISDIR:
	case -ENXIO:
		if (loader_complains(loader, r) && note(f, path, r, KT_BOOT_SKIPPED) < 0)
			return -ENOMEM;
		return 1;
	default:
		return note(f, path, r, KT_BOOT_UNREAD) < 0 ? -ENOMEM : 1;
	}
}

/* Make the listing one file, read by itself under path. Returns 0 or -ENOMEM. */
int
kt_bootfiles_one(struct kt_bootfiles *f, const char *path)
{
	struct kt_bootfile *bf;
	const char *slash = strrchr(path, '/');

	if (grow((void **)&f->files, &f->cap, f->n, sizeof(*f->files)) < 0)
		return -ENOMEM;
	bf = &f->files[f->n];
	*bf = (struct kt_bootfile){ .dir = 0 };
	if (!(bf->path = strdup(path)))
		return -ENOMEM;
	bf->name = slash ? bf->path + (slash - path) + 1 : bf->path;
	f->n++;
	return 0;
}

/* Free what a listing holds, and empty it. */
void
kt_bootfiles_free(struct kt_bootfiles *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->files[i].path);
	free(f->files);
	free(f->notes);
	*f = (struct kt_bootfiles){ .n = 0 };
}
