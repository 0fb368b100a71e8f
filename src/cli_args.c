/* cli_args.c: the command line: options as getopt_long finds them, held to their full names,
 * and their values judged, each kind by one parser, with messages that name the option, the
 * value and what is accepted. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The running command's name and ": ", for messages; "" before a command is chosen. */
static const char *
prefix(void)
{
	static char buf[32];

	if (!cli_running)
		return "";
	(void)snprintf(buf, sizeof(buf), "%s: ", cli_running->name);
	return buf;
}

/*
 * The word of argv that named the long option just found: the one before its value when that
 * came as the next word.
 */
static const char *
option_word(char **argv, const struct option *o)
{
	if (o->has_arg == required_argument && optarg == argv[optind - 1])
		return argv[optind - 2];
	return argv[optind - 1];
}

/*
 * Whether the word names the option in full. getopt_long() takes any unambiguous prefix
 * (--rem for --remove); ka-tune does not, so that a script keeps its meaning when an option
 * with the same start is added. "--name=value" is the name in full.
 */
static int
full_name(const char *word, const char *name)
{
	size_t n = strlen(name);

	return strncmp(word, "--", 2) == 0 && strncmp(word + 2, name, n) == 0 &&
	    (word[2 + n] == '\0' || word[2 + n] == '=');
}

/*
 * Find the next option of the running command (or of ka-tune itself, before one) in argv, as
 * getopt_long() does with the option string "+:h": options stop at the first argument.
 * Returns the option's val, -1 at the end of the options, CLI_OPT_HELP for --help or -h, or
 * CLI_OPT_BAD once a bad option (unknown, abbreviated, missing its value) has been reported.
 */
int
cli_getopt(int argc, char **argv, const struct option *opts)
{
	int idx = -1, c;

	opterr = 0;
	c = getopt_long(argc, argv, "+:h", opts, &idx);
	if (c == -1)
		return -1;
	if (c == ':') {
		cli_usage_error("%s%s needs a value", prefix(), argv[optind - 1]);
		return CLI_OPT_BAD;
	}
	if (c == '?') {
		cli_usage_error("%sunknown option '%s'", prefix(), argv[optind - 1]);
		return CLI_OPT_BAD;
	}
	if (idx >= 0 && !full_name(option_word(argv, &opts[idx]), opts[idx].name)) {
		cli_usage_error("%sunknown option '%s' (options are written in full: --%s)",
		    prefix(), option_word(argv, &opts[idx]), opts[idx].name);
		return CLI_OPT_BAD;
	}
	return c == 'h' ? CLI_OPT_HELP : c;
}

/*
 * Finish reading the options, c being cli_getopt()'s last answer: print the running command's
 * help for --help, refuse an argument left over. Returns CLI_GO to go on, or the exit status.
 */
int
cli_getopt_end(int c, int argc, char **argv)
{
	if (c == CLI_OPT_HELP)
		return cli_help_command(cli_running);
	if (c == CLI_OPT_BAD)
		return EXIT_USAGE;
	if (optind < argc)
		return cli_usage_error("%sunexpected argument '%s'", prefix(), argv[optind]);
	return CLI_GO;
}

/*
 * Parse the value of an integer option opt ("--port") by the one rule for integers
 * (kt_parse_uint()), or say what was wrong with it and the accepted range.
 * Returns 0 and sets *ret, or EXIT_USAGE.
 */
int
cli_parse_uint(const char *opt, const char *arg, unsigned long long min,
    unsigned long long max, unsigned long long *ret)
{
	int r = kt_parse_uint(arg, min, max, ret);

	if (r == 0)
		return 0;
	cli_error("%s%s: '%s' is %s; accepted %llu..%llu", prefix(), opt, arg,
	    r == -ERANGE ? "out of range" : "not a number (decimal digits only)", min, max);
	return EXIT_USAGE;
}

/*
 * Parse the value of a duration option opt ("--min") by the one rule for durations
 * (kt_parse_duration()), min..max seconds, or say what was wrong with it and the accepted
 * range. Returns 0 and sets *ret, or EXIT_USAGE.
 */
