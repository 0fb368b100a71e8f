/* katune.h: the ka-tune library's whole public API: the three TCP keepalive keys, how their
 * values are judged, and how they are read from and written to the kernel. */
#ifndef KATUNE_H
#define KATUNE_H

#include <stddef.h>

#define KT_PROC_ROOT	"/proc/sys"
#define KT_CONF_DIR	"/etc/sysctl.d"
#define KT_CONF_NAME	"90-ka-tune.conf"
#define KT_CONF_PATH	KT_CONF_DIR "/" KT_CONF_NAME
#define KT_NETNS_DIR	"/run/netns"
/* Largest sysctl.d file read: far beyond any real one, small enough to hold in memory. */
#define KT_CONF_MAX	(1024 * 1024)
/* Longest wait for the lock on the sysctl.d directory, in seconds. */
#define KT_LOCK_TIMEOUT	10

/* The keys, in the order tools show them. */
enum kt_key {
	KT_TIME,
	KT_INTVL,
	KT_PROBES,
	KT_NKEYS
};

/* What ka-tune knows about a key: one row of the table in kt_keys.c. */
struct kt_key_info {
	const char *name;	/* the sysctl name, dotted: net.ipv4.tcp_keepalive_time */
	const char *path;	/* the same below /proc/sys: net/ipv4/tcp_keepalive_time */
	const char *short_name;	/* time, intvl, probes: JSON member and option (--time) names */
	int min, max;		/* the accepted range */
	int kernel_default;	/* what the kernel starts a network namespace with */
	int duration;		/* 1: seconds, written as a duration; 0: a plain count */
};

/* Bit of a key in struct kt_values.mask. */
#define KT_BIT(k)	(1u << (k))
#define KT_ALL		(KT_BIT(KT_TIME) | KT_BIT(KT_INTVL) | KT_BIT(KT_PROBES))

/*
 * Accepted ranges: what a socket accepts for TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT
 * (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT in the kernel's include/net/tcp.h).
 */
#define KT_TIME_MAX	32767
#define KT_INTVL_MAX	32767
#define KT_PROBES_MAX	127

/* Longest text of one value, sign and NUL included ("-2147483648"). */
#define KT_VALUE_LEN	12
/* Room for any duration kt_format_duration() writes, NUL included. */
#define KT_DURATION_LEN	32

/*
 * A set of values. mask says which val[] are meaningful; values read from the kernel may be
 * outside the accepted ranges (the kernel takes 0 and negative numbers), so they are ints.
 */
struct kt_values {
	unsigned int mask;
	int val[KT_NKEYS];
};

/* What went wrong in kt_apply(), filled in whenever it fails after the first write began. */
struct kt_failure {
	enum kt_key key;	/* the key whose write failed */
	int err;		/* why, as a negative errno */
	unsigned int restored;	/* keys written before the failure and restored since */
	unsigned int unrestored; /* keys written before the failure that could not be restored */
	int restore_err;	/* why the first of those could not be restored, or 0 */
};

/* A network namespace found by kt_netns_list(). */
struct kt_netns {
	unsigned long long dev, ino;	/* its identity: nsfs device and inode */
	char name[256];			/* its first name in KT_NETNS_DIR, or "" */
	long pid;			/* the lowest pid of a process in it, or 0 */
};

/* The sysctl loaders whose boot behaviour kt_boot_read() models. */
enum kt_loader {
	KT_LOADER_SYSTEMD,	/* systemd-sysctl 252 */
	KT_LOADER_PROCPS,	/* procps-ng 4.0 sysctl --system */
};

/* What became of one line of a sysctl.d file that names a key (or a glob matching it). */
enum kt_assign_state {
	KT_ASSIGN_APPLIED,	/* its value is the one the key has after boot */
	KT_ASSIGN_OVERRIDDEN,	/* a later assignment replaces it */
	KT_ASSIGN_REJECTED,	/* the kernel refuses its value; the key keeps what it had */
	KT_ASSIGN_EXPLICIT,	/* a glob the loader does not apply here: a line names the key */
	KT_ASSIGN_EXCLUDED,	/* a "-key" line without a value: it keeps globs off the key */
	KT_ASSIGN_HIDDEN,	/* its file is hidden by one of the same name in an earlier dir */
};

/* One line about a key, as the boot model read it. */
struct kt_assign {
	const char *file;	/* as the loader names it, without --root's directory */
	unsigned int line;	/* counting \n, as an editor shows it */
	const char *key;	/* as the loader reads it: a name, slashed, or a glob */
	const char *value;	/* as the loader writes it; NULL for an exclusion */
	int glob;
	enum kt_assign_state state;
};

