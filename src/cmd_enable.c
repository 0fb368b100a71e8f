/* cmd_enable.c: ka-tune enable: turn keepalive on in TCP sockets that never asked for it: now,
 * in those of a running process (--pid); or from now on, in every connection of a cgroup, by
 * ka-tune's BPF program, and now in those of the processes in it (--cgroup); and list the
 * cgroups so enabled (--list). One target a run; the targets are rows of one table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
 * Say what went wrong in a process's report, after it: the sockets that failed, a stop midway,
 * an exit. Returns the exit status: 0 when every targeted socket ended with keepalive on.
 */
static int
report_problems(const struct kt_enable_report *r, const char *proc)
{
	report_failures(r, proc);
	if (r->stopped)
		cli_error("enable: %s: stopped before its last sockets: %s; those shown are as "
			  "shown", proc, cli_strerror(r->stopped, CLI_ABOUT_PROCESS));
	else if (r->exited)
		cli_warn("enable: %s exited meanwhile: its sockets not shown were not reached",
		    proc);
	return r->count[KT_ENABLE_FAILED] || r->stopped ? EXIT_FAIL : EXIT_OK;
}

/* Explain why the process's sockets were not taken: their cgroup v1 tags would change. what
 * names it in messages ("--pid 812"). */
static void
report_tags(const char *what, int pid)
{
	static const char *const names[KT_NTAGGERS] = { "net_cls", "net_prio" };
	struct kt_netcls_diff *d = malloc(sizeof(*d));

	if (!d || kt_netcls_compare(KT_PROC_DIR, pid, d) < 0 || !d->differ) {
		cli_error("enable: %s: its sockets carry other cgroup v1 (net_cls, net_prio) "
			  "tags than ka-tune's, which taking them would overwrite; nothing was "
			  "changed", what);
		free(d);
		return;
	}
	for (int t = 0; t < KT_NTAGGERS; t++) {
		if (!(d->differ & (1u << t)))
			continue;
		cli_error("enable: %s: it is in %s cgroup '%s', ka-tune in '%s'%s: the "
			  "kernel re-tags a socket with the %s of whoever takes a descriptor of "
			  "it; nothing was changed", what, names[t],
		    d->theirs[t][0] ? d->theirs[t] : "/", d->ours[t][0] ? d->ours[t] : "/",
		    d->unknown & (1u << t) ? " (their tags could not be compared)" :
			" (their tags differ)", t == KT_NET_CLS ? "classid" : "priority index");
		if (d->dir[t][0])
			cli_error("enable: run ka-tune from within it: sh -c 'echo $$ > "
				  "%s/cgroup.procs && exec ka-tune enable --pid %d ...'", d->dir[t],
			    pid);
	}
	free(d);
}

/* Explain why kt_enable_pid() took none of process pid's sockets (err); what names it. */
static void
report_refusal(const char *what, int pid, int err)
{
	enum kt_denial why;
	int yama;

	if (err == -EXDEV) {
		report_tags(what, pid);
		return;
	}
	if (err != -EPERM) {
		cli_error("enable: %s: %s", what, cli_strerror(err, CLI_ABOUT_PIDFD));
		return;
	}
	if (kt_ptrace_denial(KT_PROC_DIR, pid, &why, &yama) < 0) {
		why = KT_DENY_OTHER;
		yama = -1;
	}
	cli_error("enable: %s: not permitted: %s", what, cli_denial(why, yama));
}

/* The options of a run, beside its target. */
struct enable_req {
	struct kt_enable_opts o;	/* the values, --port, --dry-run */
	int json, persist;
};

/* Turn keepalive on in the sockets of process pid (given as arg). */
static int
enable_pid(const char *arg, unsigned long long id, const struct enable_req *req)
{
	const struct kt_enable_opts *o = &req->o;
	struct kt_enable_report *r;
	char proc[CLI_PROCESS_LEN], what[32];
	int pid = (int)id, ret, err;

	err = kt_enable_pid(pid, o, &r);
	if (err < 0) {
		(void)snprintf(what, sizeof(what), "--pid %s", arg);
		report_refusal(what, pid, err);
		return EXIT_FAIL;
	}
	if (!o->dry_run && r->count[KT_ENABLE_DONE])
		cli_note_change("keepalive was turned on in %zu sockets of process %d",
		    r->count[KT_ENABLE_DONE], pid);
	cli_format_process(r->pid, r->comm, proc, sizeof(proc));
	if (req->json)
		print_json(r, o->dry_run);
	else
		print_text(r, proc, o->dry_run);
	ret = report_problems(r, proc);
	if (o->dry_run)
		cli_dry_run_done("nothing changed");
	kt_enable_free(r);
	return ret;
}

