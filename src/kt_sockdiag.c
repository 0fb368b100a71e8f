/* kt_sockdiag.c: list the TCP connections of a network namespace through sock_diag, as ss does,
 * and judge from each one's state and pending timer whether it uses keepalive. */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "katune.h"
#include "kt_internal.h"

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

const char *
kt_sock_state_name(int state)
{
	if (state < 0 || state >= KT_TCP_STATES || !state_names[state])
		return "UNKNOWN";
	return state_names[state];
}

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

/* Dump IPv4, then IPv6, on one netlink socket with one receive buffer. */
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
