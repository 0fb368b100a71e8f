/* cmd_show.c: ka-tune show: print the values the kernel uses now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <unistd.h>

#include "cli.h"

/* One line a key, aligned, with its unit; out-of-range values are flagged with their range. */
static void
show_text(const struct kt_values *v)
{
	char dur[KT_DURATION_LEN];
	long long detect;

	for (int k = 0; k < KT_NKEYS; k++) {
		int val = v->val[k];

		printf("%-29s = %d", kt_key(k)->name, val);
		if (!kt_key(k)->duration)
			printf(" probes");
		else if (val >= 60 && kt_format_duration(val, dur, sizeof(dur)) == 0)
			printf(" s (%s)", dur);
		else
			printf(" s");
		if (!kt_value_valid(k, val))
			printf("  [invalid: accepted %d..%d]", kt_key(k)->min, kt_key(k)->max);
		putchar('\n');
	}
	if (kt_detection_time(v, &detect) < 0) {
		puts("dead peer detection: unknown (a value is outside its accepted range)");
		return;
	}
	if (kt_format_duration(detect, dur, sizeof(dur)) < 0)
		dur[0] = '\0';
	printf("dead peer detection = %lld s (%s) = time + intvl x probes\n", detect, dur);
}

/* Exactly three sysctl.d lines. */
static void
show_sysctl(const struct kt_values *v)
{
	for (int k = 0; k < KT_NKEYS; k++)
		printf("%s = %d\n", kt_key(k)->name, v->val[k]);
}

/* One JSON object: the values, the detection time (null when unknown), the invalid keys. */
static void
show_json(const struct kt_values *v)
{
	const char *sep = "";
	long long detect;

	putchar('{');
	for (int k = 0; k < KT_NKEYS; k++)
		printf("\"%s\": %d, ", kt_key(k)->short_name, v->val[k]);
	if (kt_detection_time(v, &detect) == 0)
		printf("\"detection_time\": %lld, ", detect);
	else
		printf("\"detection_time\": null, ");
	printf("\"invalid\": [");
	for (int k = 0; k < KT_NKEYS; k++) {
		if (kt_value_valid(k, v->val[k]))
			continue;
		printf("%s\"%s\"", sep, kt_key(k)->short_name);
		sep = ", ";
	}
	puts("]}");
}

/* A namespace show --all-netns lists, with the values read in it. */
struct netns_row {
	const struct kt_netns *ns;
	struct kt_values v;
};

/*
 * Read the three values in namespace ns, saying on stderr what failed. A namespace that went
 * away since it was listed (its last process exited) is skipped: EXIT_OK without *ret.
 */
static int
read_in_netns(const struct kt_netns *ns, struct kt_values *ret, int *gone)
{
	struct kt_values v = { .mask = KT_ALL };
	const char *name = ns->name[0] ? ns->name : "-";
	int r;

	r = cli_enter_listed(ns);
	*gone = r == -ESRCH;
	if (*gone)
		return EXIT_OK;
	if (r < 0) {
		cli_error("netns %llu %s: cannot enter: %s", ns->ino, name,
		    cli_strerror(r, CLI_ABOUT_NETNS_ENTER));
		return EXIT_FAIL;
	}
	for (int k = 0; k < KT_NKEYS; k++) {
		r = kt_read(KT_PROC_ROOT, k, &v.val[k]);
		if (r < 0) {
			cli_error("netns %llu %s: %s: cannot read: %s", ns->ino, name,
			    kt_key(k)->name, cli_strerror(r, CLI_ABOUT_KEY));
			return EXIT_FAIL;
		}
	}
	*ret = v;
	return EXIT_OK;
}

/*
 * Read the values of every listed namespace into rows (room for n), skipping those gone and
 * those that fail (said on stderr). Returns EXIT_OK, or EXIT_FAIL when any failed.
 */
static int
read_all(const struct kt_netns *list, size_t n, struct netns_row *rows, size_t *ret_nrows)
{
	size_t nrows = 0;
	int ret = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		int gone;

		if (read_in_netns(&list[i], &rows[nrows].v, &gone) != EXIT_OK)
			ret = EXIT_FAIL;
		else if (!gone)
			rows[nrows++].ns = &list[i];
	}
	*ret_nrows = nrows;
	return ret;
}

/* The columns of show --all-netns: NETNS NAME PID, then one a key. */
enum { COL_INO, COL_NAME, COL_PID, COL_KEY, NCOLS = COL_KEY + KT_NKEYS };

/* The fields of one row of the text table, a name escaped for a terminal. */
struct text_row {
	char ino[24], pid[24], val[KT_NKEYS][KT_VALUE_LEN];
	char name[CLI_VIS_LEN(KT_NETNS_NAME_LEN)];
};

