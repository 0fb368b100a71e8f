/* kt_enable.c: turn keepalive on, now, in the TCP sockets a running process holds, through
 * duplicates of its descriptors (pidfd_getfd), without stopping, signalling or entering it. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * glibc 2.36 wraps pidfd_open and pidfd_getfd; older ones do not. The wrappers are used where
 * they exist: a test can then interpose them (tests/pause_getfd.c).
 */
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 36)
#include <sys/pidfd.h>
#define sys_pidfd_open(pid, flags)	pidfd_open(pid, flags)
#define sys_pidfd_getfd(pidfd, fd)	pidfd_getfd(pidfd, fd, 0)
#else
#define sys_pidfd_open(pid, flags)	((int)syscall(SYS_pidfd_open, pid, flags))
#define sys_pidfd_getfd(pidfd, fd)	((int)syscall(SYS_pidfd_getfd, pidfd, fd, 0))
#endif

#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL	/* Linux 6.9: a pidfd for a thread, not a process */
#endif

/* The work of one kt_enable_pid() call. */
struct run {
	int pidfd;
	const struct kt_enable_opts *o;
	struct kt_enable_report *r;
	int changed;		/* a socket was written to: errors no longer the whole call's */
};

/* Whether the process behind pidfd has exited (it is a zombie, or gone). */
static int
has_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/*
 * Open a pidfd for pid: a process, or on Linux 6.9 and later a thread of one, which shares its
 * descriptors. Returns it, or -ESRCH (no such process), -ENOSYS (a kernel before 5.3).
 */
static int
open_pidfd(int pid)
{
	int fd = sys_pidfd_open(pid, 0);

	if (fd < 0 && (errno == EINVAL || errno == ENOENT)) {
		fd = sys_pidfd_open(pid, PIDFD_THREAD);
		if (fd < 0 && errno == EINVAL)
			errno = ESRCH;
	}
	return fd < 0 ? -errno : fd;
}

/*
 * Whether /proc shows this pid namespace: the pids given to pidfd_open() and found in /proc
 * must name the same processes. Returns 0, -EREMOTE, or a negative errno (-ENOENT: no /proc).
 */
static int
proc_is_ours(void)
{
	char buf[16];
	ssize_t n = readlink(KT_PROC_DIR "/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return n < 0 ? -errno : -EREMOTE;
	buf[n] = '\0';
	return kt_entry_pid(buf) == getpid() ? 0 : -EREMOTE;
}

/* Read the name of process pid, or leave "". */
static void
comm_of(int pid, char comm[KT_COMM_LEN])
{
	char path[32];

	(void)snprintf(path, sizeof(path), KT_PROC_DIR "/%d", pid);
	kt_proc_comm(AT_FDCWD, path, comm);
}

/* Whether the open file s is the socket of that inode. */
static int
same_inode(int s, unsigned int inode)
{
	struct stat st;

	return fstat(s, &st) == 0 && st.st_ino == inode;
}

/*
 * Open the target: a pidfd, then its /proc/PID/fd. The pidfd comes first: if the process still
 * has not exited once the directory is open, its pid cannot have been reused in between, and
 * both name the same process. Returns 0 and sets both, or a negative errno (kt_enable_pid()).
 */
static int
open_target(int pid, int *ret_pidfd, int *ret_fddir)
{
	char path[64];
	int pidfd, fddir, r;

	if ((r = proc_is_ours()) < 0)
		return r;
	pidfd = open_pidfd(pid);
	if (pidfd < 0)
		return pidfd;
	(void)snprintf(path, sizeof(path), KT_PROC_DIR "/%d/fd", pid);
	fddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fddir < 0 ? -errno : 0;
	if (r == -EACCES)
		r = -EPERM;	/* the ptrace access check, as pidfd_getfd() says it */
	if (r == -ENOENT || (r == 0 && has_exited(pidfd)))
		r = -ESRCH;
	if (r < 0) {
		if (fddir >= 0)
			(void)close(fddir);
		(void)close(pidfd);
		return r;
	}
	*ret_pidfd = pidfd;
	*ret_fddir = fddir;
	return 0;
}

/* Whether keepalive is meant for a socket in this state: connections, and listeners, whose
 * setting the connections they accept inherit. */
static int
targeted(int state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_LISTEN;
}

/* The kernel's TCP state of a TCP socket: tcp_info's first byte. Returns it, or -1. */
static int
tcp_state(int s)
{
	unsigned char state;
	socklen_t len = sizeof(state);

	if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &state, &len) < 0 || len != sizeof(state))
		return -1;
	return state;
}

