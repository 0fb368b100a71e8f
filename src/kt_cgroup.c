/* kt_cgroup.c: cgroup v2 as enable --cgroup meets it: where the cgroup2 file system is mounted,
 * a cgroup named by a path (its directory, id and path below the mount), its descendants, and
 * the processes in it. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Largest mount table read: tens of thousands of mounts. */
#define MOUNTINFO_MAX	(16 * 1024 * 1024)
/* Largest cgroup.procs read: about a million pids. */
#define PROCS_MAX	(8 * 1024 * 1024)
/* Deepest cgroup below the one walked; the kernel's own limit is unset by default. */
#define WALK_DEPTH	64

/* Cut the next space-separated field off *p; NULL when there is none. */
static char *
next_field(char **p)
{
	char *s = *p, *end;

	if (!s || !*s)
		return NULL;
	end = strchr(s, ' ');
	*p = end ? end + 1 : NULL;
	if (end)
		*end = '\0';
	return s;
}

/* Undo mountinfo's octal escapes (\040 for a space, \134 for a backslash...) in place. */
static void
unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * If a line of mountinfo (NUL-terminated, cut up in place) is a cgroup2 mount, return its mount
 * point, unescaped, and say in *ret_whole whether it mounts the hierarchy's root, not a subtree.
 * The line is: id, parent id, major:minor, root, mount point, options, optional fields, "-",
 * file system type, source, super options.
 */
static const char *
cgroup2_point(char *line, int *ret_whole)
{
	char *p = line, *root, *point, *f;

	for (int i = 0; i < 3; i++)
		if (!next_field(&p))
			return NULL;
	root = next_field(&p);
	point = next_field(&p);
	if (!root || !point)
		return NULL;
	while ((f = next_field(&p)) && strcmp(f, "-") != 0)
		;
	f = next_field(&p);
	if (!f || strcmp(f, "cgroup2") != 0)
		return NULL;
	*ret_whole = strcmp(root, "/") == 0;
	unescape(point);
	return point;
}

/*
 * Find the cgroup2 mount in the mount table mountinfo (KT_MOUNTINFO, or a file laid out alike):
 * /sys/fs/cgroup on a unified hierarchy, /sys/fs/cgroup/unified on a hybrid one. A mount of the
 * whole hierarchy wins over one of a subtree, an earlier over a later one. Returns 0 and fills
 * buf, or -ENOENT when there is none, -ENAMETOOLONG when len is short, or a read error.
 */
int
kt_cgroup_mount(const char *mountinfo, char *buf, size_t len)
{
	const char *best = NULL;
	char *text, *line, *next;
	int best_whole = 0, r;
	size_t n;

	assert(mountinfo && buf);
	r = kt_read_file(AT_FDCWD, mountinfo, KT_READ_PROC, MOUNTINFO_MAX, &text, &n, NULL);
	if (r < 0)
		return r;
	for (line = text; line && *line; line = next) {
		const char *point;
		int whole;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		point = cgroup2_point(line, &whole);
		if (point && (!best || (whole && !best_whole))) {
			best = point;
			best_whole = whole;
		}
	}
	r = !best ? -ENOENT : strlen(best) >= len ? -ENAMETOOLONG : 0;
	if (r == 0)
		memcpy(buf, best, strlen(best) + 1);
	free(text);
	return r;
}

/* The kernel's id of the cgroup open at fd: its file handle on cgroup2 is the 64-bit id. */
static int
cgroup_id(int fd, unsigned long long *ret)
{
	union {
		struct file_handle h;
		char room[sizeof(struct file_handle) + sizeof(uint64_t)];
	} u;
	uint64_t id;
	int mount_id;

	memset(&u, 0, sizeof(u));
	u.h.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(fd, "", &u.h, &mount_id, AT_EMPTY_PATH) < 0)
		return -errno;
	if (u.h.handle_bytes != sizeof(uint64_t))
		return -EBADMSG;
	memcpy(&id, u.h.f_handle, sizeof(id));
	*ret = id;
	return 0;
}

