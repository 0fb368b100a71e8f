/* cli_errors.c: the one place where an error code becomes words. The library returns codes; what
 * an operator should read depends on what the code is about: EACCES on a sysctl wants
 * CAP_NET_ADMIN, on a file under /etc root, on a namespace CAP_SYS_ADMIN. */
#include <errno.h>
#include <string.h>

#include "cli.h"

/* One wording: the error, what it is about (or any subject, ANY), and the words. */
#define ANY	(-1)

static const struct wording {
	int err;
	int about;
	const char *text;
} wordings[] = {
	{ EACCES, CLI_ABOUT_KEY, "permission denied (changing sysctls needs root or "
				 "CAP_NET_ADMIN)" },
	{ EPERM, CLI_ABOUT_KEY, "permission denied (changing sysctls needs root or "
				"CAP_NET_ADMIN)" },
	{ EROFS, CLI_ABOUT_KEY, "read-only file system (/proc/sys is read-only, as in a "
				"container: set a container's values through its runtime: docker "
				"run --sysctl, or a Kubernetes pod's securityContext.sysctls)" },
	{ ENOENT, CLI_ABOUT_KEY, "no such key (this kernel or network namespace does not have "
				 "it)" },
	{ EINVAL, CLI_ABOUT_KEY, "the kernel refused the value" },
	{ ERANGE, CLI_ABOUT_KEY, "value outside its accepted range" },
	{ EBADMSG, CLI_ABOUT_KEY, "the file does not hold an integer" },

	{ ENOENT, CLI_ABOUT_CONNTRACK, "no such key: the nf_conntrack module is not loaded, this "
				       "machine tracks no connections" },
	{ ERANGE, CLI_ABOUT_CONNTRACK, "it holds a timeout below 1 s" },

	{ EACCES, CLI_ABOUT_ETC_WRITE, "permission denied (writing it needs root)" },
	{ EPERM, CLI_ABOUT_ETC_WRITE, "permission denied (writing it needs root)" },
	{ ELOOP, CLI_ABOUT_ETC_WRITE, "is a symbolic link; ka-tune does not write through links "
				      "(name the real file with --file)" },
	{ ELOOP, CLI_ABOUT_FILE_WRITE, "is a symbolic link; ka-tune does not write through links "
				       "(name the real file with --file)" },
	{ ELOOP, CLI_ABOUT_FILE_READ, "too many levels of symbolic links" },
	{ EINVAL, CLI_ABOUT_FILE_READ, "not a regular file" },
	{ EINVAL, CLI_ABOUT_FILE_WRITE, "not a regular file" },
	{ EINVAL, CLI_ABOUT_ETC_WRITE, "not a regular file" },
	{ EFBIG, ANY, "larger than 1 MiB: not a sysctl.d file" },

	{ ENOENT, CLI_ABOUT_NETNS_NAME, "no such network namespace (ip netns list shows the named "
					"ones)" },
	{ ENOENT, CLI_ABOUT_NETNS_PATH, "no such file" },
	{ ENOTNAM, CLI_ABOUT_NETNS_NAME, "not a network namespace" },
	{ ENOTNAM, CLI_ABOUT_NETNS_PATH, "not a network namespace" },
	{ EINVAL, CLI_ABOUT_NETNS_NAME, "not a namespace name" },
	{ EPERM, CLI_ABOUT_NETNS_ENTER, "permission denied (entering a namespace needs root or "
					"CAP_SYS_ADMIN)" },
	{ ESRCH, ANY, "no such process" },
	{ EACCES, CLI_ABOUT_PROCESS, "permission denied (another user's process: looking at it "
				     "needs root)" },
	{ EACCES, CLI_ABOUT_PROCESS_AS_ROOT, "permission denied, even to root (a process the "
					     "kernel keeps from inspection)" },

	{ ENOENT, CLI_ABOUT_SOCKDIAG, "the kernel has no TCP sock_diag (CONFIG_INET_DIAG, module "
				      "tcp_diag)" },
	{ EPROTONOSUPPORT, CLI_ABOUT_SOCKDIAG, "the kernel has no sock_diag netlink interface "
					       "(CONFIG_INET_DIAG)" },
	{ EBADMSG, CLI_ABOUT_SOCKDIAG, "the kernel's answer could not be parsed" },

	{ ESRCH, CLI_ABOUT_PIDFD, "no such process" },
	{ ENOSYS, CLI_ABOUT_PIDFD, "this kernel has no pidfd_getfd (Linux 5.6 or later has); "
				   "ka-tune exec starts programs with keepalive on" },
	{ EREMOTE, CLI_ABOUT_PIDFD, "/proc shows another pid namespace than ka-tune's (mount a "
				    "/proc of its own)" },
	{ ENOENT, CLI_ABOUT_PIDFD, "/proc is not mounted" },
	{ EMFILE, CLI_ABOUT_PIDFD, "ka-tune has too many open files" },

	{ EINVAL, CLI_ABOUT_EXEC, "its path holds a space or a ':', which LD_PRELOAD cannot "
				  "carry" },
	{ ENOEXEC, CLI_ABOUT_EXEC, "not an executable the kernel knows, nor a script" },
	{ ELOOP, CLI_ABOUT_EXEC, "too many #! interpreters, one running the next" },
	{ ENOENT, CLI_ABOUT_EXEC, "not found" },
	{ EACCES, CLI_ABOUT_EXEC, "permission denied (not executable, or not readable to be "
				  "checked)" },

	{ ENXIO, CLI_ABOUT_PROBE, "no address found for that name" },
	{ EAGAIN, CLI_ABOUT_PROBE, "the name could not be looked up for now (temporary failure "
				   "in name resolution)" },
	{ ECONNREFUSED, CLI_ABOUT_PROBE, "connection refused (nothing listens on that port, or a "
					 "firewall refuses)" },
	{ ETIMEDOUT, CLI_ABOUT_PROBE, "no answer to the connection within "
				      CLI_STR(KT_PROBE_CONNECT_SECS) " s" },
	{ ENOTCONN, CLI_ABOUT_PROBE, "no connection stayed open long enough to be probed" },
	{ EADDRINUSE, CLI_ABOUT_LISTEN, "the port is in use" },
	{ EACCES, CLI_ABOUT_LISTEN, "permission denied (ports below 1024 need root or "
				    "CAP_NET_BIND_SERVICE)" },

	{ ENOENT, CLI_ABOUT_CGROUP2, "no cgroup2 file system is mounted (cgroup v2 is needed: "
				     "mount -t cgroup2 none /sys/fs/cgroup/unified)" },
	{ ENOENT, CLI_ABOUT_CGROUP, "no such cgroup" },
	{ ENOTDIR, CLI_ABOUT_CGROUP, "not a cgroup: not a directory" },
	{ EMEDIUMTYPE, CLI_ABOUT_CGROUP, "not a cgroup: not on the cgroup2 file system (cgroup v1 "
					 "hierarchies have no BPF programs)" },
	{ EXDEV, CLI_ABOUT_CGROUP, "not a cgroup below the cgroup2 mount" },
	{ EINVAL, CLI_ABOUT_CGROUP, "not a cgroup path (empty, or a '.' or '..' in it)" },
	{ EACCES, CLI_ABOUT_CGROUP, "permission denied: the cgroup cannot be opened (and it "
				    "needs root: CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)" },
	{ EPERM, CLI_ABOUT_BPF, "permission denied: needs root (CAP_BPF and CAP_NET_ADMIN, or "
				"CAP_SYS_ADMIN)" },
	{ EACCES, CLI_ABOUT_BPF, "permission denied: needs root (CAP_BPF and CAP_NET_ADMIN, or "
				 "CAP_SYS_ADMIN; " KT_BPF_DIR " is root's)" },
	{ ENOMEDIUM, CLI_ABOUT_BPF, KT_BPF_FS " is not a BPF file system, where ka-tune pins "
				    "what it attaches (systemd mounts it at boot; else: "
				    "mount -t bpf bpf " KT_BPF_FS ")" },
	{ EUCLEAN, CLI_ABOUT_BPF, KT_BPF_DIR " is not root's own directory of mode 0700, so its "
				  "pins cannot be trusted: remove it" },
	{ EEXIST, CLI_ABOUT_BPF, "a pin that is not ka-tune's is in the way in " KT_BPF_DIR },
	{ EBUSY, CLI_ABOUT_BPF, "another program is attached to this cgroup or one above it "
				"without BPF_F_ALLOW_MULTI, which keeps every other program off" },
	{ EINVAL, CLI_ABOUT_BPF, "the kernel refused the request (needs Linux 5.9 or later)" },
	{ ENOSYS, CLI_ABOUT_BPF, "this kernel has no bpf() system call (CONFIG_BPF_SYSCALL)" },
	{ ENOLINK, CLI_ABOUT_BPF, "ka-tune's program is attached here, but pinned in another BPF "
				  "file system than " KT_BPF_FS " (another mount namespace's): "
				  "disable it from there" },
	{ ETIMEDOUT, CLI_ABOUT_BPF, "timed out waiting for the lock on " KT_BPF_DIR },

	/* Whatever the subject. */
	{ EACCES, ANY, "permission denied" },
	{ EPERM, ANY, "permission denied" },
	{ EROFS, ANY, "read-only file system" },
	{ EISDIR, ANY, "is a directory" },
	{ ENOTDIR, ANY, "not a directory" },
	{ ETIMEDOUT, ANY, "timed out" },
};

