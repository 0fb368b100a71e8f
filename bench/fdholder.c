/* fdholder.c: the two ends of many TCP connections without keepalive, for bench/enable.sh:
 *   fdholder serve N SOCKET        listen on port 5000 of every address, accept N connections,
 *                                  then hand out a duplicate of any of its descriptors
 *                                  (SCM_RIGHTS) on the unix socket SOCKET, for vgpidfd.so to
 *                                  stand in for pidfd_getfd() where valgrind cannot run it
 *   fdholder connect ADDR N        open N connections to ADDR, port 5000, and hold them
 * Each prints "ready" once so. On SIGTERM it resets its connections (SO_LINGER 0): nothing is
 * left in TIME_WAIT. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int max_fd;

static void
die(const char *what)
{
	fprintf(stderr, "fdholder: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
reset_all(int sig)
{
	struct linger abort = { .l_onoff = 1, .l_linger = 0 };

	(void)sig;
	for (int fd = 3; fd <= max_fd; fd++)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
	_exit(0);
}

#define PORT	5000

/* Accept n connections on port PORT. */
static void
accept_all(long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0)
		die("listen");
	puts("listening");
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		int s = accept(l, NULL, NULL);

		if (s < 0)
			die("accept");
		max_fd = s > max_fd ? s : max_fd;
	}
}

/* Open n connections to addr, port PORT. */
static void
connect_all(const char *addr, long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "fdholder: %s: not an IPv4 address\n", addr);
		exit(2);
	}
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect");
		max_fd = c > max_fd ? c : max_fd;
	}
}

/* Answer each request (a descriptor number) on c: an int (0 or an errno), and the fd. */
static void
hand_out(int c)
{
	int want;

	while (read(c, &want, sizeof(want)) == (ssize_t)sizeof(want)) {
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		int err = fcntl(want, F_GETFD) < 0 ? errno : 0;
		struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (!err) {
			struct cmsghdr *cm;

			m.msg_control = cbuf;
			m.msg_controllen = sizeof(cbuf);
			cm = CMSG_FIRSTHDR(&m);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &want, sizeof(int));
		}
		if (sendmsg(c, &m, 0) < 0)
			break;
	}
	(void)close(c);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	int serve = argc == 4 && strcmp(argv[1], "serve") == 0;
	int connecting = argc == 4 && strcmp(argv[1], "connect") == 0;
	struct rlimit rl;
	long n = 0;
	int s;

	if (serve || connecting)
		n = strtol(serve ? argv[2] : argv[3], NULL, 10);
	if (n < 1 || (serve && strlen(argv[3]) >= sizeof(u.sun_path))) {
		fputs("usage: fdholder serve N SOCKET | fdholder connect ADDR N\n", stderr);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (signal(SIGTERM, reset_all) == SIG_ERR)
		die("signal");
	if (connecting) {
		connect_all(argv[2], n);
		puts("ready");
		fflush(stdout);
		for (;;)
			pause();
	}
	accept_all(n);
	strcpy(u.sun_path, argv[3]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&u, sizeof(u)) < 0 || listen(s, 8) < 0)
		die("unix socket");
	puts("ready");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c >= 0)
			hand_out(c);
	}
}
