/* kt_lock.c: take an exclusive flock, waiting a bounded time: how concurrent ka-tune runs take
 * turns over a shared thing (the keys of a network namespace). */
#include <errno.h>
#include <sys/file.h>
#include <time.h>

#include "kt_internal.h"

/* How long kt_lock_wait() sleeps between tries. */
#define LOCK_PAUSE_MS	50

/*
 * Any process that can open the file can hold a flock on it, so the wait is bounded: try at
 * once, then every LOCK_PAUSE_MS, until timeout_ms have passed.
 */
int
kt_lock_wait(int fd, unsigned int timeout_ms)
{
	const struct timespec pause = { 0, LOCK_PAUSE_MS * 1000000L };
	long long end = kt_now_ms() + timeout_ms;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (kt_now_ms() >= end)
			return -ETIMEDOUT;
		(void)nanosleep(&pause, NULL);
	}
}
