/* cmd_persist.c: ka-tune persist: write the values to a sysctl.d file so they survive reboot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct persist {
	struct kt_persist_req req;
	char path[PATH_MAX];		/* the file, as shown */
	char dir[PATH_MAX];		/* its directory, as shown: "." for a bare --file name */
	const char *root;		/* --root, or NULL */
	int dry_run, remove;
};

/* Print a value as it stands in the file, quoted, by the one escaping rule. */
static void
print_raw(FILE *f, const char *s)
{
	char buf[CLI_VIS_LEN(256)];

	fprintf(f, "'%s'", cli_vis(s, buf, sizeof(buf)));
}

/*
 * Print, for each key the edit touched or kept, what happens to its line. An old value the
 * kernel would not take as a number is shown as written.
 */
static void
print_plan(FILE *f, const struct kt_persist_result *res)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_persist_key *pk = &res->keys[k];
		const char *name = kt_key(k)->name;

		switch (pk->plan) {
		case KT_PLAN_NONE:
			break;
		case KT_PLAN_REMOVED:
			fprintf(f, "%s: removed\n", name);
			break;
		case KT_PLAN_ADDED:
			fprintf(f, "%s: %d added\n", name, pk->val);
			break;
		case KT_PLAN_UNCHANGED:
			fprintf(f, "%s: %d unchanged\n", name, pk->val);
			break;
		case KT_PLAN_CHANGED:
			if (pk->old_int) {
				fprintf(f, "%s: %d -> %d\n", name, pk->old, pk->val);
				break;
			}
			fprintf(f, "%s: ", name);
			print_raw(f, pk->old_text);
			fprintf(f, " -> %d\n", pk->val);
			break;
		}
	}
}

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

/*
 * Why writing path failed. A refusal under /etc says who may write there; elsewhere (--file in
 * a user's directory, --root in an image) that would be wrong.
 */
static const char *
write_why(const char *path, int err)
{
	return cli_strerror(err, strncmp(path, "/etc/", 5) == 0 ? CLI_ABOUT_ETC_WRITE
								: CLI_ABOUT_FILE_WRITE);
}

/* Say why the file's directory could not be opened: stop bytes of p->dir name the culprit. */
static void
report_dir_error(const struct persist *p, int err, size_t stop)
{
	size_t root_len = p->req.root_len;

	if (err == -ELOOP && stop > root_len)
		cli_error("%.*s: is a symbolic link; --root does not follow links inside %.*s: "
			  "they may lead out of it", (int)stop, p->dir, (int)root_len, p->dir);
	else if (err == -ENOENT && p->root && stop <= root_len)
		cli_error("%.*s: no such directory: --root names an image tree that exists (the "
			  "directories below it are made)", (int)stop, p->dir);
	else
		cli_error("%.*s: cannot open%s: %s", (int)stop, p->dir,
		    (p->req.flags & KT_PERSIST_CREATE) && !p->dry_run ? " or create" : "",
		    err == -ELOOP ? strerror(ELOOP) : write_why(p->dir, err));
}

