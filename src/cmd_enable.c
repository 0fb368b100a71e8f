/* cmd_enable.c: ka-tune enable: turn keepalive on, now, in the TCP sockets of a running process
 * that never asked for it. One target a run: a process (--pid); the targets are rows of one
 * table, which later kinds (a cgroup's sockets) join. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>

#include "cli.h"

/* Room for a keepalive as shown: "on 32767/32767/127". */
#define KA_LEN	32

/* What each socket result is called: in the text's summary and in JSON. */
static const char *const result_text[2][KT_NENABLE] = {
	{ [KT_ENABLE_DONE] = "enabled", [KT_ENABLE_ALREADY] = "already on",
	  [KT_ENABLE_FAILED] = "failed" },
	{ [KT_ENABLE_DONE] = "to enable", [KT_ENABLE_ALREADY] = "already on",
	  [KT_ENABLE_FAILED] = "failed" },
};
static const char *const result_json[KT_NENABLE] = {
	[KT_ENABLE_DONE] = "enabled", [KT_ENABLE_ALREADY] = "already_on",
	[KT_ENABLE_FAILED] = "failed",
};

/* The socket option behind each key, and SO_KEEPALIVE, as messages name them. */
static const char *const opt_names[KT_NKEYS + 1] = {
	[KT_TIME] = "TCP_KEEPIDLE", [KT_INTVL] = "TCP_KEEPINTVL", [KT_PROBES] = "TCP_KEEPCNT",
	[KT_KA_OPT_KEEPALIVE] = "SO_KEEPALIVE",
};

/* Write a keepalive as "off" or "on TIME/INTVL/PROBES" (seconds, seconds, a count). */
static void
ka_text(const struct kt_sock_ka *ka, char *buf, size_t len)
{
	if (!ka->on)
		(void)snprintf(buf, len, "off");
	else
		(void)snprintf(buf, len, "on %d/%d/%d", ka->val[KT_TIME], ka->val[KT_INTVL],
		    ka->val[KT_PROBES]);
}

/* Write a socket's two ends; a listener's remote one is "*". */
static void
ends_text(const struct kt_enable_sock *s, char *local, char *remote, size_t len)
{
	cli_format_endpoint(s->family, s->local, s->lport, local, len);
	if (s->state == TCP_LISTEN)
		(void)snprintf(remote, len, "*");
	else
		cli_format_endpoint(s->family, s->remote, s->rport, remote, len);
}

/* One line a socket: state, local, remote, before -> after, the ends in columns width wide. */
static void
print_sock(const struct kt_enable_sock *s, int width)
{
	char local[CLI_ENDPOINT_LEN], remote[CLI_ENDPOINT_LEN], before[KA_LEN], after[KA_LEN];

	ends_text(s, local, remote, sizeof(local));
	ka_text(&s->before, before, sizeof(before));
	ka_text(&s->after, after, sizeof(after));
	printf("%-11s %-*s %-*s %s -> %s\n", kt_sock_state_name(s->state), width, local, width,
	    remote, before, after);
}

/* The text output: a line a socket, then "PID/NAME: N enabled, M already on, K failed". */
static void
print_text(const struct kt_enable_report *r, const char *proc, int dry_run)
{
	int width = CLI_ENDPOINT_WIDTH;

	for (size_t i = 0; i < r->n; i++) {
		const struct kt_enable_sock *s = &r->socks[i];

		width = cli_endpoint_fit(width, s->family, s->local, s->lport);
		width = cli_endpoint_fit(width, s->family, s->remote, s->rport);
	}
	for (size_t i = 0; i < r->n; i++)
		print_sock(&r->socks[i], width);
	printf("%s: %zu %s, %zu %s, %zu %s\n", proc, r->count[KT_ENABLE_DONE],
	    result_text[dry_run][KT_ENABLE_DONE], r->count[KT_ENABLE_ALREADY],
	    result_text[dry_run][KT_ENABLE_ALREADY], r->count[KT_ENABLE_FAILED],
	    result_text[dry_run][KT_ENABLE_FAILED]);
}

/* Write why a socket failed: "SO_KEEPALIVE: why", and what could not be put back. */
static void
failure_text(const struct kt_ka_failure *f, char *buf, size_t len)
{
	int n = snprintf(buf, len, "cannot set %s: %s", opt_names[f->opt],
	    cli_strerror(f->err, CLI_ABOUT_SOCKET));

	for (int k = 0; k < KT_NKEYS && n > 0 && (size_t)n < len; k++)
		if (f->unrestored & KT_BIT(k))
			n += snprintf(buf + n, len - n, "; %s could not be put back", opt_names[k]);
}

/* A keepalive as a JSON object. */
static void
json_ka(const char *name, const struct kt_sock_ka *ka)
{
	printf("\"%s\": {\"keepalive\": %s, \"time\": %d, \"intvl\": %d, \"probes\": %d}", name,
	    ka->on ? "true" : "false", ka->val[KT_TIME], ka->val[KT_INTVL], ka->val[KT_PROBES]);
}

