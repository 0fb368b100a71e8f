/* kt_sock.c: list the TCP connections of a namespace through sock_diag, and who holds them. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "katune.h"

/* What inet_diag_msg.idiag_timer says is pending (the kernel's inet_sk_diag_fill()). */
enum {
	DIAG_TIMER_NONE = 0,
	DIAG_TIMER_RETRANS = 1,		/* retransmit, loss probe or reordering timer */
	DIAG_TIMER_KEEPALIVE = 2,	/* sk_timer: keepalive, in the states it applies to */
	DIAG_TIMER_TIME_WAIT = 3,
	DIAG_TIMER_PROBE0 = 4,		/* zero-window probe */
};

/* The kernel's TCP_NEW_SYN_RECV, a request socket; sock_diag reports it as SYN_RECV. */
#define KT_TCP_STATES	13

/* Every state but LISTEN: a listening socket is no connection, and keepalive never runs on it. */
#define DUMP_STATES	(((1u << KT_TCP_STATES) - 1) & ~(1u << TCP_LISTEN) & ~1u)

/*
 * What one recv() of a dump can return: the kernel fills a dump datagram up to 32 KiB less its
 * own overhead, however large the buffer (netlink_recvmsg()), so a larger one buys nothing.
 */
#define RECV_LEN	(32 * 1024)

/* The kernel's PF_KTHREAD, in the flags field of /proc/PID/stat. */
#define PF_KTHREAD	0x00200000UL

static const char *const state_names[KT_TCP_STATES] = {
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
	[12] = "NEW_SYN_RECV",
};

/* The name netstat and the kernel's headers give a TCP state, such as "ESTABLISHED". */
const char *
kt_sock_state_name(int state)
{
	if (state < 0 || state >= KT_TCP_STATES || !state_names[state])
		return "UNKNOWN";
	return state_names[state];
}

/* How a keepalive state is written: "on", "off", "unknown" or "n/a". */
const char *
kt_ka_name(enum kt_ka ka)
{
	static const char *const names[KT_NKA] = {
		[KT_KA_ON] = "on",
		[KT_KA_OFF] = "off",
		[KT_KA_UNKNOWN] = "unknown",
		[KT_KA_NA] = "n/a",
	};

	assert((unsigned int)ka < KT_NKA);
	return names[ka];
}

/*
 * Judge a connection's keepalive from its state and the timer sock_diag says is pending.
 * Keepalive probes are only sent on an open connection (ESTABLISHED, or CLOSE_WAIT when only
 * the peer has closed); in other states sk_timer serves other ends (the FIN_WAIT2 timeout), or
 * nothing runs. On an open connection the kernel arms the keepalive timer whenever
 * SO_KEEPALIVE is on, so no timer means it is off; but sock_diag reports one timer only, and a
 * pending retransmit or zero-window probe takes precedence, hiding the keepalive timer.
 */
enum kt_ka
kt_sock_keepalive(int state, int timer)
{
	if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT)
		return KT_KA_NA;
	switch (timer) {
	case DIAG_TIMER_NONE:
		return KT_KA_OFF;
	case DIAG_TIMER_KEEPALIVE:
		return KT_KA_ON;
	default:
		return KT_KA_UNKNOWN;
	}
}

/* Append one connection from an inet_diag_msg of len bytes. Returns 0 or a negative errno. */
static int
add_sock(struct kt_sock_buf *into, const struct inet_diag_msg *m, size_t len)
{
	struct kt_sock *s;

	if (len < sizeof(*m) || (m->idiag_family != AF_INET && m->idiag_family != AF_INET6))
		return -EBADMSG;
	if (into->n == into->cap) {
		size_t cap = into->cap ? into->cap * 2 : 256;
		struct kt_sock *p = reallocarray(into->socks, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		into->socks = p;
		into->cap = cap;
	}
	s = &into->socks[into->n++];
	memcpy(s->local, m->id.idiag_src, sizeof(s->local));
	memcpy(s->remote, m->id.idiag_dst, sizeof(s->remote));
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	s->family = m->idiag_family;
	s->state = m->idiag_state;
	s->ka = kt_sock_keepalive(m->idiag_state, m->idiag_timer);
	s->next_ms = s->ka == KT_KA_ON ? m->idiag_expires : 0;
	s->probes = s->ka == KT_KA_ON ? m->idiag_retrans : 0;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	s->pid = 0;
	s->comm[0] = '\0';
	return 0;
}

/* The error an NLMSG_ERROR message carries, as a negative errno (-EBADMSG if it is cut). */
static int
nlmsg_error(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EBADMSG;
	return e->error < 0 ? e->error : -EPROTO;
}

/*
 * Parse one datagram of a sock_diag dump (len bytes at buf, aligned as recv() leaves it) and
 * append its connections to into; messages of another sequence number than seq are skipped.
 * Sets *ret_done when the datagram ends the dump. Returns 0, or a negative errno: the one the
 * kernel reported, or -EBADMSG for a malformed datagram, -ENOMEM; then into holds what it held.
 */
int
kt_sock_parse(const void *buf, size_t len, unsigned int seq, struct kt_sock_buf *into,
    int *ret_done)
{
	const unsigned char *p = buf;
	size_t n0 = into->n;
	int done = 0, r = 0;

	assert(buf || len == 0);
	assert(into);
	assert(ret_done);

	while (len >= sizeof(struct nlmsghdr) && !done) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)p;
		size_t step = NLMSG_ALIGN(h->nlmsg_len);

		if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len) {
			r = -EBADMSG;
			break;
		}
		if (h->nlmsg_seq == seq) {
			if (h->nlmsg_type == NLMSG_DONE)
				done = 1;
			else if (h->nlmsg_type == NLMSG_ERROR)
				r = nlmsg_error(h);
			else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				r = add_sock(into, NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
			if (r < 0)
				break;
		}
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	if (r == 0 && !done && len != 0)
		r = -EBADMSG;	/* a piece of a header */
	if (r < 0) {
		into->n = n0;
		return r;
	}
	*ret_done = done;
	return 0;
}

