/* kt_internal.h: small helpers the library files share and the API does not show. */
#ifndef KT_INTERNAL_H
#define KT_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "katune.h"

/*
 * isspace() of the C locale, whatever locale the program set: the kernel's and procps' notion
 * of white space when they parse sysctl values and lines.
 */
static inline int
kt_c_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * The number a /proc entry's name stands for: all decimal digits, 1 to max; else 0 (self, sys,
 * ".", a file...). The one rule for the names of /proc's pid entries and of /proc/PID/fd.
 */
static inline long
kt_entry_number(const char *name, long max)
{
	long v = 0;

	if (*name == '\0')
		return 0;
	for (; *name; name++) {
		if (*name < '0' || *name > '9')
			return 0;
		v = v * 10 + (*name - '0');
		if (v > max)
			return 0;
	}
	return v;
}

/* The pid a /proc entry's name stands for, or 0: kt_netns.c and kt_sockowner.c walk /proc alike. */
static inline long
kt_entry_pid(const char *name)
{
	return kt_entry_number(name, KT_PID_MAX);
}

/* kt_procpid.c: one process's files in /proc. */
ssize_t kt_proc_read(int procfd, const char *pid, const char *what, char *buf, size_t len);
void kt_proc_comm(int procfd, const char *pid, char comm[KT_COMM_LEN]);
int kt_socket_link(const char *link, size_t len, unsigned int *ret_inode);
/* A socket a process holds, by its lowest descriptor, as /proc/PID/fd lists them. */
struct kt_fd_sock {
	int fd;
	unsigned int inode;
};
int kt_proc_sockets(int fddir, struct kt_fd_sock **ret_socks, size_t *ret_n);

/* kt_tcpsock.c: one socket's keepalive (enable --pid and the preload library). */
int kt_tcp_socket(int fd, int *ret_family);
int kt_ka_is_on(int fd);
int kt_ka_read(int fd, struct kt_sock_ka *ret);
int kt_ka_set(int fd, const struct kt_values *want, int keepalive, const struct kt_sock_ka *restore,
    struct kt_ka_failure *ret_fail);

/* kt_exec.c, shown to its tests */

/* What a file is to execve(). */
enum kt_file_kind {
	KT_FILE_DYNAMIC,	/* ELF with an interpreter (PT_INTERP): the loader will preload */
	KT_FILE_STATIC,		/* ELF without: nothing will load a library into it */
	KT_FILE_SCRIPT,		/* #!: the kernel runs the interpreter named */
	KT_FILE_OTHER,		/* anything else: execvp() runs it with the shell */
};

/* An ELF file's identity: what must match between a program and a library loaded into it. */
struct kt_elf_id {
	unsigned char cls, data;
	unsigned short machine;
};

int kt_exec_inspect(const char *path, enum kt_file_kind *ret_kind, struct kt_elf_id *ret_id,
    char *interp, size_t ilen);
int kt_exec_find(const char *cmd, const char *path_env, char *buf, size_t len);
char **kt_exec_env(char *const env[], const char *lib, const struct kt_values *v,
    size_t *ret_first_new);
void kt_exec_env_free(char **env, size_t first_new);

/* kt_lock.c */
/*
 * Take an exclusive flock(2) on fd, waiting at most timeout_ms milliseconds for whoever holds
 * one. It lasts until fd is closed. Returns 0, -ETIMEDOUT, or another negative errno.
 */
int kt_lock_wait(int fd, unsigned int timeout_ms);

/* kt_proc.c, shown to its tests */
int kt_apply(const char *root, const struct kt_values *old, const struct kt_values *want,
    struct kt_failure *ret_fail);

/* kt_sockdiag.c, shown to its tests */

/* Connections being collected by kt_sock_parse(): n of them in socks, room for cap. */
struct kt_sock_buf {
	struct kt_sock *socks;
	size_t n, cap;
};

/*
 * Parse one datagram of a sock_diag dump (len bytes at buf, aligned as recv() leaves it) and
 * append its connections to into (whose socks the caller frees); messages of another sequence
 * number than seq are skipped. Sets *ret_done when the datagram ends the dump. Returns 0, or a
 * negative errno: the one the kernel reported, -EBADMSG for a malformed datagram, -ENOMEM;
 * then into holds what it held and *ret_done is untouched.
 */
int kt_sock_parse(const void *buf, size_t len, unsigned int seq, struct kt_sock_buf *into,
    int *ret_done);

/* A connection's keepalive, judged from its TCP state and the timer sock_diag says is pending. */
enum kt_ka kt_sock_keepalive(int state, int timer);

#endif
