/* pause_getfd.c: a shim tests/enable.sh preloads into ka-tune. Before ka-tune's Nth
 * pidfd_getfd() (KT_PAUSE_AT=N), it writes "paused" into the FIFO $KT_PAUSE.out and waits for
 * a line on $KT_PAUSE.in: the test changes the target right there (kills it, closes a socket)
 * and lets ka-tune go on, with no sleep and no race. Both FIFOs are opened read-write, so that
 * opening never blocks. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <unistd.h>

/* Tell the test, then wait for its word. Any failure ends the process: the test sees it. */
static void
pause_here(const char *ctl)
{
	char path[4096], c = 0;
	int out, in;

	(void)snprintf(path, sizeof(path), "%s.out", ctl);
	out = open(path, O_RDWR | O_CLOEXEC);
	(void)snprintf(path, sizeof(path), "%s.in", ctl);
	in = open(path, O_RDWR | O_CLOEXEC);
	if (out < 0 || in < 0 || write(out, "paused\n", 7) != 7)
		abort();
	while (read(in, &c, 1) == 1 && c != '\n')
		;
	(void)close(out);
	(void)close(in);
}

__attribute__((visibility("default"))) int
pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	static int (*real)(int, int, unsigned int);
	static long calls;
	const char *at = getenv("KT_PAUSE_AT"), *ctl = getenv("KT_PAUSE");
	int saved = errno;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "pidfd_getfd");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (at && ctl && ++calls == strtol(at, NULL, 10))
		pause_here(ctl);
	errno = saved;
	return real(pidfd, targetfd, flags);
}
