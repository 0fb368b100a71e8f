/* kt_bpf_pin.c: ka-tune's directory in the BPF file system, where the links that attach its
 * program to cgroups are pinned so that they outlive ka-tune: opening it safely, naming,
 * opening and pruning the pins, and listing them. Nothing there that is not ka-tune's is ever
 * touched. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* The pin of the link that attaches ka-tune's program to the cgroup with id N: "cg-N". */
#define LINK_PREFIX	"cg-"

/* Whether the directory holding dir (its path up to the last '/') is a BPF file system. */
static int
parent_is_bpffs(const char *dir)
{
	const char *slash = strrchr(dir, '/');
	char parent[PATH_MAX];
	struct statfs sf;

	if (!slash || slash == dir || (size_t)(slash - dir) >= sizeof(parent))
		return -EINVAL;
	memcpy(parent, dir, (size_t)(slash - dir));
	parent[slash - dir] = '\0';
	if (statfs(parent, &sf) < 0)
		return errno == ENOENT ? -ENOMEDIUM : -errno;
	return sf.f_type == BPF_FS_MAGIC ? 0 : -ENOMEDIUM;
}

/* Whether the directory open at fd is one ka-tune may trust: in a bpffs, the caller's own,
 * closed to others; whoever else could write there could plant pins for ka-tune to act on. */
static int
trusted(int fd)
{
	struct statfs sf;
	struct stat st;

	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (sf.f_type != BPF_FS_MAGIC)
		return -ENOMEDIUM;
	return st.st_uid == geteuid() && (st.st_mode & 077) == 0 ? 0 : -EUCLEAN;
}

/*
 * Open ka-tune's directory dir in the BPF file system: with KT_PINS_CREATE, make it (mode 0700)
 * when it is missing; with KT_PINS_LOCK, wait (at most KT_LOCK_TIMEOUT s) for an exclusive lock
 * on it, which ka-tune's enable and disable take turns with. Returns 0 and sets *ret_fd (to
 * close), or a negative errno: -ENOMEDIUM when no bpffs is mounted where dir's parent is;
 * -ENOENT when dir is missing (without KT_PINS_CREATE); -ENOTDIR for a symbolic link, never
 * followed; -EUCLEAN when it is not the caller's own, mode 0700; -EACCES; -ETIMEDOUT.
 */