/* Ask for the TCP connections of one address family and collect them. */
static int
dump_family(int fd, unsigned char family, unsigned int seq, void *buf, struct kt_sock_buf *into)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 req;
	} msg = {
		.h = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = DUMP_STATES,
		},
	};
	int done = 0, r;

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	while (!done) {
		struct iovec iov = { .iov_base = buf, .iov_len = RECV_LEN };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t got = recvmsg(fd, &mh, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (got == 0)
			return -EBADMSG;
		r = kt_sock_parse(buf, got, seq, into, &done);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * List every TCP connection (IPv4 and IPv6, all states but LISTEN) of the network namespace
 * the thread is in, asking the kernel through sock_diag, as ss does. Unprivileged callers see
 * them all too. A kernel without IPv6 has only IPv4 ones. Returns 0 and sets *ret_socks (an
 * array the caller frees) and *ret_n, or a negative errno.
 */
int
kt_sock_dump(struct kt_sock **ret_socks, size_t *ret_n)
{
	static const unsigned char families[] = { AF_INET, AF_INET6 };
	struct kt_sock_buf into = { 0 };
	void *buf;
	int fd, r = 0;

	assert(ret_socks);
	assert(ret_n);

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	buf = malloc(RECV_LEN);
	if (!buf) {
		(void)close(fd);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(families) && r == 0; i++) {
		r = dump_family(fd, families[i], i + 1, buf, &into);
		if (r == -ENOENT && families[i] == AF_INET6)
			r = 0;	/* no IPv6 in this kernel */
	}
	free(buf);
	(void)close(fd);
	if (r < 0) {
		free(into.socks);
		return r;
	}
	*ret_socks = into.socks;
	*ret_n = into.n;
	return 0;
}

/* A process found holding connections, and its name. */
struct proc {
	int pid;
	char comm[KT_COMM_LEN];
};

/* A slot of the inode table: a connection's inode, its index, the process found holding it. */
struct slot {
	unsigned int inode;	/* 0: empty */
	unsigned int sock;
	int proc;		/* index in procs, or -1 */
};

/* What the /proc scan works with: the table of inodes wanted, the processes found so far. */
struct owners {
	struct slot *slots;
	unsigned int bits;
	struct proc *procs;
	size_t nprocs, cap;
	unsigned int not_seen;
};

/* Where inode's search starts: Fibonacci hashing onto the table's bits. */
static size_t
slot_of(const struct owners *o, unsigned int inode)
{
	return (inode * 2654435769u) >> (32 - o->bits);
}

static struct slot *
find_slot(const struct owners *o, unsigned int inode)
{
	size_t mask = ((size_t)1 << o->bits) - 1;

	for (size_t i = slot_of(o, inode);; i = (i + 1) & mask) {
		if (o->slots[i].inode == inode)
			return &o->slots[i];
		if (o->slots[i].inode == 0)
			return NULL;
	}
}

/*
 * Fill the inode table with the connections that have an inode. Returns how many, or -ENOMEM.
 */
static ssize_t
fill_slots(struct owners *o, const struct kt_sock *socks, size_t n)
{
	size_t mask, filled = 0;

	o->bits = 4;
	while (((size_t)1 << o->bits) < 2 * n)
		o->bits++;
	if (o->bits > 31)
		return -ENOMEM;
	o->slots = calloc((size_t)1 << o->bits, sizeof(*o->slots));
	if (!o->slots)
		return -ENOMEM;
	mask = ((size_t)1 << o->bits) - 1;
	for (size_t k = 0; k < n; k++) {
		size_t i = slot_of(o, socks[k].inode);

		if (socks[k].inode == 0)
			continue;
		while (o->slots[i].inode != 0 && o->slots[i].inode != socks[k].inode)
			i = (i + 1) & mask;
		o->slots[i] = (struct slot){ .inode = socks[k].inode, .sock = k, .proc = -1 };
		filled++;
	}
	return filled;
}

/* Parse a link "socket:[INODE]" of len bytes. Returns 1 and sets *ret, or 0 for another link. */
static int
link_inode(const char *link, size_t len, unsigned int *ret)
{
	static const char prefix[] = "socket:[";
	unsigned long long v = 0;
	size_t i = sizeof(prefix) - 1;

	if (len < i + 2 || memcmp(link, prefix, i) != 0 || link[len - 1] != ']')
		return 0;
	for (; i < len - 1; i++) {
		if (link[i] < '0' || link[i] > '9' || v > 0xffffffffULL / 10)
			return 0;
		v = v * 10 + (unsigned int)(link[i] - '0');
	}
	if (v == 0 || v > 0xffffffffULL)
		return 0;
	*ret = v;
	return 1;
}

/* Read up to len - 1 bytes of the /proc file "PID/what" into buf, NUL-terminated. */
static ssize_t
read_proc_file(int procfd, const char *pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", pid, what) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	(void)close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n;
}

/*
 * Whether process pid is a kernel thread, from the flags in /proc/PID/stat (readable by all):
 * it holds no files, so not being allowed to look at them hides nothing.
 */
static int
is_kthread(int procfd, const char *pid)
{
	char buf[512];
	const char *p;

	if (read_proc_file(procfd, pid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	/* After "(comm)", which may hold anything: state ppid pgrp session tty_nr tpgid flags. */
	p = strrchr(buf, ')');
	for (int i = 0; p && i < 7; i++)
		p = strchr(p + 1, ' ');
	return p && (strtoul(p + 1, NULL, 10) & PF_KTHREAD);
}

/* Add process pid to the list of owners, with its name. Returns its index, or -ENOMEM. */
static int
add_proc(struct owners *o, int procfd, const char *name, int pid)
{
	struct proc *p;
	ssize_t n;

	if (o->nprocs == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;

		p = reallocarray(o->procs, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->procs = p;
		o->cap = cap;
	}
	p = &o->procs[o->nprocs];
	p->pid = pid;
	n = read_proc_file(procfd, name, "comm", p->comm, sizeof(p->comm));
	if (n > 0 && p->comm[n - 1] == '\n')
		p->comm[n - 1] = '\0';
	return o->nprocs++;
}

/*
 * Look through the open files of process pid (its /proc entry name) for sockets in the table,
 * and note it as their owner unless a lower pid holds them too. A process that has exited is
 * skipped; one whose files may not be read is counted in not_seen, unless it is a kernel
 * thread. Returns 0 or -ENOMEM.
 */
static int
scan_fds(struct owners *o, int procfd, const char *name, int pid)
{
	char path[64], link[64];
	struct dirent *de;
	int fd, proc = -1, r = 0;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/fd", name) >= (int)sizeof(path))
		return 0;
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ESRCH && !is_kthread(procfd, name))
			o->not_seen++;
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		(void)close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		unsigned int inode;
		struct slot *s;
		ssize_t len;

		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		len = readlinkat(fd, de->d_name, link, sizeof(link));
		if (len <= 0 || !link_inode(link, len, &inode) || !(s = find_slot(o, inode)))
			continue;
		if (s->proc >= 0 && o->procs[s->proc].pid <= pid)
			continue;
		if (proc < 0 && (proc = r = add_proc(o, procfd, name, pid)) < 0)
			break;
		s->proc = proc;
	}
	(void)closedir(d);
	return r < 0 ? r : 0;
}

/* Whether s, a /proc entry, names a process: all digits, in range. Sets *ret_pid. */
static int
proc_pid(const char *s, int *ret_pid)
{
	long v = 0;

	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return 0;
		v = v * 10 + (*s - '0');
	}
	*ret_pid = v;
	return v > 0;
}

/* Look through the open files of every process in /proc. Returns 0 or a negative errno. */
static int
scan_procs(struct owners *o)
{
	struct dirent *de;
	int r = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		int pid;

		if (proc_pid(de->d_name, &pid))
			r = scan_fds(o, dirfd(d), de->d_name, pid);
	}
	(void)closedir(d);
	return r;
}

/*
 * Find the process holding each connection (the lowest pid, when several share it) by looking
 * through every process's open files in /proc for "socket:[INODE]", and fill in its pid and
 * name; connections no process was seen holding get pid 0 and an empty name. When no
 * connection has an inode (no file refers to any), /proc is not looked at. *ret_not_seen
 * counts the processes whose files the caller may not read (another user's, when not root):
 * connections they hold are among those without a process. Returns 0, or a negative errno
 * (then socks is untouched).
 */
int
kt_sock_owners(struct kt_sock *socks, size_t n, unsigned int *ret_not_seen)
{
	struct owners o = { 0 };
	ssize_t filled;
	int r;

	assert(socks || n == 0);
	assert(ret_not_seen);

	filled = fill_slots(&o, socks, n);
	r = filled < 0 ? (int)filled : filled > 0 ? scan_procs(&o) : 0;
	if (r == 0) {
		for (size_t k = 0; k < n; k++) {
			socks[k].pid = 0;
			socks[k].comm[0] = '\0';
		}
		for (size_t i = 0; i < ((size_t)1 << o.bits); i++) {
			const struct slot *s = &o.slots[i];

			if (s->inode == 0 || s->proc < 0)
				continue;
			socks[s->sock].pid = o.procs[s->proc].pid;
			memcpy(socks[s->sock].comm, o.procs[s->proc].comm, KT_COMM_LEN);
		}
		*ret_not_seen = o.not_seen;
	}
	free(o.slots);
	free(o.procs);
	return r;
}

/* What connections are grouped by: their process, or their user when none was seen. */
struct group_key {
	int pid;
	unsigned int uid;
	unsigned int sock;
};

static int
by_owner(const void *a, const void *b)
{
	const struct group_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->pid == 0 && x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return 0;
}

/* Most connections without keepalive first, then most connections, then by pid (0 last), uid. */
static int
by_neglect(const void *a, const void *b)
{
	const struct kt_sock_group *x = a, *y = b;
	size_t nx = x->on + x->off + x->unknown, ny = y->on + y->off + y->unknown;

	if (x->off != y->off)
		return x->off > y->off ? -1 : 1;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	if ((x->pid == 0) != (y->pid == 0))
		return x->pid == 0 ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->uid > y->uid) - (x->uid < y->uid);
}