/* One socket as a JSON object. */
static void
json_sock(const struct kt_enable_sock *s)
{
	char why[256];

	printf("{\"fd\": %d, ", s->fd);
	cli_json_endpoints(s->family, s->state, s->local, s->lport, s->remote, s->rport);
	fputs(", ", stdout);
	json_ka("before", &s->before);
	fputs(", ", stdout);
	json_ka("after", &s->after);
	printf(", \"result\": \"%s\", \"error\": ", result_json[s->result]);
	if (s->result == KT_ENABLE_FAILED) {
		failure_text(&s->fail, why, sizeof(why));
		cli_json_string(why);
	} else {
		fputs("null", stdout);
	}
	putchar('}');
}

/* The --json output: one object, documented in ka-tune(8); keep it stable. */
static void
print_json(const struct kt_enable_report *r, int dry_run)
{
	printf("{\"pid\": %d, \"comm\": ", r->pid);
	cli_json_string(r->comm);
	printf(", \"dry_run\": %s, \"sockets\": [", dry_run ? "true" : "false");
	for (size_t i = 0; i < r->n; i++) {
		fputs(i ? ",\n " : "\n ", stdout);
		json_sock(&r->socks[i]);
	}
	printf("],\n \"summary\": {\"enabled\": %zu, \"already_on\": %zu, \"failed\": %zu},\n"
	       " \"exited\": %s}\n", r->count[KT_ENABLE_DONE], r->count[KT_ENABLE_ALREADY],
	    r->count[KT_ENABLE_FAILED], r->exited ? "true" : "false");
}

/* Name each socket that failed, and say that the others stay as they were made. */
static void
report_failures(const struct kt_enable_report *r, const char *proc)
{
	char local[CLI_ENDPOINT_LEN], remote[CLI_ENDPOINT_LEN], why[256];

	for (size_t i = 0; i < r->n; i++) {
		const struct kt_enable_sock *s = &r->socks[i];

		if (s->result != KT_ENABLE_FAILED)
			continue;
		ends_text(s, local, remote, sizeof(local));
		failure_text(&s->fail, why, sizeof(why));
		cli_error("enable: %s: %s %s %s: %s", proc, kt_sock_state_name(s->state), local,
		    remote, why);
	}
	if (r->count[KT_ENABLE_FAILED])
		cli_error("enable: %s: %zu socket%s failed; the %zu others have keepalive on and "
			  "keep it", proc, r->count[KT_ENABLE_FAILED],
		    r->count[KT_ENABLE_FAILED] == 1 ? "" : "s",
		    r->count[KT_ENABLE_DONE] + r->count[KT_ENABLE_ALREADY]);
}

/*
 * Say what went wrong, after the report or instead of it, and return the exit status: 0 when
 * every targeted socket ended with keepalive on.
 */
static int
report_end(const struct kt_enable_report *r, const char *proc, int dry_run)
{
	report_failures(r, proc);
	if (r->stopped)
		cli_error("enable: %s: stopped before its last sockets: %s; those shown are as "
			  "shown", proc, cli_strerror(r->stopped, CLI_ABOUT_PROCESS));
	else if (r->exited)
		cli_warn("enable: %s exited meanwhile: its sockets not shown were not reached",
		    proc);
	if (dry_run) {
		fflush(stdout);		/* the plan first where both go to one file */
		fputs("dry run: nothing changed\n", stderr);
	}
	return r->count[KT_ENABLE_FAILED] || r->stopped ? EXIT_FAIL : EXIT_OK;
}

/* Explain why the process's sockets were not taken: their cgroup v1 tags would change. */
static void
report_tags(const char *what, int pid)
{
	static const char *const names[KT_NTAGGERS] = { "net_cls", "net_prio" };
	struct kt_netcls_diff *d = malloc(sizeof(*d));

	if (!d || kt_netcls_compare(KT_PROC_DIR, pid, d) < 0 || !d->differ) {
		cli_error("enable: --pid %s: its sockets carry other cgroup v1 (net_cls, net_prio) "
			  "tags than ka-tune's, which taking them would overwrite; nothing was "
			  "changed", what);
		free(d);
		return;
	}
	for (int t = 0; t < KT_NTAGGERS; t++) {
		if (!(d->differ & (1u << t)))
			continue;
		cli_error("enable: --pid %s: it is in %s cgroup '%s', ka-tune in '%s'%s: the "
			  "kernel re-tags a socket with the %s of whoever takes a descriptor of "
			  "it; nothing was changed", what, names[t], d->theirs[t][0] ? d->theirs[t] : "/",
		    d->ours[t][0] ? d->ours[t] : "/",
		    d->unknown & (1u << t) ? " (their tags could not be compared)" :
			" (their tags differ)", t == KT_NET_CLS ? "classid" : "priority index");
		if (d->dir[t][0])
			cli_error("enable: run ka-tune from within it: sh -c 'echo $$ > "
				  "%s/cgroup.procs && exec ka-tune enable --pid %s ...'", d->dir[t],
			    what);
	}
	free(d);
}

