/* kt_internal.h: what the library files share and the API does not show: small helpers, the
 * sysctl.d grammar, the file layer under persist, and the functions only the tests call. */
#ifndef KT_INTERNAL_H
#define KT_INTERNAL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "katune.h"

struct addrinfo;

/*
 * Milliseconds on the monotonic clock: what every bounded wait and every measured time counts
 * on, as wall-clock steps do not move it.
 */
static inline long long
kt_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

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

/* kt_proc.c: the steps of kt_set(), for kt_set_persist() too (and kt_apply() for the tests). */
int kt_lock_keys(const char *root, unsigned int timeout_ms);
int kt_read_keys(const char *root, int lockfd, unsigned int mask, struct kt_values *old,
    struct kt_failure *fail);
int kt_apply(const char *root, const struct kt_values *old, const struct kt_values *want,
    struct kt_failure *ret_fail);
void kt_restore(const char *root, const struct kt_values *old, unsigned int mask,
    struct kt_failure *fail);

/*
 * kt_persist.c in steps, for kt_set_persist(): kt_persist_prepare() does all that kt_persist()
 * does before it writes (open and lock the directory, read, edit, check, plan) and returns the
 * transaction, which holds the lock; kt_persist_commit() writes (nothing in a dry run) and asks
 * the boot model; kt_persist_end() hands the result over to *ret when it is not NULL, frees the
 * rest and releases the lock. kt_persist() is the three in a row.
 */
struct kt_persist_tx;
int kt_persist_prepare(const struct kt_persist_req *req, struct kt_persist_tx **ret_tx,
    struct kt_persist_fail *ret_fail);
int kt_persist_commit(struct kt_persist_tx *tx, struct kt_persist_fail *ret_fail);
void kt_persist_end(struct kt_persist_tx *tx, struct kt_persist_result *ret);

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

/* kt_sysctld.c: the sysctl.d line grammar, in the dialect of each loader. */

/* Reading a file's text line by line as a loader does (kt_sysctld_begin(), kt_sysctld_next()). */
struct kt_sysctld_iter {
	enum kt_loader dialect;
	const char *p, *end;
	unsigned int lineno;
};

/* One line as a loader reads it. */
struct kt_sysctld_line {
	const char *text;	/* its bytes, in the text read; no end of line, no NUL */
	size_t len;		/* what the loader sees: procps stops at a NUL */
	size_t raw;		/* its bytes in the text, end of line included */
	unsigned int lineno;	/* the line of the file it starts on, counting \n as editors do */
	int nl_seen;		/* procps: its string functions see the newline (no NUL before) */
};

/* A line read as a setting: "name = value", or "-name" without a value. */
struct kt_setting {
	char *name;		/* as the loader keeps it: systemd normalises it, procps a path */
	char *value;		/* trimmed; NULL for "-name" without '=' */
	int glob;		/* the name holds * ? or [ */
};

void kt_sysctld_begin(struct kt_sysctld_iter *it, enum kt_loader dialect, const char *text,
    size_t len);
int kt_sysctld_next(struct kt_sysctld_iter *it, struct kt_sysctld_line *ret);
int kt_sysctld_parse(enum kt_loader dialect, const struct kt_sysctld_line *line, char *buf,
    struct kt_setting *ret);
int kt_sysctld_reaches(enum kt_loader dialect, const struct kt_setting *s, enum kt_key k,
    char *spelled, size_t len);

/* kt_root.c: paths of an image tree, resolved as if it were the root. */
int kt_root_open(int rootfd, const char *path, int flags, int *ret_fd);
int kt_root_walk(int rootfd, const char *path, int flags, int *ret_fd);

/* kt_read.c: reading a whole file. */
#define KT_READ_NOFOLLOW	0x1	/* a symbolic link as the last component is -ELOOP */
#define KT_READ_IN_ROOT		0x2	/* dirfd is a root: resolve path inside it (kt_root_open) */
#define KT_READ_PROC		0x4	/* a file of /proc or /sys: open it for reading at once */
#define KT_READ_NULL_EMPTY	0x8	/* the null device reads as empty (a link to /dev/null) */
int kt_read_file(int dirfd, const char *path, unsigned int flags, size_t max, char **ret_text,
    size_t *ret_len, unsigned int *ret_mode);
