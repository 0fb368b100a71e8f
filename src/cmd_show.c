/* cmd_show.c: ka-tune show: print the values the kernel uses now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

enum format { FORMAT_TEXT, FORMAT_SYSCTL, FORMAT_JSON };

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

/*
 * Read the three values in namespace ns, saying on stderr what failed. A namespace that went
 * away since it was listed (its last process exited) is skipped: EXIT_OK without *ret.
 */
static int
read_in_netns(const struct kt_netns *ns, struct kt_values *ret, int *gone)
{
	struct kt_values v = { .mask = KT_ALL };
	int r;

	r = cli_enter_listed(ns);
	*gone = r == -ESRCH;
	if (*gone)
		return EXIT_OK;
	if (r < 0) {
		cli_error("netns %llu %s: cannot enter: %s", ns->ino, ns->name, cli_strerror(r, CLI_ABOUT_NETNS_ENTER));
		return EXIT_FAIL;
	}
	for (int k = 0; k < KT_NKEYS; k++) {
		r = kt_read(KT_PROC_ROOT, k, &v.val[k]);
		if (r < 0) {
			cli_error("netns %llu %s: %s: cannot read: %s", ns->ino, ns->name,
			    kt_key(k)->name, cli_strerror(r, CLI_ABOUT_KEY));
			return EXIT_FAIL;
		}
	}
	*ret = v;
	return EXIT_OK;
}

/* One row of show --all-netns, as text or as a JSON object. */
static void
show_netns_row(const struct kt_netns *ns, const struct kt_values *v, enum format format,
    int first)
{
	char pid[24] = "-";

	if (format != FORMAT_JSON) {
		if (ns->pid)
			(void)snprintf(pid, sizeof(pid), "%ld", ns->pid);
		printf("%-12llu %-16s %-8s %6d %6d %6d\n", ns->ino, ns->name[0] ? ns->name : "-",
		    pid, v->val[KT_TIME], v->val[KT_INTVL], v->val[KT_PROBES]);
		return;
	}
	printf("%s{\"netns\": %llu, \"name\": ", first ? "" : ",\n ", ns->ino);
	if (ns->name[0])
		cli_json_string(ns->name);
	else
		fputs("null", stdout);
	if (ns->pid)
		printf(", \"pid\": %ld", ns->pid);
	else
		fputs(", \"pid\": null", stdout);
	printf(", \"%s\": %d, \"%s\": %d, \"%s\": %d}", kt_key(KT_TIME)->short_name, v->val[KT_TIME],
	    kt_key(KT_INTVL)->short_name, v->val[KT_INTVL], kt_key(KT_PROBES)->short_name, v->val[KT_PROBES]);
}

/*
 * show --all-netns: one row a network namespace (named ones and those of processes). A
 * namespace whose values cannot be read is reported and makes the exit status 1.
 */
static int
show_all(enum format format)
{
	struct kt_netns_unseen unseen;
	struct kt_netns *list;
	size_t n;
	int r, ret = EXIT_OK, first = 1;

	r = kt_netns_list(KT_NETNS_DIR, KT_PROC_DIR, &list, &n, &unseen);
	if (r < 0) {
		cli_error("cannot list network namespaces: %s", cli_strerror(r, CLI_ABOUT_NETNS_ENTER));
		return EXIT_FAIL;
	}
	if (format == FORMAT_JSON)
		putchar('[');
	else
		printf("%-12s %-16s %-8s %6s %6s %6s\n", "NETNS", "NAME", "PID", "TIME", "INTVL",
		    "PROBES");
	for (size_t i = 0; i < n; i++) {
		struct kt_values v;
		int gone;

		if (read_in_netns(&list[i], &v, &gone) != EXIT_OK) {
			ret = EXIT_FAIL;
			continue;
		}
		if (gone)
			continue;
		show_netns_row(&list[i], &v, format, first);
		first = 0;
	}
	if (format == FORMAT_JSON)
		puts("]");
	free(list);
	if (unseen.n)
		cli_error("not looked at: the namespaces of %u process%s of other users (needs root)",
		    unseen.n, unseen.n == 1 ? "" : "es");
	return ret;
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
	enum format format = FORMAT_TEXT;
	struct kt_values v;
	const char *loader = NULL, *root = NULL;
	int c, r, json = 0, sysctl = 0, all = 0, boot = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			sysctl = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'b':
			boot = 1;
			break;
		case 'l':
			loader = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		}
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (json && sysctl)
		return cli_usage_error("show: --json and --sysctl exclude each other");
	format = json ? FORMAT_JSON : sysctl ? FORMAT_SYSCTL : FORMAT_TEXT;
	if (all && format == FORMAT_SYSCTL)
		return cli_usage_error("show: --all-netns and --sysctl exclude each other");
	if (all && boot)
		return cli_usage_error("show: --all-netns and --boot exclude each other");
	if ((loader || root) && !boot)
		return cli_usage_error("show: --loader and --root go with --boot");
	if (root && !*root)
		return cli_usage_error("show: --root needs a non-empty path");
	if ((all || boot) && (cli_target.netns || cli_target.pid))
		return cli_usage_error("show: --netns and --pid do not apply to %s: %s",
		    all ? "--all-netns" : "--boot", all ? "it shows every network namespace"
							: "boot files set the host's namespace");
	if (boot)
		return show_boot(root, loader, format == FORMAT_JSON ? 'j' :
		    format == FORMAT_SYSCTL ? 's' : 't');
	if (all)
		return show_all(format);

	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	r = cli_read_kernel(KT_ALL, &v);
	if (r != EXIT_OK)
		return r;
	if (format == FORMAT_JSON)
		show_json(&v);
	else if (format == FORMAT_SYSCTL)
		show_sysctl(&v);
	else
		show_text(&v);
	return EXIT_OK;
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
	    "  --root DIR    read the sysctl.d files of an image tree under DIR\n",
	.not_in_netns = NULL,
};