int
cli_parse_duration(const char *opt, const char *arg, int min, int max, int *ret)
{
	char maxdur[KT_DURATION_LEN];
	int secs, r = kt_parse_duration(arg, &secs);

	if (r == 0 && (secs < min || secs > max))
		r = -ERANGE;
	if (r == 0) {
		*ret = secs;
		return 0;
	}
	if (kt_format_duration(max, maxdur, sizeof(maxdur)) < 0)
		maxdur[0] = '\0';
	cli_error("%s%s: '%s' is %s; accepted %d..%d seconds (up to %s), or units d h m s as in "
		  "90, 10m, 1m30s", prefix(), opt, arg,
	    r == -ERANGE ? "out of range" : "not a duration", min, max, maxdur);
	return EXIT_USAGE;
}

/*
 * Parse the value of a key's option into v (setting its bit in v->mask), or explain on stderr
 * what was wrong with it and the accepted range. Returns 0 or EXIT_USAGE.
 */
int
cli_parse_value(enum kt_key key, const char *arg, struct kt_values *v)
{
	const struct kt_key_info *ki = kt_key(key);
	char maxdur[KT_DURATION_LEN];
	int r;

	r = kt_parse_value(key, arg, &v->val[key]);
	if (r == 0) {
		v->mask |= KT_BIT(key);
		return 0;
	}
	if (!ki->duration) {
		cli_error("--%s: '%s' is %s; accepted %d..%d", ki->short_name, arg,
		    r == -ERANGE ? "out of range" : "not a number (decimal digits only)", ki->min,
		    ki->max);
		return EXIT_USAGE;
	}
	if (kt_format_duration(ki->max, maxdur, sizeof(maxdur)) < 0)
		maxdur[0] = '\0';
	cli_error("--%s: '%s' is %s; accepted %d..%d seconds (up to %s)", ki->short_name, arg,
	    r == -ERANGE ? "out of range"
			 : "not a duration (seconds, or units d h m s as in 90, 10m, 1m30s)",
	    ki->min, ki->max, maxdur);
	return EXIT_USAGE;
}

/*
 * Remember the argument of a value option ('t' --time, 'i' --intvl, 'p' --probes) to be judged
 * after the option loop, so that --help wins over a bad value before it. Of a key given more
 * than once, the first bad value stays to be reported, else the last wins.
 */
void
cli_value_arg(int c, const char *optarg_, const char *arg[KT_NKEYS])
{
	enum kt_key k = c == 't' ? KT_TIME : c == 'i' ? KT_INTVL : KT_PROBES;

	if (!arg[k] || kt_parse_value(k, arg[k], &(int){ 0 }) == 0)
		arg[k] = optarg_;
}

/*
 * Judge the value options remembered by cli_value_arg() into v, explaining every bad one.
 * Returns 0 or EXIT_USAGE.
 */
int
cli_parse_values(const char *const arg[KT_NKEYS], struct kt_values *v)
{
	int bad = 0;

	for (int k = 0; k < KT_NKEYS; k++)
		if (arg[k])
			bad |= cli_parse_value(k, arg[k], v);
	return bad ? EXIT_USAGE : 0;
}

/* The format options' names, by format; the letters cli_format_option() knows them by. */
static const char *const format_names[] = {
	[CLI_FORMAT_TEXT] = "", [CLI_FORMAT_JSON] = "--json", [CLI_FORMAT_SYSCTL] = "--sysctl",
	[CLI_FORMAT_K8S] = "--k8s", [CLI_FORMAT_DOCKER] = "--docker",
};

/*
 * The bit of the format a format option stands for: 'j' --json, 's' --sysctl, 'k' --k8s,
 * 'd' --docker (the letters every command's option table gives them). For a command's option
 * loop, which collects them to judge with cli_pick_format().
 */
int
cli_format_option(int c)
{
	switch (c) {
	case 'j':
		return CLI_FORMAT_BIT(CLI_FORMAT_JSON);
	case 's':
		return CLI_FORMAT_BIT(CLI_FORMAT_SYSCTL);
	case 'k':
		return CLI_FORMAT_BIT(CLI_FORMAT_K8S);
	default:
		return CLI_FORMAT_BIT(CLI_FORMAT_DOCKER);
	}
}

/*
 * Pick the one output format the options collected in formats ask for (none: text); two
 * different ones exclude each other. Returns 0 and sets *ret, or EXIT_USAGE.
 */
int
cli_pick_format(unsigned int formats, enum cli_format *ret)
{
	enum cli_format f = CLI_FORMAT_TEXT;

	for (unsigned int i = CLI_FORMAT_JSON; i <= CLI_FORMAT_DOCKER; i++) {
		if (!(formats & CLI_FORMAT_BIT(i)))
			continue;
		if (f != CLI_FORMAT_TEXT)
			return cli_usage_error("%s%s and %s exclude each other", prefix(),
			    format_names[f], format_names[i]);
		f = i;
	}
	*ret = f;
	return 0;
}

