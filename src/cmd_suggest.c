/* cmd_suggest.c: ka-tune suggest: values that keep idle connections alive behind a middlebox. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void
print_text(const struct cli_idle *mb, long long margin, const struct kt_values *v)
{
	char dur[KT_DURATION_LEN];
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
	printf("apply: ka-tune set --time %d --intvl %d --probes %d\n", v->val[KT_TIME],
	    v->val[KT_INTVL], v->val[KT_PROBES]);
}

static void
print_json(const struct cli_idle *mb, long long margin, const struct kt_values *v)
{
	long long detect = 0;

	(void)kt_detection_time(v, &detect);
	printf("{\"behind\": \"%s\", \"idle_timeout\": %lld, \"margin\": %lld, \"time\": %d, "
	       "\"intvl\": %d, \"probes\": %d, \"detection_time\": %lld, "
	       "\"set\": \"ka-tune set --time %d --intvl %d --probes %d\"}\n",
	    mb->name, mb->idle, margin, v->val[KT_TIME], v->val[KT_INTVL], v->val[KT_PROBES],
	    detect, v->val[KT_TIME], v->val[KT_INTVL], v->val[KT_PROBES]);
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

/* The output formats, which exclude each other. */
enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_SYSCTL, FORMAT_K8S, FORMAT_DOCKER };

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
	const char *behind = NULL, *idle = NULL, *detect_arg = NULL;
	struct cli_idle mb;
	struct kt_values v;
	static const char *const format_names[] = { "", "--json", "--sysctl", "--k8s", "--docker" };
	enum format format = FORMAT_TEXT, f;
	int c, r, detect = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		switch (c) {
		case 'B':
			behind = optarg;
			break;
		case 'I':
			idle = optarg;
			break;
		case 'D':
			detect_arg = optarg;
			break;
		default:
			f = c == 'j' ? FORMAT_JSON : c == 's' ? FORMAT_SYSCTL :
			    c == 'k' ? FORMAT_K8S : FORMAT_DOCKER;
			if (format != FORMAT_TEXT && format != f)
				return cli_usage_error("suggest: %s and %s exclude each other",
				    format_names[format], format_names[f]);
			format = f;
			break;
		}
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (behind && idle)
		return cli_usage_error("suggest: --behind and --idle-timeout exclude each other");
	if (!behind && !idle)
		return cli_usage_error("suggest: give --behind PROFILE or --idle-timeout DUR");
	if (detect_arg && (kt_parse_duration(detect_arg, &detect) < 0 || detect < 1)) {
		cli_error("--detect-within: '%s' is not a duration of 1 s or more (units d h m s "
			  "as in 600, 10m)", detect_arg);
		return EXIT_USAGE;
	}
	if ((r = cli_idle_timeout(behind, idle, &mb)) != EXIT_OK)
		return r;
	if (kt_suggest(mb.idle, detect, &v) < 0) {
		if (mb.idle - kt_idle_margin(mb.idle) < 2)
			cli_error("an idle timeout of %lld s leaves no room for keepalive under its "
				  "%lld s margin: the least is %lld s", mb.idle,
			    kt_idle_margin(mb.idle), 7LL);
		else
			cli_error("--detect-within: %d s is too short: the least any valid values "
				  "take is 2 s (time 1 + intvl 1 x probes 1)", detect);
		return EXIT_USAGE;
	}
	switch (format) {
	case FORMAT_SYSCTL:
		for (int k = 0; k < KT_NKEYS; k++)
			printf("%s = %d\n", kt_key(k)->name, v.val[k]);
		break;
	case FORMAT_JSON:
		print_json(&mb, kt_idle_margin(mb.idle), &v);
		break;
	case FORMAT_K8S:
		print_k8s(&v);
		break;
	case FORMAT_DOCKER:
		print_docker(&v);
		break;
	default:
		print_text(&mb, kt_idle_margin(mb.idle), &v);
		break;
	}
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
