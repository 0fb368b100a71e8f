/* cmd_suggest.c: ka-tune suggest: values that keep idle connections alive behind a middlebox. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* List the profiles' names, for messages. */
static void
profile_names(char *buf, size_t len)
{
	const struct kt_profile *p;
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; (p = kt_profile_at(i)) && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", p->name);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/*
 * Turn --behind PROFILE or --idle-timeout DUR into an idle timeout in seconds and a label that
 * says where it comes from. Returns EXIT_OK, EXIT_USAGE (bad name or duration) or EXIT_FAIL
 * (conntrack's timeout cannot be read).
 */
int
cli_idle_timeout(const char *behind, const char *idle_arg, struct cli_idle *ret)
{
	const struct kt_profile *p;
	char names[128];
	int secs, r;

	if (idle_arg) {
		r = kt_parse_duration(idle_arg, &secs);
		if (r < 0 || secs < 1) {
			cli_error("--idle-timeout: '%s' is %s; accepted 1..%d seconds, or units d h m s "
				  "as in 350, 5m50s, 1h", idle_arg,
			    r == -EINVAL ? "not a duration" : "out of range", 2147483647);
			return EXIT_USAGE;
		}
		*ret = (struct cli_idle){ .idle = secs, .name = "--idle-timeout",
			.what = "a middlebox" };
		return EXIT_OK;
	}
	if (kt_profile_find(behind, &p) < 0) {
		profile_names(names, sizeof(names));
		cli_error("--behind: '%s' is not a profile; known: %s", behind, names);
		return EXIT_USAGE;
	}
	r = kt_profile_timeout(p, KT_PROC_ROOT, &ret->idle);
	if (r == -ENOENT) {
		cli_error("%s: net.netfilter.nf_conntrack_tcp_timeout_established is missing: the "
			  "nf_conntrack module is not loaded, this machine tracks no connections",
		    p->name);
		return EXIT_FAIL;
	}
	if (r < 0) {
		cli_error("%s: cannot read net.netfilter.nf_conntrack_tcp_timeout_established: %s",
		    p->name, kt_strerror(r));
		return EXIT_FAIL;
	}
	ret->name = p->name;
	ret->what = p->what;
	return EXIT_OK;
}

/* Parse the --behind / --idle-timeout pair shared by check and suggest; 0 or EXIT_USAGE. */
int
cli_behind_option(int c, const char *arg, const char **behind, const char **idle)
{
	if ((c == 'B' && *idle) || (c == 'I' && *behind))
		return cli_usage_error("--behind and --idle-timeout exclude each other");
	if (c == 'B')
		*behind = arg;
	else
		*idle = arg;
	return 0;
}

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

int
cmd_suggest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "behind", required_argument, NULL, 'B' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "detect-within", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "sysctl", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *behind = NULL, *idle = NULL, *detect_arg = NULL;
	struct cli_idle mb;
	struct kt_values v;
	int c, r, format = 0, detect = 0;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'B':
		case 'I':
			if ((r = cli_behind_option(c, optarg, &behind, &idle)) != 0)
				return r;
			break;
		case 'D':
			detect_arg = optarg;
			break;
		case 'j':
		case 's':
			if (format && format != c)
				return cli_usage_error("suggest: --json and --sysctl exclude each other");
			format = c;
			break;
		case 'h':
			return cli_help();
		default:
			return cli_bad_option(argv, c);
		}
	}
	if (optind < argc)
		return cli_usage_error("suggest: unexpected argument '%s'", argv[optind]);
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
	if (format == 's')
		for (int k = 0; k < KT_NKEYS; k++)
			printf("%s = %d\n", kt_key(k)->name, v.val[k]);
	else if (format == 'j')
		print_json(&mb, kt_idle_margin(mb.idle), &v);
	else
		print_text(&mb, kt_idle_margin(mb.idle), &v);
	return EXIT_OK;
}
