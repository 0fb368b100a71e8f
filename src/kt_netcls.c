/* kt_netcls.c: the cgroup v1 tags a socket carries (net_cls classid, net_prio index), and
 * whether taking a process's sockets would change theirs. The kernel tags a socket with the
 * classid and priority index of the process that makes it, and tags it again with those of any
 * process that receives a descriptor of it (__receive_sock() in net/core/sock.c, called for
 * SCM_RIGHTS and pidfd_getfd alike); a process moved to another cgroup has its sockets re-tagged
 * too. tc's cgroup classifier, iptables' -m cgroup --cgroup and the net_prio priority map act
 * on those tags. cgroup v2's socket cgroup is not touched. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Each controller's name, and the file whose text decides the tag it gives a socket. */
static const struct {
	const char *name;
	const char *file;
} taggers[KT_NTAGGERS] = {
	[KT_NET_CLS] = { "net_cls", "net_cls.classid" },
	[KT_NET_PRIO] = { "net_prio", "net_prio.ifpriomap" },
};

/* Longest tag file compared: net_prio.ifpriomap has a line a network device. */
#define TAG_FILE_MAX	(256 * 1024)

/* Whether the comma-separated list of len bytes at list holds word. */
static int
has_word(const char *list, size_t len, const char *word)
{
	size_t wlen = strlen(word);

	while (len > 0) {
		size_t n = strcspn(list, ",");

		if (n > len)
			n = len;
		if (n == wlen && memcmp(list, word, n) == 0)
			return 1;
		if (n == len)
			break;
		list += n + 1;
		len -= n + 1;
	}
	return 0;
}

/*
 * Find the cgroup of each tagger in the text of a /proc/PID/cgroup file: lines
 * "ID:CONTROLLERS:PATH". A controller no line names (not mounted: every process in its root)
 * leaves "". Returns 0, or -ENAMETOOLONG.
 */
static int
cgroups_of(const char *text, char path[KT_NTAGGERS][KT_CGROUP_LEN])
{
	for (int t = 0; t < KT_NTAGGERS; t++)
		path[t][0] = '\0';
	for (const char *line = text; *line; ) {
		size_t len = strcspn(line, "\n");
		const char *c = memchr(line, ':', len), *p;

		p = c ? memchr(c + 1, ':', len - (c + 1 - line)) : NULL;
		for (int t = 0; p && t < KT_NTAGGERS; t++) {
			if (!has_word(c + 1, p - c - 1, taggers[t].name))
				continue;
			if ((size_t)(line + len - p - 1) >= KT_CGROUP_LEN)
				return -ENAMETOOLONG;
			memcpy(path[t], p + 1, line + len - p - 1);
			path[t][line + len - p - 1] = '\0';
		}
		line += len + (line[len] == '\n');
	}
	return 0;
}

/* Read the cgroup file of process name ("self", "123") below procfd into path[]. */
static int
read_cgroups(int procfd, const char *name, char path[KT_NTAGGERS][KT_CGROUP_LEN])
{
	char *buf = malloc(KT_CGROUP_LEN * 32);
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	n = kt_proc_read(procfd, name, "cgroup", buf, KT_CGROUP_LEN * 32);
	r = n < 0 ? (n == -ENOENT ? -ESRCH : (int)n) : cgroups_of(buf, path);
	free(buf);
	return r;
}

/* Undo mountinfo's octal escapes (\040 for a space...) in place. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * Whether a mountinfo line mounts a cgroup v1 hierarchy with the tagger t; if so, point
 * *ret_root and *ret_point at its root (the cgroup it shows) and mount point, unescaped in the
 * line. Fields: ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS.
 */
static int
mounts_tagger(char *line, int t, char **ret_root, char **ret_point)
{
	char *f[5], *save = NULL, *sep, *type, *super;

	sep = strstr(line, " - ");
	if (!sep)
		return 0;
	*sep = '\0';
	type = strtok_r(sep + 3, " \n", &save);
	(void)strtok_r(NULL, " \n", &save);
	super = strtok_r(NULL, " \n", &save);
	if (!type || !super || strcmp(type, "cgroup") != 0 ||
	    !has_word(super, strlen(super), taggers[t].name))
		return 0;
	save = NULL;
	for (int i = 0; i < 5; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, " ", &save)))
			return 0;
	unescape(f[3]);
	unescape(f[4]);
	*ret_root = f[3];
	*ret_point = f[4];
	return 1;
}

