/* idlepeer.c: a helper for tests/probe.sh: a TCP server with habits of its own that ka-tune
 * probe must recognise. It may greet each connection at once, as SSH and SMTP servers do, and
 * may end each one a given time after it came, as servers with an idle limit do. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: idlepeer [-g] PORT [SECS fin|data|reset]\n"
	"  listens on PORT (IPv6 and IPv4), prints 'ready', then holds what comes until SIGTERM,\n"
	"  on which it exits 0\n"
	"  -g     greets each connection with a line at once (then stays quiet)\n"
	"  SECS   ends each connection SECS seconds after it came: fin closes it, data sends a\n"
	"         line (and keeps it), reset resets it\n";

/* Connections held at most; more wait in the backlog. */
#define HELD_MAX	512

enum end { END_NONE, END_FIN, END_DATA, END_RESET };

struct conn {
	int fd;
	long long due_ms;	/* when to end it; -1: never */
};

static void
on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void
die(const char *what)
{
	fprintf(stderr, "idlepeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A decimal number in lo..hi, or exit 2. */
static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fputs(usage, stderr);
		exit(2);
	}
	return v;
}

static int
listen_on(long port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
		.sin6_port = htons((unsigned short)port) };
	int fd, one = 1, zero = 0;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0)
		die("listen");
	return fd;
}

/* End c as the mode says; returns whether it is gone. */
static int
end_conn(struct conn *c, enum end how)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (how == END_DATA) {
		if (write(c->fd, "idle\n", 5) != 5)
			die("write");
		c->due_ms = -1;		/* held until the client ends it */
		return 0;
	}
	if (how == END_RESET && setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		die("SO_LINGER");
	(void)close(c->fd);
	return 1;
}

/* How long poll() may wait for the next connection to be due: ms, or -1. */
static int
wait_ms(const struct conn *c, int n)
{
	long long next = -1, now = now_ms();

	for (int i = 0; i < n; i++)
		if (c[i].due_ms >= 0 && (next < 0 || c[i].due_ms < next))
			next = c[i].due_ms;
	return next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
}

int
main(int argc, char **argv)
{
	static const char *const modes[] = { "", "fin", "data", "reset" };
	struct conn c[HELD_MAX];
	enum end how = END_NONE;
	long secs = 0, port;
	int greet = 0, lfd, n = 0, i = 1;

	if (argc > 1 && strcmp(argv[1], "-g") == 0)
		greet = i++;
	if (argc - i != 1 && argc - i != 3) {
		fputs(usage, stderr);
		return 2;
	}
	port = number(argv[i], 1, 65535);
	if (argc - i == 3) {
		secs = number(argv[i + 1], 0, 86400);
		for (int m = END_FIN; m <= END_RESET; m++)
			if (strcmp(argv[i + 2], modes[m]) == 0)
				how = m;
		if (how == END_NONE) {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (signal(SIGTERM, on_term) == SIG_ERR)
		die("signal");
	lfd = listen_on(port);
	printf("ready\n");
	if (fflush(stdout) != 0)
		die("stdout");
	for (;;) {
		struct pollfd p = { .fd = lfd, .events = n < HELD_MAX ? POLLIN : 0 };
		long long now;

		if (poll(&p, 1, wait_ms(c, n)) < 0 && errno != EINTR)
			die("poll");
		if (p.revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				die("accept");
			if (greet && write(fd, "SSH-2.0-idlepeer\r\n", 18) != 18)
				die("write");
			c[n++] = (struct conn){ fd, how == END_NONE ? -1 : now_ms() + secs * 1000 };
		}
		now = now_ms();
		for (int k = 0; k < n; k++)
			if (c[k].due_ms >= 0 && c[k].due_ms <= now && end_conn(&c[k], how))
				c[k--] = c[--n];
	}
}
