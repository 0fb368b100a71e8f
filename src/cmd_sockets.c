/* cmd_sockets.c: ka-tune sockets: which TCP connections use keepalive, grouped by process. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"

/* Which connections to list: --no-keepalive, --port. */
struct filter {
	int no_keepalive;
	unsigned int port;	/* 0: any */
};

/* The narrowest PROCESS column in the summary, as ka-tune(8) shows it. */
#define PROCESS_WIDTH	24

/* Keep the connections the filter selects, in order, at the start of socks. Returns how many. */
static size_t
select_socks(struct kt_sock *socks, size_t n, const struct filter *f)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		const struct kt_sock *s = &socks[i];

		if (f->no_keepalive && s->ka != KT_KA_OFF)
			continue;
		if (f->port && s->lport != f->port && s->rport != f->port)
			continue;
		if (kept != i)
			socks[kept] = *s;
		kept++;
	}
	return kept;
}

/* How wide the LOCAL and REMOTE columns must be to keep every row in line. */
static int
endpoint_width(const struct kt_sock *socks, size_t n)
{
	int width = CLI_ENDPOINT_WIDTH;

	for (size_t i = 0; i < n; i++) {
		const struct kt_sock *s = &socks[i];

		width = cli_endpoint_fit(width, s->family, s->local, s->lport);
		width = cli_endpoint_fit(width, s->family, s->remote, s->rport);
	}
	return width;
}

/*
 * The PROCESS field of each process holding a listed connection, escaped once a process rather
 * than once a connection: escaping costs more than all the rest of a row, and a busy host has
 * thousands of connections a process. Sorted by pid.
 */
struct label {
	int pid;
	char text[CLI_PROCESS_LEN];
};

/* Which connection to take a process's name from: the first of its pid, once sorted. */
struct holder {
	int pid;
	unsigned int sock;
};

/* Order labels, or holders, by the pid each starts with (a bare pid, as a key to look for). */
static int
by_pid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Make the labels of the processes holding socks. Returns them (to free), or NULL on ENOMEM. */
static struct label *
make_labels(const struct kt_sock *socks, size_t n, size_t *ret_n)
{
	struct holder *h = reallocarray(NULL, n ? n : 1, sizeof(*h));
	struct label *labels = NULL;
	size_t nh = 0, nl = 0;

	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (socks[i].pid)
			h[nh++] = (struct holder){ socks[i].pid, (unsigned int)i };
	qsort(h, nh, sizeof(*h), by_pid);
	for (size_t i = 0; i < nh; i++)
		if (i == 0 || h[i].pid != h[i - 1].pid)
			h[nl++] = h[i];
	labels = reallocarray(NULL, nl ? nl : 1, sizeof(*labels));
	for (size_t i = 0; labels && i < nl; i++) {
		const struct kt_sock *s = &socks[h[i].sock];

		labels[i].pid = s->pid;
		cli_format_process(s->pid, s->comm, labels[i].text, sizeof(labels[i].text));
	}
	free(h);
	*ret_n = nl;
	return labels;
}

/* One row of the text output, its endpoints in columns width wide. */
static void
print_row(const struct kt_sock *s, int width, const struct label *labels, size_t nlabels)
{
	char local[CLI_ENDPOINT_LEN], remote[CLI_ENDPOINT_LEN];
	char next[16] = "-", probes[12] = "-";
	const struct label *l;

	cli_format_endpoint(s->family, s->local, s->lport, local, sizeof(local));
	cli_format_endpoint(s->family, s->remote, s->rport, remote, sizeof(remote));
	if (s->ka == KT_KA_ON) {
		(void)snprintf(next, sizeof(next), "%u.%u", s->next_ms / 1000,
		    s->next_ms % 1000 / 100);
		(void)snprintf(probes, sizeof(probes), "%u", s->probes);
	}
	l = s->pid ? bsearch(&s->pid, labels, nlabels, sizeof(*labels), by_pid) : NULL;
	printf("%-11s %-*s %-*s %-9s %9s %6s %s\n", kt_sock_state_name(s->state), width, local,
	    width, remote, kt_ka_name(s->ka), next, probes, l ? l->text : "-");
}