/* The processes of a cgroup whose sockets enable --cgroup went through. */
struct existing {
	const struct enable_req *req;
	const char *name;			/* the cgroup, as messages name it */
	struct kt_enable_report **r;		/* those with a socket to show */
	size_t n, cap;
	size_t procs;				/* processes looked at */
	size_t count[KT_NENABLE];		/* their sockets, by result */
	int failed;				/* a process or a socket could not be done */
};

/* kt_cgroup_procs()'s call for each process of the cgroup: enable it as --pid would. */
static int
existing_one(int pid, void *arg)
{
	struct existing *ex = arg;
	struct kt_enable_report *r;
	char what[PATH_MAX + 32];
	int err;

	if (pid == getpid())	/* ka-tune itself, run in it (a unit's ExecStartPre) */
		return 0;
	err = kt_enable_pid(pid, &ex->req->o, &r);
	if (err == -ESRCH)	/* gone meanwhile */
		return 0;
	if (err == -ENOMEM)
		return err;
	ex->procs++;
	if (err < 0) {
		(void)snprintf(what, sizeof(what), "--cgroup %s: process %d", ex->name, pid);
		report_refusal(what, pid, err);
		ex->failed = 1;
		return 0;
	}
	for (int i = 0; i < KT_NENABLE; i++)
		ex->count[i] += r->count[i];
	if (r->n == 0 && !r->stopped) {
		kt_enable_free(r);
		return 0;
	}
	if (ex->n == ex->cap) {
		size_t cap = ex->cap ? 2 * ex->cap : 8;
		struct kt_enable_report **more = reallocarray(ex->r, cap, sizeof(*more));

		if (!more) {
			kt_enable_free(r);
			return -ENOMEM;
		}
		ex->r = more;
		ex->cap = cap;
	}
	ex->r[ex->n++] = r;
	return 0;
}

static void
existing_free(struct existing *ex)
{
	for (size_t i = 0; i < ex->n; i++)
		kt_enable_free(ex->r[i]);
	free(ex->r);
}

/* Attach (or update) ka-tune's program on cg, with --persist its drop-ins too. */
static int
cgroup_attach(const struct kt_cgroup *cg, const struct enable_req *req,
    struct kt_bpf_result *res, struct kt_unit_result *unit, struct kt_unit_fail *fail)
{
	unsigned int flags = req->o.dry_run ? KT_BPF_DRY_RUN : 0;
	struct kt_unit_req ureq = {
		.bpf_dir = KT_BPF_DIR, .unit_dir = KT_UNIT_DIR, .bin = KT_BINDIR "/ka-tune",
		.cg = cg, .rel = cg->rel, .want = req->o.want, .flags = flags,
	};

	memset(fail, 0, sizeof(*fail));
	unit->n = 0;
	if (req->persist)
		return kt_unit_enable(&ureq, res, unit, fail);
	fail->stage = KT_UNIT_STAGE_BPF;
	return kt_bpf_enable(KT_BPF_DIR, cg, &req->o.want, flags, res, &fail->bpf);
}

/* The text of enable --cgroup: what became of the program, the processes, the drop-ins. */
static void
cgroup_text(const struct kt_cgroup *cg, const struct kt_bpf_result *res,
    const struct enable_req *req, const struct existing *ex, const struct kt_unit_result *unit)
{
	char vis[CLI_VIS_LEN(PATH_MAX)], was[CLI_POLICY_LEN], now[CLI_POLICY_LEN];
	char proc[CLI_PROCESS_LEN];
	int dry = req->o.dry_run;

	(void)cli_vis(cli_cgroup_name(cg->rel), vis, sizeof(vis));
	cli_policy_text(&req->o.want, now, sizeof(now));
	if (res->change == KT_BPF_UPDATED)
		printf("%s: %s: keepalive %s -> %s\n", vis, cli_bpf_change(res->change, dry),
		    cli_policy_text(&res->before, was, sizeof(was)), now);
	else
		printf("%s: %s: keepalive %s\n", vis, cli_bpf_change(res->change, dry), now);
	if (res->pruned)
		printf("%s: %u pin%s of removed cgroups %s\n", vis, res->pruned,
		    res->pruned == 1 ? "" : "s", dry ? "to remove" : "removed");
	for (size_t i = 0; i < ex->n; i++) {
		cli_format_process(ex->r[i]->pid, ex->r[i]->comm, proc, sizeof(proc));
		print_text(ex->r[i], proc, dry);
	}
	printf("%s: %zu process%s now: %zu socket%s %s, %zu %s, %zu %s\n", vis, ex->procs,
	    ex->procs == 1 ? "" : "es", ex->count[KT_ENABLE_DONE],
	    ex->count[KT_ENABLE_DONE] == 1 ? "" : "s", result_text[dry][KT_ENABLE_DONE],
	    ex->count[KT_ENABLE_ALREADY], result_text[dry][KT_ENABLE_ALREADY],
	    ex->count[KT_ENABLE_FAILED], result_text[dry][KT_ENABLE_FAILED]);
	cli_dropins_text(unit, dry);
}