int kt_read_dir(int dirfd, DIR **ret);

/* kt_edit.c: the new text of the file persist writes. */
extern const char kt_edit_header[];

/* What kt_edit_text() did to a file's text. */
struct kt_edit {
	unsigned int present;	/* keys the old text assigned a value */
	/* Of each key's last assignment, the one in force: its value as written (pointing into
	 * the old text), and in old[] what the kernel makes of it, for keys in old_int. */
	const char *old_text[KT_NKEYS];
	size_t old_len[KT_NKEYS];
	unsigned int old_int;
	int old[KT_NKEYS];
	unsigned int changed;	/* keys added, taken out, or given another value than in force */
	unsigned int line[KT_NKEYS];	/* the line of the new text that assigns a wanted key */
	int same;		/* the new text is the old one, byte for byte */
	int empty;		/* the new text holds nothing but blank lines */
	unsigned int bad_line;	/* -EBADMSG: the line that cannot be edited, and its key */
	enum kt_key bad_key;
};

int kt_edit_text(const char *text, size_t len, const struct kt_values *want, char **ret_text,
    size_t *ret_len, struct kt_edit *ret_edit);

/* kt_file.c: the file layer under persist. */
int kt_file_open_dir(const char *path, size_t root_len, int create, int *ret_fd,
    size_t *ret_stop);
int kt_file_load(int dirfd, const char *name, char **ret_text, size_t *ret_len,
    unsigned int *ret_mode);
int kt_file_clean(int dirfd, const char *name);
int kt_file_save(int dirfd, const char *name, const char *text, size_t len);
int kt_file_fix_mode(int dirfd, const char *name);
int kt_file_delete(int dirfd, const char *name);
int kt_file_sync(int dirfd);
void kt_hold_signals(sigset_t *ret_saved);

/* kt_boot_files.c: the files a loader reads at boot, for kt_boot.c. */
struct kt_bootfile {
	char *path;		/* as the loader names it, without the root */
	const char *name;	/* its last component: a name hides the same name later */
	int dir;		/* the index of its directory in the loaders' list */
	int hidden;		/* one of the same name in an earlier directory is read instead */
};

struct kt_bootfiles {
	struct kt_bootfile *files;	/* in load order */
	size_t n, cap;
	struct kt_boot_note *notes;	/* what could not be read */
	size_t nnotes, capnotes;
};

int kt_bootfiles_list(int rootfd, enum kt_loader loader, struct kt_bootfiles *f);
int kt_bootfiles_read(int rootfd, enum kt_loader loader, struct kt_bootfiles *f, size_t i,
    char **ret_text, size_t *ret_len);
int kt_bootfiles_one(struct kt_bootfiles *f, const char *path);
void kt_bootfiles_free(struct kt_bootfiles *f);

/* kt_keys.c: the key a sysctl name (dotted or slashed) stands for: 0, or -ENOENT. */
int kt_key_from_name(const char *name, enum kt_key *ret_key);

/*
 * kt_value.c: numbers as the kernel writes and reads them. kt_parse_kernel_int() parses what a
 * /proc/sys file holds (an optional minus, digits, one newline): 0 and *ret_val, -EINVAL, or
 * -ERANGE beyond an int. kt_kernel_parse() says what the kernel makes of a value a loader writes
 * to key (proc_dointvec_jiffies at hz for the time and interval, a u8 for probes): 0 and
 * *ret_val, or -EINVAL when the kernel refuses it.
 */
int kt_parse_kernel_int(const char *s, int *ret_val);
int kt_kernel_parse(enum kt_key key, const char *value, long hz, int *ret_val);

/*
 * kt_proc.c: one key at a time. kt_read_int() reads the integer a /proc/sys file holds: 0 and
 * *ret_val, or -ENOENT, -EACCES, -EIO, -EBADMSG (not an int). kt_write() writes a value to a
 * key, unjudged: 0, or -ENOENT no such key, -EACCES not root, -EROFS read-only /proc/sys,
 * -EINVAL the kernel refused it, -EIO. kt_set() is the transaction callers use.
 */