/* Write the PROCESS field of a group: "pid/comm", or "- (uid N)" when no process was seen. */
static void
group_label(const struct kt_sock_group *g, char *buf, size_t len)
{
	if (g->pid)
		cli_format_process(g->pid, g->comm, buf, len);
	else
		(void)snprintf(buf, len, "- (uid %u)", g->uid);
}

/* The summary: a row a process (or user), neglect first, its first column as wide as needed. */
static void
print_groups(const struct kt_sock_group *groups, size_t ngroups)
{
	char proc[CLI_PROCESS_LEN];
	int width = PROCESS_WIDTH;

	for (size_t i = 0; i < ngroups; i++) {
		group_label(&groups[i], proc, sizeof(proc));
		width = MAX(width, (int)strlen(proc));
	}
	printf("%-*s %7s %9s %7s %7s\n", width, "PROCESS", "CONNS", "KEEPALIVE", "WITHOUT",
	    "UNKNOWN");
	for (size_t i = 0; i < ngroups; i++) {
		const struct kt_sock_group *g = &groups[i];

		group_label(g, proc, sizeof(proc));
		printf("%-*s %7zu %9zu %7zu %7zu\n", width, proc, g->on + g->off + g->unknown,
		    g->on, g->off, g->unknown);
	}
}

/*
 * The text output: a row a connection, the counts, then a row a process, neglect first.
 * Returns 0, or -ENOMEM (then nothing is printed).
 */
static int
print_text(const struct kt_sock *socks, size_t n, const struct kt_sock_group *groups,
    size_t ngroups)
{
	size_t count[KT_NKA] = { 0 }, nlabels;
	int width = endpoint_width(socks, n);
	struct label *labels = make_labels(socks, n, &nlabels);

	if (!labels)
		return -ENOMEM;
	printf("%-11s %-*s %-*s %-9s %9s %6s %s\n", "STATE", width, "LOCAL", width, "REMOTE",
	    "KEEPALIVE", "NEXT", "PROBES", "PROCESS");
	for (size_t i = 0; i < n; i++) {
		print_row(&socks[i], width, labels, nlabels);
		count[socks[i].ka]++;
	}
	free(labels);
	printf("\n%zu connection%s, %zu without keepalive (%zu with it, %zu unknown, "
	       "%zu not applicable)\n", n, n == 1 ? "" : "s", count[KT_KA_OFF], count[KT_KA_ON],
	    count[KT_KA_UNKNOWN], count[KT_KA_NA]);
	if (ngroups > 0)
		print_groups(groups, ngroups);
	return 0;
}

/* The process fields of a JSON object: pid and comm, null when no process was seen. */
static void
json_process(int pid, const char *comm)
{
	if (!pid) {
		fputs("\"pid\": null, \"comm\": null", stdout);
		return;
	}
	printf("\"pid\": %d, \"comm\": ", pid);
	cli_json_string(comm);
}

/* One connection as a JSON object. */
static void
json_row(const struct kt_sock *s)
{
	putchar('{');
	cli_json_endpoints(s->family, s->state, s->local, s->lport, s->remote, s->rport);
	printf(", \"keepalive\": \"%s\", ", kt_ka_name(s->ka));
	if (s->ka == KT_KA_ON)
		printf("\"next_probe_ms\": %u, \"probes\": %u, ", s->next_ms, s->probes);
	else
		fputs("\"next_probe_ms\": null, \"probes\": null, ", stdout);
	printf("\"uid\": %u, ", s->uid);
	if (s->inode)
		printf("\"inode\": %u, ", s->inode);
	else
		fputs("\"inode\": null, ", stdout);
	json_process(s->pid, s->comm);
	putchar('}');
}