/* One key at boot: its value, the line that sets it (NULL: the kernel default), and every line
 * about it in load order. */
struct kt_boot_key {
	int val;
	const struct kt_assign *from;
	struct kt_assign *assigns;
	size_t nassigns;
};

/* A file or directory the boot model could not read. */
enum kt_boot_problem {
	KT_BOOT_SKIPPED,	/* the loader cannot read it either, skips it and says so */
	KT_BOOT_UNREAD,		/* ka-tune could not (or would not: a FIFO, a device) read what
				 * the loader may: the boot values may be wrong */
};

struct kt_boot_note {
	const char *file;	/* as the loader names it */
	int err;		/* why, as a negative errno */
	enum kt_boot_problem kind;
};

/* The boot model of a tree or of one file: kt_boot_read(), kt_boot_read_text(). */
struct kt_boot;

/* What persist is to do: kt_persist(). */
struct kt_persist_req {
	const char *dir;	/* the file's directory, as the user gave it ("." for a bare name) */
	size_t root_len;	/* how much of dir the user named: it must exist, links followed */
	const char *name;	/* the file: one component, in dir */
	const char *path;	/* dir and name, as shown */
	struct kt_values want;	/* what the file is to hold; mask 0: take our keys out */
	unsigned int flags;	/* KT_PERSIST_* */
	unsigned int lock_timeout_ms;
	/* For the warning that a later file overrides the values written: the tree the boot
	 * loader reads (NULL: this machine), which loader, and the file as it names it (NULL: not
	 * a file it reads). */
	const char *boot_root;
	enum kt_loader loader;
	const char *boot_path;
};

#define KT_PERSIST_DRY_RUN	0x1	/* write nothing, take no lock, make no directory */
#define KT_PERSIST_CREATE	0x2	/* make missing directories below dir's first root_len */

/* What persist did, or would do, to the line of one key. */
enum kt_plan {
	KT_PLAN_NONE,		/* the file says nothing of it, before and after */
	KT_PLAN_ADDED,		/* the file did not assign it */
	KT_PLAN_UNCHANGED,	/* the value in force was the one wanted */
	KT_PLAN_CHANGED,	/* the value in force was another: old, or old_text */
	KT_PLAN_REMOVED,	/* taken out */
};

struct kt_persist_key {
	enum kt_plan plan;
	int val;		/* the value written, unless REMOVED or NONE */
	int old_int;		/* CHANGED: whether the kernel takes the old value as the number old */
	int old;
	char *old_text;		/* CHANGED and not old_int: the old value as written; NUL-terminated */
	size_t old_len;		/* its length: it may hold any byte */
	unsigned int line;	/* the line of the new text that assigns the key, or 0 */
};

/* What persist did: the outcome for the file, and a warning or more. */
enum kt_persist_outcome {
	KT_PERSIST_UNCHANGED,	/* the file was left as it was */
	KT_PERSIST_CHANGED,	/* written, or given mode 0644 */
	KT_PERSIST_REMOVED,	/* deleted: nothing was left in it */
};

#define KT_PERSIST_WARN_SYNC	0x1	/* made, but the directory could not be flushed (sync_err):
					 * the change may not survive a crash */
#define KT_PERSIST_WARN_NOT_CONF 0x2	/* the name does not end in .conf: no loader reads it */
#define KT_PERSIST_WARN_BOOT	0x4	/* the boot model could not be read (boot_err) */

struct kt_persist_result {
	enum kt_persist_outcome outcome;	/* with KT_PERSIST_DRY_RUN: what it would be */
	struct kt_persist_key keys[KT_NKEYS];
	char *text;		/* the new text, unless the file is deleted */
	size_t len;
	unsigned int warnings;	/* KT_PERSIST_WARN_* */
	int sync_err, boot_err;
	/* After a write: the boot as req.loader makes it, and the keys whose value written is not
	 * the one it applies (the line of the file that assigns key k is assign[k], NULL when the
	 * loader does not read the file). */
	struct kt_boot *boot;
	unsigned int overridden;
	const struct kt_assign *assign[KT_NKEYS];
};

/* The step a persist failed at: kt_persist(). */
enum kt_persist_step {
	KT_STEP_OPEN_DIR,	/* opening (or making) the directory; stop says which part */
	KT_STEP_LOCK,		/* its lock: -ETIMEDOUT after lock_timeout_ms */
	KT_STEP_READ,		/* reading the file */
	KT_STEP_EDIT,		/* line holds a part a loader reads as key, and more: not edited */
	KT_STEP_CHECK,		/* loader would apply line of the new text to key, not ka-tune's */
	KT_STEP_CLEAN,		/* removing temp files killed runs left */
	KT_STEP_WRITE,		/* replacing the file */
	KT_STEP_DELETE,		/* deleting it */
	KT_STEP_MODE,		/* giving it mode 0644 */
};