/* Say what made the transaction fail; nothing was changed. */
static void
report_failure(const struct persist *p, int err, const struct kt_persist_fail *f)
{
	const char *key = kt_key(f->key)->name;

	switch (f->step) {
	case KT_STEP_OPEN_DIR:
		report_dir_error(p, err, f->stop);
		break;
	case KT_STEP_LOCK:
		if (err == -ETIMEDOUT)
			cli_error("%s: timed out after %u s waiting for the lock (another ka-tune "
				  "persist, or a process holding flock on %s)", p->dir,
			    p->req.lock_timeout_ms / 1000, p->dir);
		else
			cli_error("%s: cannot lock: %s", p->dir, write_why(p->dir, err));
		break;
	case KT_STEP_READ:
		cli_error("%s: cannot read: %s", p->path, write_why(p->path, err));
		break;
	case KT_STEP_EDIT:
	case KT_STEP_CHECK:
		if (err != -EBADMSG)
			cli_error("%s: %s", p->path, cli_strerror(err, CLI_ABOUT_FILE_WRITE));
		else if (f->step == KT_STEP_EDIT)
			cli_error("%s:%u: a loader reads part of this line as %s, and a NUL byte or a "
				  "carriage return splits it from the rest; ka-tune does not edit "
				  "such a line: fix it by hand", p->path, f->line, key);
		else
			cli_error("%s:%u: %s would apply this line to %s instead of the one ka-tune "
				  "writes; fix the line by hand", p->path, f->line,
			    kt_loader_name(f->loader), key);
		break;
	case KT_STEP_CLEAN:
		cli_error("%s: cannot remove stale temp files: %s", p->dir, write_why(p->dir, err));
		break;
	case KT_STEP_DELETE:
		cli_error("%s: cannot remove: %s", p->path, write_why(p->path, err));
		break;
	case KT_STEP_WRITE:
	case KT_STEP_MODE:
		cli_error("%s: cannot write: %s", p->path, write_why(p->path, err));
		break;
	}
}

static const char *const outcome_words[] = {
	[KT_PERSIST_UNCHANGED] = "unchanged",
	[KT_PERSIST_CHANGED] = "changed",
	[KT_PERSIST_REMOVED] = "removed",
};

/*
 * Warn when the values just persisted will not be what the boot loader applies: a file that loads
 * later overrides a key (Debian's 99-sysctl.conf -> ../sysctl.conf, say), or hides our file.
 */
static void
warn_boot(const struct persist *p, const struct kt_persist_result *res)
{
	const char *loader = kt_loader_name(p->req.loader);

	if (res->warnings & KT_PERSIST_WARN_BOOT)
		cli_warn("cannot tell whether a later file overrides %s: %s", p->path,
		    cli_strerror(res->boot_err, CLI_ABOUT_FILE_READ));
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk;

		if (!(res->overridden & KT_BIT(k)))
			continue;
		bk = kt_boot_key(res->boot, k);
		if (bk->from)
			cli_warn("%s: %s:%u loads later and sets %d; the value persisted here does "
				 "not apply at boot (%s)", kt_key(k)->name, bk->from->file,
			    bk->from->line, bk->val, loader);
		else
			cli_warn("%s: the value persisted here does not apply at boot (%s): %s; the "
				 "kernel default %d stays", kt_key(k)->name, loader,
			    res->assign[k]->state == KT_ASSIGN_HIDDEN ?
			    "the file is hidden by one of the same name" :
			    "a later line the kernel refuses replaces it", bk->val);
	}
}

/* Print what persist did, or would do with --dry-run. Returns the exit status. */
static int
report(const struct persist *p, const struct kt_persist_result *res)
{
	const char *outcome = outcome_words[res->outcome];

	if (res->warnings & KT_PERSIST_WARN_NOT_CONF)
		cli_warn("%s: the name does not end in .conf: no loader reads it at boot", p->path);
	if (p->dry_run) {
		/* A short write shows in cli_finish()'s check of stdout. */
		if (res->text)
			(void)fwrite(res->text, 1, res->len, stdout);
		fflush(stdout);		/* the content first where both go to one file */
		print_plan(stderr, res);
		fprintf(stderr, "dry run: %s would be %s; nothing written\n", p->path, outcome);
		return EXIT_OK;
	}
	if (res->outcome != KT_PERSIST_UNCHANGED)
		cli_note_change("%s was %s", p->path, res->outcome == KT_PERSIST_REMOVED ?
		    "removed" : "written");
	print_plan(stdout, res);
	printf("%s: %s\n", p->path, outcome);
	warn_boot(p, res);
	if (!(res->warnings & KT_PERSIST_WARN_SYNC))
		return EXIT_OK;
	cli_error("%s: %s, but syncing %s failed: %s; %s", p->path,
	    res->outcome == KT_PERSIST_REMOVED ? "deleted" : "written", p->dir,
	    cli_strerror(res->sync_err, CLI_ABOUT_FILE_WRITE),
	    res->outcome == KT_PERSIST_REMOVED ? "the file may come back after a crash"
					       : "the new file may not survive a crash");
	return EXIT_FAIL;
}

