/* katune.h: the ka-tune library's whole public API: the three TCP keepalive keys, how their
 * values are judged, how they are read from and written to the kernel and to sysctl.d files,
 * what applies at boot, network namespaces, idle-timeout advice, the TCP connections of a
 * namespace, how long a network path keeps an idle TCP flow (probe), and keepalive for every
 * connection of a cgroup, by a BPF program.
 *
 * The contract of every function here: it never prints and never exits; it returns 0 (or a
 * count, where it says so) or a negative errno; its out-parameters (ret_*) are written only on
 * success; memory it hands out is the caller's to free as it says; a NULL where none is allowed
 * is a programmer's error, caught by assert(). Functions only the library and its tests use are
 * in src/kt_internal.h. */
#ifndef KATUNE_H
#define KATUNE_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>

#define KT_PROC_ROOT	"/proc/sys"
#define KT_CONF_DIR	"/etc/sysctl.d"
#define KT_CONF_NAME	"90-ka-tune.conf"
#define KT_CONF_PATH	KT_CONF_DIR "/" KT_CONF_NAME
#define KT_NETNS_DIR	"/run/netns"
#define KT_PROC_DIR	"/proc"
/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit). */
#define KT_PID_MAX	4194304
/* Largest sysctl.d file read: far beyond any real one, small enough to hold in memory. */
#define KT_CONF_MAX	(1024 * 1024)
/* Longest wait for the lock on the sysctl.d directory, or on KT_BPF_DIR, in seconds. */
#define KT_LOCK_TIMEOUT	10
/* The mount table, where the cgroup2 mount is found. */
#define KT_MOUNTINFO	"/proc/self/mountinfo"
/* The BPF file system, and ka-tune's directory in it, where its links to cgroups are pinned. */
#define KT_BPF_FS	"/sys/fs/bpf"
#define KT_BPF_DIR	KT_BPF_FS "/ka-tune"
/* Where enable --persist writes its systemd drop-ins, and their name. */
#define KT_UNIT_DIR	"/etc/systemd/system"
#define KT_DROPIN_NAME	"50-ka-tune.conf"
/* The template unit that enables a slice each time it starts: ka-tune-slice@<slice>.service. */
#define KT_SLICE_TEMPLATE	"ka-tune-slice@"
/* Room for a unit name, NUL included (systemd's UNIT_NAME_MAX). */
#define KT_UNIT_NAME_LEN	256

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
	const char *env;	/* the environment variable ka-tune exec passes it in */
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

/* The step of kt_set() that failed. */
enum kt_stage {
	KT_STAGE_LOCK,		/* taking the lock: nothing was read or written */
	KT_STAGE_READ,		/* reading the old values: nothing was written */
	KT_STAGE_WRITE,		/* writing: what was written before has been put back, or not */
};

/* What went wrong in kt_set(), filled in whenever it fails after judging the values. */
struct kt_failure {
	enum kt_stage stage;
	enum kt_key key;	/* the key whose lock, read or write failed */
	int err;		/* why, as a negative errno */
	unsigned int restored;	/* keys written before the failure and restored since */
	unsigned int unrestored; /* keys written before the failure that could not be restored */
	int restore_err;	/* why the first of those could not be restored, or 0 */
};

/* Room for a name in KT_NETNS_DIR, NUL included (NAME_MAX + 1). */
#define KT_NETNS_NAME_LEN	256

/* A network namespace found by kt_netns_list(). */
struct kt_netns {
	unsigned long long dev, ino;	/* its identity: nsfs device and inode */
	char name[KT_NETNS_NAME_LEN];	/* its first name in the netns directory, or "" */
	long pid;			/* the lowest pid of a process in it, or 0 */
};

/*
 * The processes kt_netns_list() was not allowed to look at (/proc/PID/ns/net gave EACCES or
 * EPERM): another user's, to a caller without CAP_SYS_PTRACE; and, even to root, one with
 * capabilities the caller lacks, or hardened in another way the kernel's ptrace access check
 * knows. Their namespaces may be missing from the list.
 */
struct kt_netns_unseen {
	unsigned int n;		/* how many */
	long pid;		/* the lowest pid among them, or 0 */
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
	const char *dir;	/* the file's directory as the user gave it ("." for a bare name) */
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
	/* The value in force before, when the file assigned one (CHANGED, UNCHANGED, REMOVED). */
	int old_int;		/* whether the kernel takes it as the number old */
	int old;
	char *old_text;		/* not old_int: the old value as written; NUL-terminated */
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
#define KT_PERSIST_WARN_NOT_READ 0x8	/* the loader reads no such file at boot (another
					 * directory, a hidden name under systemd) */
#define KT_PERSIST_WARN_UNREAD	0x10	/* files the loader may read could not be (kt_boot_notes()
					 * of boot): one of them may override the values */

