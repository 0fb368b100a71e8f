/* connrate.c: how fast this process connects to and accepts from itself over loopback, for
 * bench/exec.sh to run with and without ka-tune exec's library. Each of N rounds: socket(),
 * connect(), accept(), an abortive close of the connecting end (SO_LINGER 0: no TIME_WAIT to run
 * out of ports with), close of the accepted end. Prints the connections a second of the
 * process's CPU time (user and system, loopback's softirq work included, as it runs in the
 * sending task), which other processes disturb much less than wall time.
 *   connrate N */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "connrate: %s: %s\n", what, strerror(errno));
	exit(1);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger abort = { .l_onoff = 1, .l_linger = 0 };
	struct timespec t0, t1;
	socklen_t len = sizeof(a);
	long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	int l;

	if (n < 1) {
		fputs("usage: connrate N\n", stderr);
		return 2;
	}
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 128) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), s;

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect");
		if ((s = accept(l, NULL, NULL)) < 0)
			die("accept");
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort)) < 0)
			die("SO_LINGER");
		(void)close(c);
		(void)close(s);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	printf("%.0f\n", n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	return 0;
}