static void
text_fields(const struct netns_row *row, struct text_row *t)
{
	const struct kt_netns *ns = row->ns;

	(void)snprintf(t->ino, sizeof(t->ino), "%llu", ns->ino);
	(void)cli_vis(ns->name[0] ? ns->name : "-", t->name, sizeof(t->name));
	(void)snprintf(t->pid, sizeof(t->pid), ns->pid ? "%ld" : "-", ns->pid);
	for (int k = 0; k < KT_NKEYS; k++)
		(void)snprintf(t->val[k], sizeof(t->val[k]), "%d", row->v.val[k]);
}

/* Print a line of the table: text columns left-aligned, numbers right-aligned. */
static void
text_line(const int width[NCOLS], const char *const field[NCOLS])
{
	printf("%-*s %-*s %-*s", width[COL_INO], field[COL_INO], width[COL_NAME], field[COL_NAME],
	    width[COL_PID], field[COL_PID]);
	for (int k = 0; k < KT_NKEYS; k++)
		printf(" %*s", width[COL_KEY + k], field[COL_KEY + k]);
	putchar('\n');
}

/*
 * The text table. Each column is as wide as its widest field (at least as wide as ka-tune(8)
 * shows it), so that a long name, a large pid or a value the kernel took but ka-tune would
 * not (-2147483648) keeps the columns in line.
 */
static void
show_all_text(const struct netns_row *rows, size_t nrows)
{
	static const char *const head[NCOLS] = { "NETNS", "NAME", "PID", "TIME", "INTVL",
		"PROBES" };
	int width[NCOLS] = { 12, 16, 8, 6, 6, 6 };
	struct text_row t;
	const char *field[NCOLS];

	for (size_t i = 0; i < nrows; i++) {
		text_fields(&rows[i], &t);
		width[COL_INO] = MAX(width[COL_INO], (int)strlen(t.ino));
		width[COL_NAME] = MAX(width[COL_NAME], (int)strlen(t.name));
		width[COL_PID] = MAX(width[COL_PID], (int)strlen(t.pid));
		for (int k = 0; k < KT_NKEYS; k++)
			width[COL_KEY + k] = MAX(width[COL_KEY + k], (int)strlen(t.val[k]));
	}
	text_line(width, head);
	for (size_t i = 0; i < nrows; i++) {
		text_fields(&rows[i], &t);
		field[COL_INO] = t.ino;
		field[COL_NAME] = t.name;
		field[COL_PID] = t.pid;
		for (int k = 0; k < KT_NKEYS; k++)
			field[COL_KEY + k] = t.val[k];
		text_line(width, field);
	}
}

/* The JSON array: one object a namespace, one a line. */
static void
show_all_json(const struct netns_row *rows, size_t nrows)
{
	putchar('[');
	for (size_t i = 0; i < nrows; i++) {
		const struct kt_netns *ns = rows[i].ns;

		printf("%s{\"netns\": %llu, \"name\": ", i ? ",\n " : "", ns->ino);
		if (ns->name[0])
			cli_json_string(ns->name);
		else
			fputs("null", stdout);
		if (ns->pid)
			printf(", \"pid\": %ld", ns->pid);
		else
			fputs(", \"pid\": null", stdout);
		for (int k = 0; k < KT_NKEYS; k++)
			printf(", \"%s\": %d", kt_key(k)->short_name, rows[i].v.val[k]);
		putchar('}');
	}
	puts("]");
}

/*
 * Say which processes' namespaces were not looked at. Without root, other users' processes
 * are hidden as ka-tune(8) says, and that is no failure. Root is refused only by a process
 * the kernel's ptrace access check keeps even from root (one with capabilities ka-tune lacks,
 * or in a user namespace it has no rights in): its namespace may be missing from the list,
 * so that is said as it is, naming a pid, and the exit status is 1. Returns the exit status.
 */
static int
report_unseen(const struct kt_netns_unseen *u)
{
	if (u->n == 0)
		return EXIT_OK;
	if (geteuid() != 0) {
		cli_error("not looked at: the namespaces of %u process%s of other users (needs root)",
		    u->n, u->n == 1 ? "" : "es");
		return EXIT_OK;
	}
	cli_error("not looked at: the network namespace of pid %ld%s: %s; the list may lack it",
	    u->pid, u->n == 1 ? "" : " and of other processes",
	    cli_strerror(-EACCES, CLI_ABOUT_PROCESS_AS_ROOT));
	return EXIT_FAIL;
}

