/* cli.h: what the subcommands share: exit codes, the rows of the command table, messages and
 * escaping (cli_out.c), option parsing (cli_args.c), the wording of errors (cli_errors.c). */
#ifndef KT_CLI_H
#define KT_CLI_H

#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>

#include "katune.h"

/* The only exit codes ka-tune ever returns. */
enum {
	EXIT_OK = 0,		/* done */
	EXIT_FAIL = 1,		/* the operation failed: I/O, permission, the kernel refused */
	EXIT_USAGE = 2,		/* usage error or invalid value; nothing was changed */
};

/* One subcommand: a row of main.c's table, defined in its own cmd_<name>.c. */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;	/* one line for ka-tune --help */
	/* Its lines of the man page's SYNOPSIS, each ending in a newline; a line that goes on
	 * from the one before starts with eight spaces. */
	const char *synopsis;
	const char *help;	/* what its options mean, for ka-tune <name> --help */
	const char *not_in_netns;	/* why the global --netns and --pid do not apply, or NULL */
	/* exec's, which run a command: its exit statuses (NULL: 0, 1, 2), and that of a usage
	 * error (0: EXIT_USAGE) */
	const char *exit_text;
	int usage_status;
};

/* What --time, --intvl and --probes mean, for the help of the commands that take them. */
#define CLI_STR_(x)	#x
#define CLI_STR(x)	CLI_STR_(x)
#define CLI_VALUES_HELP \
	"  --time DUR    idle time before the first probe, 1.." CLI_STR(KT_TIME_MAX) " seconds\n" \
	"  --intvl DUR   time between probes, 1.." CLI_STR(KT_INTVL_MAX) " seconds\n" \
	"  --probes N    unanswered probes before the peer is dead, 1.." CLI_STR(KT_PROBES_MAX) \
	"\n" \
	"  DUR is seconds (600) or units d h m s, largest first (10m, 1m30s, 2h)\n"

/* What --behind and --idle-timeout mean, for check and suggest. */
#define CLI_IDLE_HELP \
	"  --behind P    a NAT or load balancer: aws-nat 350 s, azure-lb 240 s, gcp-nat 1200 s,\n" \
	"                aliyun-nat 900 s, conntrack (nf_conntrack_tcp_timeout_established)\n" \
	"  --idle-timeout DUR  any other idle timeout\n" \
	"  safe: time + intvl <= idle timeout - margin (a tenth of it, at least 5 s)\n"

extern const struct cli_command cli_cmd_show, cli_cmd_set, cli_cmd_check, cli_cmd_suggest,
    cli_cmd_sockets, cli_cmd_probe, cli_cmd_persist, cli_cmd_apply, cli_cmd_metrics,
    cli_cmd_enable, cli_cmd_disable, cli_cmd_exec, cli_cmd_help;

/* The network namespace the global --netns or --pid names (both NULL: the caller's own). */
struct cli_target {
	const char *netns;
	const char *pid;
};

/* main.c */
extern struct cli_target cli_target;
extern const struct cli_command *cli_running;
int cli_help_all(void);
int cli_help_command(const struct cli_command *cmd);

/* cli_netns.c: entering another network namespace. */
int cli_enter_target(void);
int cli_enter_listed(const struct kt_netns *ns);