struct kt_persist_fail {
	enum kt_persist_step step;
	int err;		/* why, as a negative errno */
	size_t stop;		/* OPEN_DIR: the length of the part of dir that failed */
	unsigned int line;	/* EDIT, CHECK: the line of the file (EDIT) or new text (CHECK) */
	enum kt_key key;	/* EDIT, CHECK */
	enum kt_loader loader;	/* CHECK */
};

/* A middlebox that forgets idle TCP flows, with its idle timeout in seconds (0: read live). */
struct kt_profile {
	const char *name;
	const char *what;
	long long idle_timeout;
};

/* Whether a TCP connection uses keepalive, as far as the kernel's sock_diag interface tells. */
enum kt_ka {
	KT_KA_ON,	/* its keepalive timer is armed: the application turned SO_KEEPALIVE on */
	KT_KA_OFF,	/* no timer is armed: SO_KEEPALIVE is off, the sysctls do nothing for it */
	KT_KA_UNKNOWN,	/* a retransmit or zero-window probe timer is pending and hides it */
	KT_KA_NA,	/* a state keepalive plays no part in (SYN_SENT, FIN_WAIT2, TIME_WAIT...) */
	KT_NKA
};

/* Room for a process name as /proc/PID/comm gives it, NUL included (TASK_COMM_LEN). */
#define KT_COMM_LEN	16

/*
 * One TCP connection, from kt_sock_dump(). Addresses are in network byte order, an IPv4 one in
 * the first four bytes; ports are in host order; state is the kernel's (TCP_ESTABLISHED...).
 */
struct kt_sock {
	unsigned char local[16], remote[16];
	unsigned short lport, rport;
	unsigned char family;		/* AF_INET or AF_INET6 */
	unsigned char state;
	enum kt_ka ka;
	unsigned int next_ms;		/* keepalive on: ms until its timer fires next, else 0 */
	unsigned int probes;		/* keepalive on: probes sent and not answered, else 0 */
	unsigned int uid;		/* the user the socket belongs to */
	unsigned int inode;		/* 0 when no file refers to it (TIME_WAIT, SYN_RECV) */
	int pid;			/* kt_sock_owners(): the process holding it, or 0 */
	char comm[KT_COMM_LEN];		/* that process's name, or "" */
};

/* Connections being collected by kt_sock_parse(): n of them in socks, room for cap. */
struct kt_sock_buf {
	struct kt_sock *socks;
	size_t n, cap;
};

/* The connections of one process, or (pid 0) those of one user whose process was not seen. */
struct kt_sock_group {
	int pid;
	unsigned int uid;
	char comm[KT_COMM_LEN];
	size_t on, off, unknown;	/* how many of them have keepalive on, off, unknown */
};

/* kt_keys.c */
const struct kt_key_info *kt_key(enum kt_key key);
int kt_key_from_name(const char *name, enum kt_key *ret_key);
int kt_key_path(const char *root, enum kt_key key, char *buf, size_t len);

/* kt_value.c */
int kt_parse_duration(const char *s, int *ret_secs);
int kt_parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *ret);
int kt_parse_count(const char *s, int *ret_count);
int kt_parse_value(enum kt_key key, const char *s, int *ret_val);
int kt_parse_kernel_int(const char *s, int *ret_val);
int kt_value_valid(enum kt_key key, int val);
int kt_values_valid(const struct kt_values *v);
int kt_detection_time(const struct kt_values *v, long long *ret_secs);
int kt_format_duration(long long secs, char *buf, size_t len);
int kt_kernel_parse(enum kt_key key, const char *value, long hz, int *ret_val);

/* kt_proc.c */
int kt_read_int(const char *path, int *ret_val);
int kt_read(const char *root, enum kt_key key, int *ret_val);
int kt_write(const char *root, enum kt_key key, int val);
int kt_apply(const char *root, const struct kt_values *old, const struct kt_values *want,
    struct kt_failure *ret_fail);
const char *kt_strerror(int err);