/* Copy the address and port of a sockaddr of the socket's family. */
static void
take_addr(const struct sockaddr_storage *ss, unsigned char addr[16], unsigned short *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &a->sin6_addr, 16);
		*port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		memcpy(addr, &a->sin_addr, 4);
		*port = ntohs(a->sin_port);
	}
}

/* Fill in a socket's local and (unless it listens) remote end. Returns 0, or -1. */
static int
endpoints(int s, struct kt_enable_sock *e)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family != e->family)
		return -1;
	take_addr(&ss, e->local, &e->lport);
	if (e->state == TCP_LISTEN)
		return 0;
	len = sizeof(ss);
	if (getpeername(s, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family != e->family)
		return -1;
	take_addr(&ss, e->remote, &e->rport);
	return 0;
}

/*
 * The values to write to a socket: every value given when its keepalive is off (it then keeps
 * them whatever the sysctls become), only those that differ from what it uses when it is on.
 */
static struct kt_values
to_write(const struct kt_sock_ka *before, const struct kt_values *want)
{
	struct kt_values w = *want;

	w.mask = 0;
	for (int k = 0; k < KT_NKEYS; k++)
		if ((want->mask & KT_BIT(k)) && (!before->on || before->val[k] != want->val[k]))
			w.mask |= KT_BIT(k);
	return w;
}

