/* cmd_persist.c: ka-tune persist: write the values to a sysctl.d file so they survive reboot. */
#include <stdio.h>

#include "cli.h"

/*
 * Fill in the values not given as options from the running kernel. A value the kernel holds but
 * we would refuse is not persisted. Returns EXIT_OK, EXIT_FAIL or EXIT_USAGE.
 */
static int
fill_from_kernel(struct kt_values *want)
{
	unsigned int missing = KT_ALL & ~want->mask;
	struct kt_values kern;
	int r;

	if (!missing)
		return EXIT_OK;
	r = cli_read_kernel(missing, &kern);
	if (r != EXIT_OK)
		return r;
	for (int k = 0; k < KT_NKEYS; k++) {
		if (!(missing & KT_BIT(k)))
			continue;
		if (!kt_value_valid(k, kern.val[k])) {
			cli_error("%s: the running kernel holds %d, outside %d..%d; give --%s",
			    kt_key(k)->name, kern.val[k], kt_key(k)->min, kt_key(k)->max,
			    kt_key(k)->short_name);
			return EXIT_USAGE;
		}
		want->val[k] = kern.val[k];
		want->mask |= KT_BIT(k);
	}
	return EXIT_OK;
}

/* Print what persist did, or would do with --dry-run. Returns the exit status. */
static int
report(const struct cli_persist *p, const struct kt_persist_result *res)
{
	int r;

	if (p->dry_run) {
		cli_persist_warnings(p, res);
		/* A short write shows in cli_finish()'s check of stdout. */
		if (res->text && !cli_json_enabled())
			(void)fwrite(res->text, 1, res->len, stdout);
		fflush(stdout);		/* the content first where both go to one file */
		cli_persist_plan(stderr, res);
		fprintf(stderr, "dry run: %s would be %s; nothing written\n", p->path,
		    cli_persist_outcome(res->outcome));
		r = EXIT_OK;
	} else {
		if (res->outcome != KT_PERSIST_UNCHANGED)
			cli_note_change("%s was %s", p->path, res->outcome == KT_PERSIST_REMOVED ?
			    "removed" : "written");
		if (!cli_json_enabled()) {
			cli_persist_plan(stdout, res);
			printf("%s: %s\n", p->path, cli_persist_outcome(res->outcome));
		}
		cli_persist_warnings(p, res);
		r = cli_persist_synced(p, res);
	}
	if (cli_json_enabled()) {
		cli_json_open(res->outcome != KT_PERSIST_UNCHANGED);
		cli_json_running(NULL, NULL, NULL);
		cli_json_file(p->path, res);
		cli_json_close();
	}
	return r;
}

/* Persist, and say what happened. Returns the exit status. */
static int
persist(struct cli_persist *p)
{
	struct kt_persist_result res;
	struct kt_persist_fail fail;
	int r;

	cli_persist_request(p);
	r = kt_persist(&p->req, &res, &fail);
	if (r < 0) {
		cli_persist_failure(p, r, &fail);
		return EXIT_FAIL;
	}
	r = report(p, &res);
	kt_persist_free(&res);
	return r;
}

static int
run_persist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "intvl", required_argument, NULL, 'i' },
		{ "probes", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
		{ "root", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "remove", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_persist p = { .req = { .want = { 0 } } };
	const char *file = NULL, *root = NULL;
	const char *arg[KT_NKEYS] = { NULL };
	int c, r;

	if (cli_has_json(argc, argv, opts))
		cli_json_enable();
	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		switch (c) {
		case 'j':
			break;		/* cli_has_json() saw it */
		case 'f':
			file = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'n':
			p.dry_run = 1;
			cli_json_dry_run(1);
			break;
		case 'R':
			p.remove = 1;
			break;
		default:
			cli_value_arg(c, optarg, arg);
			break;
		}
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if ((r = cli_parse_values(arg, &p.req.want)) != 0)
		return r;
	if (file && root)
		return cli_usage_error("persist: --file and --root exclude each other");
	if (p.remove && p.req.want.mask)
		return cli_usage_error("persist: --remove takes no values");
	if ((file && !*file) || (root && !*root))
		return cli_usage_error("persist: --%s needs a non-empty path", file ? "file" : "root");

	r = cli_persist_target(&p, file, root);
	if (r != EXIT_OK)
		return r;
	if (!p.remove) {
		r = fill_from_kernel(&p.req.want);
		if (r != EXIT_OK)
			return r;
	}
	return persist(&p);
}

const struct cli_command cli_cmd_persist = {
	.name = "persist",
	.run = run_persist,
	.summary = "write the values to a sysctl.d file for the next boot",
	.synopsis =
	    "ka-tune persist [--time DUR] [--intvl DUR] [--probes N]\n"
	    "        [--file PATH | --root DIR] [--dry-run] [--json]\n"
	    "ka-tune persist --remove [--file PATH | --root DIR] [--dry-run] [--json]\n",
	.help =
	    "  writes " KT_CONF_PATH "; values not given are taken from the kernel\n"
	    CLI_VALUES_HELP
	    "  --file PATH   write PATH instead\n"
	    "  --root DIR    write DIR" KT_CONF_PATH " (an image tree)\n"
	    "  --remove      take the three keys out (the file too, if nothing else is left)\n"
	    "  --dry-run     print the new content, write nothing\n"
	    "  --json        one JSON object, as ka-tune(8) says under JSON RESULTS\n",
	.not_in_netns = "sysctl.d files set the host's namespace at boot; a container's values "
			"belong in its runtime configuration (docker run --sysctl, a Kubernetes "
			"pod's securityContext.sysctls)",
};