/* Persist, and say what happened. Returns the exit status. */
static int
persist(struct persist *p)
{
	struct kt_persist_result res;
	struct kt_persist_fail fail;
	int r;

	p->req.dir = p->dir;
	p->req.path = p->path;
	p->req.flags |= p->dry_run ? KT_PERSIST_DRY_RUN : 0;
	p->req.lock_timeout_ms = KT_LOCK_TIMEOUT * 1000;
	p->req.boot_root = p->root;
	p->req.loader = kt_boot_default_loader(p->root, p->root == NULL);
	r = kt_persist(&p->req, &res, &fail);
	if (r < 0) {
		report_failure(p, r, &fail);
		return EXIT_FAIL;
	}
	r = report(p, &res);
	kt_persist_free(&res);
	return r;
}

/*
 * Work out the file and its directory from --file or --root (neither: /etc/sysctl.d), and how
 * much of the directory the user named. --root's trailing slashes go ("/" is the real root).
 * Returns EXIT_OK or EXIT_USAGE.
 */
static int
set_target(struct persist *p, const char *file, const char *root)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	size_t len = root ? strlen(root) : 0;

	if (file) {
		/* Its directory: up to the last '/' ("/" for "/x"), or "." for a bare name. */
		size_t dlen = !slash ? 0 : slash == file ? 1 : (size_t)(slash - file);

		if (slash && slash[1] == '\0')
			return cli_usage_error("persist: --file '%s' names a directory", file);
		if (snprintf(p->path, sizeof(p->path), "%s", file) >= (int)sizeof(p->path))
			return cli_usage_error("persist: --file '%s': path too long", file);
		memcpy(p->dir, dlen ? file : ".", dlen ? dlen : 1);
		p->dir[dlen ? dlen : 1] = '\0';
		p->req.name = p->path + (slash ? slash - file + 1 : 0);
		p->req.root_len = strlen(p->dir);
		p->req.boot_path = p->path;
		return EXIT_OK;
	}
	while (len > 0 && root[len - 1] == '/')
		len--;
	if (snprintf(p->dir, sizeof(p->dir), "%.*s%s", (int)len, root ? root : "",
		KT_CONF_DIR) >= (int)sizeof(p->dir) ||
	    snprintf(p->path, sizeof(p->path), "%s/%s", p->dir,
		KT_CONF_NAME) >= (int)sizeof(p->path))
		return cli_usage_error("persist: --root '%s': path too long", root);
	p->req.name = p->path + strlen(p->dir) + 1;
	p->req.root_len = root ? len : strlen(p->dir);
	p->root = root;
	if (root && !p->remove)		/* --remove makes nothing: no directory, no file */
		p->req.flags |= KT_PERSIST_CREATE;
	p->req.boot_path = KT_CONF_PATH;
	return EXIT_OK;
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct persist p = { .req = { .want = { 0 } } };
	const char *file = NULL, *root = NULL;
	const char *arg[KT_NKEYS] = { NULL };
	int c, r;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'n':
			p.dry_run = 1;
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

	r = set_target(&p, file, root);
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
	    "        [--file PATH | --root DIR] [--dry-run]\n"
	    "ka-tune persist --remove [--file PATH | --root DIR] [--dry-run]\n",
	.help =
	    "  writes " KT_CONF_PATH "; values not given are taken from the kernel\n"
	    CLI_VALUES_HELP
	    "  --file PATH   write PATH instead\n"
	    "  --root DIR    write DIR" KT_CONF_PATH " (an image tree)\n"
	    "  --remove      take the three keys out (the file too, if nothing else is left)\n"
	    "  --dry-run     print the new content, write nothing\n",
	.not_in_netns = "sysctl.d files set the host's namespace at boot; a container's values "
			"belong in its runtime configuration (docker run --sysctl, a Kubernetes "
			"pod's securityContext.sysctls)",
};
