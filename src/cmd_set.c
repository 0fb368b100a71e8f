/* cmd_set.c: ka-tune set: change the values the kernel uses now, all or nothing; with --persist,
 * the boot file too, in the same transaction. */
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

/* Whether setting want over old changes a value. */
static int
changes(const struct kt_values *old, const struct kt_values *want)
{
	for (int k = 0; k < KT_NKEYS; k++)
		if ((want->mask & KT_BIT(k)) && old->val[k] != want->val[k])
			return 1;
	return 0;
}

/*
 * The JSON result: the running values before and after (NULL: not known), the file when there
 * is one; changed says whether anything is (or would be) other than before.
 */
static void
print_json(const struct kt_values *before, const struct kt_values *after, const char *path,
    const struct kt_persist_result *file)
{
	int changed = (before && changes(before, after)) ||
	    (file && file->outcome != KT_PERSIST_UNCHANGED);

	cli_json_open(changed);
	cli_json_running(before, after, NULL);
	cli_json_file(path, file);
	cli_json_close();
}

/* set without --persist. Returns the exit status. */
static int
set_now(const struct kt_values *want, int dry_run)
{
	struct kt_values old, now;
	struct kt_failure fail;
	int r;

	if (dry_run) {
		r = cli_read_kernel(want->mask, &old);
		if (r != EXIT_OK)
			return r;
	} else {
		r = kt_set(KT_PROC_ROOT, want, KT_LOCK_TIMEOUT * 1000, &old, &fail);
		if (r == -ERANGE) {		/* refused before anything was done */
			cli_error("set: %s", cli_strerror(r, CLI_ABOUT_KEY));
			return EXIT_USAGE;
		}
		if (r < 0) {
			cli_set_failure(&old, want, &fail, &now);
			if (fail.stage == KT_STAGE_WRITE && cli_json_enabled())
				print_json(&old, &now, NULL, NULL);
			return EXIT_FAIL;
		}
		if (changes(&old, want))
			cli_note_change("the values were set");
	}
	if (cli_json_enabled())
		print_json(&old, want, NULL, NULL);
	else
		print_plan(&old, want);
	if (dry_run) {
		cli_dry_run_done("nothing written");
	}
	return EXIT_OK;
}

/* Explain a failed kt_set_persist(); *now is set when the running values were read. */
static int
report_sp_failure(const struct cli_persist *p, int err, const struct kt_values *old,
    const struct kt_sp_fail *f, struct kt_values *now)
{
	const struct kt_key_info *ki = kt_key(f->key);

	switch (f->part) {
	case KT_SP_KEYS:
		cli_set_failure(old, &p->req.want, &f->keys, now);
		return EXIT_FAIL;
	case KT_SP_RANGE:
		cli_error("%s: the running kernel holds %d, outside %d..%d; give --%s", ki->name,
		    f->val, ki->min, ki->max, ki->short_name);
		return EXIT_USAGE;
	case KT_SP_FILE:
		cli_persist_failure(p, err, &f->file);
		cli_set_restored(old, &p->req.want, &f->keys, now);
		return EXIT_FAIL;
	}
	return EXIT_FAIL;
}

/* set --persist: the running values and the file, together. Returns the exit status. */
static int
set_and_persist(struct cli_persist *p)
{
	struct kt_persist_result res;
	struct kt_sp_fail fail = { .part = KT_SP_KEYS };
	struct kt_values old, now, *known = NULL;
	int r, kernel, file;

	cli_persist_request(p);
	r = kt_set_persist(KT_PROC_ROOT, &p->req, KT_LOCK_TIMEOUT * 1000, &old, &res, &fail);
	if (r == -ERANGE && fail.part == KT_SP_KEYS) {
		cli_error("set: %s", cli_strerror(r, CLI_ABOUT_KEY));
		return EXIT_USAGE;
	}
	if (r < 0) {
		r = report_sp_failure(p, r, &old, &fail, &now);
		if (fail.part == KT_SP_FILE || (fail.part == KT_SP_KEYS &&
		    fail.keys.stage == KT_STAGE_WRITE)) {
			old.mask = p->req.want.mask;
			known = &old;
		}
		if (cli_json_enabled() && known)
			print_json(known, &now, NULL, NULL);
		return r;
	}
	old.mask = p->req.want.mask;
	kernel = changes(&old, &p->req.want);
	file = res.outcome != KT_PERSIST_UNCHANGED;
	if (!p->dry_run && (kernel || file))
		cli_note_change("%s%s%s%s", kernel ? "the values were set" : "",
		    kernel && file ? " and " : "", file ? p->path : "", file ? " was written" : "");
	if (!cli_json_enabled()) {
		print_plan(&old, &p->req.want);
		printf("%s: %s\n", p->path, cli_persist_outcome(res.outcome));
	}
	cli_persist_warnings(p, &res);
	r = p->dry_run ? EXIT_OK : cli_persist_synced(p, &res);
	if (cli_json_enabled())
		print_json(&old, &p->req.want, p->path, &res);
	if (p->dry_run) {
		cli_dry_run_done("nothing written");
	}
	kt_persist_free(&res);
	return r;
}

static int
run_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "intvl", required_argument, NULL, 'i' },
		{ "probes", required_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "persist", no_argument, NULL, 'P' },
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_persist p = { .req = { .want = { 0 } } };
	const char *arg[KT_NKEYS] = { NULL }, *file = NULL;
	int c, r, persist = 0;

	if (cli_has_json(argc, argv, opts))
		cli_json_enable();
	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'n')
			p.dry_run = 1;
		else if (c == 'P')
			persist = 1;
		else if (c == 'f')
			file = optarg;
		else if (c != 'j')
			cli_value_arg(c, optarg, arg);
	}
	cli_json_dry_run(p.dry_run);
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if ((r = cli_parse_values(arg, &p.req.want)) != 0)
		return r;
	if (!p.req.want.mask)
		return cli_usage_error("set: nothing to set: give --time, --intvl or --probes");
	if (file && !persist)
		return cli_usage_error("set: --file goes with --persist");
	if (file && !*file)
		return cli_usage_error("set: --file needs a non-empty path");
	if (persist && (cli_target.netns || cli_target.pid))
		return cli_usage_error("set: --netns and --pid do not apply to --persist: the file "
				       "sets the host's namespace at boot");
	if (persist && (r = cli_persist_target(&p, file, NULL)) != EXIT_OK)
		return r;
	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	return persist ? set_and_persist(&p) : set_now(&p.req.want, p.dry_run);
}

const struct cli_command cli_cmd_set = {
	.name = "set",
	.run = run_set,
	.summary = "change the values the kernel uses now, all or nothing",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] set [--time DUR] [--intvl DUR]\n"
	    "        [--probes N] [--dry-run] [--json]\n"
	    "ka-tune set --persist [--time DUR] [--intvl DUR] [--probes N]\n"
	    "        [--file PATH] [--dry-run] [--json]\n",
	.help =
	    CLI_VALUES_HELP
	    "  --persist     write the file persist writes too, in the same transaction: if it\n"
	    "                cannot be written, the running values are put back\n"
	    "  --file PATH   with --persist, write PATH instead of " KT_CONF_PATH "\n"
	    "  --dry-run     print the plan, change nothing\n"
	    "  --json        one JSON object, as ka-tune(8) says under JSON RESULTS\n"
	    "  --netns, --pid (before set): set another network namespace's values\n",
	.not_in_netns = NULL,
};
