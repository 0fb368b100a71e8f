/* kt_target.c: the far end of a probe: HOST:PORT as users write it, its addresses, and an
 * address as ka-tune shows it. */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

/* Whether the len bytes at h can be a host: a name or an address, no blank, no control byte. */
static int
host_ok(const char *h, size_t len)
{
	if (len == 0 || len >= KT_PROBE_HOST_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

int
kt_target_parse(const char *s, struct kt_target *ret)
{
	const char *host = s, *end, *colon;
	unsigned long long port;
	size_t len;
	int r;

	assert(s);
	assert(ret);

	if (s[0] == '[') {
		host = s + 1;
		end = strchr(host, ']');
		/* Brackets are for IPv6 addresses, which hold a colon. */
		if (!end || end[1] != ':' || !memchr(host, ':', (size_t)(end - host)))
			return -EINVAL;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		end = colon;
	}
	len = (size_t)(end - host);
	if (!host_ok(host, len))
		return -EINVAL;
	r = kt_parse_uint(colon + 1, 1, 65535, &port);
	if (r < 0)
		return r;
	memcpy(ret->host, host, len);
	ret->host[len] = '\0';
	ret->port = (unsigned int)port;
	return 0;
}

/* getaddrinfo()'s failures as negative errnos. */
static int
gai_errno(int e, int saved_errno)
{
	switch (e) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return -ENXIO;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return saved_errno ? -saved_errno : -EIO;
	default:
		return -EIO;
	}
}

int
kt_target_resolve(const struct kt_target *t, struct addrinfo **ret)
{
	const struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP, .ai_flags = AI_NUMERICSERV };
	char port[8];
	int r;

	assert(t);
	assert(ret);

	(void)snprintf(port, sizeof(port), "%u", t->port);
	errno = 0;
	r = getaddrinfo(t->host, port, &hints, ret);
	return r == 0 ? 0 : gai_errno(r, errno);
}

void
kt_addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	const char *h = host;
	int n;

	assert(sa);
	assert(buf && size > 0);

	buf[0] = '\0';
	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
		NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	if (sa->sa_family == AF_INET6 && strncmp(host, "::ffff:", 7) == 0 && strchr(host, '.'))
		h = host + 7;
	n = snprintf(buf, size, h == host && sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h,
	    port);
	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
}
