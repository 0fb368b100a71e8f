/* kt_netns.c: find, list and enter network namespaces, whose keepalive keys are their own. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "katune.h"
#include "kt_internal.h"

/* Reopen the file an O_PATH descriptor refers to, for reading: the same file, not the path. */
static int
reopen_path_fd(int pfd)
{
	char self[32];
	int fd;

	(void)snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

/*
 * Open path (relative to dirfd) and check that it is a network namespace. Nothing else is ever
 * opened for reading, since opening a FIFO blocks and opening a device acts on it: path is opened
 * with O_PATH, which does neither, and only a file of nsfs is then reopened for reading, through
 * /proc/self/fd, which reaches the very file checked whatever happens to the path meanwhile. An
 * O_PATH descriptor does not serve itself: ioctl(2) (NS_GET_NSTYPE) and setns(2) refuse one with
 * EBADF, on Linux 6.18 as on the kernels before it. Returns an fd, or a negative errno: -ENOTNAM
 * for any other file, a namespace of another type included.
 */
static int
open_netns_at(int dirfd, const char *path)
{
	struct statfs sfs;
	struct stat st;
	int pfd, fd, type;

	pfd = openat(dirfd, path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0 || fstatfs(pfd, &sfs) < 0)
		fd = -errno;
	else if (!S_ISREG(st.st_mode) || sfs.f_type != NSFS_MAGIC)
		fd = -ENOTNAM;
	else
		fd = reopen_path_fd(pfd);
	(void)close(pfd);
	if (fd < 0)
		return fd;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type == CLONE_NEWNET)
		return fd;
	type = type < 0 && errno != ENOTTY && errno != EINVAL ? -errno : -ENOTNAM;
	(void)close(fd);
	return type;
}

/*
 * Whether spec is a path (it holds a '/') rather than a name in KT_NETNS_DIR: the rule of
 * ip(8), which kt_netns_open() follows too.
 */
int
kt_netns_is_path(const char *spec)
{
	assert(spec);
	return strchr(spec, '/') != NULL;
}

