/* cmd_apply.c: ka-tune apply: set the running values to what the boot loader sets at boot (the
 * values show --boot gives), as one set: the repair for the drift check reports. */
#include <assert.h>
#include <stdio.h>

#include "cli.h"

/* Print "key: old -> new (FILE:LINE)" or "key: old unchanged (kernel default)" for each key. */
static void
print_plan(const struct kt_values *old, const struct kt_values *want, const struct kt_boot *b)
{
	char file[CLI_VIS_LEN(512)];

	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		if (old->val[k] == want->val[k])
			printf("%s: %d unchanged", kt_key(k)->name, old->val[k]);
		else
			printf("%s: %d -> %d", kt_key(k)->name, old->val[k], want->val[k]);
		if (bk->from)
			printf(" (%s:%u)\n", cli_vis(bk->from->file, file, sizeof(file)),
			    bk->from->line);
		else
			puts(" (kernel default)");
	}
}

/*
 * Take the boot values as the values to set. A value the kernel would take at boot but ka-tune
 * accepts nowhere (0, a negative time, probes above 127) is not set: each is named with the
 * line it comes from. Returns EXIT_OK, or EXIT_USAGE and nothing is set.
 */
static int
boot_values(const struct kt_boot *b, struct kt_values *ret)
{
	char file[CLI_VIS_LEN(512)];
	int bad = 0;

	ret->mask = KT_ALL;
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);
		const struct kt_key_info *ki = kt_key(k);

		ret->val[k] = bk->val;
		if (kt_value_valid(k, bk->val))
			continue;
		assert(bk->from);	/* the kernel defaults are valid */
		cli_error("%s: the boot value %d (%s:%u) is outside %d..%d; ka-tune does not set "
			  "it: correct that line", ki->name, bk->val,
		    cli_vis(bk->from->file, file, sizeof(file)), bk->from->line, ki->min, ki->max);
		bad = 1;
	}
	if (bad)
		cli_error("apply: nothing was changed");
	return bad ? EXIT_USAGE : EXIT_OK;
}

/* The JSON result: the loader, the running values before and after, no file. */
static void
print_json(int changed, enum kt_loader loader, const struct kt_values *before,
    const struct kt_values *after, const struct kt_boot *b)
{
	cli_json_open(changed);
	printf(", \"loader\": \"%s\"", kt_loader_name(loader));
	cli_json_running(before, after, b);
	cli_json_file(NULL, NULL);
	cli_json_close();
}

/* Set the values, or read the running ones in a dry run, and say what was done. */
static int
apply(const struct kt_boot *b, enum kt_loader loader, const struct kt_values *want, int dry_run)
{
	struct kt_values old, now;
	struct kt_failure fail;
	int r, changed = 0;

	if (dry_run) {
		if ((r = cli_read_kernel(KT_ALL, &old)) != EXIT_OK)
			return r;
	} else if ((r = kt_set(KT_PROC_ROOT, want, KT_LOCK_TIMEOUT * 1000, &old, &fail)) < 0) {
		cli_set_failure(&old, want, &fail, &now);
		if (fail.stage == KT_STAGE_WRITE && cli_json_enabled())
			print_json(0, loader, &old, &now, b);
		return EXIT_FAIL;
	}
	for (int k = 0; k < KT_NKEYS; k++)
		changed |= old.val[k] != want->val[k];
	if (changed && !dry_run)
		cli_note_change("the values were set");
	if (cli_json_enabled())
		print_json(changed, loader, &old, want, b);
	else
		print_plan(&old, want, b);
	if (dry_run) {
		cli_dry_run_done("nothing written");
	}
	return EXIT_OK;
}

static int
run_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loader", required_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum kt_loader loader = kt_boot_default_loader(NULL, 1);
	const char *loader_arg = NULL;
	struct kt_values want;
	struct kt_boot *b;
	int c, r, dry_run = 0, unsure;

	if (cli_has_json(argc, argv, opts))
		cli_json_enable();
	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'l')
			loader_arg = optarg;
		else if (c == 'n')
			dry_run = 1;
	}
	cli_json_dry_run(dry_run);
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (loader_arg && (r = cli_parse_loader(loader_arg, &loader)) != 0)
		return r;
	if ((r = cli_boot_read(NULL, loader, &b, &unsure)) != EXIT_OK)
		return r;
	if (unsure) {
		cli_error("apply: cannot tell what %s sets at boot: %d file%s could not be read "
			  "(named above); nothing was changed", kt_loader_name(loader), unsure,
		    unsure == 1 ? "" : "s");
		r = EXIT_FAIL;
	} else if ((r = boot_values(b, &want)) == EXIT_OK) {
		r = apply(b, loader, &want, dry_run);
	}
	kt_boot_free(b);
	return r;
}

const struct cli_command cli_cmd_apply = {
	.name = "apply",
	.run = run_apply,
	.summary = "set the running values to the boot values, as the loader would",
	.synopsis = "ka-tune apply [--loader systemd|procps] [--dry-run] [--json]\n",
	.help =
	    "  sets each key to the value show --boot gives: the repair for check's drift\n"
	    "  --loader L    systemd (default where systemd runs) or procps (sysctl --system)\n"
	    "  --dry-run     print the plan, change nothing\n"
	    "  --json        one JSON object, as ka-tune(8) says under JSON RESULTS\n",
	.not_in_netns = "boot files set the host's namespace",
};