int kt_read_int(const char *path, int *ret_val);
int kt_write(const char *root, enum kt_key key, int val);

/* kt_target.c */
/*
 * Look up the addresses of t for TCP (a name through the system's resolver). Returns 0 and sets
 * *ret (a list for freeaddrinfo()), or -ENXIO when the host has no address, -EAGAIN when the
 * lookup failed for now, -ENOMEM, or -EIO or another errno for other failures.
 */
int kt_target_resolve(const struct kt_target *t, struct addrinfo **ret);
/*
 * Write an address as ka-tune shows it: "a.b.c.d:port" or "[v6]:port"; an IPv4-mapped IPv6
 * address (an IPv4 peer on a dual-stack socket) as the IPv4 one. "" when it cannot be written.
 */
void kt_addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* kt_bracket.c, shown to its tests */

/*
 * What the connections have shown so far: a flow was kept idle lo_ms (0: none yet) and one was
 * lost after hi_ms (-1: none yet), so the path's idle timeout T has lo_ms < T <= hi_ms.
 */
struct kt_bracket {
	long long lo_ms;
	long long hi_ms;
	enum kt_loss loss;	/* how the flow that set hi_ms was lost */
};

int kt_spread(long long min_ms, long long max_ms, unsigned int n, long long *ret_idle,
    unsigned int *ret_n);
int kt_refine(long long lo_ms, long long hi_ms, unsigned int n, long long *ret_idle,
    unsigned int *ret_n);
void kt_bracket_init(struct kt_bracket *b);
int kt_bracket_kept(struct kt_bracket *b, long long idle_ms);
int kt_bracket_lost(struct kt_bracket *b, long long idle_ms, enum kt_loss loss);
int kt_bracket_open(const struct kt_bracket *b, long long idle_ms);

/* kt_conn.c: one connection of a probe, the detector. */

enum kt_conn_state {
	KT_CONN_CLOSED,		/* the slot is free */
	KT_CONN_CONNECTING,	/* connect() in flight; due: its time limit */
	KT_CONN_IDLE,		/* up and silent; due: when its probe is to be sent */
	KT_CONN_PROBING,	/* its probe was triggered; due: the next look at TCP_INFO */
	KT_CONN_KEPT,		/* the probe was answered; the kernel goes on probing; never due */
};

struct kt_conn {
	int fd;
	enum kt_conn_state state;
	int round;		/* 1 or 2 */
	long long idle_ms;	/* the idle time it tests */
	int keepidle;		/* TCP_KEEPIDLE at connect: the kernel's own probe comes after it */
	long long up_ms;	/* when connect() began, then when the handshake's answer came */
	long long data_ms;	/* the far end's last data (a greeting), or up_ms */
	long long last_ms;	/* the far end's last segment came no later than this */
	long long trig_ms;	/* when its probe was triggered */
	long long seen_ms;	/* the first look that found the probe out, or 0 */
	long long due_ms;
	long long rtt_ms;	/* a round trip, rounded up, with two deviations of margin */
	int greeted;		/* the far end sent data right after the handshake */
};

/* What kt_conn_input() found on a connection, when it did not fail. */
enum kt_conn_news {
	KT_NEWS_NONE,		/* nothing */
	KT_NEWS_DATA,		/* the far end sent data (read and dropped) */
	KT_NEWS_FIN,		/* the far end closed it */
};

int kt_conn_open(struct kt_conn *c, const struct addrinfo *ai, int round, long long idle_ms);
void kt_conn_close(struct kt_conn *c);
int kt_conn_connected(struct kt_conn *c, short revents);
int kt_conn_input(struct kt_conn *c, short revents);
int kt_conn_greeting(struct kt_conn *c);
int kt_conn_trigger(struct kt_conn *c);
int kt_conn_check(struct kt_conn *c, long long *ret_idle_ms);
int kt_conn_lost(struct kt_conn *c, int err, long long *ret_idle_ms, enum kt_loss *ret_loss);