/* The JSON result of enable --cgroup (ka-tune(8), JSON RESULTS). */
static void
cgroup_json(const struct kt_cgroup *cg, const struct kt_bpf_result *res,
    const struct enable_req *req, const struct existing *ex, const struct kt_unit_result *unit)
{
	int changed = res->change != KT_BPF_UNCHANGED || res->pruned ||
	    ex->count[KT_ENABLE_DONE] || cli_dropins_changed(unit);

	cli_json_open(changed);
	cli_json_cgroup(cg, res, &req->o.want);
	fputs(", \"processes\": [", stdout);
	for (size_t i = 0; i < ex->n; i++) {
		const struct kt_enable_report *r = ex->r[i];

		printf("%s{\"pid\": %d, \"comm\": ", i ? ", " : "", r->pid);
		cli_json_string(r->comm);
		fputs(", \"sockets\": [", stdout);
		for (size_t j = 0; j < r->n; j++) {
			fputs(j ? ", " : "", stdout);
			json_sock(&r->socks[j]);
		}
		printf("], \"exited\": %s}", r->exited ? "true" : "false");
	}
	printf("], \"summary\": {\"processes\": %zu, \"enabled\": %zu, \"already_on\": %zu, "
	       "\"failed\": %zu}", ex->procs, ex->count[KT_ENABLE_DONE],
	    ex->count[KT_ENABLE_ALREADY], ex->count[KT_ENABLE_FAILED]);
	cli_json_dropins(req->persist ? unit : NULL);
	cli_json_close();
}

/*
 * Go through the processes of cg and its descendants, after the program is in force, so that
 * no connection falls between: one established before belongs to a process listed now.
 */
static int
cgroup_existing(const struct kt_cgroup *cg, struct existing *ex)
{
	int r = kt_cgroup_procs(cg->fd, existing_one, ex, NULL);

	if (r < 0) {
		cli_error("enable: --cgroup %s: its processes: %s", ex->name,
		    cli_strerror(r, CLI_ABOUT_CGROUP));
		ex->failed = 1;
	}
	for (size_t i = 0; i < ex->n; i++) {
		char proc[CLI_PROCESS_LEN];

		cli_format_process(ex->r[i]->pid, ex->r[i]->comm, proc, sizeof(proc));
		if (report_problems(ex->r[i], proc) != EXIT_OK)
			ex->failed = 1;
	}
	return ex->failed ? EXIT_FAIL : EXIT_OK;
}

/* Keepalive for every connection of the cgroup at path arg, from now on and now. */
static int
enable_cgroup(const char *arg, unsigned long long id, const struct enable_req *req)
{
	struct existing ex = { .req = req };
	struct kt_unit_result unit;
	struct kt_bpf_result res;
	struct kt_unit_fail fail;
	struct kt_cgroup cg;
	char kind[KT_UNIT_NAME_LEN];
	enum kt_unit_kind k;
	int r, ret;

	(void)id;
	if ((r = cli_cgroup_open("--cgroup", arg, 0, &cg)) != EXIT_OK)
		return r;
	ex.name = cli_cgroup_name(cg.rel);
	if (req->persist && kt_unit_of_cgroup(cg.rel, kind, sizeof(kind), &k) < 0) {
		kt_cgroup_close(&cg);
		return cli_usage_error("enable: --persist: --cgroup %s is not the cgroup of a "
		    "systemd service or slice, whose drop-ins could make it last", ex.name);
	}
	r = cgroup_attach(&cg, req, &res, &unit, &fail);
	if (r < 0) {
		cli_cgroup_failure(ex.name, r, &fail);
		kt_cgroup_close(&cg);
		return EXIT_FAIL;
	}
	if (!req->o.dry_run && res.change != KT_BPF_UNCHANGED)
		cli_note_change("ka-tune's program was %s on cgroup %s",
		    cli_bpf_change(res.change, 0), ex.name);
	ret = cgroup_existing(&cg, &ex);
	if (req->json)
		cgroup_json(&cg, &res, req, &ex, &unit);
	else
		cgroup_text(&cg, &res, req, &ex, &unit);
	if (req->o.dry_run)
		cli_dry_run_done("nothing changed");
	existing_free(&ex);
	kt_cgroup_close(&cg);
	return ret;
}

