/* kt_ptrace.c: why the kernel's ptrace access check refuses the caller a process, worked out
 * from what /proc shows of both: the check that pidfd_getfd() and /proc/PID/fd obey. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* CAP_SYS_PTRACE's bit in the capability sets /proc/PID/status shows. */
#define CAP_SYS_PTRACE_BIT	(1ULL << 19)

/* What the check looks at of one process: its ids (real, effective, saved) and capabilities. */
struct creds {
	unsigned long uid[3], gid[3];
	unsigned long long cap_prm, cap_eff;
};

/* Parse the numbers after "name:" in a status text: n decimal ids, or one hex mask. */
static int
field(const char *status, const char *name, unsigned long *ids, int n, unsigned long long *mask)
{
	char key[16];
	const char *p;
	char *end;

	(void)snprintf(key, sizeof(key), "\n%s:", name);
	p = strstr(status, key);
	if (!p)
		return -EBADMSG;
	p += strlen(key);
	if (mask) {
		*mask = strtoull(p, &end, 16);
		return end == p ? -EBADMSG : 0;
	}
	for (int i = 0; i < n; i++, p = end) {
		ids[i] = strtoul(p, &end, 10);
		if (end == p)
			return -EBADMSG;
	}
	return 0;
}

/* Read the credentials of process name ("self", "123") below procfd. */
static int
read_creds(int procfd, const char *name, struct creds *c)
{
	char buf[4096];
	ssize_t n = kt_proc_read(procfd, name, "status", buf + 1, sizeof(buf) - 1);

	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	buf[0] = '\n';		/* every field, the first too, follows a newline */
	if (field(buf, "Uid", c->uid, 3, NULL) < 0 || field(buf, "Gid", c->gid, 3, NULL) < 0 ||
	    field(buf, "CapPrm", NULL, 0, &c->cap_prm) < 0 ||
	    field(buf, "CapEff", NULL, 0, &c->cap_eff) < 0)
		return -EBADMSG;
	return 0;
}

/* Yama's ptrace_scope below procfd, or -1 when Yama is not there. */
static int
yama_scope(int procfd)
{
	char buf[16];
	ssize_t n = kt_proc_read(procfd, "sys/kernel/yama", "ptrace_scope", buf, sizeof(buf));

	return n > 0 && buf[0] >= '0' && buf[0] <= '3' ? buf[0] - '0' : -1;
}

/*
 * Whether the process's /proc files belong to its effective user: they do unless it is not
 * dumpable (the kernel's task_dump_owner() gives them to root then, all but the /proc/PID
 * directory itself).
 */
static int
dumpable(int procfd, const char *name, const struct creds *theirs)
{
	char path[32];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/status", name);
	return fstatat(procfd, path, &st, 0) == 0 && st.st_uid == theirs->uid[1];
}

/* The reason, ours and theirs read: the checks of __ptrace_may_access() and its hooks. */
static enum kt_denial
judge(int procfd, const char *name, const struct creds *ours, const struct creds *theirs,
    int yama)
{
	if (yama == 3)
		return KT_DENY_YAMA;
	if (ours->cap_eff & CAP_SYS_PTRACE_BIT)
		return KT_DENY_OTHER;
	for (int i = 0; i < 3; i++)
		if (theirs->uid[i] != ours->uid[0] || theirs->gid[i] != ours->gid[0])
			return KT_DENY_OTHER_USER;
	if (!dumpable(procfd, name, theirs))
		return KT_DENY_NOT_DUMPABLE;
	if (theirs->cap_prm & ~ours->cap_prm)
		return KT_DENY_CAPS;
	if (yama >= 1)
		return KT_DENY_YAMA;
	return KT_DENY_OTHER;
}

int
kt_ptrace_denial(const char *proc_dir, int pid, enum kt_denial *ret, int *ret_yama_scope)
{
	struct creds ours, theirs;
	char name[16];
	int procfd, yama, r;

	assert(proc_dir);
	assert(ret && ret_yama_scope);

	if (pid <= 0)
		return -ESRCH;
	procfd = open(proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -errno;
	(void)snprintf(name, sizeof(name), "%d", pid);
	r = read_creds(procfd, "self", &ours);
	if (r == 0)
		r = read_creds(procfd, name, &theirs);
	if (r == 0) {
		yama = yama_scope(procfd);
		*ret = judge(procfd, name, &ours, &theirs, yama);
		*ret_yama_scope = yama;
	}
	(void)close(procfd);
	return r;
}
