/* cmd_disable.c: ka-tune disable: undo enable --cgroup: detach ka-tune's program from a cgroup,
 * remove its pin and the pins of removed cgroups at the same path, and the drop-ins of
 * enable --persist; never another tool's program. */
#include <stdio.h>

#include "cli.h"

/* The text of disable: what became of the program, the pins, the drop-ins. */
static void
disable_text(const struct kt_cgroup *cg, const struct kt_bpf_result *res,
    const struct kt_unit_result *unit, int dry_run)
{
	char vis[CLI_VIS_LEN(PATH_MAX)], was[CLI_POLICY_LEN];

	(void)cli_vis(cli_cgroup_name(cg->rel), vis, sizeof(vis));
	if (res->change == KT_BPF_DETACHED)
		printf("%s: %s: keepalive was %s\n", vis, cli_bpf_change(res->change, dry_run),
		    cli_policy_text(&res->before, was, sizeof(was)));
	else
		printf("%s: unchanged: ka-tune's program is not attached%s\n", vis,
		    cg->fd < 0 ? " (no such cgroup)" : "");
	if (res->pruned)
		printf("%s: %u pin%s of removed cgroups %s\n", vis, res->pruned,
		    res->pruned == 1 ? "" : "s", dry_run ? "to remove" : "removed");
	cli_dropins_text(unit, dry_run);
}

static int
run_disable(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_unit_req req = { .bpf_dir = KT_BPF_DIR, .unit_dir = KT_UNIT_DIR };
	struct kt_unit_result unit;
	struct kt_bpf_result res;
	struct kt_unit_fail fail;
	struct kt_cgroup cg;
	const char *path = NULL;
	int c, r, dry_run = 0, json = 0;

	if (cli_has_json(argc, argv, opts))
		cli_json_enable();
	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'C')
			path = optarg;
		else if (c == 'n')
			dry_run = 1;
		else
			json = 1;
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (!path || !*path)
		return cli_usage_error("disable: give --cgroup PATH");
	cli_json_dry_run(dry_run);
	/* A cgroup that is gone (its service stopped) may still have pins and drop-ins. */
	if ((r = cli_cgroup_open("--cgroup", path, 1, &cg)) != EXIT_OK)
		return r;
	req.cg = cg.fd >= 0 ? &cg : NULL;
	req.rel = cg.rel;
	req.flags = dry_run ? KT_BPF_DRY_RUN : 0;
	r = kt_unit_disable(&req, &res, &unit, &fail);
	if (r < 0) {
		cli_cgroup_failure(cli_cgroup_name(cg.rel), r, &fail);
		kt_cgroup_close(&cg);
		return EXIT_FAIL;
	}
	if (!dry_run && res.change == KT_BPF_DETACHED)
		cli_note_change("ka-tune's program was detached from cgroup %s",
		    cli_cgroup_name(cg.rel));
	if (json) {
		cli_json_open(res.change != KT_BPF_UNCHANGED || res.pruned ||
		    cli_dropins_changed(&unit));
		cli_json_cgroup(&cg, &res, NULL);
		cli_json_dropins(&unit);
		cli_json_close();
	} else {
		disable_text(&cg, &res, &unit, dry_run);
	}
	if (dry_run)
		cli_dry_run_done("nothing changed");
	kt_cgroup_close(&cg);
	return EXIT_OK;
}

const struct cli_command cli_cmd_disable = {
	.name = "disable",
	.run = run_disable,
	.summary = "stop enabling keepalive for a cgroup's new connections",
	.synopsis = "ka-tune disable --cgroup PATH [--dry-run] [--json]\n",
	.help =
	    "  --cgroup PATH the cgroup enable --cgroup was given (it may be gone): ka-tune's\n"
	    "                program is detached, its pins and the drop-ins of --persist removed;\n"
	    "                other programs are never touched, and connections keep keepalive\n"
	    "  --dry-run     say what would change, change nothing\n"
	    "  --json        one JSON object, as ka-tune(8) says under JSON RESULTS\n"
	    "  needs root (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)\n",
	.not_in_netns = "the target is the cgroup, whatever network namespaces its processes use",
};