/*
 * kt_persist.c: write the keys to a sysctl.d file, as one transaction.
 *
 * kt_persist() opens req->dir (making what is missing below its first root_len bytes with
 * KT_PERSIST_CREATE), locks it (at most lock_timeout_ms), clears the temp files killed runs
 * left, reads the file, edits it (each wanted key assigned once, other lines kept), checks that
 * both loaders apply every wanted value from the new text's own line, then replaces, deletes or
 * mends the file and flushes the directory; after a write, it asks the boot model what
 * req->loader applies at boot. Nothing is written with KT_PERSIST_DRY_RUN.
 * Returns 0 and fills *ret, to free with kt_persist_free(); or a negative errno and fills
 * *ret_fail: nothing was changed (-ENOENT, -EACCES, -EROFS, -ELOOP for a symbolic link, -EISDIR,
 * -EINVAL for a file that is not regular, -EFBIG, -ETIMEDOUT, -EBADMSG for a line that cannot
 * be edited (EDIT) or that a loader would apply instead (CHECK), -ENOMEM, ...).
 */
int kt_persist(const struct kt_persist_req *req, struct kt_persist_result *ret,
    struct kt_persist_fail *ret_fail);
void kt_persist_free(struct kt_persist_result *r);

/* kt_netns.c */
int kt_netns_open(const char *spec, int *ret_fd);
int kt_netns_open_pid(long pid, int *ret_fd);
int kt_netns_enter(int fd);
int kt_netns_list(struct kt_netns **ret_list, size_t *ret_n, unsigned int *ret_unseen);
int kt_netns_reopen(const struct kt_netns *ns, int *ret_fd);
int kt_netns_is_current(const struct kt_netns *ns);
const char *kt_netns_strerror(int err);

/*
 * kt_boot.c: the boot model. kt_boot_read() works out what a loader sets the keys to at boot
 * from the sysctl.d tree under root (NULL: this machine), at the kernel tick rate hz; paths and
 * links resolve inside root. kt_boot_read_text() does it for one file's text applied alone, as
 * `systemd-sysctl FILE` or `sysctl -p FILE` do. Both return 0 and set *ret, to free with
 * kt_boot_free() (NULL is fine); or -ENOMEM, or why root could not be opened. Files that could
 * not be read are no error: kt_boot_notes() sets *ret_notes to them (in b) and returns how many.
 * kt_boot_key() is the one query: the value key k gets, the line it comes from (NULL: the
 * kernel default) and every line about it; it points into b.
 */
int kt_boot_read(const char *root, enum kt_loader loader, long hz, struct kt_boot **ret);
int kt_boot_read_text(enum kt_loader loader, const char *file, const char *text, size_t len,
    long hz, struct kt_boot **ret);
const struct kt_boot_key *kt_boot_key(const struct kt_boot *b, enum kt_key k);
size_t kt_boot_notes(const struct kt_boot *b, const struct kt_boot_note **ret_notes);
void kt_boot_free(struct kt_boot *b);

/*
 * kt_machine.c: what a machine runs at boot. kt_boot_default_loader() says which loader applies
 * sysctl.d files on the machine whose root is root (NULL: "/"): a live one runs systemd-sysctl
 * where systemd runs it, an image tree where it holds systemd-sysctl; else procps.
 * kt_loader_name() gives "systemd" or "procps" (static); kt_loader_from_name() parses them:
 * 0, or -EINVAL leaving *ret. kt_kernel_hz() gives CONFIG_HZ of the running kernel from
 * root/boot/config-<release>, or 1000 when that is not there.
 */
enum kt_loader kt_boot_default_loader(const char *root, int live);
const char *kt_loader_name(enum kt_loader loader);
int kt_loader_from_name(const char *name, enum kt_loader *ret);
long kt_kernel_hz(const char *root);

/* kt_advice.c */
const struct kt_profile *kt_profile_at(size_t i);
int kt_profile_find(const char *name, const struct kt_profile **ret);
int kt_profile_timeout(const struct kt_profile *p, const char *root, long long *ret_secs);
long long kt_idle_margin(long long idle);
int kt_behind_check(const struct kt_values *v, long long idle);
int kt_suggest(long long idle, long long detect, struct kt_values *ret);

/* kt_sock.c */
int kt_sock_dump(struct kt_sock **ret_socks, size_t *ret_n);
int kt_sock_parse(const void *buf, size_t len, unsigned int seq, struct kt_sock_buf *into,
    int *ret_done);
enum kt_ka kt_sock_keepalive(int state, int timer);
int kt_sock_owners(struct kt_sock *socks, size_t n, unsigned int *ret_not_seen);
int kt_sock_group(const struct kt_sock *socks, size_t n, struct kt_sock_group **ret_groups,
    size_t *ret_n);
const char *kt_sock_state_name(int state);
const char *kt_ka_name(enum kt_ka ka);
const char *kt_sock_strerror(int err);

#endif