/*
 * Find where the hierarchy of tagger t is mounted so that cgroup path shows below it, and write
 * the cgroup's directory into dir. Returns 0, or -ENOENT (nowhere, in this mount namespace).
 */
static int
find_dir(FILE *mi, int t, const char *path, char *dir, size_t len)
{
	char *line = NULL, *root, *point;
	size_t cap = 0;
	int r = -ENOENT;

	rewind(mi);
	while (r == -ENOENT && getline(&line, &cap, mi) > 0) {
		size_t rl;

		if (!mounts_tagger(line, t, &root, &point))
			continue;
		rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
			continue;
		if (snprintf(dir, len, "%s%s", point, path + rl) < (int)len)
			r = 0;
	}
	free(line);
	return r;
}

/* Read a cgroup's tag file whole into a buffer (to free). Returns it, or NULL. */
static char *
read_tag(const char *dir, const char *file)
{
	char *buf = malloc(TAG_FILE_MAX);
	ssize_t n;

	if (!buf)
		return NULL;
	n = kt_proc_read(AT_FDCWD, dir, file, buf, TAG_FILE_MAX);
	if (n < 0 || n >= TAG_FILE_MAX - 1) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Compare the tag file of tagger t in the two cgroups. Returns 1 when the texts are the same
 * (the tags are), 0 when not, -ENOENT when either cannot be read.
 */
static int
same_tag(FILE *mi, int t, struct kt_netcls_diff *d)
{
	char ours[PATH_MAX];
	char *a = NULL, *b = NULL;
	int r;

	r = find_dir(mi, t, d->ours[t], ours, sizeof(ours));
	if (r == 0)
		r = find_dir(mi, t, d->theirs[t], d->dir[t], sizeof(d->dir[t]));
	if (r == 0 && (!(a = read_tag(ours, taggers[t].file)) ||
	    !(b = read_tag(d->dir[t], taggers[t].file))))
		r = -ENOENT;
	if (r == 0)
		r = strcmp(a, b) == 0;
	if (r < 0)
		d->dir[t][0] = '\0';
	free(a);
	free(b);
	return r;
}

/* Compare each tagger whose cgroups differ by name. Returns 0, or a negative errno. */
static int
compare(const char *proc_dir, struct kt_netcls_diff *d)
{
	char path[PATH_MAX];
	FILE *mi = NULL;

	for (int t = 0; t < KT_NTAGGERS; t++) {
		int same;

		if (strcmp(d->ours[t], d->theirs[t]) == 0)
			continue;
		if (!mi) {
			(void)snprintf(path, sizeof(path), "%s/self/mountinfo", proc_dir);
			mi = fopen(path, "re");
		}
		same = mi ? same_tag(mi, t, d) : -ENOENT;
		if (same == 1)
			continue;
		d->differ |= 1u << t;
		if (same < 0)
			d->unknown |= 1u << t;
	}
	if (mi)
		(void)fclose(mi);
	return 0;
}

int
kt_netcls_compare(const char *proc_dir, int pid, struct kt_netcls_diff *ret)
{
	struct kt_netcls_diff *d;
	char name[16];
	int procfd, r;

	assert(proc_dir);
	assert(ret);

	if (pid <= 0)
		return -ESRCH;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	procfd = open(proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = procfd < 0 ? -errno : 0;
	(void)snprintf(name, sizeof(name), "%d", pid);
	if (r == 0)
		r = read_cgroups(procfd, "self", d->ours);
	if (r == 0)
		r = read_cgroups(procfd, name, d->theirs);
	if (r == 0)
		r = compare(proc_dir, d);
	if (r == 0)
		*ret = *d;
	if (procfd >= 0)
		(void)close(procfd);
	free(d);
	return r;
}