/*
 * Group the connections keepalive applies to (on, off or unknown) by the process holding them,
 * or by user for those whose process was not seen, and count them; the groups come with the
 * most connections without keepalive first: the list an operator acts on. Returns 0 and sets
 * *ret_groups (to free) and *ret_n, or -ENOMEM.
 */
int
kt_sock_group(const struct kt_sock *socks, size_t n, struct kt_sock_group **ret_groups,
    size_t *ret_n)
{
	struct kt_sock_group *groups = NULL;
	struct group_key *keys;
	size_t nkeys = 0, ngroups = 0;

	assert(socks || n == 0);
	assert(ret_groups);
	assert(ret_n);

	keys = reallocarray(NULL, n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (socks[i].ka != KT_KA_NA)
			keys[nkeys++] = (struct group_key){ socks[i].pid, socks[i].uid, i };
	qsort(keys, nkeys, sizeof(*keys), by_owner);
	groups = reallocarray(NULL, nkeys ? nkeys : 1, sizeof(*groups));
	if (!groups) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nkeys; i++) {
		const struct kt_sock *s = &socks[keys[i].sock];
		struct kt_sock_group *g;

		if (i == 0 || by_owner(&keys[i - 1], &keys[i]) != 0) {
			g = &groups[ngroups++];
			*g = (struct kt_sock_group){ .pid = s->pid, .uid = s->uid };
			memcpy(g->comm, s->comm, sizeof(g->comm));
		}
		g = &groups[ngroups - 1];
		if (s->ka == KT_KA_ON)
			g->on++;
		else if (s->ka == KT_KA_OFF)
			g->off++;
		else
			g->unknown++;
	}
	free(keys);
	qsort(groups, ngroups, sizeof(*groups), by_neglect);
	*ret_groups = groups;
	*ret_n = ngroups;
	return 0;
}

/* Explain an error of kt_sock_dump() or kt_sock_owners(), for an operator. Static string. */
const char *
kt_sock_strerror(int err)
{
	switch (-err) {
	case ENOENT:
		return "the kernel has no TCP sock_diag (CONFIG_INET_DIAG, module tcp_diag)";
	case EPROTONOSUPPORT:
		return "the kernel has no sock_diag netlink interface (CONFIG_INET_DIAG)";
	case EBADMSG:
		return "the kernel's answer could not be parsed";
	default:
		return strerror(-err);
	}
}