struct kt_persist_result {
	enum kt_persist_outcome outcome;	/* with KT_PERSIST_DRY_RUN: what it would be */
	struct kt_persist_key keys[KT_NKEYS];
	char *text;		/* the new text, unless the file is deleted */
	size_t len;
	char *before;		/* the text before, NULL when there was no file; NUL-terminated */
	size_t before_len;
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

/* The connections of one process, or (pid 0) those of one user whose process was not seen. */
struct kt_sock_group {
	int pid;
	unsigned int uid;
	char comm[KT_COMM_LEN];
	size_t on, off, unknown;	/* how many of them have keepalive on, off, unknown */
};

/* A cgroup v2 directory, from kt_cgroup_open(). */
struct kt_cgroup {
	int fd;				/* the directory, open for reading */
	unsigned long long id;		/* the kernel's id of the cgroup, never reused */
	char rel[PATH_MAX];		/* its path below the cgroup2 mount, "" for its root */
};

/* What kt_bpf_enable() or kt_bpf_disable() did, or would do with KT_BPF_DRY_RUN. */
enum kt_bpf_change {
	KT_BPF_UNCHANGED,	/* the same policy was in force; disable: none of ka-tune's */
	KT_BPF_ATTACHED,	/* a program was loaded, attached and its link pinned */
	KT_BPF_UPDATED,		/* the program in force was given the new policy, in place */
	KT_BPF_DETACHED,	/* ka-tune's program was detached and its pin removed */
};

#define KT_BPF_DRY_RUN	0x1	/* change nothing; a new program still meets the verifier */

struct kt_bpf_result {
	enum kt_bpf_change change;
	struct kt_values before;	/* UPDATED, UNCHANGED, DETACHED: the policy in force */
	unsigned int pruned;		/* pins of removed cgroups at the same path that went */
};

/* Room for the reason the verifier gives for refusing a program, in one line. */
#define KT_BPF_REASON_LEN	256

/* More about a failure of kt_bpf_enable(). */
struct kt_bpf_fail {
	char reason[KT_BPF_REASON_LEN];	/* -ENOEXEC: why the verifier refused the program */
	int above;			/* -EALREADY: ka-tune's program is on an ancestor (1), or on
					 * a descendant (0) */
	int outside;			/* -EALREADY, above: on one above the cgroup2 mount */
	char other[PATH_MAX];		/* -EALREADY: that cgroup, below the mount ("" its root) */
};

/* One of ka-tune's links, from kt_bpf_list(). */
struct kt_bpf_entry {
	char rel[PATH_MAX];		/* the cgroup it was made for, below the cgroup2 mount */
	unsigned long long cgid;	/* that cgroup's id */
	int gone;			/* it attaches nothing any more: the cgroup was removed */
	struct kt_values policy;	/* the values it sets (mask: those given) */
	unsigned long long enabled;	/* connections given keepalive so far */
	unsigned long long failed;	/* connections where the kernel refused an option */
	unsigned int prog_id, link_id;	/* the kernel's ids of its program and link (bpftool) */
};

/* The kinds of systemd unit whose cgroup enable --persist makes lasting. */
enum kt_unit_kind {
	KT_UNIT_SERVICE,	/* a drop-in runs ka-tune before each start (ExecStartPre=) */
	KT_UNIT_SLICE,		/* a drop-in wants ka-tune-slice@<slice>.service, whose own says
				 * what it runs (ExecStart=) */
};

/* What kt_unit_enable() and kt_unit_disable() are to do. */
struct kt_unit_req {
	const char *bpf_dir;		/* KT_BPF_DIR */
	const char *unit_dir;		/* KT_UNIT_DIR, or a tree laid out like it */
	const char *bin;		/* enable: the ka-tune the drop-ins run, an absolute path */
	const struct kt_cgroup *cg;	/* the cgroup; disable: NULL when it is gone */
	const char *rel;		/* disable: its path below the cgroup2 mount */
	struct kt_values want;		/* enable: the values */
	unsigned int flags;		/* KT_BPF_DRY_RUN */
};

/* What became of the drop-ins of a unit. */
struct kt_unit_result {
	char unit[KT_UNIT_NAME_LEN];	/* the unit, as its cgroup names it */
	enum kt_unit_kind kind;
	size_t n;			/* how many drop-ins it has: 0 (disable: no unit), 1, 2 */
	struct {
		char path[PATH_MAX];
		enum kt_persist_outcome outcome;	/* written (CHANGED), REMOVED, UNCHANGED */
		int existed;				/* it was there before */
	} files[2];
};

/* Where kt_unit_enable() or kt_unit_disable() failed. */
enum kt_unit_stage {
	KT_UNIT_STAGE_BPF,	/* the kernel: fail.bpf says more (enable) */
	KT_UNIT_STAGE_FILE,	/* a drop-in: fail.path */
};

struct kt_unit_fail {
	enum kt_unit_stage stage;
	struct kt_bpf_fail bpf;
	char path[PATH_MAX];
	int unrestored;		/* what was changed before the failure could not all be put back */
};

/* A TCP socket's keepalive as getsockopt() gives it. */
struct kt_sock_ka {
	int on;			/* SO_KEEPALIVE */
	int val[KT_NKEYS];	/* the values it uses: its own (TCP_KEEPIDLE...), or the sysctls */
};

/* What failed when keepalive was turned on in a socket. */
#define KT_KA_OPT_KEEPALIVE	KT_NKEYS	/* in .opt: SO_KEEPALIVE itself failed */
struct kt_ka_failure {
	int opt;			/* the key whose write failed, or KT_KA_OPT_KEEPALIVE */
	int err;			/* why, as a negative errno */
	unsigned int unrestored;	/* keys written before it that could not be put back */
};

/* What became of one socket kt_enable_pid() targeted. */
enum kt_enable_result {
	KT_ENABLE_DONE,		/* keepalive turned on, or the values given set (or would be) */
	KT_ENABLE_ALREADY,	/* keepalive was on, with the values given if any: left as it was */
	KT_ENABLE_FAILED,	/* a write failed; the values written before it were put back */
	KT_NENABLE
};

/*
 * One socket kt_enable_pid() targeted: a connection (ESTABLISHED, CLOSE_WAIT) or a listener
 * (LISTEN, remote all zero). Addresses and ports as in struct kt_sock.
 */
struct kt_enable_sock {
	int fd;				/* its lowest descriptor number in the process */
	unsigned int inode;
	unsigned char family, state;
	unsigned short lport, rport;
	unsigned char local[16], remote[16];
	struct kt_sock_ka before, after;	/* after: as left (dry run: as it would be) */
	enum kt_enable_result result;
	struct kt_ka_failure fail;		/* KT_ENABLE_FAILED: what failed */
};

/* What kt_enable_pid() is to do. */
struct kt_enable_opts {
	unsigned int port;		/* only sockets with this local or remote port; 0: all */
	struct kt_values want;		/* values to give each socket; mask 0: the sysctls apply */
	int dry_run;			/* change nothing: say what would change */
};

/* What kt_enable_pid() did. */
struct kt_enable_report {
	int pid;
	char comm[KT_COMM_LEN];		/* its name as /proc/PID/comm gives it, or "" */
	struct kt_enable_sock *socks;	/* the targeted sockets, by descriptor; NULL when n is 0 */
	size_t n;
	size_t count[KT_NENABLE];	/* how many sockets had each result */
	int exited;			/* it exited before all its sockets were reached */
	int stopped;			/* 0, or why the work stopped after changing sockets: those
					 * not reached are neither listed nor changed */
};

/* Why the kernel's ptrace access check refuses a process to the caller (kt_ptrace_denial()). */
enum kt_denial {
	KT_DENY_OTHER_USER,	/* another user's (or group's): needs root or CAP_SYS_PTRACE */
	KT_DENY_NOT_DUMPABLE,	/* the caller's own, not dumpable (set-user-ID, PR_SET_DUMPABLE) */
	KT_DENY_CAPS,		/* the caller's own, but it holds capabilities the caller lacks */
	KT_DENY_YAMA,		/* Yama's kernel.yama.ptrace_scope */
	KT_DENY_OTHER,		/* none of those: a security module (AppArmor, SELinux...) */
};

/* The cgroup v1 controllers whose tag the kernel copies into a socket (kt_netcls_compare()). */
enum kt_tagger {
	KT_NET_CLS,		/* net_cls: net_cls.classid, matched by tc and iptables -m cgroup */
	KT_NET_PRIO,		/* net_prio: the priority net_prio.ifpriomap gives its packets */
	KT_NTAGGERS
};

/* Room for a cgroup path as /proc/PID/cgroup gives it, NUL included. */
#define KT_CGROUP_LEN	512

/* How the cgroup v1 tags of a process's sockets compare with those the caller would give them. */
struct kt_netcls_diff {
	unsigned int differ;	/* bits (1 << KT_NET_CLS...): the tags differ, or may */
	unsigned int unknown;	/* of those, the ones that could not be compared */
	char theirs[KT_NTAGGERS][KT_CGROUP_LEN];	/* the process's cgroup, "" if none */
	char ours[KT_NTAGGERS][KT_CGROUP_LEN];		/* the caller's */
	char dir[KT_NTAGGERS][PATH_MAX];	/* the process's cgroup directory, or "" */
};

/* The library ka-tune exec preloads: its file name, in the build tree and installed. */
#define KT_PRELOAD_NAME	"ka-tune-preload.so"

/* Why kt_exec() did not run the command. */
enum kt_exec_fail {
	KT_EXEC_NOLIB,		/* the preload library is in neither place looked */
	KT_EXEC_BADLIB,		/* found, but no ELF file, or at a path LD_PRELOAD cannot carry */
	KT_EXEC_STATIC,		/* the command (or its interpreter) is statically linked */
	KT_EXEC_FOREIGN,	/* built for another ELF class or machine than the library */
	KT_EXEC_SECURE,		/* set-user-ID, set-group-ID or file capabilities: the loader would
				 * ignore LD_PRELOAD (secure execution) */
	KT_EXEC_CANNOT,		/* found, but it cannot be run (or read to be checked) */
	KT_EXEC_NOTFOUND,	/* not found (the command, or its #! interpreter) */
};

/* What kt_exec() or kt_exec_library() failed at. */
struct kt_exec_failure {
	enum kt_exec_fail why;
	int err;		/* the errno behind it, negative */
	char path[PATH_MAX];	/* the file concerned: the command as found, its interpreter, the
				 * library; KT_EXEC_NOLIB: the installed library's path */
	char path2[PATH_MAX];	/* KT_EXEC_NOLIB: the build tree's, or "" */
};

/*
 * ka-tune probe: how long the path to a TCP server keeps an idle flow: what is measured and
 * what the answers say (kt_target.c, kt_bracket.c), with the kernel's own keepalive as the
 * detector (kt_conn.c, kt_probe.c), and the quiet far end to measure against (kt_listen.c).
 *
 * The accepted --min and --max, in seconds, and --connections. The longest idle time leaves
 * room for the kernel's own probe a second later: KT_TIME_MAX - 1, as TCP_KEEPIDLE takes at
 * most KT_TIME_MAX.
 */
#define KT_PROBE_IDLE_MIN	2
#define KT_PROBE_IDLE_MAX	32766
#define KT_PROBE_MIN_DEFAULT	30
#define KT_PROBE_MAX_DEFAULT	7200
#define KT_PROBE_CONNS_MIN	2
#define KT_PROBE_CONNS_MAX	64
#define KT_PROBE_CONNS_DEFAULT	16
/* The closest two connections of the second round are placed, in milliseconds. */
#define KT_PROBE_STEP_MS	50
/* Room for the HOST of HOST:PORT, NUL included (a DNS name has at most 253 bytes). */
#define KT_PROBE_HOST_LEN	256
/* Room for an address as ka-tune shows it, "[IPv6%zone]:port", NUL included. */
#define KT_PROBE_ADDR_LEN	80

/* What to measure: idle times from min_secs to max_secs, conns connections a round. */
struct kt_probe_params {
	int min_secs;		/* KT_PROBE_IDLE_MIN.., below max_secs */
	int max_secs;		/* ..KT_PROBE_IDLE_MAX */
	unsigned int conns;	/* KT_PROBE_CONNS_MIN..KT_PROBE_CONNS_MAX */
};

/* HOST:PORT as the user wrote it: host without the brackets of an IPv6 address. */
struct kt_target {
	char host[KT_PROBE_HOST_LEN];
	unsigned int port;
};

/* How the path lost a flow. */
enum kt_loss {
	KT_LOSS_NONE,
	KT_LOSS_DROP,		/* the probes went unanswered (ETIMEDOUT, or an ICMP error) */
	KT_LOSS_RESET,		/* a probe was answered with a reset (ECONNRESET) */
};

/*
 * The detector's figures. A lost probe is retried every KT_PROBE_INTVL seconds and the
 * connection dies after KT_PROBE_COUNT of them, so a forgotten flow is noticed within
 * KT_PROBE_INTVL x KT_PROBE_COUNT seconds; a round trip longer than that reads as a loss.
 */
#define KT_PROBE_INTVL		1
#define KT_PROBE_COUNT		3
/* Longest wait for a connection to be accepted, in seconds. */
#define KT_PROBE_CONNECT_SECS	10
/*
 * The uncertainty of one time stamp, in milliseconds: the kernel keeps TCP's and conntrack's
 * times in jiffies (4 ms at HZ=250, 10 ms at HZ=100). Every bound is widened by it.
 */
#define KT_PROBE_SLOP_MS	10
/* Data the server sends this soon after accepting is a greeting (SSH, SMTP), not activity. */
#define KT_PROBE_GREETING_MS	3000
/* The longest the kernel delays the ACK of data (TCP_DELACK_MAX): after a greeting, the path
 * last saw the flow up to this much later than the data came. */
#define KT_PROBE_DELACK_MS	200

/* How the far end ended a connection by itself, unprobed. */
enum kt_end {
	KT_END_NONE,
	KT_END_FIN,		/* it closed the connection */
	KT_END_DATA,		/* it sent data on an idle connection */
	KT_END_RESET,		/* it reset the connection while no probe was out */
};

/* What a measurement found, or has found so far. */
enum kt_verdict {
	KT_VERDICT_RUNNING,	/* not finished (interrupted): the bracket so far */
	KT_VERDICT_BRACKET,	/* the path forgets idle flows after T, lo_ms < T <= hi_ms */
	KT_VERDICT_NO_LOSS,	/* no flow was lost: the path keeps idle flows lo_ms at least */
	KT_VERDICT_BELOW_MIN,	/* the shortest idle time tested was already too long: hi_ms */
	KT_VERDICT_SERVER,	/* the far end ended idle connections itself after server_ms */
	KT_VERDICT_INCONSISTENT, /* a flow was lost after less idle than another was kept for */
};

struct kt_probe_result {
	enum kt_verdict verdict;
	/* The bracket: a flow was kept idle lo_ms (0: none yet) and one lost after hi_ms idle
	 * (-1: none yet), so the path's idle timeout T has lo_ms < T <= hi_ms. */
	long long lo_ms, hi_ms;
	enum kt_loss loss;		/* how the flow that set hi_ms was lost */
	/* INCONSISTENT: a flow kept through conflict_kept_ms, another lost after
	 * conflict_lost_ms <= conflict_kept_ms (lo_ms, hi_ms: the bracket before); else -1. */
	long long conflict_kept_ms, conflict_lost_ms;
	long long server_ms;		/* the least idle the far end ended one after, or -1 */
	enum kt_end server_end;		/* and how */
	long long elapsed_ms;		/* since the first connection was opened */
	unsigned int opened;		/* connections opened, both rounds */
	unsigned int kept, lost, ended;	/* probes answered, flows lost, ended by the far end */
	unsigned int failed;		/* connections that could not be opened or used */
	char addr[KT_PROBE_ADDR_LEN];	/* the address measured, or "" before a connection */
};

/* Where a measurement is, for a progress display. */
struct kt_probe_status {
	int round;			/* 0 while the first connection is opened, then 1 or 2 */
	long long elapsed_ms;
	long long lo_ms, hi_ms;		/* the bracket so far, as in struct kt_probe_result */
	unsigned int open;		/* connections open */
};

/* Told of every change and about once a second; a non-zero return stops kt_probe_run(). */
typedef int (*kt_probe_cb)(const struct kt_probe_status *st, void *userdata);

struct kt_probe;

/* What the far end (kt_listen_run()) reports. */
enum kt_listen_event {
	KT_LISTEN_LISTENING,	/* bound: addr and port are the local ones */
	KT_LISTEN_ACCEPTED,	/* a connection came: addr is the peer */
	KT_LISTEN_ENDED,	/* it ended: how (or err), and when */
};

struct kt_listen_status {
	enum kt_listen_event event;
	const char *addr;
	unsigned int port;		/* LISTENING: the port listened on */
	enum kt_end how;		/* ENDED: KT_END_FIN or KT_END_RESET, else KT_END_NONE */
	int err;			/* ENDED by another error: its negative errno, else 0 */
	long long held_ms;		/* ENDED: since it was accepted */
	long long idle_ms;		/* ENDED: since the last data it brought, or the accept */
	unsigned long long bytes;	/* ENDED: data received, and dropped */
	unsigned int segs_in;		/* ENDED: TCP segments received, keepalive probes too */
	unsigned int open;		/* connections held */
};

/* Told of each event; a non-zero return stops kt_listen_run(). */
typedef int (*kt_listen_cb)(const struct kt_listen_status *st, void *userdata);

struct kt_listen;

/*
 * kt_keys.c: the one table of key facts. kt_key() gives a key's row, static, valid for ever
 * (key must be one of the three). kt_key_path() writes root (KT_PROC_ROOT, or a tree laid out
 * like it) and the key's fixed relative path into buf: 0, or -ENAMETOOLONG when len is short.
 */
const struct kt_key_info *kt_key(enum kt_key key);
int kt_key_path(const char *root, enum kt_key key, char *buf, size_t len);

/*
 * kt_value.c: values as users give them, judged strictly; each returns 0 and sets *ret, or
 * -EINVAL for bad syntax (*ret untouched), -ERANGE for a number out of range.
 * kt_parse_duration(): "600", "10m", "1m30s", "2h", "1d": a plain number of seconds, or numbers
 * each with a unit, units in the order d h m s, each at most once; no blank, sign, 0x, leading
 * zero, fraction; -ERANGE above INT_MAX seconds. kt_parse_uint(): every integer option's rule:
 * decimal digits only, no sign, blank, 0x or leading zero, within min..max. kt_parse_count():
 * the same up to INT_MAX. kt_parse_value(): a key's value, a duration or a count by the key,
 * in its accepted range.
 */
int kt_parse_duration(const char *s, int *ret_secs);
int kt_parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *ret);
int kt_parse_count(const char *s, int *ret_count);
int kt_parse_value(enum kt_key key, const char *s, int *ret_val);
/* Whether a value is in its key's accepted range; whether every value of v->mask's keys is. */
int kt_value_valid(enum kt_key key, int val);
int kt_values_valid(const struct kt_values *v);
/*
 * How long a dead peer goes unnoticed: time + intvl x probes. Returns 0 and sets *ret_secs, or
 * -ERANGE when v lacks a key or holds a value outside its range (the sum means nothing then).
 */
