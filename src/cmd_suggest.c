/* cmd_suggest.c: ka-tune suggest: values that keep idle connections alive behind a middlebox. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void
print_text(const struct cli_idle *mb, long long margin, const struct kt_values *v)
{
	char dur[KT_DURATION_LEN], line[CLI_SET_LINE_LEN];
	long long detect;

	if (kt_format_duration(mb->idle, dur, sizeof(dur)) < 0)
		dur[0] = '\0';
	printf("behind %s: %s, idle timeout %lld s (%s)\n", mb->name, mb->what, mb->idle, dur);
	for (int k = 0; k < KT_NKEYS; k++)
		printf("%-29s = %d\n", kt_key(k)->name, v->val[k]);
	printf("the first probe comes after %d s idle, a second %d s later if it is lost: %d s, "
	       "within the %lld s timeout less a %lld s margin\n", v->val[KT_TIME],
	    v->val[KT_INTVL], v->val[KT_TIME] + v->val[KT_INTVL], mb->idle, margin);
	if (kt_detection_time(v, &detect) == 0 &&
	    kt_format_duration(detect, dur, sizeof(dur)) == 0)
		printf("a dead peer is detected after %lld s (%s) = time + intvl x probes\n", detect,
		    dur);
	printf("apply: %s\n", cli_set_line(v, line, sizeof(line)));
}

/* One JSON object: the idle timeout, its margin, the values by their short names, the line. */
static void
print_json(const struct cli_idle *mb, long long margin, const struct kt_values *v)
{
	char line[CLI_SET_LINE_LEN];
	long long detect = 0;

	(void)kt_detection_time(v, &detect);
	printf("{\"behind\": ");
	cli_json_string(mb->name);
	printf(", \"idle_timeout\": %lld, \"margin\": %lld, ", mb->idle, margin);
	for (int k = 0; k < KT_NKEYS; k++)
		printf("\"%s\": %d, ", kt_key(k)->short_name, v->val[k]);
	printf("\"detection_time\": %lld, \"set\": ", detect);
	cli_json_string(cli_set_line(v, line, sizeof(line)));
	puts("}");
}
/*
 * The pod spec lines that set the values in a Kubernetes pod's network namespace. The kubelet
 * counts the three keys as safe sysctls since 1.29 (on kernels from 4.5, which made them per
 * namespace), so no --allowed-unsafe-sysctls is needed there.
 */
static void
print_k8s(const struct kt_values *v)
{
	puts("# pod spec; safe sysctls from Kubernetes 1.29 (kernel 4.5 or later)\n"
	     "securityContext:\n"
	     "  sysctls:");
	for (int k = 0; k < KT_NKEYS; k++)
		printf("  - name: %s\n    value: \"%d\"\n", kt_key(k)->name, v->val[k]);
}

/* The docker run (or podman run) flags that set the values in a container's namespace. */
static void
print_docker(const struct kt_values *v)
{
	for (int k = 0; k < KT_NKEYS; k++)
		printf("%s--sysctl %s=%d", k ? " " : "", kt_key(k)->name, v->val[k]);
	putchar('\n');
}

/* suggest's options, as given. */
struct suggest_args {
	const char *behind, *idle, *detect;
	unsigned int formats;
};

/*
 * Judge suggest's options into the idle timeout, the detection bound (0: none) and the format.
 * Returns EXIT_OK, EXIT_USAGE, or EXIT_FAIL when conntrack's timeout cannot be read.
 */
static int
judge(const struct suggest_args *a, struct cli_idle *mb, int *detect, enum cli_format *format)
{
	int r;

	if ((r = cli_pick_format(a->formats, format)) != 0)
		return r;
	if (a->behind && a->idle)
		return cli_usage_error("suggest: --behind and --idle-timeout exclude each other");
	if (!a->behind && !a->idle)
		return cli_usage_error("suggest: give --behind PROFILE or --idle-timeout DUR");
	*detect = 0;
	if (a->detect && cli_parse_duration("--detect-within", a->detect, 1, INT_MAX, detect) != 0)
		return EXIT_USAGE;
	return cli_idle_timeout(a->behind, a->idle, mb);
}

/* Say why kt_suggest() found no values: the idle timeout, or the detection bound, is too short. */
static int
no_values(const struct suggest_args *a, const struct cli_idle *mb, int detect)
{
	long long margin = kt_idle_margin(mb->idle), least = 1;

	if (mb->idle - margin >= 2) {
		cli_error("--detect-within: %d s is too short: the least any valid values take is "
			  "2 s (time 1 + intvl 1 x probes 1)", detect);
		return EXIT_USAGE;
	}
	while (least - kt_idle_margin(least) < 2)
		least++;
	cli_error("%s: an idle timeout of %lld s leaves no room for keepalive under its %lld s "
		  "margin: the least is %lld s", a->idle ? "--idle-timeout" : "--behind", mb->idle,
	    margin, least);
	return EXIT_USAGE;
}

static int
run_suggest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "behind", required_argument, NULL, 'B' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "detect-within", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "sysctl", no_argument, NULL, 's' },
		{ "k8s", no_argument, NULL, 'k' },
		{ "docker", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct suggest_args a = { 0 };
	enum cli_format format;
	struct cli_idle mb;
	struct kt_values v;
	int c, r, detect;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'B')
			a.behind = optarg;
		else if (c == 'I')
			a.idle = optarg;
		else if (c == 'D')
			a.detect = optarg;
		else
			a.formats |= cli_format_option(c);
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if ((r = judge(&a, &mb, &detect, &format)) != EXIT_OK)
		return r;
	if (kt_suggest(mb.idle, detect, &v) < 0)
		return no_values(&a, &mb, detect);
	if (format == CLI_FORMAT_SYSCTL)
		for (int k = 0; k < KT_NKEYS; k++)
			printf("%s = %d\n", kt_key(k)->name, v.val[k]);
	else if (format == CLI_FORMAT_JSON)
		print_json(&mb, kt_idle_margin(mb.idle), &v);
	else if (format == CLI_FORMAT_K8S)
		print_k8s(&v);
	else if (format == CLI_FORMAT_DOCKER)
		print_docker(&v);
	else
		print_text(&mb, kt_idle_margin(mb.idle), &v);
	return EXIT_OK;
}

const struct cli_command cli_cmd_suggest = {
	.name = "suggest",
	.run = run_suggest,
	.summary = "values that keep idle connections alive behind a NAT or LB",
	.synopsis =
	    "ka-tune suggest --behind PROFILE | --idle-timeout DUR [--detect-within DUR]\n"
	    "        [--json | --sysctl | --k8s | --docker]\n",
	.help =
	    CLI_IDLE_HELP
	    "  --detect-within DUR  also notice a dead peer within DUR: time + intvl x probes\n"
	    "  --json        one JSON object, with the ka-tune set line\n"
	    "  --sysctl      the three lines a sysctl.d file holds\n"
	    "  --k8s         a pod's securityContext.sysctls (safe sysctls from Kubernetes 1.29)\n"
	    "  --docker      the docker run --sysctl flags\n",
	.not_in_netns = "it computes values from an idle timeout (for another namespace's "
			"conntrack timeout, run it there with ip netns exec)",
};
