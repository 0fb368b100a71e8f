/* cmd_set.c: ka-tune set: change the values the kernel uses now, all or nothing. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"

/* Print "key: old -> new" or "key: old unchanged" for each key to be set. */
static void
print_plan(const struct kt_values *old, const struct kt_values *want)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		if (!(want->mask & KT_BIT(k)))
			continue;
		if (old->val[k] == want->val[k])
			printf("%s: %d unchanged\n", kt_key(k)->name, old->val[k]);
		else
			printf("%s: %d -> %d\n", kt_key(k)->name, old->val[k], want->val[k]);
	}
}

/* Explain a failed write: which key, why, and what was put back (or could not be). */
static void
report_write_failure(const struct kt_values *old, const struct kt_values *want,
    const struct kt_failure *f)
{
	cli_error("%s: cannot set %d: %s", kt_key(f->key)->name, want->val[f->key],
	    cli_strerror(f->err, CLI_ABOUT_KEY));
	for (int k = 0; k < KT_NKEYS; k++) {
		if (f->restored & KT_BIT(k))
			cli_error("%s: restored to %d", kt_key(k)->name, old->val[k]);
		if (f->unrestored & KT_BIT(k))
			cli_error("%s: could not restore %d, it stays %d: %s", kt_key(k)->name,
			    old->val[k], want->val[k], cli_strerror(f->restore_err, CLI_ABOUT_KEY));
	}
	if (!f->restored && !f->unrestored)
		cli_error("nothing was changed");
}

/* Explain a failed kt_set(), at whichever stage it failed. */
static void
report_failure(const struct kt_values *old, const struct kt_values *want,
    const struct kt_failure *f)
{
	const char *name = kt_key(f->key)->name;

	switch (f->stage) {
	case KT_STAGE_LOCK:
		if (f->err == -ETIMEDOUT)
			cli_error("set: timed out after %d s waiting for the lock on %s (another "
				  "ka-tune set in this network namespace, or a process holding flock "
				  "on " KT_PROC_ROOT "/%s); nothing was changed", KT_LOCK_TIMEOUT,
			    name, kt_key(f->key)->path);
		else
			cli_error("%s: cannot lock: %s", name, cli_strerror(f->err, CLI_ABOUT_KEY));
		break;
	case KT_STAGE_READ:
		cli_error("%s: cannot read: %s", name, cli_strerror(f->err, CLI_ABOUT_KEY));
		break;
	case KT_STAGE_WRITE:
		report_write_failure(old, want, f);
		break;
	}
}

static int
run_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "intvl", required_argument, NULL, 'i' },
		{ "probes", required_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_values want = { 0 }, old;
	struct kt_failure fail;
	const char *arg[KT_NKEYS] = { NULL };
	int c, r, dry_run = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'n')
			dry_run = 1;
		else
			cli_value_arg(c, optarg, arg);
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if ((r = cli_parse_values(arg, &want)) != 0)
		return r;
	if (!want.mask)
		return cli_usage_error("set: nothing to set: give --time, --intvl or --probes");
	if ((r = cli_enter_target()) != EXIT_OK)
		return r;

	if (dry_run) {
		r = cli_read_kernel(want.mask, &old);
		if (r != EXIT_OK)
			return r;
		print_plan(&old, &want);
		fflush(stdout);		/* the plan first where both go to one file */
		fputs("dry run: nothing written\n", stderr);
		return EXIT_OK;
	}
	r = kt_set(KT_PROC_ROOT, &want, KT_LOCK_TIMEOUT * 1000, &old, &fail);
	if (r == -ERANGE) {		/* refused before anything was done */
		cli_error("set: %s", cli_strerror(r, CLI_ABOUT_KEY));
		return EXIT_USAGE;
	}
	if (r < 0) {
		report_failure(&old, &want, &fail);
		return EXIT_FAIL;
	}
	cli_note_change("the values were set");
	print_plan(&old, &want);
	return EXIT_OK;
}

const struct cli_command cli_cmd_set = {
	.name = "set",
	.run = run_set,
	.summary = "change the values the kernel uses now, all or nothing",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] set [--time DUR] [--intvl DUR]\n"
	    "        [--probes N] [--dry-run]\n",
	.help =
	    CLI_VALUES_HELP
	    "  --dry-run     print the plan, change nothing\n"
	    "  --netns, --pid (before set): set another network namespace's values\n",
	.not_in_netns = NULL,
};