int kt_detection_time(const struct kt_values *v, long long *ret_secs);
/*
 * Write seconds as a duration kt_parse_duration() takes back, largest units first ("2h11m15s",
 * "0s", a minus for a negative number). Returns 0, or -ENOBUFS when len is short (buf untouched);
 * KT_DURATION_LEN is always enough.
 */
int kt_format_duration(long long secs, char *buf, size_t len);

/* kt_proc.c */
/*
 * Read the value of a key from the kernel: root is KT_PROC_ROOT, or a tree laid out like it.
 * Values the kernel holds outside the accepted range are returned as they are. Returns 0 and
 * sets *ret_val, or an error of kt_read_int(); -ENOENT means the kernel or network namespace
 * lacks the key.
 */
int kt_read(const char *root, enum kt_key key, int *ret_val);
/*
 * Set the keys in want->mask to want's values as one transaction, all or nothing, that
 * concurrent kt_set() calls on the same keys take turns at: an exclusive flock on the file of
 * KT_TIME (in /proc/sys, one per network namespace), held while the old values are read, the
 * changed ones written, and, when a write fails, those already written put back. The lock is
 * waited for at most timeout_ms. Values already in place are not written, so setting them needs
 * no right to write. Returns 0 and sets *ret_old to the values before (of want->mask's keys);
 * -ERANGE when a wanted value is outside its range (nothing done, nothing set); or, with
 * *ret_fail saying which stage and key failed and what was put back: -ETIMEDOUT (the lock is
 * held), an error of kt_read() or of kt_write(). After a write failure *ret_old is set too.
 */
