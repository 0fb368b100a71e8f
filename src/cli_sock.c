/* cli_sock.c: how connections are written, by sockets and enable alike: addresses, endpoints
 * in columns, a process as "pid/name", and an endpoint pair's JSON members. */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>

#include "cli.h"

/*
 * Write an address of family (AF_INET, AF_INET6) as text ("?" if it cannot be). IPv4 addresses
 * are written here: glibc's inet_ntop() formats each with sprintf(), and a busy host has tens of
 * thousands.
 */
void
cli_format_addr(int family, const unsigned char *addr, char *buf, size_t len)
{
	char *p = buf;

	if (family != AF_INET || len < INET_ADDRSTRLEN) {
		if (!inet_ntop(family, addr, buf, len))
			(void)snprintf(buf, len, "?");
		return;
	}
	for (int i = 0; i < 4; i++) {
		unsigned int b = addr[i];

		if (b >= 100)
			*p++ = '0' + b / 100;
		if (b >= 10)
			*p++ = '0' + b / 10 % 10;
		*p++ = '0' + b % 10;
		*p++ = i < 3 ? '.' : '\0';
	}
}

/* Write "address:port", an IPv6 address in brackets as in URLs. */
void
cli_format_endpoint(int family, const unsigned char *addr, unsigned int port, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];

	cli_format_addr(family, addr, a, sizeof(a));
	(void)snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/*
 * How wide a column must be to hold an endpoint as well as width: an IPv4 one
 * ("255.255.255.255:65535") always fits CLI_ENDPOINT_WIDTH, so only IPv6 ones are written out
 * to be measured: a busy host has tens of thousands of the others.
 */
int
cli_endpoint_fit(int width, int family, const unsigned char *addr, unsigned int port)
{
	char buf[CLI_ENDPOINT_LEN];

	if (family != AF_INET6)
		return MAX(width, CLI_ENDPOINT_WIDTH);
	cli_format_endpoint(family, addr, port, buf, sizeof(buf));
	return MAX(width, (int)strlen(buf));
}

/* Write "pid/comm" for the text output, the name escaped as every name is. */
void
cli_format_process(int pid, const char *comm, char *buf, size_t len)
{
	char vis[CLI_VIS_LEN(KT_COMM_LEN)];

	if (comm[0])
		(void)snprintf(buf, len, "%d/%s", pid, cli_vis(comm, vis, sizeof(vis)));
	else
		(void)snprintf(buf, len, "%d", pid);
}

/*
 * The JSON members of a socket's state and ends: state, family, local_address, local_port,
 * remote_address, remote_port; a listener's remote ones are null.
 */
void
cli_json_endpoints(int family, int state, const unsigned char *local, unsigned int lport,
    const unsigned char *remote, unsigned int rport)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	cli_format_addr(family, local, l, sizeof(l));
	printf("\"state\": \"%s\", \"family\": \"%s\", \"local_address\": \"%s\", "
	       "\"local_port\": %u, ", kt_sock_state_name(state),
	    family == AF_INET6 ? "ipv6" : "ipv4", l, lport);
	if (state == TCP_LISTEN) {
		fputs("\"remote_address\": null, \"remote_port\": null", stdout);
		return;
	}
	cli_format_addr(family, remote, r, sizeof(r));
	printf("\"remote_address\": \"%s\", \"remote_port\": %u", r, rport);
}
