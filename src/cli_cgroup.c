/* cli_cgroup.c: what enable --cgroup, enable --list and disable share: the cgroup a PATH names,
 * the words for what was done to it, a policy as shown, the drop-ins of --persist, and their
 * members of the JSON result (ka-tune(8), JSON RESULTS). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* What kt_bpf_enable() and kt_bpf_disable() did, and, in a dry run, would do. */
static const char *const change_words[2][4] = {
	{ [KT_BPF_UNCHANGED] = "unchanged", [KT_BPF_ATTACHED] = "attached",
	  [KT_BPF_UPDATED] = "updated", [KT_BPF_DETACHED] = "detached" },
	{ [KT_BPF_UNCHANGED] = "unchanged", [KT_BPF_ATTACHED] = "to attach",
	  [KT_BPF_UPDATED] = "to update", [KT_BPF_DETACHED] = "to detach" },
};

/* The word for a change, as text shows it; JSON says the real run's word, with dry_run. */
const char *
cli_bpf_change(enum kt_bpf_change c, int dry_run)
{
	return change_words[dry_run != 0][c];
}

/*
 * Find the cgroup2 mount into mount (len bytes) and judge PATH there: open it into *ret, or,
 * with gone_ok, only work out its path below the mount into rel (a cgroup that may be gone;
 * *ret then has fd -1). opt names PATH in messages ("--cgroup"). Returns EXIT_OK, or EXIT_FAIL
 * or EXIT_USAGE once said.
 */