/*
 * Whether the running command's options hold --json, read as cli_getopt() reads them: up to the
 * first argument or "--", an option's value not taken for an option. So the JSON result is
 * printed even when a usage error comes before --json on the line.
 */
int
cli_has_json(int argc, char **argv, const struct option *opts)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		size_t n;

		if (strcmp(w, "--json") == 0)
			return 1;
		if (strncmp(w, "--", 2) != 0 || w[2] == '\0')
			return 0;	/* an argument, "--", or -h */
		n = strcspn(w + 2, "=");
		for (const struct option *o = opts; o->name; o++)
			if (strlen(o->name) == n && strncmp(w + 2, o->name, n) == 0 &&
			    o->has_arg == required_argument && w[2 + n] != '=')
				i++;	/* its value is the next word */
	}
	return 0;
}

/* Parse --loader's argument. Returns 0 and sets *ret, or EXIT_USAGE. */
int
cli_parse_loader(const char *arg, enum kt_loader *ret)
{
	if (kt_loader_from_name(arg, ret) == 0)
		return 0;
	cli_error("%s--loader: '%s' is not a loader; accepted: systemd, procps", prefix(), arg);
	return EXIT_USAGE;
}

/*
 * Read the kernel's values of the keys in mask into *ret. On failure, say which key could not
 * be read and why. Returns EXIT_OK or EXIT_FAIL.
 */
int
cli_read_kernel(unsigned int mask, struct kt_values *ret)
{
	struct kt_values v = { .mask = mask };

	for (int k = 0; k < KT_NKEYS; k++) {
		int r;

		if (!(mask & KT_BIT(k)))
			continue;
		r = kt_read(KT_PROC_ROOT, k, &v.val[k]);
		if (r < 0) {
			cli_error("%s: cannot read: %s", kt_key(k)->name,
			    cli_strerror(r, CLI_ABOUT_KEY));
			return EXIT_FAIL;
		}
	}
	*ret = v;
	return EXIT_OK;
}

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
 * Judge --behind PROFILE or --idle-timeout DUR: the idle timeout in seconds (of a profile read
 * live, such as conntrack, 0 until cli_idle_read()) and a label that says where it comes from.
 * Returns EXIT_OK or EXIT_USAGE (a bad name or duration).
 */
int
cli_idle_arg(const char *behind, const char *idle_arg, struct cli_idle *ret)
{
	const struct kt_profile *p;
	char names[128];
	int secs;

	if (idle_arg) {
		if (cli_parse_duration("--idle-timeout", idle_arg, 1, INT_MAX, &secs) != 0)
			return EXIT_USAGE;
		*ret = (struct cli_idle){ .idle = secs, .name = "--idle-timeout",
			.what = "a middlebox" };
		return EXIT_OK;
	}
	if (kt_profile_find(behind, &p) < 0) {
		profile_names(names, sizeof(names));
		cli_error("--behind: '%s' is not a profile; known: %s", behind, names);
		return EXIT_USAGE;
	}
	*ret = (struct cli_idle){ .idle = p->idle_timeout, .name = p->name, .what = p->what,
		.profile = p };
	return EXIT_OK;
}

/*
 * Read the idle timeout of a profile cli_idle_arg() found that is read live (conntrack's, in the
 * namespace the thread is in). Returns EXIT_OK, or EXIT_FAIL when it cannot be read.
 */
int
cli_idle_read(struct cli_idle *mb)
{
	int r;

	if (!mb->profile)
		return EXIT_OK;
	r = kt_profile_timeout(mb->profile, KT_PROC_ROOT, &mb->idle);
	if (r < 0) {
		cli_error("%s: cannot read net.netfilter.nf_conntrack_tcp_timeout_established: %s",
		    mb->name, cli_strerror(r, CLI_ABOUT_CONNTRACK));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Both: judge --behind or --idle-timeout, and read a live timeout. An exit status. */
int
cli_idle_timeout(const char *behind, const char *idle_arg, struct cli_idle *ret)
{
	int r = cli_idle_arg(behind, idle_arg, ret);

	return r == EXIT_OK ? cli_idle_read(ret) : r;
}