/* cli_out.c: what the user reads. */
#define CLI_VIS_LEN(n)	(4 * (size_t)(n) + 1)
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn_code(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *cli_vis(const char *s, char *buf, size_t len);
size_t cli_utf8_len(const unsigned char *s);
void cli_json_string(const char *s);
#define CLI_SET_LINE_LEN	80
const char *cli_set_line(const struct kt_values *v, char *buf, size_t len);
void cli_json_bytes(const char *s, size_t len);
void cli_note_change(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_dry_run_done(const char *what);
int cli_finish(int status);

/* cli_sock.c: how connections are written (sockets, enable). */
/* Room for "[IPv6 address]:port", and for "pid/comm" (comm escaped), NUL included. */
#define CLI_ENDPOINT_LEN	(INET6_ADDRSTRLEN + 8)
#define CLI_PROCESS_LEN	(12 + CLI_VIS_LEN(KT_COMM_LEN))
/* The narrowest LOCAL and REMOTE columns, as ka-tune(8) shows them. */
#define CLI_ENDPOINT_WIDTH	22
void cli_format_addr(int family, const unsigned char *addr, char *buf, size_t len);
void cli_format_endpoint(int family, const unsigned char *addr, unsigned int port, char *buf,
    size_t len);
int cli_endpoint_fit(int width, int family, const unsigned char *addr, unsigned int port);
void cli_format_process(int pid, const char *comm, char *buf, size_t len);
void cli_json_endpoints(int family, int state, const unsigned char *local, unsigned int lport,
    const unsigned char *remote, unsigned int rport);

/* cli_args.c: options and their values. */
enum {
	CLI_GO = -1,		/* cli_getopt_end(): the options are fine, go on */
	CLI_OPT_HELP = -2,	/* cli_getopt(): --help or -h */
	CLI_OPT_BAD = -3,	/* cli_getopt(): a bad option, already reported */
};
int cli_getopt(int argc, char **argv, const struct option *opts);
int cli_getopt_end(int c, int argc, char **argv);
int cli_parse_uint(const char *opt, const char *arg, unsigned long long min,
    unsigned long long max, unsigned long long *ret);
int cli_parse_duration(const char *opt, const char *arg, int min, int max, int *ret);
int cli_parse_value(enum kt_key key, const char *arg, struct kt_values *v);
void cli_value_arg(int c, const char *optarg_, const char *arg[KT_NKEYS]);
int cli_parse_values(const char *const arg[KT_NKEYS], struct kt_values *v);
int cli_parse_loader(const char *arg, enum kt_loader *ret);
int cli_has_json(int argc, char **argv, const struct option *opts);
int cli_read_kernel(unsigned int mask, struct kt_values *ret);

/* The output formats; a command offers some of them, each an option of the same name. */
enum cli_format {
	CLI_FORMAT_TEXT,	/* the default: for people */
	CLI_FORMAT_JSON,	/* --json */
	CLI_FORMAT_SYSCTL,	/* --sysctl: sysctl.d lines */
	CLI_FORMAT_K8S,		/* --k8s: a pod spec's lines */
	CLI_FORMAT_DOCKER,	/* --docker: docker run flags */
};
#define CLI_FORMAT_BIT(f)	(1u << (f))
int cli_format_option(int c);
int cli_pick_format(unsigned int formats, enum cli_format *ret);

/* An idle timeout to judge keepalive values against, and where it comes from. */
struct cli_idle {
	long long idle;
	const char *name;	/* the profile's name, or "--idle-timeout" */
	const char *what;
	const struct kt_profile *profile;	/* --behind's, or NULL */
};
int cli_idle_arg(const char *behind, const char *idle_arg, struct cli_idle *ret);
int cli_idle_read(struct cli_idle *mb);
int cli_idle_timeout(const char *behind, const char *idle_arg, struct cli_idle *ret);

/* cli_errors.c: the one place errors become words. What an error is about decides them. */
enum cli_about {
	CLI_ABOUT_KEY,		/* a key in /proc/sys: reading or writing it */
	CLI_ABOUT_FILE_READ,	/* a file or directory ka-tune only reads */
	CLI_ABOUT_FILE_WRITE,	/* a file or directory ka-tune writes */
	CLI_ABOUT_ETC_WRITE,	/* the same, under /etc: only root writes there */
	CLI_ABOUT_NETNS_NAME,	/* a network namespace given by name */
	CLI_ABOUT_NETNS_PATH,	/* a network namespace given as a path */
	CLI_ABOUT_NETNS_ENTER,	/* entering a network namespace */
	CLI_ABOUT_PROCESS,	/* a process given by pid */
	CLI_ABOUT_PROCESS_AS_ROOT,	/* a process looked at by root, who can be refused too */
	CLI_ABOUT_SOCKDIAG,	/* the kernel's sock_diag interface */
	CLI_ABOUT_CONNTRACK,	/* conntrack's timeout sysctl */
	CLI_ABOUT_PIDFD,	/* taking a process's descriptors (pidfd_open, pidfd_getfd) */
	CLI_ABOUT_SOCKET,	/* setting a socket option */
	CLI_ABOUT_EXEC,		/* running a command, or the library preloaded into it */
	CLI_ABOUT_PROBE,	/* probe: looking HOST up and connecting to it */
	CLI_ABOUT_LISTEN,	/* probe --listen: listening on a port, and its connections */
	CLI_ABOUT_CGROUP2,	/* finding the cgroup2 mount in the mount table */
	CLI_ABOUT_CGROUP,	/* a cgroup given by path */
	CLI_ABOUT_BPF,		/* ka-tune's BPF program, its links and pins (enable --cgroup) */
};
const char *cli_strerror(int err, enum cli_about about);
const char *cli_denial(enum kt_denial why, int yama_scope);

/* cli_json.c: the JSON results of set, persist, apply and check (ka-tune(8), JSON RESULTS). */
void cli_json_enable(void);
int cli_json_enabled(void);
void cli_json_dry_run(int dry_run);
void cli_json_note(const char *code, const char *msg);
void cli_json_open(int changed);
void cli_json_from(const struct kt_boot_key *bk);
void cli_json_running(const struct kt_values *before, const struct kt_values *after,
    const struct kt_boot *boot);
void cli_json_file(const char *path, const struct kt_persist_result *res);
void cli_json_close(void);
int cli_json_finish(int status);

/* cli_cgroup.c: the cgroup of enable --cgroup and disable, what was done to it, its drop-ins. */
/* Room for a policy as shown, "32767/32767/127". */
#define CLI_POLICY_LEN	20
int cli_cgroup_open(const char *opt, const char *path, int gone_ok, struct kt_cgroup *ret);
const char *cli_cgroup_name(const char *rel);
const char *cli_bpf_change(enum kt_bpf_change c, int dry_run);
const char *cli_policy_text(const struct kt_values *v, char *buf, size_t len);
void cli_json_policy(const struct kt_values *v);
void cli_json_cgroup(const struct kt_cgroup *cg, const struct kt_bpf_result *res,
    const struct kt_values *after);
void cli_json_dropins(const struct kt_unit_result *u);
int cli_dropins_changed(const struct kt_unit_result *u);
void cli_dropins_text(const struct kt_unit_result *u, int dry_run);
void cli_cgroup_failure(const char *name, int err, const struct kt_unit_fail *f);

/* cli_set.c: the words for a failed kt_set(), and what the keys hold after it. */
void cli_set_restored(const struct kt_values *old, const struct kt_values *want,
    const struct kt_failure *f, struct kt_values *now);
void cli_set_failure(const struct kt_values *old, const struct kt_values *want,
    const struct kt_failure *f, struct kt_values *now);

/* cli_persist.c: the file persist writes, for persist and set --persist. */
struct cli_persist {
	struct kt_persist_req req;
	char path[PATH_MAX];		/* the file, as shown */
	char dir[PATH_MAX];		/* its directory, as shown: "." for a bare --file name */
	const char *root;		/* --root, or NULL */
	int dry_run, remove;
};
int cli_persist_target(struct cli_persist *p, const char *file, const char *root);
void cli_persist_request(struct cli_persist *p);
const char *cli_persist_outcome(enum kt_persist_outcome o);
void cli_persist_plan(FILE *f, const struct kt_persist_result *res);
void cli_persist_failure(const struct cli_persist *p, int err, const struct kt_persist_fail *f);
void cli_persist_warnings(const struct cli_persist *p, const struct kt_persist_result *res);
int cli_persist_synced(const struct cli_persist *p, const struct kt_persist_result *res);

/* cli_boot.c: the boot values, for show --boot and check. */
int cli_boot_read(const char *root, enum kt_loader loader, struct kt_boot **ret,
    int *ret_unsure);
int cli_boot_warn_notes(const struct kt_boot *b, enum kt_loader loader);
int cli_show_boot(const char *root, const char *loader_arg, enum cli_format format);
int cli_check_boot(enum kt_loader loader, const struct kt_values *running);

#endif