/* Append a socket's record to the report. Returns 0, or -ENOMEM. */
static int
add_sock(struct kt_enable_report *r, size_t *cap, const struct kt_enable_sock *e)
{
	if (r->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct kt_enable_sock *p = reallocarray(r->socks, c, sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->socks = p;
		*cap = c;
	}
	r->socks[r->n++] = *e;
	r->count[e->result]++;
	return 0;
}

/*
 * Judge the duplicate s of one of the process's sockets: if it is a targeted TCP socket that the
 * port lets through, fill in *e with what it is and what it is to become, and return 1; 0 to
 * pass it over (another kind of socket, another state, or it left the state meanwhile).
 */
static int
judge(int s, const struct kt_enable_opts *o, struct kt_enable_sock *e, struct kt_values *w)
{
	int family, state;

	if (!kt_tcp_socket(s, &family))
		return 0;
	e->family = family;
	state = tcp_state(s);
	if (state < 0 || !targeted(state))
		return 0;
	e->state = state;
	if (endpoints(s, e) < 0 || kt_ka_read(s, &e->before) < 0)
		return 0;	/* it has left the targeted states (getpeername: ENOTCONN) */
	if (o->port && e->lport != o->port && e->rport != o->port)
		return 0;
	*w = to_write(&e->before, &o->want);
	e->after = e->before;
	e->after.on = 1;
	for (int k = 0; k < KT_NKEYS; k++)
		if (w->mask & KT_BIT(k))
			e->after.val[k] = w->val[k];
	e->result = e->before.on && !w->mask ? KT_ENABLE_ALREADY : KT_ENABLE_DONE;
	return 1;
}

/*
 * Turn keepalive on in the duplicate s of the process's descriptor fd, if judge() targets it,
 * and record it in the report. Returns 0, or -ENOMEM.
 */
static int
handle_socket(struct run *run, const struct kt_fd_sock *fs, int s, size_t *cap)
{
	struct kt_enable_sock e = { .fd = fs->fd, .inode = fs->inode };
	struct kt_values w;

	if (!judge(s, run->o, &e, &w))
		return 0;
	if (!run->o->dry_run && e.result == KT_ENABLE_DONE) {
		run->changed = 1;
		if (kt_ka_set(s, &w, !e.before.on, &e.before, &e.fail) < 0) {
			e.result = KT_ENABLE_FAILED;
			e.after = e.before;
			for (int k = 0; k < KT_NKEYS; k++)
				if (e.fail.unrestored & KT_BIT(k))
					e.after.val[k] = w.val[k];
		}
	}
	return add_sock(run->r, cap, &e);
}

/*
 * Duplicate the process's descriptor of one listed socket and handle it. Returns 1 to go on, 0
 * when the process has exited (the work ends), or a negative errno that stops it.
 */
static int
take_socket(struct run *run, const struct kt_fd_sock *fs, size_t *cap)
{
	int s = sys_pidfd_getfd(run->pidfd, fs->fd), r;

	if (s < 0) {
		if (errno == ESRCH || has_exited(run->pidfd))
			return 0;	/* exited: a zombie has no files left (EBADF), or reaped */
		return errno == EBADF ? 1 : -errno;	/* EBADF: closed since listed */
	}
	/* The number may name another file now: it must still be the socket listed. */
	r = same_inode(s, fs->inode) ? handle_socket(run, fs, s, cap) : 0;
	(void)close(s);
	return r < 0 ? r : 1;
}

/* Go through the listed sockets in turn. Returns 0 (the end, or the process exited), or a
 * negative errno. */
static int
work(struct run *run, const struct kt_fd_sock *socks, size_t n)
{
	size_t cap = 0;
	int r = 1;

	for (size_t i = 0; i < n && r > 0; i++)
		r = take_socket(run, &socks[i], &cap);
	if (r == 0)
		run->r->exited = has_exited(run->pidfd);
	return r < 0 ? r : 0;
}

/* Check the options: a port, values in the ranges a socket accepts. */
static int
check_opts(const struct kt_enable_opts *o)
{
	if (o->port > 65535 || (o->want.mask & ~KT_ALL) || !kt_values_valid(&o->want))
		return -ERANGE;
	return 0;
}

/* The tags the process's sockets carry must not be lost to ka-tune's. Returns 0 or -EXDEV. */
static int
same_tags(int pid)
{
	struct kt_netcls_diff *d = malloc(sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	r = kt_netcls_compare(KT_PROC_DIR, pid, d);
	if (r == 0 && d->differ)
		r = -EXDEV;
	free(d);
	return r;
}

/*
 * Open the target, list its sockets, check their tags, then work through them; with what was
 * done in *rep. Returns 0, or a negative errno (then nothing was changed unless run->changed).
 */
static int
enable(int pid, struct run *run, struct kt_enable_report *rep)
{
	struct kt_fd_sock *socks = NULL;
	size_t n = 0;
	int fddir, r;

	r = open_target(pid, &run->pidfd, &fddir);
	if (r < 0)
		return r;
	comm_of(pid, rep->comm);
	r = kt_proc_sockets(fddir, &socks, &n);
	(void)close(fddir);
	if (r == -EACCES)
		r = -EPERM;
	if (r == 0 && n > 0)
		r = same_tags(pid);
	if (r == 0)
		r = work(run, socks, n);
	if (r == -ESRCH) {	/* it was there when opened: it exited midway */
		rep->exited = 1;
		r = 0;
	}
	free(socks);
	(void)close(run->pidfd);
	return r;
}

int
kt_enable_pid(int pid, const struct kt_enable_opts *opts, struct kt_enable_report **ret_report)
{
	struct kt_enable_report *rep;
	struct run run = { .o = opts };
	int r;

	assert(opts);
	assert(ret_report);

	if (pid <= 0 || pid > KT_PID_MAX)
		return -ESRCH;
	if ((r = check_opts(opts)) < 0)
		return r;
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	rep->pid = pid;
	run.r = rep;
	r = enable(pid, &run, rep);
	if (r < 0 && !run.changed) {
		kt_enable_free(rep);
		return r;
	}
	rep->stopped = r;
	*ret_report = rep;
	return 0;
}

void
kt_enable_free(struct kt_enable_report *report)
{
	if (!report)
		return;
	free(report->socks);
	free(report);
}
