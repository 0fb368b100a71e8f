/* kt_listen.c: the quiet far end a probe can measure against (probe --listen): it accepts and
 * holds connections, never sends, never turns keepalive on (it must not refresh the path
 * itself), and tells how and when each connection ended. */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>		/* struct tcp_info in full: glibc's lacks tcpi_segs_in */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Connections held at most; past that, new ones wait in the backlog until one ends. */
#define HOLD_MAX	4096

struct held {
	int fd;
	long long accepted_ms, data_ms;
	unsigned long long bytes;
	char addr[KT_PROBE_ADDR_LEN];
};

struct kt_listen {
	int fd;
	char addr[KT_PROBE_ADDR_LEN];
	unsigned int port;
	int announced;
	int paused;		/* no room or no descriptor left: accept again once one ends */
	struct held *held;
	struct pollfd *pfds;	/* one a connection held, and the listening socket */
	size_t n, cap;
	kt_listen_cb cb;
	void *userdata;
	int stop;
};

/* Tell the caller of an event; remember when it asks to stop. */
static void
emit(struct kt_listen *l, struct kt_listen_status st)
{
	st.open = (unsigned int)l->n;
	if (l->cb && l->cb(&st, l->userdata) != 0)
		l->stop = 1;
}

/* Bind a listening socket of family to port on every address; an IPv6 one takes IPv4 too. */
static int
bind_any(int family, unsigned int port, int *ret_fd)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
		.sin6_port = htons((unsigned short)port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY),
		.sin_port = htons((unsigned short)port) };
	const struct sockaddr *sa = family == AF_INET6 ? (struct sockaddr *)&s6 :
	    (struct sockaddr *)&s4;
	socklen_t len = family == AF_INET6 ? sizeof(s6) : sizeof(s4);
	int fd, one = 1, zero = 0, r;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) ||
	    bind(fd, sa, len) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int
kt_listen_open(unsigned int port, struct kt_listen **ret)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct kt_listen *l;
	int fd, r;

	assert(ret);
	assert(port <= 65535);

	r = bind_any(AF_INET6, port, &fd);
	if (r == -EAFNOSUPPORT)
		r = bind_any(AF_INET, port, &fd);
	if (r < 0)
		return r;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || !(l = calloc(1, sizeof(*l)))) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	l->fd = fd;
	kt_addr_text((struct sockaddr *)&ss, len, l->addr, sizeof(l->addr));
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	*ret = l;
	return 0;
}

/* Make room for more connections (and their pollfds, with the listening socket's). */
static int
grow(struct kt_listen *l)
{
	size_t cap = l->cap ? 2 * l->cap : 64;
	struct held *h;
	struct pollfd *p;

	h = reallocarray(l->held, cap, sizeof(*h));
	if (!h)
		return -ENOMEM;
	l->held = h;
	p = reallocarray(l->pfds, cap + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	l->pfds = p;
	l->cap = cap;
	return 0;
}

/*
 * Take one waiting connection. Keepalive goes off on it: this end never probes. Returns 1 when
 * one was taken, 0 when none waits or there is no room for it (accepting pauses), or a negative
 * errno.
 */
static int
accept_one(struct kt_listen *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct held *h;
	int fd, zero = 0;

	if (l->n == HOLD_MAX || (l->n == l->cap && grow(l) < 0)) {
		l->paused = 1;
		return 0;
	}
	fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			return 1;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* Out of descriptors or memory: wait for a connection to end, if one can. */
		if ((errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM) ||
		    l->n == 0)
			return -errno;
		l->paused = 1;
		return 0;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &zero, sizeof(zero)) < 0) {
		(void)close(fd);
		return 1;
	}
	h = &l->held[l->n++];
	*h = (struct held){ .fd = fd, .accepted_ms = kt_now_ms() };
	h->data_ms = h->accepted_ms;
	kt_addr_text((struct sockaddr *)&ss, len, h->addr, sizeof(h->addr));
	emit(l, (struct kt_listen_status){ .event = KT_LISTEN_ACCEPTED, .addr = h->addr });
	return 1;
}

/* The connection at i ended: tell how, then let it go (closing sends our FIN, if it can). */
static void
end_held(struct kt_listen *l, size_t i, enum kt_end how, int err)
{
	struct held h = l->held[i];
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	long long now = kt_now_ms();

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(h.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		ti.tcpi_segs_in = 0;
	(void)close(h.fd);
	l->held[i] = l->held[--l->n];
	l->paused = 0;
	emit(l, (struct kt_listen_status){ .event = KT_LISTEN_ENDED, .addr = h.addr, .how = how,
		.err = err, .held_ms = now - h.accepted_ms, .idle_ms = now - h.data_ms,
		.bytes = h.bytes, .segs_in = ti.tcpi_segs_in });
}

/* Read and drop what the connection at i brings, and end it when it ended. */
static void
drain(struct kt_listen *l, size_t i)
{
	struct held *h = &l->held[i];
	char buf[4096];

	for (int k = 0; k < 16; k++) {
		ssize_t n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			h->bytes += (unsigned long long)n;
			h->data_ms = kt_now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			end_held(l, i, KT_END_FIN, 0);
		else if (errno == ECONNRESET)
			end_held(l, i, KT_END_RESET, 0);
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			end_held(l, i, KT_END_NONE, -errno);
		return;
	}
}

/* Wait for the connections and the listening socket, then act on them. Returns 0, or why
 * waiting or accepting failed. */
static int
step(struct kt_listen *l, const sigset_t *waitmask)
{
	size_t held = l->n;
	nfds_t n = 0;
	int r = 0;

	if (l->cap == 0 && (r = grow(l)) < 0)
		return r;
	for (size_t i = 0; i < held; i++)
		l->pfds[n++] = (struct pollfd){ .fd = l->held[i].fd, .events = POLLIN | POLLRDHUP };
	if (!l->paused)
		l->pfds[n++] = (struct pollfd){ .fd = l->fd, .events = POLLIN };
	if (ppoll(l->pfds, n, NULL, waitmask) < 0)
		return -errno;
	/* Backwards: end_held() moves the last connection into the slot it frees. */
	for (size_t i = held; i-- > 0 && !l->stop;)
		if (l->pfds[i].revents)
			drain(l, i);
	if (n > held && l->pfds[held].revents)
		while (!l->stop && !l->paused && (r = accept_one(l)) > 0)
			;
	return r < 0 ? r : 0;
}

int
kt_listen_run(struct kt_listen *l, const sigset_t *waitmask, kt_listen_cb cb, void *userdata)
{
	int r = 0;

	assert(l);

	l->cb = cb;
	l->userdata = userdata;
	l->stop = 0;
	if (!l->announced) {
		l->announced = 1;
		emit(l, (struct kt_listen_status){ .event = KT_LISTEN_LISTENING, .addr = l->addr,
			.port = l->port });
	}
	while (!l->stop && r == 0)
		r = step(l, waitmask);
	if (r == 0)
		r = -ECANCELED;
	l->cb = NULL;
	return r;
}

void
kt_listen_free(struct kt_listen *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		(void)close(l->held[i].fd);
	(void)close(l->fd);
	free(l->held);
	free(l->pfds);
	free(l);
}
