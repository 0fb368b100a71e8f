/* kt_procpid.c: what /proc shows of one process, read the one way ka-tune reads it: a small
 * file whole, its name, and which of its open files are sockets (socket:[INODE] links). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* The most read of a /proc/PID file: stat is a line of some 300 bytes, comm 16. */
#define PROC_FILE_MAX	4096

/*
 * Read the file "PID/what" below the /proc directory procfd (or any "DIR/name" below any
 * directory) through kt_read_file(), the one reader, into buf, cut to len - 1 bytes and
 * NUL-terminated; buf is "" when it cannot be read (a process that has just exited leaves
 * nothing). Returns the bytes kept, or a negative errno.
 */
ssize_t
kt_proc_read(int procfd, const char *pid, const char *what, char *buf, size_t len)
{
	char path[PATH_MAX], *text;
	size_t n;
	int r;

	assert(pid && what && buf && len > 0);

	buf[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", pid, what) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = kt_read_file(procfd, path, KT_READ_PROC, PROC_FILE_MAX, &text, &n, NULL);
	if (r < 0)
		return r;
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	free(text);
	return (ssize_t)n;
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

/* Order by inode, then descriptor; or by descriptor alone. */
static int
by_inode(const void *a, const void *b)
{
	const struct kt_fd_sock *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

static int
by_fd(const void *a, const void *b)
{
	const struct kt_fd_sock *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Keep each socket once, with its lowest descriptor, and order them by descriptor. */
static size_t
once_each(struct kt_fd_sock *socks, size_t n)
{
	size_t kept = 0;

	if (n == 0)
		return 0;
	qsort(socks, n, sizeof(*socks), by_inode);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || socks[i].inode != socks[i - 1].inode)
			socks[kept++] = socks[i];
	qsort(socks, kept, sizeof(*socks), by_fd);
	return kept;
}

/* Append one socket to *socks (n of them, room for *cap). Returns 0 or -ENOMEM. */
static int
append(struct kt_fd_sock **socks, size_t n, size_t *cap, struct kt_fd_sock s)
{
	if (n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct kt_fd_sock *p = reallocarray(*socks, c, sizeof(*p));

		if (!p)
			return -ENOMEM;
		*socks = p;
		*cap = c;
	}
	(*socks)[n] = s;
	return 0;
}

/*
 * List the sockets of a process's fd directory (fddir, an open /proc/PID/fd, or a tree laid out
 * like it; read from its start, and left at its end): each socket once, with the lowest
 * descriptor that refers to it, by descriptor. A descriptor closed while the list is read is
 * passed over. Returns 0 and sets *ret_socks (to free; NULL when *ret_n is 0) and *ret_n, or a
 * negative errno: -EACCES when the links may not be read, -ENOMEM.
 */
int
kt_proc_sockets(int fddir, struct kt_fd_sock **ret_socks, size_t *ret_n)
{
	struct kt_fd_sock *socks = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r;

	assert(ret_socks && ret_n);

	if ((r = kt_read_dir(fddir, &d)) < 0)
		return r;
	while (r == 0 && (de = readdir(d))) {
		char link[64];
		struct kt_fd_sock s;
		ssize_t len;

		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		s.fd = (int)kt_entry_number(de->d_name, INT_MAX);
		if (s.fd == 0 && strcmp(de->d_name, "0") != 0)
			continue;	/* ".", "..": not a descriptor */
		len = readlinkat(fddir, de->d_name, link, sizeof(link));
		if (len < 0 && errno != ENOENT && errno != EINVAL)
			r = -errno;	/* ENOENT: closed meanwhile; EINVAL: no link */
		else if (len > 0 && kt_socket_link(link, len, &s.inode))
			r = append(&socks, n++, &cap, s);
	}
	(void)closedir(d);
	if (r < 0) {
		free(socks);
		return r;
	}
	*ret_n = once_each(socks, n);
	*ret_socks = n ? socks : NULL;
	if (!n)
		free(socks);
	return 0;
}
