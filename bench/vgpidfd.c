/* vgpidfd.c: pidfd_open() and pidfd_getfd() for ka-tune under valgrind 3.19, which knows
 * neither system call: preloaded into ka-tune by bench/enable.sh, it asks bench/fdholder (at
 * $KT_FDSRV) for a duplicate of each descriptor, over a unix socket (SCM_RIGHTS), which
 * valgrind runs. The pidfd is an eventfd: poll() finds it quiet, as a live process's is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EXPORT	__attribute__((visibility("default")))

static int server = -1;

EXPORT int
pidfd_open(int pid, unsigned int flags)
{
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	const char *path = getenv("KT_FDSRV");

	(void)pid;
	(void)flags;
	if (!path || strlen(path) >= sizeof(u.sun_path)) {
		errno = ENOSYS;
		return -1;
	}
	strcpy(u.sun_path, path);
	server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (server < 0 || connect(server, (struct sockaddr *)&u, sizeof(u)) < 0)
		return -1;
	return eventfd(0, EFD_CLOEXEC);
}

EXPORT int
pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int err = 0, fd;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	(void)pidfd;
	(void)flags;
	if (write(server, &targetfd, sizeof(targetfd)) != (ssize_t)sizeof(targetfd) ||
	    recvmsg(server, &m, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(err))
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (err || !cm) {
		errno = err ? err : EBADF;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}
