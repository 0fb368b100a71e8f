/* enosys.c: run a command with openat2() failing with ENOSYS, as on a kernel before 5.6 or under
 * a seccomp profile that predates it: the end-to-end tests run ka-tune so to test its fallback.
 * usage: enosys COMMAND [ARG...] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "no_openat2.h"

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: enosys COMMAND [ARG...]\n", stderr);
		return 2;
	}
	if (no_openat2() < 0) {
		fprintf(stderr, "enosys: cannot install the seccomp filter: %s\n", strerror(errno));
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "enosys: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
