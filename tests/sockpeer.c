/* sockpeer.c: a helper for tests/sockets.sh and bench/sockets.sh: it opens loopback TCP
 * connections to itself, each with the keepalive setting asked for, says which local port got
 * which, then waits to be killed, holding them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
	"usage: sockpeer [-6] [-A] [-a ADDR] [-n NAME] [-p PORT] MODE[xCOUNT]...\n"
	"  MODE  off   no SO_KEEPALIVE\n"
	"        on    SO_KEEPALIVE, the namespace's sysctls\n"
	"        N     SO_KEEPALIVE with TCP_KEEPIDLE and TCP_KEEPINTVL N seconds\n"
	"        full  SO_KEEPALIVE, and data sent until the peer, which never reads, shuts\n"
	"              its window: a zero-window probe timer is pending\n"
	"        tw    closed at once, connecting end first: left in TIME_WAIT\n"
	"  -6    connect over ::1 instead of 127.0.0.1\n"
	"  -a    listen on and connect to ADDR, another loopback address (127.0.0.2)\n"
	"  -A    SO_KEEPALIVE on the listening socket: the accepted ends have it too\n"
	"  -n    call itself NAME (PR_SET_NAME: /proc/PID/comm), whatever bytes it holds\n"
	"  -p    listen on PORT (default: one the kernel picks)\n"
	"prints 'listen PORT', then 'PORT MODE' for each connection (PORT: its connecting end's),\n"
	"then 'ready', its last word: a reader may stop there (such as a test reading a FIFO).\n"
	"Then it waits for SIGTERM, on which it resets its connections: they leave nothing\n"
	"behind in TIME_WAIT.\n";

static int family = AF_INET;
static const char *addr;	/* -a, or NULL: the loopback address */
static int max_fd;		/* the highest descriptor opened */

static void
die(const char *what)
{
	fprintf(stderr, "sockpeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
bad_addr(void)
{
	fprintf(stderr, "sockpeer: -a %s: not an address of the family in use\n", addr);
	exit(2);
}

/* Fill a loopback address of the chosen family with port. */
static socklen_t
loopback(struct sockaddr_storage *ss, unsigned int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		if (addr && inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			bad_addr();
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (addr && inet_pton(AF_INET, addr, &a->sin_addr) != 1)
		bad_addr();
	a->sin_port = htons(port);
	return sizeof(*a);
}

/* The port a socket is bound to. */
static unsigned int
port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname");
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
setopt(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		die(what);
}

/* Fill the connection's send path until it blocks: the peer never reads. */
static void
fill(int fd)
{
	static char junk[65536];

	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
	for (int quiet = 0; quiet < 20;) {
		if (write(fd, junk, sizeof(junk)) >= 0) {
			quiet = 0;
			continue;
		}
		if (errno != EAGAIN)
			die("write");
		quiet++;	/* the window may still open a little: try a few more times */
		usleep(10000);
	}
}

/* Open one connection to the listener on port, set up as mode says. */
static void
connect_one(int lfd, unsigned int port, const char *mode)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, port);
	char *end;
	long idle = strtol(mode, &end, 10);
	int fd, peer, numeric = end != mode && *end == '\0' && idle > 0;

	if (!numeric && strcmp(mode, "off") && strcmp(mode, "on") && strcmp(mode, "full") &&
	    strcmp(mode, "tw")) {
		fputs(usage, stderr);
		exit(2);
	}
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (strcmp(mode, "on") == 0 || strcmp(mode, "full") == 0 || numeric)
		setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	if (numeric) {
		setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle, "TCP_KEEPIDLE");
		setopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, idle, "TCP_KEEPINTVL");
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		die("connect");
	peer = accept(lfd, NULL, NULL);
	if (peer < 0)
		die("accept");
	max_fd = peer > fd ? peer : fd;
	printf("%u %s\n", port_of(fd), mode);
	if (strcmp(mode, "full") == 0)
		fill(fd);
	if (strcmp(mode, "tw") == 0) {
		close(fd);
		close(peer);
	}
}

/*
 * On SIGTERM, make every close abortive (SO_LINGER 0: a reset, no TIME_WAIT) and exit, so that
 * a test's connections do not linger into the next test's counts. Both calls are signal-safe.
 */
static void
reset_all(int sig)
{
	struct linger abort = { .l_onoff = 1, .l_linger = 0 };

	(void)sig;
	for (int fd = 3; fd <= max_fd; fd++)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
	_exit(0);
}

/* Let this process hold as many descriptors as it may. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A number from 0 to max, or exit 2 with the usage. */
static unsigned long
number(const char *s, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n > max) {
		fputs(usage, stderr);
		exit(2);
	}
	return n;
}

/* The loopback listener, its port on stdout: with -A, keepalive on. */
static int
listener(unsigned int *port, int listen_ka)
{
	struct sockaddr_storage ss;
	int lfd = socket(family, SOCK_STREAM, 0);

	if (lfd < 0)
		die("socket");
	setopt(lfd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (listen_ka)
		setopt(lfd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	if (bind(lfd, (struct sockaddr *)&ss, loopback(&ss, *port)) < 0)
		die("bind");
	if (listen(lfd, 128) < 0)
		die("listen");
	*port = port_of(lfd);
	printf("listen %u\n", *port);
	return lfd;
}

/* Open the connections one MODE[xCOUNT] argument asks for. */
static void
connect_arg(int lfd, unsigned int port, const char *arg)
{
	char mode[32], *x;
	unsigned long count = 1;

	if (snprintf(mode, sizeof(mode), "%s", arg) >= (int)sizeof(mode)) {
		fputs(usage, stderr);
		exit(2);
	}
	if ((x = strchr(mode, 'x'))) {
		*x = '\0';
		count = number(x + 1, 100000);
	}
	while (count-- > 0)
		connect_one(lfd, port, mode);
}

int
main(int argc, char **argv)
{
	unsigned int port = 0;
	int c, lfd, listen_ka = 0;

	while ((c = getopt(argc, argv, "6Aa:n:p:")) != -1) {
		switch (c) {
		case '6':
			family = AF_INET6;
			break;
		case 'A':
			listen_ka = 1;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'n':
			if (prctl(PR_SET_NAME, optarg, 0, 0, 0) < 0)
				die("prctl PR_SET_NAME");
			break;
		case 'p':
			port = (unsigned int)number(optarg, 65535);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fputs(usage, stderr);
		return 2;
	}
	raise_nofile();
	if (signal(SIGTERM, reset_all) == SIG_ERR)
		die("signal");
	lfd = listener(&port, listen_ka);
	for (int i = optind; i < argc; i++)
		connect_arg(lfd, port, argv[i]);
	/*
	 * The handshake: nothing is written after it, so a reader that stops here leaves no pipe
	 * this process could later die writing to.
	 */
	puts("ready");
	if (fflush(stdout) != 0)
		die("stdout");
	for (;;)
		pause();
}