/*
 * The path below mount of the directory open at fd, as the kernel names it now ("" for the
 * mount's root). Returns -EXDEV when it is not below mount.
 */
static int
relative_path(int fd, const char *mount, char *rel, size_t len)
{
	char link[32], path[PATH_MAX];
	size_t ml = strlen(mount);
	ssize_t n;

	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	path[n] = '\0';
	while (ml > 1 && mount[ml - 1] == '/')
		ml--;
	if (strcmp(mount, "/") == 0)
		ml = 0;
	if (strncmp(path, mount, ml) != 0 || (path[ml] != '/' && path[ml] != '\0'))
		return -EXDEV;
	if ((size_t)n - ml >= len)
		return -ENAMETOOLONG;
	memcpy(rel, path + ml + (path[ml] == '/'), (size_t)n - ml + 1);
	return 0;
}

/*
 * Open the cgroup at path: absolute, or relative to mount (the cgroup2 mount), as in
 * "system.slice/nginx.service". Only a directory is opened, so no path can make it block.
 * Returns 0 and fills *ret (to kt_cgroup_close()), or a negative errno: -ENOENT no such path,
 * -ENOTDIR, -EACCES, -EMEDIUMTYPE not on a cgroup2 file system, -EXDEV on one but not below
 * mount, -ENAMETOOLONG, -EINVAL an empty path.
 */
int
kt_cgroup_open(const char *mount, const char *path, struct kt_cgroup *ret)
{
	char full[PATH_MAX];
	struct kt_cgroup cg;
	struct statfs sf;
	int n, r;

	assert(mount && path && ret);
	if (!*path)
		return -EINVAL;
	n = snprintf(full, sizeof(full), "%s%s%s", path[0] == '/' ? "" : mount,
	    path[0] == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -ENAMETOOLONG;
	cg.fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (cg.fd < 0)
		return -errno;
	r = fstatfs(cg.fd, &sf) < 0 ? -errno : 0;
	if (r == 0 && sf.f_type != CGROUP2_SUPER_MAGIC)
		r = -EMEDIUMTYPE;
	if (r == 0)
		r = relative_path(cg.fd, mount, cg.rel, sizeof(cg.rel));
	if (r == 0)
		r = cgroup_id(cg.fd, &cg.id);
	if (r < 0) {
		(void)close(cg.fd);
		return r;
	}
	*ret = cg;
	return 0;
}

/*
 * The path below mount that path names, written as kt_cgroup_open() gives a cgroup's (no
 * leading, trailing or doubled '/', "" for the mount's root), without looking at the file
 * system: for a cgroup that may be gone, as disable meets one. path is absolute, or relative to
 * mount. Returns 0 and writes buf, or -EINVAL (empty, or a "." or ".." component), -EXDEV
 * (absolute, not below mount), -ENAMETOOLONG.
 */
int
kt_cgroup_rel(const char *mount, const char *path, char *buf, size_t len)
{
	size_t ml = strlen(mount), n = 0;
	const char *p = path;
	char rel[PATH_MAX];

	assert(mount && path && buf);
	while (ml > 0 && mount[ml - 1] == '/')
		ml--;
	if (!*path)
		return -EINVAL;
	if (*path == '/') {
		if (strncmp(path, mount, ml) != 0 || (path[ml] != '/' && path[ml] != '\0'))
			return -EXDEV;
		p = path + ml;
	}
	while (*p) {
		size_t c;

		p += strspn(p, "/");
		c = strcspn(p, "/");
		if (c == 0)
			break;
		if ((c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (n + (n > 0) + c >= sizeof(rel))
			return -ENAMETOOLONG;
		if (n > 0)
			rel[n++] = '/';
		memcpy(rel + n, p, c);
		n += c;
		p += c;
	}
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, rel, n);
	buf[n] = '\0';
	return 0;
}

/* Close a cgroup kt_cgroup_open() opened; closing it twice is fine. */
void
kt_cgroup_close(struct kt_cgroup *cg)
{
	assert(cg);
	if (cg->fd >= 0)
		(void)close(cg->fd);
	cg->fd = -1;
}

/* Whether an error while reading a cgroup means it was removed meanwhile. */
static int
removed(int err)
{
	return err == -ENOENT || err == -ENODEV;
}

/* Call fn for the cgroup open at dirfd (sub, its path from where the walk began, in a buffer
 * of PATH_MAX), then for each child, depth first; a child removed meanwhile is passed over. */
static int
walk(int dirfd, char *sub, int depth, int (*fn)(int, const char *, void *), void *arg)
{
	size_t at = strlen(sub);
	struct dirent *de;
	DIR *d;
	int r;

	if (depth > WALK_DEPTH)
		return -ELOOP;
	r = fn(dirfd, sub, arg);
	if (r < 0)
		return r;
	if ((r = kt_read_dir(dirfd, &d)) < 0)
		return r;
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		int child;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub + at, PATH_MAX - at, "%s%s", at ? "/" : "", de->d_name) >=
		    (int)(PATH_MAX - at)) {
			r = -ENAMETOOLONG;
			break;
		}
		child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		r = child < 0 ? -errno : walk(child, sub, depth + 1, fn, arg);
		if (child >= 0)
			(void)close(child);
		r = removed(r) ? 0 : r;
		sub[at] = '\0';
	}
	if (r >= 0 && errno)
		r = -errno;
	(void)closedir(d);
	return r;
}