/* enable --list: each cgroup with ka-tune's program, its values and counters. */
static int
list_cgroups(const char *arg, unsigned long long id, const struct enable_req *req)
{
	char vis[CLI_VIS_LEN(PATH_MAX)], pol[CLI_POLICY_LEN];
	struct kt_bpf_entry *e;
	size_t n;
	int r = kt_bpf_list(KT_BPF_DIR, &e, &n);

	(void)arg;
	(void)id;
	if (r < 0) {
		cli_error("enable: --list: %s", cli_strerror(r, CLI_ABOUT_BPF));
		return EXIT_FAIL;
	}
	if (req->json)
		fputs("{\"cgroups\": [", stdout);
	else
		printf("%-15s %12s %8s %s\n", "POLICY", "ENABLED", "FAILED", "CGROUP");
	for (size_t i = 0; i < n; i++) {
		if (!req->json) {
			printf("%-15s %12llu %8llu %s%s\n",
			    cli_policy_text(&e[i].policy, pol, sizeof(pol)), e[i].enabled,
			    e[i].failed, cli_vis(cli_cgroup_name(e[i].rel), vis, sizeof(vis)),
			    e[i].gone ? " (gone)" : "");
			continue;
		}
		fputs(i ? ",\n {\"path\": " : "\n {\"path\": ", stdout);
		cli_json_string(e[i].rel);
		printf(", \"id\": %llu, \"gone\": %s, \"policy\": ", e[i].cgid,
		    e[i].gone ? "true" : "false");
		cli_json_policy(&e[i].policy);
		printf(", \"enabled\": %llu, \"failed\": %llu, \"prog_id\": %u, \"link_id\": %u}",
		    e[i].enabled, e[i].failed, e[i].prog_id, e[i].link_id);
	}
	if (req->json)
		puts("]}");
	free(e);
	return EXIT_OK;
}

/* The options beside a target, as bits: which ones each target takes. */
enum {
	TAKES_PORT = 0x1,
	TAKES_VALUES = 0x2,
	TAKES_DRY_RUN = 0x4,
	TAKES_JSON = 0x8,
	TAKES_PERSIST = 0x10,
};
static const char *const takes_names[] = {
	"--port", "--time, --intvl and --probes", "--dry-run", "--json", "--persist",
};

/*
 * The kinds of target, one of which a run names: each its option, how its argument is judged,
 * the other options it takes, and what is done.
 */
static const struct target {
	const char *option;
	unsigned long long max;		/* its argument: a number 1..max; 0: a path, or none */
	unsigned int takes;
	int (*run)(const char *arg, unsigned long long id, const struct enable_req *req);
} targets[] = {
	{ "--pid", KT_PID_MAX, TAKES_PORT | TAKES_VALUES | TAKES_DRY_RUN | TAKES_JSON, enable_pid },
	{ "--cgroup", 0, TAKES_VALUES | TAKES_DRY_RUN | TAKES_JSON | TAKES_PERSIST, enable_cgroup },
	{ "--list", 0, TAKES_JSON, list_cgroups },
};
#define NTARGETS	(sizeof(targets) / sizeof(targets[0]))
#define TARGET_CGROUP	1
#define TARGET_LIST	2

/*
 * The target the options named: exactly one, taking the other options given (bits of TAKES_),
 * its argument judged into *ret_n. Returns its index, or -1 once reported.
 */
static int
one_target(const char *const arg[NTARGETS], unsigned int given, unsigned long long *ret_n)
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
		cli_usage_error("enable: nothing to enable: give --pid PID or --cgroup PATH "
				"(or --list)");
		return -1;
	}
	for (size_t b = 0; b < sizeof(takes_names) / sizeof(takes_names[0]); b++) {
		if ((given & (1u << b)) && !(targets[found].takes & (1u << b))) {
			cli_usage_error("enable: %s do%s not apply to %s", takes_names[b],
			    b == 1 ? "" : "es", targets[found].option);
			return -1;
		}
	}
	if (targets[found].max == 0) {
		if (found == TARGET_CGROUP && !*arg[found]) {
			cli_usage_error("enable: --cgroup needs a path");
			return -1;
		}
		*ret_n = 0;
		return found;
	}
	if (cli_parse_uint(targets[found].option, arg[found], 1, targets[found].max, ret_n) != 0)
		return -1;
	return found;
}