int kt_set(const char *root, const struct kt_values *want, unsigned int timeout_ms,
    struct kt_values *ret_old, struct kt_failure *ret_fail);

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

/* The part of kt_set_persist() that failed. */
enum kt_sp_part {
	KT_SP_KEYS,	/* the keys: keys says the stage, the key and what was put back */
	KT_SP_RANGE,	/* key, not given, runs with val, outside its range: nothing was done */
	KT_SP_FILE,	/* the file: file says the step; keys.restored and keys.unrestored say
			 * which keys written before were put back (keys.restore_err why not) */
};

struct kt_sp_fail {
	enum kt_sp_part part;
	struct kt_failure keys;
	struct kt_persist_fail file;
	enum kt_key key;	/* RANGE */
	int val;
};

/*
 * kt_converge.c: set the running values and persist them, as one transaction. In this order:
 * the lock on the keys (kt_set()'s, below proc_root), the running values read, the file's
 * request completed, the lock on the file's directory (kt_persist()'s), the file read, edited
 * and checked; then the changed keys written, then the file; if the file cannot be written,
 * the keys written are put back. SIGINT, SIGTERM, SIGHUP and SIGQUIT wait from the first write
 * to the end. req->want holds the values given (the keys to set); the file gets those, and the
 * running values of the other keys, read under the lock. With KT_PERSIST_DRY_RUN nothing is
 * locked or written. Returns 0, sets *ret_old (all three running values before) and fills *ret
 * (to free with kt_persist_free()); or -ERANGE when a value given is outside its range (nothing
 * done, nothing set); or a negative errno and fills *ret_fail, and sets *ret_old too once the
 * values were read (part FILE, and KEYS at the write stage).
 */