/* Explain why ka-tune may not take the process's sockets. */
static void
report_denied(const char *what, int pid)
{
	enum kt_denial why;
	int yama;

	if (kt_ptrace_denial(KT_PROC_DIR, pid, &why, &yama) < 0) {
		why = KT_DENY_OTHER;
		yama = -1;
	}
	cli_error("enable: --pid %s: not permitted: %s", what, cli_denial(why, yama));
}

/* Turn keepalive on in the sockets of process pid (given as arg). */
static int
enable_pid(const char *arg, unsigned long long id, const struct kt_enable_opts *o, int json)
{
	struct kt_enable_report *r;
	char proc[CLI_PROCESS_LEN];
	int pid = (int)id, ret, err;

	err = kt_enable_pid(pid, o, &r);
	if (err == -EPERM) {
		report_denied(arg, pid);
		return EXIT_FAIL;
	}
	if (err == -EXDEV) {
		report_tags(arg, pid);
		return EXIT_FAIL;
	}
	if (err < 0) {
		cli_error("enable: --pid %s: %s", arg, cli_strerror(err, CLI_ABOUT_PIDFD));
		return EXIT_FAIL;
	}
	if (!o->dry_run && r->count[KT_ENABLE_DONE])
		cli_note_change("keepalive was turned on in %zu sockets of process %d",
		    r->count[KT_ENABLE_DONE], pid);
	cli_format_process(r->pid, r->comm, proc, sizeof(proc));
	if (json)
		print_json(r, o->dry_run);
	else
		print_text(r, proc, o->dry_run);
	ret = report_end(r, proc, o->dry_run);
	kt_enable_free(r);
	return ret;
}

/*
 * The kinds of target, one of which a run names: each its option, how its argument is judged,
 * and what is done. enable --cgroup (issue 14) is to be a row of its own.
 */
static const struct target {
	const char *option;
	unsigned long long max;		/* its argument: a number from 1 to max */
	int (*run)(const char *arg, unsigned long long id, const struct kt_enable_opts *o,
	    int json);
} targets[] = {
	{ "--pid", KT_PID_MAX, enable_pid },
};
#define NTARGETS	(sizeof(targets) / sizeof(targets[0]))

/*
 * The target the options named: exactly one, its argument judged into *ret_n. Returns its index,
 * or -1 once reported.
 */
static int
one_target(const char *const arg[NTARGETS], unsigned long long *ret_n)
{
	int found = -1;

	for (size_t i = 0; i < NTARGETS; i++) {
		if (!arg[i])
			continue;
		if (found >= 0) {
			cli_usage_error("enable: %s and %s exclude each other",
			    targets[found].option, targets[i].option);
			return -1;
		}
		found = (int)i;
	}
	if (found < 0) {
		cli_usage_error("enable: nothing to enable: give --pid PID");
		return -1;
	}
	if (cli_parse_uint(targets[found].option, arg[found], 1, targets[found].max, ret_n) != 0)
		return -1;
	return found;
}

static int
run_enable(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'P' },
		{ "port", required_argument, NULL, 'o' },
		{ "time", required_argument, NULL, 't' },
		{ "intvl", required_argument, NULL, 'i' },
		{ "probes", required_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_enable_opts o = { 0 };
	const char *arg[KT_NKEYS] = { NULL }, *target[NTARGETS] = { NULL }, *port = NULL;
	unsigned long long n, id;
	int c, r, t, json = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'P')
			target[0] = optarg;
		else if (c == 'o')
			port = optarg;
		else if (c == 'n')
			o.dry_run = 1;
		else if (c == 'j')
			json = 1;
		else
			cli_value_arg(c, optarg, arg);
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if ((t = one_target(target, &id)) < 0)
		return EXIT_USAGE;
	if (port && (r = cli_parse_uint("--port", port, 1, 65535, &n)) != 0)
		return r;
	o.port = port ? (unsigned int)n : 0;
	if ((r = cli_parse_values(arg, &o.want)) != 0)
		return r;
	return targets[t].run(target[t], id, &o, json);
}

const struct cli_command cli_cmd_enable = {
	.name = "enable",
	.run = run_enable,
	.summary = "turn keepalive on in a running process's TCP sockets",
	.synopsis =
	    "ka-tune enable --pid PID [--port N] [--time DUR] [--intvl DUR]\n"
	    "        [--probes N] [--dry-run] [--json]\n",
	.help =
	    "  --pid PID     the process: its TCP connections and listeners get keepalive\n"
	    "  --port N      only the sockets whose local or remote port is N\n"
	    CLI_VALUES_HELP
	    "  values given become each socket's own; without, the sysctls apply to it\n"
	    "  --dry-run     say what would change, change nothing\n"
	    "  --json        one JSON object: each socket before and after, and the counts\n",
	.not_in_netns = "the target is the process, whatever network namespace it is in",
};