/*
 * Call fn(dirfd, sub, arg) for the cgroup open at cgfd and for each of its descendants, parents
 * before children: dirfd is the cgroup's directory (valid during the call), sub its path from
 * cgfd's ("" for cgfd's own). A cgroup removed during the walk is passed over. Stops at the
 * first negative return of fn and returns it; else 0, or why a directory could not be read.
 */
int
kt_cgroup_walk(int cgfd, int (*fn)(int dirfd, const char *sub, void *arg), void *arg)
{
	char sub[PATH_MAX] = "";

	assert(fn);
	return walk(cgfd, sub, 0, fn, arg);
}

/* What kt_cgroup_procs() hands each cgroup of its walk. */
struct procs {
	int (*fn)(int pid, void *arg);
	void *arg;
	size_t n;
};

/* Call p->fn for each pid the cgroup open at dirfd lists in its cgroup.procs. */
static int
each_proc(int dirfd, const char *sub, void *arg)
{
	struct procs *p = arg;
	char *text, *line, *next;
	size_t len;
	int r;

	(void)sub;
	r = kt_read_file(dirfd, "cgroup.procs", KT_READ_PROC | KT_READ_NOFOLLOW, PROCS_MAX, &text,
	    &len, NULL);
	if (r < 0)
		return removed(r) ? 0 : r;
	for (line = text; r >= 0 && *line; line = next) {
		long pid;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		pid = kt_entry_pid(line);
		if (pid == 0) {
			r = -EBADMSG;
			break;
		}
		p->n++;
		r = p->fn((int)pid, p->arg);
	}
	free(text);
	return r;
}

/*
 * Call fn(pid, arg) for every process in the cgroup open at cgfd and in its descendants, as
 * their cgroup.procs list them when each is read. Stops at the first negative return of fn and
 * returns it. Returns 0 and sets *ret_n (when not NULL) to the number of processes seen, or a
 * negative errno: -EBADMSG for a cgroup.procs that lists something else than pids.
 */
int
kt_cgroup_procs(int cgfd, int (*fn)(int pid, void *arg), void *arg, size_t *ret_n)
{
	struct procs p = { fn, arg, 0 };
	int r;

	assert(fn);
	r = kt_cgroup_walk(cgfd, each_proc, &p);
	if (r < 0)
		return r;
	if (ret_n)
		*ret_n = p.n;
	return 0;
}
