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
#include <unistd.h>
#include <linux/nsfs.h>

#include "katune.h"

/* Open path and check that it is a network namespace. Returns an fd, or a negative errno. */
static int
open_netns(const char *path)
{
	int fd, type, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type == CLONE_NEWNET)
		return fd;
	r = type < 0 && errno != ENOTTY && errno != EINVAL ? -errno : -ENOTNAM;
	(void)close(fd);
	return r;
}

/*
 * Open a network namespace given as ip(8) does: a NAME made by `ip netns add` (a file in
 * KT_NETNS_DIR), or, when it holds a '/', the path of a namespace file (/proc/PID/ns/net, a
 * bind-mounted nsfs file). A name is never more than one path component.
 * Returns 0 and sets *ret_fd, or -ENOENT (no such namespace), -ENOTNAM (not a network
 * namespace), -EINVAL (an empty or dot name), -ENAMETOOLONG, -EACCES.
 */
int
kt_netns_open(const char *spec, int *ret_fd)
{
	char path[PATH_MAX];
	int fd;

	assert(spec);
	assert(ret_fd);

	if (strchr(spec, '/')) {
		fd = open_netns(spec);
	} else {
		if (*spec == '\0' || strcmp(spec, ".") == 0 || strcmp(spec, "..") == 0)
			return -EINVAL;
		if (strlen(spec) > NAME_MAX ||
		    snprintf(path, sizeof(path), "%s/%s", KT_NETNS_DIR, spec) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = open_netns(path);
	}
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/*
 * Open the network namespace of process pid (/proc/PID/ns/net). Returns 0 and sets *ret_fd, or
 * -ESRCH (no such process), -EACCES (not allowed to look), or another negative errno.
 */
int
kt_netns_open_pid(long pid, int *ret_fd)
{
	char path[64];
	int fd;

	assert(ret_fd);

	if (pid <= 0)
		return -ESRCH;
	if (snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid) >= (int)sizeof(path))
		return -ESRCH;
	fd = open_netns(path);
	if (fd == -ENOENT)
		return -ESRCH;
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/*
 * Make the calling thread use the network namespace fd refers to; from then on /proc/sys/net
 * shows that namespace's keys. Returns 0, or -EPERM when not allowed (needs CAP_SYS_ADMIN).
 */
int
kt_netns_enter(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return -errno;
	return 0;
}

/* The namespace identity behind an fd or a path: nsfs device and inode. */
static int
same_ns(const struct kt_netns *n, const struct stat *st)
{
	return n->dev == st->st_dev && n->ino == st->st_ino;
}

/* Add the namespace st to the list (or find it there). Returns its entry, or NULL on ENOMEM. */
static struct kt_netns *
add_ns(struct kt_netns **list, size_t *n, size_t *cap, const struct stat *st)
{
	for (size_t i = 0; i < *n; i++)
		if (same_ns(&(*list)[i], st))
			return &(*list)[i];
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct kt_netns *p = reallocarray(*list, ncap, sizeof(**list));

		if (!p)
			return NULL;
		*list = p;
		*cap = ncap;
	}
	(*list)[*n] = (struct kt_netns){ .dev = st->st_dev, .ino = st->st_ino };
	return &(*list)[(*n)++];
}

/* Whether s is all decimal digits, as a /proc entry of a process is. */
static int
is_pid(const char *s)
{
	if (*s == '\0')
		return 0;
	return strspn(s, "0123456789") == strlen(s);
}

static int
by_inode(const void *a, const void *b)
{
	const struct kt_netns *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return (x->dev > y->dev) - (x->dev < y->dev);
}

/* Add the namespaces named in KT_NETNS_DIR, each with its (first, by name) name. */
static int
list_named(struct kt_netns **list, size_t *n, size_t *cap)
{
	DIR *d = opendir(KT_NETNS_DIR);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct kt_netns *ns;
		struct stat st;
		int fd, r;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(ns->name))
			continue;
		if (kt_netns_open(de->d_name, &fd) < 0)
			continue;	/* gone, or a file with no namespace mounted on it */
		r = fstat(fd, &st);
		(void)close(fd);
		if (r < 0)
			continue;
		ns = add_ns(list, n, cap, &st);
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

/* Add the namespaces of running processes, each with its lowest pid; count those not seen. */
static int
list_pids(struct kt_netns **list, size_t *n, size_t *cap, unsigned int *unseen)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[NAME_MAX + 16];
		struct kt_netns *ns;
		struct stat st;
		long pid;

		if (!is_pid(de->d_name))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		if (snprintf(path, sizeof(path), "%s/ns/net", de->d_name) >= (int)sizeof(path))
			continue;
		if (fstatat(dirfd(d), path, &st, 0) < 0) {
			if (errno == EACCES || errno == EPERM)
				(*unseen)++;
			continue;	/* EACCES: another user's; ENOENT: exited, or a kernel thread */
		}
		ns = add_ns(list, n, cap, &st);
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

/*
 * List the distinct network namespaces on the machine: those named in KT_NETNS_DIR and those of
 * running processes, ordered by inode. *ret_unseen counts processes whose namespace the caller
 * may not look at (another user's, when not root). Returns 0 and sets *ret_list (to free) and
 * *ret_n, or a negative errno.
 */
int
kt_netns_list(struct kt_netns **ret_list, size_t *ret_n, unsigned int *ret_unseen)
{
	struct kt_netns *list = NULL;
	size_t n = 0, cap = 0;
	unsigned int unseen = 0;
	int r;

	assert(ret_list);
	assert(ret_n);
	assert(ret_unseen);

	r = list_named(&list, &n, &cap);
	if (r == 0)
		r = list_pids(&list, &n, &cap, &unseen);
	if (r < 0) {
		free(list);
		return r;
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), by_inode);
	*ret_list = list;
	*ret_n = n;
	*ret_unseen = unseen;
	return 0;
}

/*
 * Open a listed namespace again, by its name or its pid, and check it is still the same one
 * (a pid may have exited and been reused). Returns 0 and sets *ret_fd, or -ESRCH when it is gone.
 */
int
kt_netns_reopen(const struct kt_netns *ns, int *ret_fd)
{
	struct stat st;
	int fd, r;

	assert(ns);
	assert(ret_fd);

	r = ns->name[0] ? kt_netns_open(ns->name, &fd) : kt_netns_open_pid(ns->pid, &fd);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	if (fstat(fd, &st) < 0 || !same_ns(ns, &st)) {
		(void)close(fd);
		return -ESRCH;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * Tell whether the calling thread is in the listed namespace now. Returns 1 or 0, or a negative
 * errno when its own namespace cannot be looked at.
 */
int
kt_netns_is_current(const struct kt_netns *ns)
{
	struct stat st;

	assert(ns);

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	return same_ns(ns, &st);
}

/* Explain an error of the kt_netns_* functions, for an operator. Static string. */
const char *
kt_netns_strerror(int err)
{
	switch (-err) {
	case ENOENT:
		return "no such network namespace (ip netns list shows the named ones)";
	case ESRCH:
		return "no such process";
	case ENOTNAM:
		return "not a network namespace";
	case EPERM:
		return "permission denied (entering a namespace needs root or CAP_SYS_ADMIN)";
	case EACCES:
		return "permission denied (another user's process: looking at it needs root)";
	case EINVAL:
		return "not a namespace name";
	default:
		return strerror(-err);
	}
}
