/* kt_bpf.c: enable and disable keepalive for a cgroup: attach ka-tune's program to it through a
 * pinned link, give the program in force a new policy in place, or detach it; one program per
 * cgroup, never one above or below another, and never a hand on another tool's program. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Most programs the kernel attaches to one cgroup for one hook (BPF_CGROUP_MAX_PROGS). */
#define ATTACHED_MAX	64

/*
 * The ids of the sock_ops programs of the cgroup at cgfd: attached to it, or with effective,
 * those that run for its sockets (its ancestors' too). Returns 0 and sets *ret (to free) and
 * *ret_n, or a negative errno: -EPERM without the privileges.
 */
static int
query(int cgfd, int effective, unsigned int **ret, unsigned int *ret_n)
{
	unsigned int n = ATTACHED_MAX, *ids = NULL;
	int r;

	do {
		unsigned int *more = reallocarray(ids, n ? n : 1, sizeof(*ids));

		if (!more) {
			free(ids);
			return -ENOMEM;
		}
		ids = more;
		r = kt_sys_prog_query(cgfd, effective, ids, &n);
	} while (r == -ENOSPC);
	if (r < 0) {
		free(ids);
		return r;
	}
	*ret = ids;
	*ret_n = n;
	return 0;
}

/* Whether the program with this id is ka-tune's; if so, open it into ret when not NULL. */
static int
is_ours(unsigned int id, struct kt_prog *ret)
{
	struct kt_prog p;
	int fd = kt_sys_prog_by_id(id);

	if (fd < 0 || kt_prog_open(fd, &p) < 0)
		return 0;
	if (ret)
		*ret = p;
	else
		kt_prog_close(&p);
	return 1;
}

/*
 * Find ka-tune's program among those attached to the cgroup at cgfd itself. Returns 0 and fills
 * *ret (when not NULL), -ENOENT when there is none, or a negative errno.
 */