/* kt_cgroup.c: call fn(dirfd, sub, arg) for the cgroup at cgfd and each descendant, parents
 * first; sub is its path from cgfd's ("" for cgfd's own); a cgroup removed meanwhile is passed
 * over; fn's first negative return stops the walk and is returned. */
int kt_cgroup_walk(int cgfd, int (*fn)(int dirfd, const char *sub, void *arg), void *arg);

/* kt_bpf_sys.c: the bpf() calls ka-tune makes, one each; an fd or 0, or a negative errno. */
struct bpf_insn;
int kt_sys_map_create(unsigned int type, unsigned int value_size, unsigned int max_entries,
    unsigned int flags, const char *name);
int kt_sys_prog_load(const struct bpf_insn *insns, size_t n, const char *name, char *log,
    size_t log_len);
int kt_sys_link_create(int prog_fd, int cgroup_fd);
int kt_sys_link_detach(int link_fd);
int kt_sys_pin(int fd, const char *path);
int kt_sys_get(const char *path);
int kt_sys_info(int fd, void *info, unsigned int len);
int kt_sys_prog_by_id(unsigned int id);
int kt_sys_map_by_id(unsigned int id);
int kt_sys_map_lookup(int fd, unsigned int key, void *value);
int kt_sys_prog_query(int cgroup_fd, int effective, unsigned int *ids, unsigned int *n);

/* kt_bpf_verifier.c: a program through the verifier; its refusal in one line. */
int kt_bpf_load(const struct bpf_insn *insns, size_t n, const int *map_fds, size_t nmaps,
    const char *name, int *ret_fd, char *reason, size_t reason_len);
void kt_bpf_reason(const char *log, char *buf, size_t len);

/* kt_bpf_prog.c: ka-tune's program and its two maps, held together. */
struct kt_prog {
	int prog;	/* the program */
	int policy;	/* its policy map: the policy word, then the cgroup path it was made for */
	int count;	/* its per-CPU counters: connections enabled, and failed */
};

#define KT_PROG_INIT	{ -1, -1, -1 }

int kt_bpf_policy_pack(const struct kt_values *v, uint64_t *ret_word);
void kt_bpf_policy_unpack(uint64_t word, struct kt_values *ret);
int kt_bpf_possible_cpus(const char *list, unsigned int *ret);
int kt_prog_new(const char *rel, uint64_t word, struct kt_prog *ret, char *reason,
    size_t reason_len);
int kt_prog_open(int prog_fd, struct kt_prog *ret);
int kt_prog_policy(const struct kt_prog *p, uint64_t *ret_word, char *rel, size_t rel_len);
int kt_prog_set_policy(const struct kt_prog *p, uint64_t word);
int kt_prog_counts(const struct kt_prog *p, unsigned long long *ret_enabled,
    unsigned long long *ret_failed);
void kt_prog_close(struct kt_prog *p);

/* kt_bpf_pin.c: ka-tune's directory in the BPF file system, and the links pinned there. */
#define KT_PINS_CREATE	0x1	/* make the directory when it is missing */
#define KT_PINS_LOCK	0x2	/* take its lock, as enable and disable do */

/* A link of ka-tune's, opened from its pin. */
struct kt_link {
	int fd;
	struct kt_prog prog;		/* its program */
	unsigned int id;		/* the link's id */
	unsigned long long cgid;	/* the cgroup it attaches to; 0: none any more */
};

#define KT_LINK_INIT	{ -1, KT_PROG_INIT, 0, 0 }

int kt_pins_open(const char *dir, unsigned int flags, int *ret_fd);
int kt_pin_path(const char *dir, unsigned long long cgid, char *buf, size_t len);
int kt_link_open(const char *path, struct kt_link *ret);
void kt_link_close(struct kt_link *l);
int kt_pins_prune(int dirfd, const char *dir, const char *rel, int dry_run, unsigned int *ret_n);

/* kt_unit.c, shown to its tests: the drop-ins alone, written or removed all or none. */
int kt_unit_files(const char *unit_dir, const char *bin, const char *rel, const struct kt_values *v,
    int dry_run, struct kt_unit_result *ret, struct kt_unit_fail *ret_fail);

#endif