int kt_set_persist(const char *proc_root, const struct kt_persist_req *req,
    unsigned int keys_timeout_ms, struct kt_values *ret_old, struct kt_persist_result *ret,
    struct kt_sp_fail *ret_fail);

/*
 * kt_file.c: replace the file at path (in a directory that exists, links in it followed) with
 * text (len bytes), as persist replaces its file: under an flock on the directory (waited for
 * at most lock_timeout_ms), the temp files killed runs left removed, a temp file
 * ".<name>.XXXXXX" written, given mode 0644, flushed and renamed over the file, which must not
 * be a symbolic link. Returns 0 and sets *ret_sync_err to 0, or to a negative errno when the
 * directory could not be flushed (the file is replaced, but may not survive a crash); or a
 * negative errno, and nothing was replaced: -ENOENT, -EACCES, -EROFS, -ELOOP (a link), -EISDIR,
 * -EINVAL (not a regular file), -ETIMEDOUT (the lock), -ENOSPC...
 */
int kt_replace_file(const char *path, const char *text, size_t len, unsigned int lock_timeout_ms,
    int *ret_sync_err);

/* kt_netns.c */
/*
 * Open a network namespace given as ip(8) does: a NAME made by `ip netns add` (a file in
 * KT_NETNS_DIR), or, when kt_netns_is_path(spec), the path of a namespace file
 * (/proc/PID/ns/net, a bind-mounted nsfs file). No other file is opened for reading, so a FIFO
 * or a device in its place neither blocks nor is acted on. Returns 0 and sets *ret_fd (the
 * caller's to close; O_CLOEXEC), or: -ENOENT no such name or path, -ENOTNAM some other file (a
 * namespace of another type included), -EINVAL an empty or dot name, -ENAMETOOLONG, -EACCES a
 * directory on the way may not be searched, or another negative errno.
 */
int kt_netns_open(const char *spec, int *ret_fd);
/* Whether spec is a path (it holds a '/'), not a NAME: how kt_netns_open() reads it. */
int kt_netns_is_path(const char *spec);
/*
 * Open the network namespace of process pid, /proc/PID/ns/net, as kt_netns_open() opens a path.
 * Returns 0 and sets *ret_fd (to close), or -ESRCH (no such process, or pid <= 0), -EACCES (the
 * caller may not look at that process: another user's, or hardened), or another negative errno.
 */
int kt_netns_open_pid(long pid, int *ret_fd);
/*
 * Make the calling thread use the network namespace fd refers to (from kt_netns_open*()); from
 * then on /proc/sys/net shows that namespace's keys. Returns 0, or -EPERM when not allowed
 * (needs CAP_SYS_ADMIN over the namespace), or another negative errno from setns(2).
 */