/* Whether the words name --cgroup, whose result is the JSON of the commands that change
 * something, kept from the first word on (--pid and --list have their own). */
static int
names_cgroup(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--cgroup") == 0 || strncmp(argv[i], "--cgroup=", 9) == 0)
			return 1;
	return 0;
}

static int
run_enable(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'P' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "list", no_argument, NULL, 'L' },
		{ "port", required_argument, NULL, 'o' },
		{ "time", required_argument, NULL, 't' },
		{ "intvl", required_argument, NULL, 'i' },
		{ "probes", required_argument, NULL, 'p' },
		{ "persist", no_argument, NULL, 'S' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct enable_req req = { .o = { 0 } };
	const char *arg[KT_NKEYS] = { NULL }, *target[NTARGETS] = { NULL }, *port = NULL;
	unsigned long long n, id;
	unsigned int given = 0;
	int c, r, t;

	if (cli_has_json(argc, argv, opts) && names_cgroup(argc, argv))
		cli_json_enable();
	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'P')
			target[0] = optarg;
		else if (c == 'C')
			target[TARGET_CGROUP] = optarg;
		else if (c == 'L')
			target[TARGET_LIST] = "";
		else if (c == 'o')
			port = optarg;
		else if (c == 'S')
			req.persist = 1;
		else if (c == 'n')
			req.o.dry_run = 1;
		else if (c == 'j')
			req.json = 1;
		else
			cli_value_arg(c, optarg, arg);
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	given = (port ? TAKES_PORT : 0) | (req.persist ? TAKES_PERSIST : 0) |
	    (req.o.dry_run ? TAKES_DRY_RUN : 0) | (req.json ? TAKES_JSON : 0) |
	    (arg[KT_TIME] || arg[KT_INTVL] || arg[KT_PROBES] ? TAKES_VALUES : 0);
	if ((t = one_target(target, given, &id)) < 0)
		return EXIT_USAGE;
	if (port && (r = cli_parse_uint("--port", port, 1, 65535, &n)) != 0)
		return r;
	req.o.port = port ? (unsigned int)n : 0;
	if ((r = cli_parse_values(arg, &req.o.want)) != 0)
		return r;
	cli_json_dry_run(req.o.dry_run);
	return targets[t].run(target[t], id, &req);
}

const struct cli_command cli_cmd_enable = {
	.name = "enable",
	.run = run_enable,
	.summary = "turn keepalive on in a process's TCP sockets, or a cgroup's",
	.synopsis =
	    "ka-tune enable --pid PID [--port N] [--time DUR] [--intvl DUR]\n"
	    "        [--probes N] [--dry-run] [--json]\n"
	    "ka-tune enable --cgroup PATH [--time DUR] [--intvl DUR] [--probes N]\n"
	    "        [--persist] [--dry-run] [--json]\n"
	    "ka-tune enable --list [--json]\n",
	.help =
	    "  --pid PID     the process: its TCP connections and listeners get keepalive\n"
	    "  --port N      only the sockets whose local or remote port is N\n"
	    "  --cgroup PATH a cgroup v2 directory, absolute or below the cgroup2 mount\n"
	    "                (system.slice/nginx.service): every TCP connection made in it or\n"
	    "                a cgroup below it from now on gets keepalive, from a BPF\n"
	    "                program pinned in " KT_BPF_DIR "; their open sockets now too\n"
	    "  --persist     with --cgroup (a systemd service's or slice's): also write\n"
	    "                drop-ins in " KT_UNIT_DIR " enabling it at each start\n"
	    "  --list        each cgroup enabled: its values, connections enabled and failed\n"
	    CLI_VALUES_HELP
	    "  values given become each socket's own; without, the sysctls apply to it\n"
	    "  --dry-run     say what would change, change nothing\n"
	    "  --json        one JSON object (ka-tune(8); --cgroup: JSON RESULTS)\n"
	    "  --cgroup and --list need root (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)\n",
	.not_in_netns = "the target is the process or cgroup, whatever network namespace it is in",
};
