/* kt_procpid.c: what /proc shows of one process, read the one way ka-tune reads it: a small
 * file whole, its name, and which of its open files are sockets (socket:[INODE] links). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * Read up to len - 1 bytes of the file "PID/what" below the /proc directory procfd (or any
 * "DIR/name" below any directory) into buf, NUL-terminated, in one read() as /proc wants; buf
 * is "" when it cannot be read (a process that has just exited leaves nothing). Returns the
 * bytes read, or a negative errno.
 */
ssize_t
kt_proc_read(int procfd, const char *pid, const char *what, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	assert(pid && what && buf && len > 0);

	buf[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", pid, what) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	(void)close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n;
}

/*
 * Read the name of process pid (its /proc entry name) as /proc/PID/comm gives it, without the
 * newline /proc adds: any bytes but NUL, unescaped; "" when it cannot be read.
 */
void
kt_proc_comm(int procfd, const char *pid, char comm[KT_COMM_LEN])
{
	ssize_t n = kt_proc_read(procfd, pid, "comm", comm, KT_COMM_LEN);

	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

/*
 * Parse the target of an fd link of len bytes: "socket:[INODE]" gives 1 and sets *ret_inode;
 * any other file, or a malformed or zero inode, gives 0.
 */
int
kt_socket_link(const char *link, size_t len, unsigned int *ret_inode)
{
	static const char prefix[] = "socket:[";
	unsigned long long v = 0;
	size_t i = sizeof(prefix) - 1;

	if (len < i + 2 || memcmp(link, prefix, i) != 0 || link[len - 1] != ']')
		return 0;
	for (; i < len - 1; i++) {
		if (link[i] < '0' || link[i] > '9' || v > 0xffffffffULL / 10)
			return 0;
		v = v * 10 + (unsigned int)(link[i] - '0');
	}
	if (v == 0 || v > 0xffffffffULL)
		return 0;
	*ret_inode = v;
	return 1;
}