int kt_netns_enter(int fd);
/*
 * List the distinct network namespaces: those named in netns_dir (KT_NETNS_DIR) and those of the
 * processes in proc_dir (KT_PROC_DIR), ordered by inode; a temp tree laid out alike serves tests.
 * Returns 0 and sets *ret_list (an array the caller frees; NULL when *ret_n is 0), *ret_n and
 * *ret_unseen (the processes not looked at), or a negative errno: -ENOMEM, or why a directory
 * could not be read (a missing netns_dir is no error: no namespace has a name).
 */
int kt_netns_list(const char *netns_dir, const char *proc_dir, struct kt_netns **ret_list,
    size_t *ret_n, struct kt_netns_unseen *ret_unseen);
/*
 * Open a listed namespace again, by its name or else its pid below the same two directories,
 * and check it is still the same one (a pid may have exited and been reused). Returns 0 and sets
 * *ret_fd (to close), -ESRCH when it is gone, or an error of kt_netns_open().
 */
int kt_netns_reopen(const char *netns_dir, const char *proc_dir, const struct kt_netns *ns,
    int *ret_fd);
/*
 * Tell whether the calling thread is in the listed namespace now. Returns 1 or 0, or a negative
 * errno when its own namespace cannot be looked at.
 */
int kt_netns_is_current(const struct kt_netns *ns);

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

/*
 * kt_advice.c: middleboxes that forget idle flows, and values that outlast them.
 * kt_profile_at() gives the i-th built-in profile, or NULL past the last (static).
 * kt_profile_find() finds one by name: 0 and *ret, or -ENOENT. kt_profile_timeout() gives its idle
 * timeout in seconds; conntrack's is read from root (KT_PROC_ROOT) in the caller's namespace:
 * 0 and *ret_secs, or -ENOENT (nf_conntrack not loaded), -ERANGE (below 1 s), or a read error.
 * kt_idle_margin(): the margin kept under an idle timeout, a tenth of it, at least 5 s.
 * kt_behind_check(): 0 when v (all three keys) keeps idle flows alive, time + intvl <=
 * idle - margin; -ETIMEDOUT when the middlebox may forget them first; -ERANGE for values out of
 * range. kt_suggest(): values that keep flows alive behind idle and, when detect > 0, notice a
 * dead peer within detect seconds, never above the kernel's defaults: 0 and *ret, or -EDOM when
 * no valid values meet both bounds.
 */
const struct kt_profile *kt_profile_at(size_t i);
int kt_profile_find(const char *name, const struct kt_profile **ret);
int kt_profile_timeout(const struct kt_profile *p, const char *root, long long *ret_secs);
long long kt_idle_margin(long long idle);
int kt_behind_check(const struct kt_values *v, long long idle);
int kt_suggest(long long idle, long long detect, struct kt_values *ret);

/* kt_sockdiag.c */
/*
 * List every TCP connection (IPv4 and IPv6, all states but LISTEN) of the network namespace the
 * thread is in, asking the kernel through sock_diag as ss(8) does; callers without privileges
 * see them all too. A kernel without IPv6 gives the IPv4 ones. Owners are not looked for (pid
 * 0, comm ""): see kt_sock_owners(). Returns 0 and sets *ret_socks (an array the caller frees;
 * NULL when *ret_n is 0) and *ret_n, or a negative errno: -ENOENT no TCP sock_diag in the
 * kernel (module tcp_diag), -EPROTONOSUPPORT no sock_diag netlink at all, -EBADMSG an answer
 * that could not be parsed, -ENOMEM, or the errno of a failed socket call.
 */
int kt_sock_dump(struct kt_sock **ret_socks, size_t *ret_n);
/* The name netstat(8) gives a TCP state, such as "ESTABLISHED"; "UNKNOWN" for any other number.
 * A static string. */
const char *kt_sock_state_name(int state);
/* How a keepalive verdict is written: "on", "off", "unknown" or "n/a". A static string. */
const char *kt_ka_name(enum kt_ka ka);

/* kt_sockowner.c */
/*
 * Find the process holding each connection (the lowest pid, when several share it) through the
 * open files of every process in proc_dir (KT_PROC_DIR, or a temp tree laid out like it), and
 * fill in socks[].pid and .comm, the process's name as /proc/PID/comm gives it: any bytes but
 * NUL, unescaped. Connections no process was seen holding get pid 0 and comm "". When no
 * connection has an inode, proc_dir is not read. *ret_not_seen counts the processes whose files
 * the caller may not read (another user's, without root): their connections show no process;
 * kernel threads are not counted. Returns 0, or a negative errno (-ENOMEM, or why proc_dir
 * could not be read); then socks and *ret_not_seen are untouched.
 */
int kt_sock_owners(const char *proc_dir, struct kt_sock *socks, size_t n,
    unsigned int *ret_not_seen);

/* kt_sockgroup.c */
/*
 * Group the connections keepalive applies to (on, off or unknown) by the process holding them,
 * or by user for those whose process was not seen, and count them; the groups come with the
 * most connections without keepalive first, then the most connections, then by pid (user
 * groups last): the list an operator acts on. Returns 0 and sets *ret_groups (an array the
 * caller frees, never NULL) and *ret_n, or -ENOMEM.
 */
int kt_sock_group(const struct kt_sock *socks, size_t n, struct kt_sock_group **ret_groups,
    size_t *ret_n);

/*
 * kt_cgroup.c: cgroup v2. kt_cgroup_mount() finds the cgroup2 mount in the mount table mountinfo
 * (KT_MOUNTINFO): /sys/fs/cgroup on a unified hierarchy, /sys/fs/cgroup/unified on a hybrid one;
 * a mount of the whole hierarchy wins over one of a subtree: 0 and buf, or -ENOENT (none),
 * -ENAMETOOLONG, or a read error. kt_cgroup_open() opens the cgroup at path, absolute or
 * relative to mount, as in "system.slice/nginx.service", and never anything but a directory:
 * 0 and *ret (to kt_cgroup_close()), or -ENOENT, -ENOTDIR, -EACCES, -EMEDIUMTYPE (not on
 * cgroup2), -EXDEV (on cgroup2 but not below mount), -ENAMETOOLONG, -EINVAL (empty path).
 * kt_cgroup_rel() gives the path below mount that path names, as kt_cgroup_open() would, from
 * the text alone (a cgroup that is gone): 0 and buf, or -EINVAL, -EXDEV, -ENAMETOOLONG.
 * kt_cgroup_procs() calls fn(pid, arg) for every process in the cgroup open at cgfd and its
 * descendants, as each cgroup.procs lists them when read, stopping at fn's first negative
 * return, which it returns: 0 and *ret_n (when not NULL) processes seen, or a negative errno.
 */
