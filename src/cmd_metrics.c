/* cmd_metrics.c: ka-tune metrics: the values, the boot drift, the idle-timeout verdict and the
 * connections with and without keepalive by process, in the Prometheus text format, for
 * node_exporter's textfile collector; --output replaces its *.prom file whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Room for a process name as a label value: each byte may take 4 ("\xff"), NUL included. */
#define LABEL_LEN	(4 * KT_COMM_LEN + 1)

/* The connections of the processes of one name, counted by their keepalive. */
struct by_name {
	char label[LABEL_LEN];
	size_t on, off, unknown;
};

/*
 * Write a process's name as a label value, into buf (LABEL_LEN bytes). The exposition format
 * wants UTF-8, and a name may hold any bytes: its UTF-8 characters are kept, a backslash is
 * written \\, and each byte that is a control character (C0, DEL, C1) or not part of valid
 * UTF-8 is written \xHH. No two names give the same label, and no byte a terminal acts on
 * reaches the file.
 */
static void
name_label(const char *comm, char *buf)
{
	const unsigned char *p = (const unsigned char *)comm;
	char *o = buf;

	while (*p) {
		size_t n = cli_utf8_len(p);
		unsigned int c = n == 2 ? (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu) : p[0];

		if (*p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (n == 0 || (n <= 2 && (c < 0x20 || (c >= 0x7f && c <= 0x9f)))) {
			for (size_t i = 0; i < (n ? n : 1); i++)
				o += sprintf(o, "\\x%02x", p[i]);
		} else {
			memcpy(o, p, n);
			o += n;
		}
		p += n ? n : 1;
	}
	*o = '\0';
}

/* Print a label value as the exposition format quotes it: \ " and newline escaped. */
static void
print_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static int
by_label(const void *a, const void *b)
{
	return strcmp(((const struct by_name *)a)->label, ((const struct by_name *)b)->label);
}

/*
 * Count the connections keepalive applies to by the name of the process holding them (the
 * processes of one name add up: pids come and go, names stay), sorted by label; those no
 * process was seen holding are counted in *unowned. Returns the array (to free) and sets
 * *ret_n, or NULL on ENOMEM.
 */
static struct by_name *
count_by_name(const struct kt_sock_group *groups, size_t ngroups, size_t *ret_n,
    struct by_name *unowned)
{
	struct by_name *names = reallocarray(NULL, ngroups ? ngroups : 1, sizeof(*names));
	size_t n = 0;

	if (!names)
		return NULL;
	for (size_t i = 0; i < ngroups; i++) {
		const struct kt_sock_group *g = &groups[i];
		struct by_name *to = unowned;

		if (g->pid) {
			to = &names[n++];
			*to = (struct by_name){ .on = 0 };
			name_label(g->comm, to->label);
		}
		to->on += g->on;
		to->off += g->off;
		to->unknown += g->unknown;
	}
	qsort(names, n, sizeof(*names), by_label);
	/* Add up the processes of one name: the same label, now side by side. */
	for (size_t i = 0, kept = 0; i < n; i++) {
		if (kept > 0 && strcmp(names[kept - 1].label, names[i].label) == 0) {
			names[kept - 1].on += names[i].on;
			names[kept - 1].off += names[i].off;
			names[kept - 1].unknown += names[i].unknown;
		} else {
			names[kept++] = names[i];
		}
		*ret_n = kept;
	}
	if (n == 0)
		*ret_n = 0;
	return names;
}

/* The HELP and TYPE lines of a gauge. */
static void
gauge(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The running values, and the detection time when they are all within their ranges. */
static void
print_values(FILE *f, const struct kt_values *v)
{
	static const char *const help[KT_NKEYS] = {
		"idle time before the first keepalive probe (net.ipv4.tcp_keepalive_time).",
		"time between unanswered keepalive probes (net.ipv4.tcp_keepalive_intvl).",
		"unanswered probes before the peer is dead (net.ipv4.tcp_keepalive_probes).",
	};
	char name[64];
	long long detect;

	for (int k = 0; k < KT_NKEYS; k++) {
		(void)snprintf(name, sizeof(name), "ka_tune_keepalive_%s%s", kt_key(k)->short_name,
		    kt_key(k)->duration ? "_seconds" : "");
		gauge(f, name, help[k]);
		fprintf(f, "%s %d\n", name, v->val[k]);
	}
	gauge(f, "ka_tune_dead_peer_detection_seconds", "time + intvl x probes: how long a dead "
	    "peer goes unnoticed; absent when a value is outside its accepted range.");
	if (kt_detection_time(v, &detect) == 0)
		fprintf(f, "ka_tune_dead_peer_detection_seconds %lld\n", detect);
}

/* Boot drift, as check finds it, and how many sysctl.d files could not be read. */
static void
print_boot(FILE *f, const struct kt_boot *b, enum kt_loader loader, const struct kt_values *v,
    int unsure)
{
	int drift = 0;

	for (int k = 0; k < KT_NKEYS; k++)
		drift |= kt_boot_key(b, k)->val != v->val[k];
	gauge(f, "ka_tune_boot_drift", "1 when a running value is not the one the boot loader "
	    "sets (ka-tune check), else 0.");
	fprintf(f, "ka_tune_boot_drift{loader=\"%s\"} %d\n", kt_loader_name(loader), drift);
	gauge(f, "ka_tune_boot_unread_files", "sysctl.d files ka-tune could not read: when not 0, "
	    "the boot values and the drift may be wrong.");
	fprintf(f, "ka_tune_boot_unread_files %d\n", unsure);
}

/* The idle timeout of --behind, and whether the running values keep connections alive. */
static void
print_behind(FILE *f, const struct cli_idle *mb, const struct kt_values *v)
{
	gauge(f, "ka_tune_idle_timeout_seconds", "the idle timeout of the middlebox the values are "
	    "judged against (--behind).");
	fprintf(f, "ka_tune_idle_timeout_seconds{behind=\"%s\"} %lld\n", mb->name, mb->idle);
	gauge(f, "ka_tune_idle_timeout_safe", "1 when time + intvl is within the idle timeout "
	    "less its margin, else 0 (also when a value is outside its accepted range).");
	fprintf(f, "ka_tune_idle_timeout_safe{behind=\"%s\"} %d\n", mb->name,
	    kt_behind_check(v, mb->idle) == 0);
}

/* One line of a connections gauge for each keepalive state. */
static void
print_counts(FILE *f, const char *metric, const char *label, const struct by_name *c)
{
	static const char *const state[] = { "on", "off", "unknown" };
	const size_t count[] = { c->on, c->off, c->unknown };

	for (size_t i = 0; i < 3; i++) {
		fprintf(f, "%s{", metric);
		if (label) {
			fputs("process=\"", f);
			print_label(f, label);
			fputs("\",", f);
		}
		fprintf(f, "keepalive=\"%s\"} %zu\n", state[i], count[i]);
	}
}

/*
 * The connections keepalive applies to, by process name and keepalive state, and those of no
 * process seen. Returns 0, or EXIT_FAIL when they cannot be listed (said on stderr).
 */
static int
print_connections(FILE *f)
{
	struct kt_sock_group *groups = NULL;
	struct kt_sock *socks = NULL;
	struct by_name *names = NULL, unowned = { .on = 0 };
	size_t n, ngroups, nnames = 0;
	unsigned int not_seen = 0;
	int r;

	r = kt_sock_dump(&socks, &n);
	if (r == 0)
		r = kt_sock_owners(KT_PROC_DIR, socks, n, &not_seen);
	if (r == 0)
		r = kt_sock_group(socks, n, &groups, &ngroups);
	if (r == 0 && !(names = count_by_name(groups, ngroups, &nnames, &unowned)))
		r = -ENOMEM;
	if (r < 0) {
		cli_error("metrics: cannot count the connections: %s",
		    cli_strerror(r, CLI_ABOUT_SOCKDIAG));
		goto out;
	}
	if (not_seen)
		cli_warn("metrics: the open files of %u process%s could not be looked at (%s): their "
			 "connections count as ka_tune_connections_unowned", not_seen,
		    not_seen == 1 ? "" : "es", cli_strerror(-EACCES, CLI_ABOUT_PROCESS));
	gauge(f, "ka_tune_connections", "TCP connections keepalive applies to, by the name of the "
	    "process holding them and whether keepalive is on, off or unknown (ka-tune sockets).");
	for (size_t i = 0; i < nnames; i++)
		print_counts(f, "ka_tune_connections", names[i].label, &names[i]);
	gauge(f, "ka_tune_connections_unowned", "TCP connections keepalive applies to that no "
	    "process was seen holding (other users' processes, without root), by keepalive.");
	print_counts(f, "ka_tune_connections_unowned", NULL, &unowned);
out:
	free(names);
	free(groups);
	free(socks);
	return r < 0 ? EXIT_FAIL : 0;
}

/* Gather everything into f. Returns EXIT_OK, or EXIT_FAIL (said on stderr). */
static int
collect(FILE *f, const struct cli_idle *mb)
{
	enum kt_loader loader = kt_boot_default_loader(NULL, 1);
	struct kt_values v;
	struct kt_boot *b;
	int r, unsure;

	if ((r = cli_read_kernel(KT_ALL, &v)) != EXIT_OK)
		return r;
	if ((r = cli_boot_read(NULL, loader, &b, &unsure)) != EXIT_OK)
		return r;
	print_values(f, &v);
	print_boot(f, b, loader, &v, unsure);
	kt_boot_free(b);
	if (mb)
		print_behind(f, mb, &v);
	return print_connections(f);
}

/* Write the text to stdout (path NULL), or replace the file with it. Returns the exit status. */
static int
output(const char *path, const char *text, size_t len)
{
	size_t n;
	int r, sync_err;

	if (!path) {
		(void)fwrite(text, 1, len, stdout);	/* a short write shows in cli_finish() */
		return EXIT_OK;
	}
	n = strlen(path);
	if (n < 5 || strcmp(path + n - 5, ".prom") != 0)
		cli_warn("%s: the name does not end in .prom: the textfile collector does not read "
			 "it", path);
	r = kt_replace_file(path, text, len, KT_LOCK_TIMEOUT * 1000, &sync_err);
	if (r < 0) {
		cli_error("%s: cannot write: %s", path, cli_strerror(r, CLI_ABOUT_FILE_WRITE));
		return EXIT_FAIL;
	}
	if (sync_err < 0)
		cli_warn("%s: written, but syncing its directory failed: %s", path,
		    cli_strerror(sync_err, CLI_ABOUT_FILE_WRITE));
	return EXIT_OK;
}

static int
run_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "behind", required_argument, NULL, 'B' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *behind = NULL, *path = NULL;
	struct cli_idle mb;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int c, r;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'B')
			behind = optarg;
		else
			path = optarg;
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (path && !*path)
		return cli_usage_error("metrics: --output needs a non-empty path");
	if (behind && (r = cli_idle_timeout(behind, NULL, &mb)) != EXIT_OK)
		return r;
	if (!(f = open_memstream(&text, &len))) {
		cli_error("metrics: %s", cli_strerror(-errno, CLI_ABOUT_FILE_WRITE));
		return EXIT_FAIL;
	}
	r = collect(f, behind ? &mb : NULL);
	if (fclose(f) != 0 && r == EXIT_OK) {
		cli_error("metrics: %s", cli_strerror(-errno, CLI_ABOUT_FILE_WRITE));
		r = EXIT_FAIL;
	}
	if (r == EXIT_OK)
		r = output(path, text, len);
	free(text);
	return r;
}

const struct cli_command cli_cmd_metrics = {
	.name = "metrics",
	.run = run_metrics,
	.summary = "the values, drift and connections for Prometheus (node_exporter)",
	.synopsis = "ka-tune metrics [--behind PROFILE] [--output FILE]\n",
	.help =
	    "  prints the Prometheus text format: the values, the detection time, boot drift,\n"
	    "  and connections with and without keepalive by process name\n"
	    "  --behind P    also the idle-timeout verdict behind P: aws-nat, azure-lb, gcp-nat,\n"
	    "                aliyun-nat, conntrack\n"
	    "  --output FILE replace FILE whole (for node_exporter's textfile collector, *.prom)\n",
	.not_in_netns = "it judges the host's values against the host's boot files",
};
