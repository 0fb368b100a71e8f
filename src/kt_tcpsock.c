/* kt_tcpsock.c: one socket's keepalive, through a descriptor of it: whether it is a TCP socket
 * at all, by the kernel's own word; what its keepalive is; turning it on, with values. Shared
 * by enable --pid (kt_enable.c) and the library ka-tune exec preloads, which judge and write
 * sockets alike. System calls only: async-signal-safe, and errno is theirs to keep. */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "katune.h"
#include "kt_internal.h"

/* The per-socket option that overrides each key's sysctl (tcp(7)). */
static const int key_opt[KT_NKEYS] = {
	[KT_TIME] = TCP_KEEPIDLE,
	[KT_INTVL] = TCP_KEEPINTVL,
	[KT_PROBES] = TCP_KEEPCNT,
};

/* Read an int socket option. Returns 0 and sets *ret, or a negative errno. */
static int
get_int(int fd, int level, int name, int *ret)
{
	socklen_t len = sizeof(*ret);
	int v = 0;

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -errno;
	if (len != sizeof(v))
		return -EPROTO;
	*ret = v;
	return 0;
}

static int
set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) < 0 ? -errno : 0;
}

/*
 * Whether fd is a TCP socket, IPv4 or IPv6, as the kernel reports it (SO_PROTOCOL, SO_TYPE,
 * SO_DOMAIN), never guessed from an address: a raw socket of protocol 6, an MPTCP or SMC socket,
 * a unix or UDP one is not. The protocol is asked first: it rules out unix and UDP sockets in
 * one call. Returns 1 and sets *ret_family, or 0 (also when fd is no socket, or is closed).
 */
int
kt_tcp_socket(int fd, int *ret_family)
{
	int v = 0;

	if (get_int(fd, SOL_SOCKET, SO_PROTOCOL, &v) < 0 || v != IPPROTO_TCP)
		return 0;
	if (get_int(fd, SOL_SOCKET, SO_TYPE, &v) < 0 || v != SOCK_STREAM)
		return 0;
	if (get_int(fd, SOL_SOCKET, SO_DOMAIN, &v) < 0 || (v != AF_INET && v != AF_INET6))
		return 0;
	*ret_family = v;
	return 1;
}

/* Whether SO_KEEPALIVE is on. Returns 1 or 0, or a negative errno (not a socket...). */
int
kt_ka_is_on(int fd)
{
	int on = 0, r = get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &on);

	return r < 0 ? r : on != 0;
}

/*
 * Read a TCP socket's keepalive: SO_KEEPALIVE, and the values the kernel uses for it: its own,
 * or where it has none, its network namespace's sysctls. Returns 0 and sets *ret, or a negative
 * errno.
 */
int
kt_ka_read(int fd, struct kt_sock_ka *ret)
{
	struct kt_sock_ka ka;
	int r = kt_ka_is_on(fd);

	if (r < 0)
		return r;
	ka.on = r;
	for (int k = 0; k < KT_NKEYS; k++)
		if ((r = get_int(fd, IPPROTO_TCP, key_opt[k], &ka.val[k])) < 0)
			return r;
	*ret = ka;
	return 0;
}

/*
 * Write want's values (the keys in want->mask) to the TCP socket fd, then, with keepalive set,
 * turn SO_KEEPALIVE on: the values first, so that the timer SO_KEEPALIVE starts on a connection
 * starts with them. With restore, all or nothing: when a write fails, the values written before
 * it are put back to restore's (which, read from the socket, may have been the sysctls': put
 * back, they are the socket's own from then on; the kernel cannot unset one). Returns 0, or the
 * failed write's negative errno; *ret_fail, if given, then says which option failed and what
 * could not be put back.
 */
int
kt_ka_set(int fd, const struct kt_values *want, int keepalive, const struct kt_sock_ka *restore,
    struct kt_ka_failure *ret_fail)
{
	struct kt_ka_failure f = { .opt = KT_KA_OPT_KEEPALIVE };
	unsigned int written = 0;
	int r = 0;

	assert(want);

	for (int k = 0; k < KT_NKEYS && r == 0; k++) {
		if (!(want->mask & KT_BIT(k)))
			continue;
		if ((r = set_int(fd, IPPROTO_TCP, key_opt[k], want->val[k])) < 0)
			f.opt = k;
		else
			written |= KT_BIT(k);
	}
	if (r == 0 && keepalive)
		r = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (r == 0)
		return 0;
	f.err = r;
	for (int k = 0; k < KT_NKEYS && restore; k++)
		if ((written & KT_BIT(k)) &&
		    set_int(fd, IPPROTO_TCP, key_opt[k], restore->val[k]) < 0)
			f.unrestored |= KT_BIT(k);
	if (!restore)
		f.unrestored = written;
	if (ret_fail)
		*ret_fail = f;
	return r;
}