int kt_cgroup_mount(const char *mountinfo, char *buf, size_t len);
int kt_cgroup_open(const char *mount, const char *path, struct kt_cgroup *ret);
int kt_cgroup_rel(const char *mount, const char *path, char *buf, size_t len);
void kt_cgroup_close(struct kt_cgroup *cg);
int kt_cgroup_procs(int cgfd, int (*fn)(int pid, void *arg), void *arg, size_t *ret_n);

/*
 * kt_bpf.c: keepalive for every TCP connection of a cgroup, set by ka-tune's BPF sock_ops
 * program as each is established (Linux 5.9 or later). dir is KT_BPF_DIR, where the links are
 * pinned so that they outlive ka-tune.
 * kt_bpf_enable() attaches the program to cg with the values v gives (v->mask; the others keep
 * the namespace's sysctls), or gives the program in force there v in place; one program per
 * cgroup, none above or below it, beside any other tool's (BPF_F_ALLOW_MULTI). Returns 0 and
 * fills *ret; or a negative errno and fills *ret_fail: -ERANGE, -EPERM (not root), -EALREADY
 * (an ancestor or descendant has ka-tune's program), -ENOMEDIUM (no bpffs), -EUCLEAN (dir not
 * root's own, mode 0700), -EEXIST (a pin not ka-tune's in the way), -EBUSY (a program attached
 * without BPF_F_ALLOW_MULTI keeps others off), -ENOEXEC (the verifier refused the program, and
 * said why), -ETIMEDOUT (the lock on dir).
 * kt_bpf_disable() detaches ka-tune's program from the cgroup at rel (cg, or NULL when it is
 * gone) and removes the pins of removed cgroups enabled at rel; never another program. Returns
 * 0 and fills *ret, or a negative errno: -EPERM, -EACCES (not root), -ENOLINK (attached, but
 * pinned in another bpffs), -EUCLEAN, -ETIMEDOUT.
 * Connections keep what they were given: both act on those established afterwards.
 * kt_bpf_list() lists ka-tune's links, ordered by path: 0 and *ret (to free; NULL when *ret_n
 * is 0), or -EACCES (not root), -EUCLEAN, -ENOMEM; no bpffs or no dir is an empty list.
 */
int kt_bpf_enable(const char *dir, const struct kt_cgroup *cg, const struct kt_values *v,
    unsigned int flags, struct kt_bpf_result *ret, struct kt_bpf_fail *ret_fail);
int kt_bpf_disable(const char *dir, const char *rel, const struct kt_cgroup *cg, unsigned int flags,
    struct kt_bpf_result *ret);
int kt_bpf_list(const char *dir, struct kt_bpf_entry **ret, size_t *ret_n);

/*
 * kt_unit.c: keepalive for a systemd unit's cgroup that outlives the cgroup, through drop-ins
 * in KT_UNIT_DIR named KT_DROPIN_NAME that run `ka-tune enable --cgroup` each time the unit
 * starts. kt_unit_of_cgroup() says which unit a cgroup path (below the mount) is the cgroup of,
 * if it is a service or a slice where systemd puts them: 0, ret_unit and *ret_kind, or -EINVAL.
 * kt_unit_enable() is enable --persist: kt_bpf_enable(), then the drop-ins; when they cannot be
 * written, the kernel is put back. kt_unit_disable() is disable: the drop-ins go, if there are
 * any, then kt_bpf_disable(); when that fails, they are put back. Both return 0 and fill
 * *ret_bpf and *ret_unit; or a negative errno and fill *ret_fail: -EINVAL (not a unit's
 * cgroup, or bin not a plain absolute path: nothing done), or kt_bpf_enable()'s and
 * kt_bpf_disable()'s errors (stage KT_UNIT_STAGE_BPF), or a file's (KT_UNIT_STAGE_FILE).
 */
int kt_unit_of_cgroup(const char *rel, char *ret_unit, size_t len, enum kt_unit_kind *ret_kind);
int kt_unit_enable(const struct kt_unit_req *req, struct kt_bpf_result *ret_bpf,
    struct kt_unit_result *ret_unit, struct kt_unit_fail *ret_fail);
int kt_unit_disable(const struct kt_unit_req *req, struct kt_bpf_result *ret_bpf,
    struct kt_unit_result *ret_unit, struct kt_unit_fail *ret_fail);

/* kt_enable.c */
/*
 * Turn keepalive on, now, in the TCP sockets (IPv4 and IPv6) process pid holds: its connections
 * (ESTABLISHED, CLOSE_WAIT) and its listeners, whose later connections inherit it; with
 * opts->port, only those whose local or remote port it is (a listener's local one). The values
 * of opts->want are set on each socket whose keepalive was off, and where it was on, those that
 * differ; a socket with keepalive on and nothing to change is left alone. With opts->dry_run,
 * nothing is changed. The sockets are reached through duplicates of the process's descriptors
 * (pidfd_getfd, Linux 5.6): the process is never stopped, signalled or traced, and its network
 * namespace does not matter. A socket is written all or nothing: when a write fails, what was
 * written to it is put back, and the others go on.
 * Returns 0 and sets *ret_report (kt_enable_free() frees it): a process that exits midway is no
 * error (report->exited). Or, nothing changed: -ESRCH no such process; -EPERM not permitted
 * (kt_ptrace_denial() says why); -ENOSYS no pidfd_getfd in the kernel; -EXDEV the process's
 * sockets carry other cgroup v1 tags than the caller's, which taking them would overwrite
 * (kt_netcls_compare() says which); -EREMOTE /proc is another pid namespace's; -ERANGE a value
 * or port out of range; -ENOMEM; or another negative errno.
 */
