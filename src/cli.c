/* cli.c: messages, option errors and kernel reads shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

/* Exactly the SYNOPSIS of man/ka-tune.8. */
const char *const usage_text =
	"usage: ka-tune [--netns NAME|PATH | --pid PID] show [--json | --sysctl]\n"
	"       ka-tune show --all-netns [--json]\n"
	"       ka-tune show --boot [--loader systemd|procps] [--root DIR] [--json | --sysctl]\n"
	"       ka-tune [--netns NAME|PATH | --pid PID] set [--time DUR] [--intvl DUR]\n"
	"               [--probes N] [--dry-run]\n"
	"       ka-tune [--netns NAME|PATH | --pid PID] check [--loader systemd|procps]\n"
	"               [--behind PROFILE | --idle-timeout DUR]\n"
	"       ka-tune suggest --behind PROFILE | --idle-timeout DUR [--detect-within DUR]\n"
	"               [--json | --sysctl]\n"
	"       ka-tune [--netns NAME|PATH | --pid PID] sockets [--no-keepalive]\n"
	"               [--port N] [--json]\n"
	"       ka-tune persist [--time DUR] [--intvl DUR] [--probes N]\n"
	"               [--file PATH | --root DIR] [--dry-run]\n"
	"       ka-tune persist --remove [--file PATH | --root DIR] [--dry-run]\n"
	"       ka-tune help | --help | --version\n";

static void __attribute__((format(printf, 1, 0)))
vmessage(const char *fmt, va_list ap)
{
	fputs("ka-tune: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Tell the user that something failed: "ka-tune: <what>: <why>" on stderr. */
void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

/* Tell the user how the command line was wrong, then the usage. Returns EXIT_USAGE. */
int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* Report what getopt_long() (with a leading ':' in its optstring) refused. Returns EXIT_USAGE. */
int
cli_bad_option(char *const *argv, int c)
{
	const char *opt = argv[optind - 1];

	if (c == ':')
		return cli_usage_error("%s: %s needs a value", argv[0], opt);
	return cli_usage_error("%s: unknown option '%s'", argv[0], opt);
}

/*
 * Parse the value of a key's option into v (setting its bit in v->mask), or explain on stderr
 * what was wrong with it and the accepted range. Returns 0 or EXIT_USAGE.
 */
int
cli_parse_value(enum kt_key key, const char *arg, struct kt_values *v)
{
	const char *opt = kt_key(key)->short_name;
	int min = kt_key(key)->min, max = kt_key(key)->max, r;
	char maxdur[KT_DURATION_LEN];

	r = kt_parse_value(key, arg, &v->val[key]);
	if (r == 0) {
		v->mask |= KT_BIT(key);
		return 0;
	}
	if (!kt_key(key)->duration) {
		cli_error("--%s: '%s' is %s; accepted %d..%d", opt, arg,
		    r == -ERANGE ? "out of range" : "not a plain count", min, max);
		return EXIT_USAGE;
	}
	if (kt_format_duration(max, maxdur, sizeof(maxdur)) < 0)
		maxdur[0] = '\0';
	cli_error("--%s: '%s' is %s; accepted %d..%d seconds (up to %s)", opt, arg,
	    r == -ERANGE ? "out of range"
			 : "not a duration (seconds, or units d h m s as in 90, 10m, 1m30s)",
	    min, max, maxdur);
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
			cli_error("%s: cannot read: %s", kt_key(k)->name, kt_strerror(r));
			return EXIT_FAIL;
		}
	}
	*ret = v;
	return EXIT_OK;
}

/* Print s as a JSON string, quoted and escaped. */
void
cli_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
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
