/* no_openat2.h: make openat2() fail with ENOSYS in this process and its children, as on a kernel
 * before 5.6 or under a seccomp profile that predates it, to test ka-tune's fallback for real. */
#ifndef KT_NO_OPENAT2_H
#define KT_NO_OPENAT2_H

#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__) && !defined(__ILP32__)
#define NO_OPENAT2_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NO_OPENAT2_ARCH	AUDIT_ARCH_AARCH64
#endif

/*
 * Install a seccomp filter under which openat2() returns ENOSYS and every other system call
 * goes through. It cannot be taken back: call it in a child. Returns 0, or -1 with errno set
 * (ENOTSUP where this file does not know the architecture).
 */
static inline int
no_openat2(void)
{
#ifdef NO_OPENAT2_ARCH
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NO_OPENAT2_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
#else
	errno = ENOTSUP;
	return -1;
#endif
}

#endif