int kt_enable_pid(int pid, const struct kt_enable_opts *opts, struct kt_enable_report **ret_report);
void kt_enable_free(struct kt_enable_report *report);

/* kt_ptrace.c */
/*
 * Work out why the kernel's ptrace access check (which pidfd_getfd() and /proc/PID/fd obey)
 * refuses process pid to the caller, from what proc_dir (KT_PROC_DIR) shows of both: their user
 * and group ids, capabilities, dumpability (its /proc entry then belongs to root), and Yama's
 * ptrace_scope when Yama is there. Returns 0 and sets *ret and *ret_yama_scope (-1: no Yama), or
 * a negative errno (-ESRCH: it is gone).
 */
int kt_ptrace_denial(const char *proc_dir, int pid, enum kt_denial *ret, int *ret_yama_scope);

/* kt_netcls.c */
/*
 * Compare the cgroup v1 tags process pid's sockets carry with the caller's: the kernel re-tags
 * a socket with the net_cls classid and net_prio index of any process that receives a
 * descriptor of it (__receive_sock(): SCM_RIGHTS, pidfd_getfd), so ka-tune taking a process's
 * sockets would move its traffic out of tc and iptables rules on those tags. Tags that differ
 * in name only do not count: cgroups with the same net_cls.classid, or the same
 * net_prio.ifpriomap, tag alike. Reads proc_dir's PID/cgroup, self/cgroup, self/mountinfo and
 * the cgroup files where the hierarchy is mounted. Returns 0 and sets *ret, or a negative errno
 * (-ESRCH: it is gone).
 */
int kt_netcls_compare(const char *proc_dir, int pid, struct kt_netcls_diff *ret);

/* kt_exec.c */
int kt_exec_library(char *buf, size_t len, struct kt_exec_failure *ret_fail);
int kt_exec(const char *lib, const struct kt_values *v, char *const argv[],
    struct kt_exec_failure *ret_fail);
void kt_exec_env_values(struct kt_values *ret);

/* kt_target.c */
/*
 * Split "HOST:PORT" into *ret: HOST a name or an IPv4 address, or an IPv6 address in brackets
 * ("[2001:db8::1]:22"); without brackets an IPv6 address is refused, as its last colon could be
 * either. HOST may hold no blank or control byte; PORT is 1..65535, as kt_parse_uint() reads
 * numbers. Returns 0 and fills *ret, -EINVAL for bad syntax or a host too long, or -ERANGE for
 * a port outside 1..65535; *ret is untouched on failure.
 */
int kt_target_parse(const char *s, struct kt_target *ret);

/* kt_bracket.c */
/*
 * Judge measurement parameters against the accepted ranges. Returns 0, -ERANGE when a value is
 * outside its range, or -EINVAL when max_secs is not above min_secs.
 */
int kt_probe_params_check(const struct kt_probe_params *par);

/* kt_probe.c */
/*
 * Prepare to measure the path to t: look its host up (a name goes through the system's
 * resolver and may block on it) and plan the first round. Returns 0 and sets *ret (to free with
 * kt_probe_free()), or a negative errno: -EINVAL or -ERANGE for parameters
 * kt_probe_params_check() refuses, -ENXIO when the host has no address, -EAGAIN when the
 * lookup failed for now, -ENOMEM, or another failure of the lookup.
 */
int kt_probe_new(const struct kt_target *t, const struct kt_probe_params *par,
    struct kt_probe **ret);
/*
 * Measure, or go on measuring: open the connections, wait on them and on the clock, and judge
 * what they show, until the bracket cannot be narrowed any more. While waiting, the thread's
 * signal mask is waitmask (NULL: left as it is), as ppoll(2) sets it: a caller that blocks
 * SIGINT and passes a mask without it hears of a SIGINT only while waiting, so none is missed.
 * cb (NULL: none) is told of every change and about once a second.
 * Returns 0 when finished (kt_probe_result() has the verdict); -EINTR when a signal interrupted
 * the wait and -ECANCELED when cb asked to stop, for the caller to call again or to take
 * kt_probe_result()'s bracket so far; or a negative errno, the measurement over: why no
 * connection could be opened (the last address's error: -ECONNREFUSED, -ETIMEDOUT after
 * KT_PROBE_CONNECT_SECS, -ENETUNREACH...), -ENOTCONN when none lasted to be probed, or why
 * waiting failed.
 */
int kt_probe_run(struct kt_probe *p, const sigset_t *waitmask, kt_probe_cb cb, void *userdata);
/* What the measurement found, or, not finished, has found so far (verdict RUNNING). */
void kt_probe_result(const struct kt_probe *p, struct kt_probe_result *ret);
/* Close every connection and free p; NULL is nothing to do. */
void kt_probe_free(struct kt_probe *p);

/* kt_listen.c */
/*
 * Listen on port (1..65535; 0: one the kernel picks) on every local address, IPv6 and IPv4
 * alike (IPv4 only where the system has no IPv6). Returns 0 and sets *ret (to free with
 * kt_listen_free()), or a negative errno: -EADDRINUSE, -EACCES (a port below 1024 without
 * CAP_NET_BIND_SERVICE), -ENOMEM...
 */
int kt_listen_open(unsigned int port, struct kt_listen **ret);
/*
 * Accept and hold connections: never send on them, never turn keepalive on (the far end must
 * not refresh the path itself), read and drop what they bring, and tell cb (NULL: nobody) of
 * the listening address first, then of each connection as it comes and as it ends. Runs until
 * a signal interrupts the wait (-EINTR; waitmask as for kt_probe_run()) or cb asks to stop
 * (-ECANCELED): call again to go on. Returns another negative errno when accepting or waiting
 * fails.
 */
int kt_listen_run(struct kt_listen *l, const sigset_t *waitmask, kt_listen_cb cb,
    void *userdata);
/* Close the listening socket and every connection held, and free l; NULL is nothing to do. */
void kt_listen_free(struct kt_listen *l);

#endif
