/* kt_root.c: open a path of an image tree as the machine booted from that tree would: the tree is
 * the root, so symbolic links and ".." resolve inside it and never lead out. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "katune.h"
#include "kt_internal.h"

/* The kernel's MAXSYMLINKS: how many links one resolution may follow before -ELOOP. */
#define MAX_LINKS	40
/* How deep the walk goes below the root; deeper paths are -ENAMETOOLONG. */
#define MAX_DEPTH	64

/* Set once openat2() turned out to be missing: every later open walks at once. */
static int no_openat2;

/*
 * Open path (absolute or not, it starts at the root either way) inside the directory rootfd,
 * taken as the root, with open(2)'s flags (O_PATH, O_RDONLY | O_DIRECTORY, O_NOFOLLOW...; never
 * O_CREAT). Uses openat2(RESOLVE_IN_ROOT); where the kernel lacks it (before 5.6) or a seccomp
 * profile refuses it (ENOSYS, or EPERM as older container runtimes answer), kt_root_walk() does
 * the same by hand. Returns 0 and sets *ret_fd, or a negative errno as open(2) gives.
 */
int
kt_root_open(int rootfd, const char *path, int flags, int *ret_fd)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	assert(path);
	assert(ret_fd);
	assert(!(flags & O_CREAT));

	if (!no_openat2) {
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0) {
			*ret_fd = (int)fd;
			return 0;
		}
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		no_openat2 = 1;
	}
	return kt_root_walk(rootfd, path, flags, ret_fd);
}

/* The directories the walk has gone down through: dir[0] is the root, dir[depth] where it is. */
struct walk {
	int dir[MAX_DEPTH + 1];
	size_t depth;
	unsigned int links;
	char *rest;		/* what is left of the path, links spliced in */
};

static void
walk_up(struct walk *w, size_t depth)
{
	while (w->depth > depth)
		(void)close(w->dir[w->depth--]);
}

/*
 * The entry fd (O_PATH, not followed) is the symbolic link: splice its target in front of next,
 * what is left of the path after it, with a '/' between when one followed the link (more). An
 * absolute target starts again at the root.
 */
static int
splice_link(struct walk *w, int fd, const char *next, int more)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(fd, "", target, sizeof(target));
	size_t nextlen = strlen(next);
	char *rest;

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	if (++w->links > MAX_LINKS)
		return -ELOOP;
	if (target[0] == '/')
		walk_up(w, 0);
	rest = malloc((size_t)n + 1 + nextlen + 1);
	if (!rest)
		return -ENOMEM;
	memcpy(rest, target, (size_t)n);
	rest[n] = more ? '/' : '\0';
	memcpy(rest + n + !!more, next, nextlen + 1);
	free(w->rest);
	w->rest = rest;
	return 0;
}

/*
 * Take one step of the walk: the component name (NUL-terminated), with the rest of the path at
 * next; more says a '/' follows it, so that it must be a directory. A directory is gone into
 * (0); a link is spliced into w->rest (1: go on from there); the last component, not a link or
 * not to be followed, is opened with flags into *ret_fd (0, and the walk is over).
 */
static int
step(struct walk *w, const char *name, const char *next, int more, int flags, int *ret_fd)
{
	struct stat st;
	int fd, r;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		if (name[1] == '.' && w->depth > 0)
			walk_up(w, w->depth - 1);	/* ".." at the root stays there */
		return 0;
	}
	fd = openat(w->dir[w->depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (S_ISLNK(st.st_mode) && (more || !(flags & O_NOFOLLOW))) {
		r = splice_link(w, fd, next, more);
		r = r < 0 ? r : 1;
	} else if (more) {
		if (!S_ISDIR(st.st_mode))
			r = -ENOTDIR;
		else if (w->depth == MAX_DEPTH)
			r = -ENAMETOOLONG;
		else
			w->dir[++w->depth] = fd, fd = -1, r = 0;
	} else if (flags & O_PATH) {
		*ret_fd = fd;		/* the last component itself, as O_PATH opens it */
		return 0;
	} else {
		/* Not a link a moment ago: O_NOFOLLOW keeps a link put there since from leading
		 * out. */
		r = openat(w->dir[w->depth], name, flags | O_NOFOLLOW | O_CLOEXEC);
		r = r < 0 ? -errno : (*ret_fd = r, 0);
		if (r == 0)
			(void)close(fd);
		return r;
	}
	if (fd >= 0)
		(void)close(fd);
	return r;
}

/*
 * What kt_root_open() does where openat2() is missing: resolve path inside rootfd one component
 * at a time, every entry opened with O_PATH | O_NOFOLLOW, each symbolic link read and spliced
 * into what is left (an absolute one from the root), ".." going back up the directories walked
 * down through and never above the root; at most MAX_LINKS links. A path ending in '/' (or
 * naming the root) opens the directory reached. Declared in kt_internal.h for the tests, which
 * compare it with openat2(). Returns 0 and sets *ret_fd, or a negative errno.
 */
int
kt_root_walk(int rootfd, const char *path, int flags, int *ret_fd)
{
	struct walk w = { .dir = { rootfd }, .depth = 0 };
	int fd = -1, r = 0;

	assert(path);
	assert(ret_fd);
	assert(!(flags & O_CREAT));

	if (*path == '\0')
		return -ENOENT;		/* as open("") */
	if (!(w.rest = strdup(path)))
		return -ENOMEM;
	for (char *p = w.rest; r == 0 && fd < 0;) {
		char *end, *next;

		p += strspn(p, "/");
		if (*p == '\0') {
			/* Nothing left: the directory the walk is in (what "dir/" names). */
			fd = openat(w.dir[w.depth], ".", flags | O_CLOEXEC);
			r = fd < 0 ? -errno : 0;
			break;
		}
		end = p + strcspn(p, "/");
		next = end + strspn(end, "/");
		*end = '\0';
		/* A component followed by '/' must be a directory, even if nothing comes after. */
		r = step(&w, p, next, end != next, flags, &fd);
		if (r == 1) {
			p = w.rest;
			r = 0;
		} else {
			p = next;
		}
	}
	walk_up(&w, 0);
	free(w.rest);
	if (r < 0)
		return r;
	*ret_fd = fd;
	return 0;
}