int
kt_pins_open(const char *dir, unsigned int flags, int *ret_fd)
{
	int fd, r;

	assert(dir && ret_fd);
	r = parent_is_bpffs(dir);
	if (r < 0)
		return r;
	if ((flags & KT_PINS_CREATE) && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = trusted(fd);
	if (r == 0 && (flags & KT_PINS_LOCK))
		r = kt_lock_wait(fd, KT_LOCK_TIMEOUT * 1000);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* The path of the pin for the cgroup with id cgid in dir. */
int
kt_pin_path(const char *dir, unsigned long long cgid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/" LINK_PREFIX "%llu", dir, cgid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Whether fd is a bpf_link, by the name its anonymous inode has. */
static int
is_link(int fd)
{
	char proc[32], target[32];
	ssize_t n;

	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf-link") == 0;
}

/* Close what kt_link_open() opened; closing twice is fine. */
void
kt_link_close(struct kt_link *l)
{
	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
	kt_prog_close(&l->prog);
}

/*
 * Open the link pinned at path, if it is ka-tune's: a cgroup sock_ops link whose program is
 * ka-tune's. Returns 0 and fills *ret (to kt_link_close()); -ENOENT when nothing is pinned
 * there; -EEXIST when something is that is not ka-tune's; or another negative errno.
 */
int
kt_link_open(const char *path, struct kt_link *ret)
{
	struct kt_link l = KT_LINK_INIT;
	struct bpf_link_info info;
	int prog, r;

	l.fd = kt_sys_get(path);
	if (l.fd < 0)
		return l.fd;
	memset(&info, 0, sizeof(info));
	r = is_link(l.fd) ? kt_sys_info(l.fd, &info, sizeof(info)) : -EEXIST;
	if (r == 0 && (info.type != BPF_LINK_TYPE_CGROUP ||
	    info.cgroup.attach_type != BPF_CGROUP_SOCK_OPS))
		r = -EEXIST;
	if (r == 0) {
		prog = kt_sys_prog_by_id(info.prog_id);
		r = prog < 0 ? prog : kt_prog_open(prog, &l.prog);
		r = r == -ENOENT ? -EEXIST : r;
	}
	if (r < 0) {
		kt_link_close(&l);
		return r;
	}
	l.id = info.id;
	l.cgid = info.cgroup.cgroup_id;
	*ret = l;
	return 0;
}

/* The cgroup id a pin's name gives, or 0 for a name that is not "cg-N". */
static unsigned long long
pin_cgid(const char *name)
{
	unsigned long long id;

	if (strncmp(name, LINK_PREFIX, strlen(LINK_PREFIX)) != 0 ||
	    kt_parse_uint(name + strlen(LINK_PREFIX), 1, ~0ULL, &id) < 0)
		return 0;
	return id;
}

/*
 * Call fn(name, link, arg) for each pin in dir, open at dirfd, that is ka-tune's link; a pin
 * that is not is passed over. Stops at the first negative return of fn and returns it.
 */
static int
each_link(int dirfd, const char *dir, int (*fn)(const char *, struct kt_link *, void *),
    void *arg)
{
	struct dirent *de;
	int r = 0;
	DIR *d;

	if ((r = kt_read_dir(dirfd, &d)) < 0)
		return r;
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		char path[PATH_MAX];
		struct kt_link l;

		if (pin_cgid(de->d_name) == 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		r = kt_link_open(path, &l);
		if (r == -ENOENT || r == -EEXIST) {	/* gone meanwhile, or not ka-tune's */
			r = 0;
			continue;
		}
		if (r == 0)
			r = fn(de->d_name, &l, arg);
		kt_link_close(&l);
	}
	if (r >= 0 && errno)
		r = -errno;
	(void)closedir(d);
	return r;
}

/* What prune_one() needs: the directory, the path whose pins go, what it removed. */
struct prune {
	int dirfd;
	const char *rel;
	int dry_run;
	unsigned int n;
};

/* Remove the pin name if its link no longer attaches anything and was made for p->rel. */
static int
prune_one(const char *name, struct kt_link *l, void *arg)
{
	struct prune *p = arg;
	char rel[PATH_MAX];
	uint64_t word;
	int r;

	if (l->cgid != 0)
		return 0;
	r = kt_prog_policy(&l->prog, &word, rel, sizeof(rel));
	if (r < 0 || (p->rel && strcmp(rel, p->rel) != 0))
		return 0;
	if (!p->dry_run && unlinkat(p->dirfd, name, 0) < 0)
		return -errno;
	p->n++;
	return 0;
}

/*
 * Remove the pins in dir (open at dirfd) of ka-tune's links that attach nothing any more: their
 * cgroup was removed, or another tool detached them. Only those made for the cgroup path rel,
 * unless rel is NULL. What goes with them is their counters. With dry_run, only count them.
 * Returns 0 and sets *ret_n to how many went, or a negative errno.
 */
int
kt_pins_prune(int dirfd, const char *dir, const char *rel, int dry_run, unsigned int *ret_n)
{
	struct prune p = { dirfd, rel, dry_run, 0 };
	int r = each_link(dirfd, dir, prune_one, &p);

	if (r < 0)
		return r;
	*ret_n = p.n;
	return 0;
}

/* A list being made by kt_bpf_list(). */
struct list {
	struct kt_bpf_entry *e;
	size_t n, cap;
};

/* Describe ka-tune's link l, pinned as name, in a new entry of the list. */
static int
list_one(const char *name, struct kt_link *l, void *arg)
{
	struct list *list = arg;
	struct bpf_prog_info info;
	struct kt_bpf_entry *e;
	uint64_t word;
	int r;

	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 8;

		e = reallocarray(list->e, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		list->e = e;
		list->cap = cap;
	}
	e = &list->e[list->n];
	memset(e, 0, sizeof(*e));
	memset(&info, 0, sizeof(info));
	r = kt_prog_policy(&l->prog, &word, e->rel, sizeof(e->rel));
	if (r == 0)
		r = kt_prog_counts(&l->prog, &e->enabled, &e->failed);
	if (r == 0)
		r = kt_sys_info(l->prog.prog, &info, sizeof(info));
	if (r < 0)
		return r;
	kt_bpf_policy_unpack(word, &e->policy);
	e->cgid = pin_cgid(name);
	e->gone = l->cgid == 0;
	e->prog_id = info.id;
	e->link_id = l->id;
	list->n++;
	return 0;
}

/* Order entries by their cgroup's path, then by id: a removed cgroup before its successor. */
static int
by_path(const void *a, const void *b)
{
	const struct kt_bpf_entry *x = a, *y = b;
	int c = strcmp(x->rel, y->rel);

	return c ? c : (x->cgid > y->cgid) - (x->cgid < y->cgid);
}

/*
 * List ka-tune's links in dir (KT_BPF_DIR): each with the cgroup it was made for (removed since,
 * or not), its values and its counters, ordered by the cgroup's path. Anything else there is
 * left out. Returns 0 and sets *ret (to free; NULL when *ret_n is 0) and *ret_n, or a negative
 * errno: -EACCES (not root), -EUCLEAN (dir not the caller's own, mode 0700), -ENOMEM... No
 * directory, or no BPF file system, is an empty list: nothing was ever enabled there.
 */
int
kt_bpf_list(const char *dir, struct kt_bpf_entry **ret, size_t *ret_n)
{
	struct list list = { NULL, 0, 0 };
	int dirfd, r;

	assert(dir && ret && ret_n);
	r = kt_pins_open(dir, 0, &dirfd);
	if (r == -ENOENT || r == -ENOMEDIUM) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = each_link(dirfd, dir, list_one, &list);
	(void)close(dirfd);
	if (r < 0) {
		free(list.e);
		return r;
	}
	if (list.n == 0) {
		free(list.e);
		list.e = NULL;
	} else {
		qsort(list.e, list.n, sizeof(*list.e), by_path);
	}
	*ret = list.e;
	*ret_n = list.n;
	return 0;
}
