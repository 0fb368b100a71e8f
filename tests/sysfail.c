/* sysfail.c: run a command with one kind of system call made to fail, through a seccomp filter,
 * for tests/enable.sh to see ka-tune meet failures a healthy kernel never gives it:
 *   sysfail keepalive COMMAND [ARG...]     setsockopt(SOL_SOCKET, SO_KEEPALIVE) fails, EPERM
 *   sysfail pidfd_getfd COMMAND [ARG...]   pidfd_getfd() fails with ENOSYS (a kernel before 5.6)
 * Everything else runs as it would. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define ARCH_NOW	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NOW	AUDIT_ARCH_AARCH64
#else
#error "sysfail: add this architecture's AUDIT_ARCH_"
#endif
#define ARG(n)		(offsetof(struct seccomp_data, args) + 8 * (n))
#define FAIL(err)	(SECCOMP_RET_ERRNO | (err))

int
main(int argc, char **argv)
{
	struct sock_filter keepalive[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NOW, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setsockopt, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(2)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_KEEPALIVE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, FAIL(EPERM)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter getfd[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NOW, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_getfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, FAIL(ENOSYS)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog;

	if (argc < 3 || (strcmp(argv[1], "keepalive") && strcmp(argv[1], "pidfd_getfd"))) {
		fputs("usage: sysfail keepalive|pidfd_getfd COMMAND [ARG...]\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "keepalive") == 0)
		prog = (struct sock_fprog){ sizeof(keepalive) / sizeof(keepalive[0]), keepalive };
	else
		prog = (struct sock_fprog){ sizeof(getfd) / sizeof(getfd[0]), getfd };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("sysfail: seccomp");
		return 1;
	}
	execvp(argv[2], argv + 2);
	perror("sysfail: exec");
	return 127;
}