int
cli_cgroup_open(const char *opt, const char *path, int gone_ok, struct kt_cgroup *ret)
{
	char mount[PATH_MAX];
	int r = kt_cgroup_mount(KT_MOUNTINFO, mount, sizeof(mount));

	if (r < 0) {
		cli_error("%s: %s", cli_running->name, cli_strerror(r, CLI_ABOUT_CGROUP2));
		return EXIT_FAIL;
	}
	r = kt_cgroup_open(mount, path, ret);
	if (r == 0)
		return EXIT_OK;
	if (gone_ok && r == -ENOENT) {
		r = kt_cgroup_rel(mount, path, ret->rel, sizeof(ret->rel));
		ret->fd = -1;
		ret->id = 0;
		if (r == 0)
			return EXIT_OK;
	}
	cli_error("%s: %s %s: %s%s%s", cli_running->name, opt, path,
	    cli_strerror(r, CLI_ABOUT_CGROUP), r == -EXDEV || r == -EMEDIUMTYPE ?
	    "; the cgroup2 mount is " : "", r == -EXDEV || r == -EMEDIUMTYPE ? mount : "");
	return r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

/* A cgroup's path below the mount as messages name it: "/" for the mount's root. */
const char *
cli_cgroup_name(const char *rel)
{
	return rel[0] ? rel : "/";
}

/*
 * Write a policy as "TIME/INTVL/PROBES", seconds, seconds and a count, "-" for a value not given
 * (the socket's network namespace's sysctl applies): "600/-/-". CLI_POLICY_LEN bytes suffice.
 */
const char *
cli_policy_text(const struct kt_values *v, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int k = 0; k < KT_NKEYS && off < len; k++) {
		int n = v->mask & KT_BIT(k) ?
		    snprintf(buf + off, len - off, "%s%d", k ? "/" : "", v->val[k]) :
		    snprintf(buf + off, len - off, "%s-", k ? "/" : "");

		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* A policy as a JSON object: each value, or null where the sysctl applies; or null. */
void
cli_json_policy(const struct kt_values *v)
{
	if (!v) {
		fputs("null", stdout);
		return;
	}
	putchar('{');
	for (int k = 0; k < KT_NKEYS; k++) {
		printf("%s\"%s\": ", k ? ", " : "", kt_key(k)->short_name);
		if (v->mask & KT_BIT(k))
			printf("%d", v->val[k]);
		else
			fputs("null", stdout);
	}
	putchar('}');
}

/*
 * The "cgroup" member of enable's and disable's result: its path below the mount, its id (null
 * when it is gone), what was done (the real run's word), the policy before (null: none of
 * ka-tune's was there) and after (null: none is now), and the pins of removed cgroups pruned.
 */
void
cli_json_cgroup(const struct kt_cgroup *cg, const struct kt_bpf_result *res,
    const struct kt_values *after)
{
	const struct kt_values *before = res->change == KT_BPF_ATTACHED ||
	    (res->change == KT_BPF_UNCHANGED && !after) ? NULL : &res->before;

	fputs(", \"cgroup\": {\"path\": ", stdout);
	cli_json_string(cg->rel);
	if (cg->fd >= 0)
		printf(", \"id\": %llu", cg->id);
	else
		fputs(", \"id\": null", stdout);
	printf(", \"change\": \"%s\", \"before\": ", change_words[0][res->change]);
	cli_json_policy(before);
	fputs(", \"after\": ", stdout);
	cli_json_policy(after);
	printf(", \"pruned\": %u}", res->pruned);
}

/* Whether a drop-in is worth naming: it is there, was, or would be. */
static int
dropin_shown(const struct kt_unit_result *u, size_t i)
{
	return u->files[i].existed || u->files[i].outcome != KT_PERSIST_UNCHANGED;
}

/* The "dropins" member: the unit, and each drop-in of --persist (or that disable removes) that
 * is there or was, with its outcome; null when there is no unit (enable without --persist,
 * disable of a cgroup no unit's). */
void
cli_json_dropins(const struct kt_unit_result *u)
{
	fputs(", \"dropins\": ", stdout);
	if (!u || u->n == 0) {
		fputs("null", stdout);
		return;
	}
	fputs("{\"unit\": ", stdout);
	cli_json_string(u->unit);
	fputs(", \"files\": [", stdout);
	for (size_t i = 0, shown = 0; i < u->n; i++) {
		if (!dropin_shown(u, i))
			continue;
		printf("%s{\"path\": ", shown++ ? ", " : "");
		cli_json_string(u->files[i].path);
		printf(", \"outcome\": \"%s\"}", cli_persist_outcome(u->files[i].outcome));
	}
	fputs("]}", stdout);
}

/* Whether a drop-in was or would be written or removed. */
int
cli_dropins_changed(const struct kt_unit_result *u)
{
	for (size_t i = 0; u && i < u->n; i++)
		if (u->files[i].outcome != KT_PERSIST_UNCHANGED)
			return 1;
	return 0;
}

/* The lines of the drop-ins: "PATH: changed", or in a dry run "PATH: would be changed". */
void
cli_dropins_text(const struct kt_unit_result *u, int dry_run)
{
	char vis[CLI_VIS_LEN(PATH_MAX)];

	for (size_t i = 0; u && i < u->n; i++)
		if (dropin_shown(u, i))
				printf("%s: %s%s\n", cli_vis(u->files[i].path, vis, sizeof(vis)),
			    dry_run && u->files[i].outcome != KT_PERSIST_UNCHANGED ? "would be " :
			    "", cli_persist_outcome(u->files[i].outcome));
}

/*
 * Say why kt_unit_enable() or kt_unit_disable() failed, for the cgroup named name: the kernel's
 * refusal, with the verifier's reason or the other cgroup that has ka-tune's program, or a
 * drop-in's error, and what could not be put back.
 */
void
cli_cgroup_failure(const char *name, int err, const struct kt_unit_fail *f)
{
	const char *cmd = cli_running->name;

	if (f->stage == KT_UNIT_STAGE_FILE)
		cli_error("%s: --cgroup %s: %s: %s", cmd, name, f->path,
		    cli_strerror(err, CLI_ABOUT_ETC_WRITE));
	else if (err == -ENOEXEC)
		cli_error("%s: --cgroup %s: the kernel's verifier refused ka-tune's BPF program: "
			  "%s", cmd, name, f->bpf.reason);
	else if (err == -EALREADY && f->bpf.above && f->bpf.outside)
		cli_error("%s: --cgroup %s: ka-tune's program is attached to a cgroup above the "
			  "cgroup2 mount this namespace sees, and runs for this one already", cmd,
		    name);
	else if (err == -EALREADY)
		cli_error("%s: --cgroup %s: ka-tune's program is attached to %s %s, whose values "
			  "would %s: disable it there first", cmd, name,
		    f->bpf.above ? "the cgroup above it," : "the cgroup below it,",
		    cli_cgroup_name(f->bpf.other),
		    f->bpf.above ? "win over these" : "lose to these for its connections");
	else
		cli_error("%s: --cgroup %s: %s", cmd, name, cli_strerror(err, CLI_ABOUT_BPF));
	if (f->unrestored)
		cli_error("%s: --cgroup %s: what was changed before the failure could not all be "
			  "put back: see ka-tune enable --list and %s", cmd, name, KT_UNIT_DIR);
}