/* The --json output: one object, documented in ka-tune(8); keep it stable. */
static void
print_json(const struct kt_sock *socks, size_t n, const struct kt_sock_group *groups,
    size_t ngroups, unsigned int not_seen)
{
	size_t count[KT_NKA] = { 0 };

	fputs("{\"connections\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n " : "\n ", stdout);
		json_row(&socks[i]);
		count[socks[i].ka]++;
	}
	printf("],\n \"summary\": {\"connections\": %zu, \"keepalive_on\": %zu, "
	       "\"keepalive_off\": %zu, \"keepalive_unknown\": %zu, \"not_applicable\": %zu, "
	       "\"processes\": [", n, count[KT_KA_ON], count[KT_KA_OFF], count[KT_KA_UNKNOWN],
	    count[KT_KA_NA]);
	for (size_t i = 0; i < ngroups; i++) {
		const struct kt_sock_group *g = &groups[i];

		fputs(i ? ",\n  {" : "\n  {", stdout);
		json_process(g->pid, g->comm);
		printf(", \"uid\": %u, \"connections\": %zu, \"keepalive_on\": %zu, "
		       "\"keepalive_off\": %zu, \"keepalive_unknown\": %zu}", g->uid,
		    g->on + g->off + g->unknown, g->on, g->off, g->unknown);
	}
	printf("]},\n \"not_seen\": %u}\n", not_seen);
}

/*
 * Say whose open files could not be looked at: without root, other users' processes, as
 * ka-tune(8) says; as root, processes the kernel keeps even from root (see show --all-netns).
 * Neither makes the listing fail: their connections are listed, without a process.
 */
static void
report_not_seen(unsigned int n)
{
	if (n == 0)
		return;
	if (geteuid() != 0)
		cli_error("sockets: not seen: the open files of %u process%s of other users (needs "
			  "root); the connections they hold show no process", n, n == 1 ? "" : "es");
	else
		cli_error("sockets: not seen: the open files of %u process%s: %s; the connections "
			  "they hold show no process", n, n == 1 ? "" : "es",
		    cli_strerror(-EACCES, CLI_ABOUT_PROCESS_AS_ROOT));
}

/*
 * List the connections the filter selects, with their owners, then the summary. Returns
 * EXIT_OK, or EXIT_FAIL when the kernel or /proc could not be read.
 */
static int
list_sockets(const struct filter *f, int json)
{
	struct kt_sock_group *groups = NULL;
	struct kt_sock *socks = NULL;
	size_t n, ngroups;
	unsigned int not_seen = 0;
	int r, ret = EXIT_FAIL;

	r = kt_sock_dump(&socks, &n);
	if (r < 0) {
		cli_error("sockets: cannot list the connections: %s", cli_strerror(r, CLI_ABOUT_SOCKDIAG));
		return EXIT_FAIL;
	}
	n = select_socks(socks, n, f);
	r = kt_sock_owners(KT_PROC_DIR, socks, n, &not_seen);
	if (r < 0) {
		cli_error("sockets: cannot look for the processes holding them: %s",
		    cli_strerror(r, CLI_ABOUT_SOCKDIAG));
		goto out;
	}
	r = kt_sock_group(socks, n, &groups, &ngroups);
	if (r < 0) {
		cli_error("sockets: %s", cli_strerror(r, CLI_ABOUT_SOCKDIAG));
		goto out;
	}
	if (json) {
		print_json(socks, n, groups, ngroups, not_seen);
	} else if ((r = print_text(socks, n, groups, ngroups)) < 0) {
		cli_error("sockets: %s", cli_strerror(r, CLI_ABOUT_SOCKDIAG));
		goto out;
	}
	report_not_seen(not_seen);
	ret = EXIT_OK;
out:
	free(groups);
	free(socks);
	return ret;
}

static int
run_sockets(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-keepalive", no_argument, NULL, 'k' },
		{ "port", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filter f = { 0 };
	const char *port = NULL;
	unsigned long long n;
	int c, r, json = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'k')
			f.no_keepalive = 1;
		else if (c == 'p')
			port = optarg;
		else
			json = 1;
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (port) {
		if ((r = cli_parse_uint("--port", port, 1, 65535, &n)) != 0)
			return r;
		f.port = (unsigned int)n;
	}
	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	return list_sockets(&f, json);
}

const struct cli_command cli_cmd_sockets = {
	.name = "sockets",
	.run = run_sockets,
	.summary = "which TCP connections use keepalive, and whose they are",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] sockets [--no-keepalive]\n"
	    "        [--port N] [--json]\n",
	.help =
	    "  --no-keepalive  only the connections without keepalive\n"
	    "  --port N        only those whose local or remote port is N\n"
	    "  --json          one JSON object: the connections and the summary by process\n"
	    "  --netns, --pid (before sockets): another network namespace's connections\n",
	.not_in_netns = NULL,
};