int
kt_netns_open(const char *spec, int *ret_fd)
{
	char path[PATH_MAX];
	int fd;

	assert(spec);
	assert(ret_fd);

	if (kt_netns_is_path(spec)) {
		fd = open_netns_at(AT_FDCWD, spec);
	} else {
		if (*spec == '\0' || strcmp(spec, ".") == 0 || strcmp(spec, "..") == 0)
			return -EINVAL;
		if (strlen(spec) > NAME_MAX ||
		    snprintf(path, sizeof(path), "%s/%s", KT_NETNS_DIR, spec) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = open_netns_at(AT_FDCWD, path);
	}
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* Open "PID/ns/net" below proc_dir. Returns an fd, or a negative errno (-ESRCH: no process). */
static int
open_pid_in(const char *proc_dir, long pid)
{
	char path[PATH_MAX];
	int fd;

	if (pid <= 0)
		return -ESRCH;
	if (snprintf(path, sizeof(path), "%s/%ld/ns/net", proc_dir, pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open_netns_at(AT_FDCWD, path);
	return fd == -ENOENT ? -ESRCH : fd;
}

int
kt_netns_open_pid(long pid, int *ret_fd)
{
	int fd;

	assert(ret_fd);

	fd = open_pid_in(KT_PROC_DIR, pid);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

int
kt_netns_enter(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return -errno;
	return 0;
}

/* Whether the listed namespace n is the one st identifies (nsfs device and inode). */
static int
same_ns(const struct kt_netns *n, const struct stat *st)
{
	return n->dev == st->st_dev && n->ino == st->st_ino;
}

/* The namespaces being listed, and the processes whose namespace could not be looked at. */
struct listing {
	struct kt_netns *list;
	size_t n, cap;
	struct kt_netns_unseen unseen;
};

/* Add the namespace st to the list (or find it there). Returns its entry, or NULL on ENOMEM. */
static struct kt_netns *
add_ns(struct listing *l, const struct stat *st)
{
	for (size_t i = 0; i < l->n; i++)
		if (same_ns(&l->list[i], st))
			return &l->list[i];
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct kt_netns *p = reallocarray(l->list, ncap, sizeof(*p));

		if (!p)
			return NULL;
		l->list = p;
		l->cap = ncap;
	}
	l->list[l->n] = (struct kt_netns){ .dev = st->st_dev, .ino = st->st_ino };
	return &l->list[l->n++];
}

static int
by_inode(const void *a, const void *b)
{
	const struct kt_netns *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return (x->dev > y->dev) - (x->dev < y->dev);
}

/* Add the namespaces named in netns_dir, each with its (first, by name) name. */
static int
list_named(struct listing *l, const char *netns_dir)
{
	DIR *d = opendir(netns_dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct kt_netns *ns;
		struct stat st;
		int fd, r;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(ns->name))
			continue;
		fd = open_netns_at(dirfd(d), de->d_name);
		if (fd < 0)
			continue;	/* gone, or no namespace mounted on it */
		r = fstat(fd, &st);
		(void)close(fd);
		if (r < 0)
			continue;
		ns = add_ns(l, &st);
		if (!ns) {
			(void)closedir(d);
			return -ENOMEM;
		}
		if (ns->name[0] == '\0' || strcmp(de->d_name, ns->name) < 0)
			memcpy(ns->name, de->d_name, strlen(de->d_name) + 1);
	}
	(void)closedir(d);
	return 0;
}

/* Note that the namespace of process pid could not be looked at. */
static void
note_unseen(struct kt_netns_unseen *u, long pid)
{
	u->n++;
	if (u->pid == 0 || pid < u->pid)
		u->pid = pid;
}

/* Add the namespaces of the processes in proc_dir, each with its lowest pid. */
static int
list_pids(struct listing *l, const char *proc_dir)
{
	DIR *d = opendir(proc_dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[NAME_MAX + 16];
		struct kt_netns *ns;
		struct stat st;
		long pid = kt_entry_pid(de->d_name);

		if (pid == 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/ns/net", de->d_name);
		if (fstatat(dirfd(d), path, &st, 0) < 0) {
			if (errno == EACCES || errno == EPERM)
				note_unseen(&l->unseen, pid);
			continue;	/* ENOENT: exited, or a kernel thread */
		}
		if (!S_ISREG(st.st_mode))
			continue;
		ns = add_ns(l, &st);
		if (!ns) {
			(void)closedir(d);
			return -ENOMEM;
		}
		if (ns->pid == 0 || pid < ns->pid)
			ns->pid = pid;
	}
	(void)closedir(d);
	return 0;
}

int
kt_netns_list(const char *netns_dir, const char *proc_dir, struct kt_netns **ret_list,
    size_t *ret_n, struct kt_netns_unseen *ret_unseen)
{
	struct listing l = { 0 };
	int r;

	assert(netns_dir);
	assert(proc_dir);
	assert(ret_list);
	assert(ret_n);
	assert(ret_unseen);

	r = list_named(&l, netns_dir);
	if (r == 0)
		r = list_pids(&l, proc_dir);
	if (r < 0) {
		free(l.list);
		return r;
	}
	if (l.n > 1)
		qsort(l.list, l.n, sizeof(*l.list), by_inode);
	*ret_list = l.list;
	*ret_n = l.n;
	*ret_unseen = l.unseen;
	return 0;
}

int
kt_netns_reopen(const char *netns_dir, const char *proc_dir, const struct kt_netns *ns,
    int *ret_fd)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	assert(netns_dir);
	assert(proc_dir);
	assert(ns);
	assert(ret_fd);

	if (ns->name[0]) {
		if (snprintf(path, sizeof(path), "%s/%s", netns_dir, ns->name) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = open_netns_at(AT_FDCWD, path);
	} else {
		fd = open_pid_in(proc_dir, ns->pid);
	}
	if (fd < 0)
		return fd == -ENOENT ? -ESRCH : fd;
	if (fstat(fd, &st) < 0 || !same_ns(ns, &st)) {
		(void)close(fd);
		return -ESRCH;
	}
	*ret_fd = fd;
	return 0;
}

int
kt_netns_is_current(const struct kt_netns *ns)
{
	struct stat st;

	assert(ns);

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	return same_ns(ns, &st);
}