static int
attached_prog(int cgfd, struct kt_prog *ret)
{
	unsigned int *ids, n;
	int r = query(cgfd, 0, &ids, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (unsigned int i = 0; i < n && r == -ENOENT; i++)
		if (is_ours(ids[i], ret))
			r = 0;
	free(ids);
	return r;
}

/* Whether ka-tune's program runs for cg's sockets without being attached to cg: an ancestor's. */
static int
inherited(const struct kt_cgroup *cg)
{
	unsigned int *ids, n, *own, nown;
	int r = query(cg->fd, 1, &ids, &n), found = 0;

	if (r < 0)
		return r;
	r = query(cg->fd, 0, &own, &nown);
	for (unsigned int i = 0; r == 0 && !found && i < n; i++) {
		unsigned int j = 0;

		while (j < nown && own[j] != ids[i])
			j++;
		found = j == nown && is_ours(ids[i], NULL);
	}
	if (r == 0)
		free(own);
	free(ids);
	return r < 0 ? r : found;
}

/*
 * Find the ancestor of cg that ka-tune's program is attached to, walking up: its path below the
 * mount goes to other (len bytes; "" for the mount's root). Returns 1, or 0 when no cgroup
 * below the mount has it (it is above, in a cgroup namespace), or a negative errno.
 */
static int
find_ancestor(const struct kt_cgroup *cg, char *other, size_t len)
{
	char rel[PATH_MAX];
	int fd = dup(cg->fd), r = -ENOENT;

	if (fd < 0)
		return -errno;
	(void)snprintf(rel, sizeof(rel), "%s", cg->rel);
	while (r == -ENOENT && rel[0]) {
		char *slash = strrchr(rel, '/');
		int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		(void)close(fd);
		fd = up;
		if (fd < 0)
			return -errno;
		*(slash ? slash : rel) = '\0';
		r = attached_prog(fd, NULL);
	}
	(void)close(fd);
	if (r == 0 && snprintf(other, len, "%s", rel) >= (int)len)
		return -ENAMETOOLONG;
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* kt_cgroup_walk()'s question to each descendant: has it ka-tune's program? Its path in arg. */
static int
descendant_has_prog(int dirfd, const char *sub, void *arg)
{
	char *other = arg;
	int r;

	if (!*sub)
		return 0;
	r = attached_prog(dirfd, NULL);
	if (r == -ENOENT)
		return 0;
	if (r == 0) {
		(void)snprintf(other, PATH_MAX, "%s", sub);
		return -EALREADY;
	}
	return r;
}

/*
 * Check that no ancestor and no descendant of cg has ka-tune's program: both would run for the
 * connections below, the one nearer the root last, its values winning. Returns 0, or -EALREADY
 * with the other cgroup in fail, or a negative errno.
 */
static int
check_nesting(const struct kt_cgroup *cg, struct kt_bpf_fail *fail)
{
	char sub[PATH_MAX];
	int r = inherited(cg);

	if (r > 0) {
		fail->above = 1;
		r = find_ancestor(cg, fail->other, sizeof(fail->other));
		fail->outside = r == 0;
		return r < 0 ? r : -EALREADY;
	}
	if (r < 0)
		return r;
	r = kt_cgroup_walk(cg->fd, descendant_has_prog, sub);
	if (r == -EALREADY && snprintf(fail->other, sizeof(fail->other), "%s%s%s", cg->rel,
	    cg->rel[0] ? "/" : "", sub) >= (int)sizeof(fail->other))
		return -ENAMETOOLONG;
	return r;
}

/* Give ka-tune's program p the policy word, unless it has it already; say which in res. */
static int
update(const struct kt_prog *p, uint64_t word, int dry_run, struct kt_bpf_result *res)
{
	uint64_t old;
	int r = kt_prog_policy(p, &old, NULL, 0);

	if (r < 0)
		return r;
	kt_bpf_policy_unpack(old, &res->before);
	res->change = old == word ? KT_BPF_UNCHANGED : KT_BPF_UPDATED;
	if (old == word || dry_run)
		return 0;
	return kt_prog_set_policy(p, word);
}

/*
 * Clear the way for cg's pin at path: a pin of ka-tune's there is a link that no longer
 * attaches anything (its cgroup has the id in its name, and no program of ka-tune's), so it
 * goes; anything else there stays, and is -EEXIST.
 */
static int
clear_pin(const char *path, int dry_run)
{
	struct kt_link l;
	int r = kt_link_open(path, &l);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	kt_link_close(&l);
	return dry_run || unlink(path) == 0 ? 0 : -errno;
}

/*
 * Load a new program with the policy word, attach it to cg through a link and pin the link at
 * path; with dry_run, only load it, for the verifier's word. Nothing is left on failure.
 */
static int
attach(const struct kt_cgroup *cg, const char *path, uint64_t word, int dry_run,
    struct kt_bpf_fail *fail)
{
	struct kt_prog p;
	int link, r = clear_pin(path, dry_run);

	if (r == 0)
		r = kt_prog_new(cg->rel, word, &p, fail->reason, sizeof(fail->reason));
	if (r < 0)
		return r;
	link = dry_run ? 0 : kt_sys_link_create(p.prog, cg->fd);
	kt_prog_close(&p);	/* the link holds the program, the program its maps */
	if (dry_run)
		return 0;
	/* The caller was allowed to query and load: a refusal now is a program attached to the
	 * cgroup or an ancestor without BPF_F_ALLOW_MULTI, which keeps every other one off. */
	if (link < 0)
		return link == -EPERM ? -EBUSY : link;
	r = kt_sys_pin(link, path);
	(void)close(link);	/* unpinned, this was its last reference: it is detached */
	return r;
}

/* Attach or update under the lock on dir (dirfd, -1 for a dry run where dir is missing). */
static int
enable_locked(const char *dir, int dirfd, const struct kt_cgroup *cg, uint64_t word,
    int dry_run, struct kt_bpf_result *res, struct kt_bpf_fail *fail)
{
	char path[PATH_MAX];
	struct kt_prog p;
	int r = attached_prog(cg->fd, &p);

	if (r == 0) {
		r = update(&p, word, dry_run, res);
		kt_prog_close(&p);
		return r;
	}
	if (r != -ENOENT)
		return r;
	res->change = KT_BPF_ATTACHED;
	r = kt_pin_path(dir, cg->id, path, sizeof(path));
	if (r == 0)
		r = attach(cg, path, word, dry_run, fail);
	/* Housekeeping: the pins of earlier cgroups at this path (a service restarted) that are
	 * gone. Its failure changes nothing that was asked for. */
	if (r == 0 && dirfd >= 0 && kt_pins_prune(dirfd, dir, cg->rel, dry_run, &res->pruned) < 0)
		res->pruned = 0;
	return r;
}

/*
 * Enable keepalive for the TCP connections established from now on by the processes in cg and
 * its descendants, with the values v gives (v->mask; the others keep their network namespace's
 * sysctls): each enable states the whole policy. When ka-tune's program is attached to cg
 * already, it is given v in place (one program per cgroup, its counters kept); else a new one
 * is attached through a link pinned in dir (KT_BPF_DIR) as cg-<id>, beside any other program
 * there, and the pins of removed cgroups at the same path are pruned. With KT_BPF_DRY_RUN
 * nothing is changed, but a new program still goes through the verifier.
 * Returns 0 and fills *ret (change, the policy before, pins pruned); or a negative errno, with
 * *ret_fail filled where it says more: -ERANGE (a value out of range), -EPERM (not root),
 * -EALREADY (an ancestor or descendant has ka-tune's program: ret_fail->other, ->above),
 * -ENOMEDIUM (no bpffs), -EUCLEAN (dir not root's own, mode 0700), -EEXIST (a pin not
 * ka-tune's in the way), -EBUSY (a program attached without BPF_F_ALLOW_MULTI keeps others
 * off), -ENOEXEC (the verifier refused the program: ret_fail->reason), -ETIMEDOUT (the lock).
 */
int
kt_bpf_enable(const char *dir, const struct kt_cgroup *cg, const struct kt_values *v,
    unsigned int flags, struct kt_bpf_result *ret, struct kt_bpf_fail *ret_fail)
{
	int dry_run = (flags & KT_BPF_DRY_RUN) != 0, dirfd = -1, r;
	struct kt_bpf_result res;
	uint64_t word;

	assert(dir && cg && v && ret && ret_fail);
	memset(ret_fail, 0, sizeof(*ret_fail));
	memset(&res, 0, sizeof(res));
	r = kt_bpf_policy_pack(v, &word);
	/* Ask the kernel what only root may ask before anything is made in bpffs. */
	if (r == 0)
		r = attached_prog(cg->fd, NULL);
	if (r == 0 || r == -ENOENT)
		r = check_nesting(cg, ret_fail);
	if (r == 0)
		r = kt_pins_open(dir, dry_run ? 0 : KT_PINS_CREATE | KT_PINS_LOCK, &dirfd);
	if (r == -ENOENT && dry_run)
		r = 0;
	if (r == 0)
		r = enable_locked(dir, dirfd, cg, word, dry_run, &res, ret_fail);
	if (dirfd >= 0)
		(void)close(dirfd);
	if (r == 0)
		*ret = res;
	return r;
}

/* Detach ka-tune's link pinned at path, and remove the pin; say so in res. */
static int
detach(const char *path, int dry_run, struct kt_bpf_result *res)
{
	struct kt_link l;
	uint64_t word;
	int r = kt_link_open(path, &l);

	if (r == -ENOENT || r == -EEXIST)	/* none, or not ka-tune's: nothing of ours */
		return 0;
	if (r == 0)
		r = kt_prog_policy(&l.prog, &word, NULL, 0);
	if (r == 0 && !dry_run)
		r = kt_sys_link_detach(l.fd);
	kt_link_close(&l);
	if (r == 0 && !dry_run && unlink(path) < 0)
		r = -errno;
	if (r < 0)
		return r;
	kt_bpf_policy_unpack(word, &res->before);
	res->change = KT_BPF_DETACHED;
	return 0;
}

/*
 * Disable what kt_bpf_enable() did for the cgroup at rel (its path below the cgroup2 mount):
 * detach ka-tune's link from cg and remove its pin in dir, and remove the pins of removed
 * cgroups that were enabled at rel. cg is NULL when there is no cgroup at rel any more. No
 * other program is touched. Connections already established keep what they were given.
 * With KT_BPF_DRY_RUN, nothing is changed.
 * Returns 0 and fills *ret (KT_BPF_UNCHANGED when nothing of ka-tune's was attached; pruned),
 * or a negative errno: -EPERM or -EACCES (not root), -ENOLINK (ka-tune's program is attached to
 * cg but its link is not pinned in dir: pinned in another bpffs), -EUCLEAN, -ETIMEDOUT...
 */
int
kt_bpf_disable(const char *dir, const char *rel, const struct kt_cgroup *cg, unsigned int flags,
    struct kt_bpf_result *ret)
{
	int dry_run = (flags & KT_BPF_DRY_RUN) != 0, dirfd, found = 0, r;
	struct kt_bpf_result res;
	char path[PATH_MAX];

	assert(dir && rel && ret);
	memset(&res, 0, sizeof(res));
	if (cg) {
		/* Only root may ask: asked before anything else. */
		r = attached_prog(cg->fd, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
		found = r == 0;
	}
	r = kt_pins_open(dir, dry_run ? 0 : KT_PINS_LOCK, &dirfd);
	if (r == -ENOENT || r == -ENOMEDIUM) {	/* nothing was ever pinned */
		if (found)
			return -ENOLINK;
		*ret = res;
		return 0;
	}
	if (r < 0)
		return r;
	if (cg && (r = kt_pin_path(dir, cg->id, path, sizeof(path))) == 0)
		r = detach(path, dry_run, &res);
	if (r == 0 && found && res.change != KT_BPF_DETACHED)
		r = -ENOLINK;
	if (r == 0)
		r = kt_pins_prune(dirfd, dir, rel, dry_run, &res.pruned);
	(void)close(dirfd);
	if (r == 0)
		*ret = res;
	return r;
}
