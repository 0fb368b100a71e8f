/* cmd_show.c: ka-tune show: print the values the kernel uses now. */
#include <stdio.h>

#include "cli.h"

enum format { FORMAT_TEXT, FORMAT_SYSCTL, FORMAT_JSON };

/* The short names --json uses, in key order. */
static const char *const json_names[KT_NKEYS] = { "time", "intvl", "probes" };

/* One line a key, aligned, with its unit; out-of-range values are flagged with their range. */
static void
show_text(const struct kt_values *v)
{
	char dur[KT_DURATION_LEN];
	long long detect;

	for (int k = 0; k < KT_NKEYS; k++) {
		int val = v->val[k];

		printf("%-29s = %d", kt_key_name(k), val);
		if (!kt_key_is_duration(k))
			printf(" probes");
		else if (val >= 60 && kt_format_duration(val, dur, sizeof(dur)) == 0)
			printf(" s (%s)", dur);
		else
			printf(" s");
		if (!kt_value_valid(k, val))
			printf("  [invalid: accepted %d..%d]", kt_key_min(k), kt_key_max(k));
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
		printf("%s = %d\n", kt_key_name(k), v->val[k]);
}

/* One JSON object: the values, the detection time (null when unknown), the invalid keys. */
static void
show_json(const struct kt_values *v)
{
	const char *sep = "";
	long long detect;

	putchar('{');
	for (int k = 0; k < KT_NKEYS; k++)
		printf("\"%s\": %d, ", json_names[k], v->val[k]);
	if (kt_detection_time(v, &detect) == 0)
		printf("\"detection_time\": %lld, ", detect);
	else
		printf("\"detection_time\": null, ");
	printf("\"invalid\": [");
	for (int k = 0; k < KT_NKEYS; k++) {
		if (kt_value_valid(k, v->val[k]))
			continue;
		printf("%s\"%s\"", sep, json_names[k]);
		sep = ", ";
	}
	puts("]}");
}

int
cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysctl", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum format format = FORMAT_TEXT;
	struct kt_values v;
	int c, r;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
		case 's': {
			enum format f = c == 'j' ? FORMAT_JSON : FORMAT_SYSCTL;

			if (format != FORMAT_TEXT && format != f)
				return cli_usage_error("show: --json and --sysctl exclude each other");
			format = f;
			break;
		}
		case 'h':
			return cli_help();
		default:
			return cli_bad_option(argv, c);
		}
	}
	if (optind < argc)
		return cli_usage_error("show: unexpected argument '%s'", argv[optind]);

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