/*
 * show --all-netns: one row a network namespace (named ones and those of processes). A
 * namespace whose values cannot be read, or that root may not look at, is reported on stderr
 * and makes the exit status 1; the others are listed all the same.
 */
static int
show_all(enum cli_format format)
{
	struct kt_netns_unseen unseen;
	struct netns_row *rows;
	struct kt_netns *list;
	size_t n, nrows;
	int r, ret;

	r = kt_netns_list(KT_NETNS_DIR, KT_PROC_DIR, &list, &n, &unseen);
	if (r < 0) {
		cli_error("cannot list the network namespaces: %s",
		    cli_strerror(r, CLI_ABOUT_FILE_READ));
		return EXIT_FAIL;
	}
	rows = reallocarray(NULL, n ? n : 1, sizeof(*rows));
	if (!rows) {
		free(list);
		cli_error("cannot list the network namespaces: %s",
		    cli_strerror(-ENOMEM, CLI_ABOUT_FILE_READ));
		return EXIT_FAIL;
	}
	ret = read_all(list, n, rows, &nrows);
	if (format == CLI_FORMAT_JSON)
		show_all_json(rows, nrows);
	else
		show_all_text(rows, nrows);
	if (report_unseen(&unseen) != EXIT_OK)
		ret = EXIT_FAIL;
	free(rows);
	free(list);
	return ret;
}

/* What show is to print: the running values, every namespace's, or the boot values. */
struct show_args {
	enum cli_format format;
	int all, boot;
	const char *loader, *root;
};

/* Refuse the options that do not go together. Returns 0 or EXIT_USAGE. */
static int
check_args(const struct show_args *a)
{
	if (a->all && a->format == CLI_FORMAT_SYSCTL)
		return cli_usage_error("show: --all-netns and --sysctl exclude each other");
	if (a->all && a->boot)
		return cli_usage_error("show: --all-netns and --boot exclude each other");
	if ((a->loader || a->root) && !a->boot)
		return cli_usage_error("show: --loader and --root go with --boot");
	if (a->root && !*a->root)
		return cli_usage_error("show: --root needs a non-empty path");
	if ((a->all || a->boot) && (cli_target.netns || cli_target.pid))
		return cli_usage_error("show: --netns and --pid do not apply to %s: %s",
		    a->all ? "--all-netns" : "--boot", a->all ? "it shows every network namespace"
							  : "boot files set the host's namespace");
	return 0;
}

/* show without --all-netns or --boot: the values of the namespace ka-tune is in (or enters). */
static int
show_running(enum cli_format format)
{
	struct kt_values v;
	int r;

	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	if ((r = cli_read_kernel(KT_ALL, &v)) != EXIT_OK)
		return r;
	if (format == CLI_FORMAT_JSON)
		show_json(&v);
	else if (format == CLI_FORMAT_SYSCTL)
		show_sysctl(&v);
	else
		show_text(&v);
	return EXIT_OK;
}

static int
run_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysctl", no_argument, NULL, 's' },
		{ "all-netns", no_argument, NULL, 'a' },
		{ "boot", no_argument, NULL, 'b' },
		{ "loader", required_argument, NULL, 'l' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_args a = { .format = CLI_FORMAT_TEXT };
	unsigned int formats = 0;
	int c, r;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'a')
			a.all = 1;
		else if (c == 'b')
			a.boot = 1;
		else if (c == 'l')
			a.loader = optarg;
		else if (c == 'r')
			a.root = optarg;
		else
			formats |= cli_format_option(c);
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if ((r = cli_pick_format(formats, &a.format)) != 0 || (r = check_args(&a)) != 0)
		return r;
	if (a.boot)
		return cli_show_boot(a.root, a.loader, a.format);
	if (a.all)
		return show_all(a.format);
	return show_running(a.format);
}

const struct cli_command cli_cmd_show = {
	.name = "show",
	.run = run_show,
	.summary = "print the keepalive values the kernel uses now",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] show [--json | --sysctl]\n"
	    "ka-tune show --all-netns [--json]\n"
	    "ka-tune show --boot [--loader systemd|procps] [--root DIR] [--json | --sysctl]\n",
	.help =
	    "  --json        one JSON object (an array of them with --all-netns)\n"
	    "  --sysctl      the three lines a sysctl.d file holds\n"
	    "  --all-netns   one row per network namespace on the machine\n"
	    "  --boot        what the loader sets at boot, from which file:line\n"
	    "  --loader L    systemd (default where systemd runs) or procps (sysctl --system)\n"
	    "  --root DIR    read the sysctl.d files of an image tree under DIR\n"
	    "  --netns, --pid (before show): another network namespace's values\n",
	.not_in_netns = NULL,
};