/*
 * The words for err (a negative errno) about the subject about: the first wording for both, else
 * for err alone, else the C library's. Returns a static string.
 */
const char *
cli_strerror(int err, enum cli_about about)
{
	for (size_t i = 0; i < sizeof(wordings) / sizeof(wordings[0]); i++)
		if (wordings[i].err == -err &&
		    (wordings[i].about == (int)about || wordings[i].about == ANY))
			return wordings[i].text;
	return strerror(-err);
}

/* The words for why the kernel's ptrace access check refuses a process (kt_ptrace_denial()). */
static const char *const denials[] = {
	[KT_DENY_OTHER_USER] = "another user's process: taking its sockets needs root or "
			       "CAP_SYS_PTRACE",
	[KT_DENY_NOT_DUMPABLE] = "the process is not dumpable (set-user-ID, file capabilities or "
				 "prctl(PR_SET_DUMPABLE, 0)): even its own user needs root or "
				 "CAP_SYS_PTRACE for it",
	[KT_DENY_CAPS] = "the process holds capabilities ka-tune lacks: even its own user needs "
			 "root or CAP_SYS_PTRACE for it",
	[KT_DENY_YAMA] = "Yama's kernel.yama.ptrace_scope forbids it",
	[KT_DENY_OTHER] = "refused by the kernel's ptrace access check, though ka-tune may trace "
			  "the process by user and capabilities (a security module: AppArmor, "
			  "SELinux?)",
};

/*
 * The words for a refusal of the ptrace access check: why, and with Yama, what its ptrace_scope
 * (0 to 3) allows. Returns a static string.
 */
const char *
cli_denial(enum kt_denial why, int yama_scope)
{
	static const char *const yama[] = {
		"Yama's kernel.yama.ptrace_scope is 0 here, yet the kernel refused",
		("Yama's kernel.yama.ptrace_scope is 1: only a process's ancestors may take its "
		 "descriptors, unless root or CAP_SYS_PTRACE"),
		"Yama's kernel.yama.ptrace_scope is 2: only root or CAP_SYS_PTRACE may",
		"Yama's kernel.yama.ptrace_scope is 3: no one may, root included",
	};

	if (why == KT_DENY_YAMA && yama_scope >= 0 && yama_scope <= 3)
		return yama[yama_scope];
	if ((unsigned int)why >= sizeof(denials) / sizeof(denials[0]))
		why = KT_DENY_OTHER;
	return denials[why];
}
