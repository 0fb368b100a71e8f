/* cli_persist.c: the file persist writes, for persist and set --persist alike: where it is, the
 * request for the library, and the words for what became of it and what went wrong. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/*
 * Work out the file and its directory from --file or --root (neither: /etc/sysctl.d), and how
 * much of the directory the user named. --root's trailing slashes go ("/" is the real root).
 * Returns EXIT_OK or EXIT_USAGE.
 */
int
cli_persist_target(struct cli_persist *p, const char *file, const char *root)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	const char *cmd = cli_running ? cli_running->name : "persist";
	size_t len = root ? strlen(root) : 0;

	if (file) {
		/* Its directory: up to the last '/' ("/" for "/x"), or "." for a bare name. */
		size_t dlen = !slash ? 0 : slash == file ? 1 : (size_t)(slash - file);

		if (slash && slash[1] == '\0')
			return cli_usage_error("%s: --file '%s' names a directory", cmd, file);
		if (snprintf(p->path, sizeof(p->path), "%s", file) >= (int)sizeof(p->path))
			return cli_usage_error("%s: --file '%s': path too long", cmd, file);
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
		return cli_usage_error("%s: --root '%s': path too long", cmd, root);
	p->req.name = p->path + strlen(p->dir) + 1;
	p->req.root_len = root ? len : strlen(p->dir);
	p->root = root;
	if (root && !p->remove)		/* --remove makes nothing: no directory, no file */
		p->req.flags |= KT_PERSIST_CREATE;
	p->req.boot_path = KT_CONF_PATH;
	return EXIT_OK;
}

/* Complete the request for the library: paths, dry run, lock wait, the boot loader to ask. */
void
cli_persist_request(struct cli_persist *p)
{
	p->req.dir = p->dir;
	p->req.path = p->path;
	p->req.flags |= p->dry_run ? KT_PERSIST_DRY_RUN : 0;
	p->req.lock_timeout_ms = KT_LOCK_TIMEOUT * 1000;
	p->req.boot_root = p->root;
	p->req.loader = kt_boot_default_loader(p->root, p->root == NULL);
}

/* What became of the file, in a word: "changed", "unchanged" or "removed". */
const char *
cli_persist_outcome(enum kt_persist_outcome o)
{
	static const char *const words[] = {
		[KT_PERSIST_UNCHANGED] = "unchanged",
		[KT_PERSIST_CHANGED] = "changed",
		[KT_PERSIST_REMOVED] = "removed",
	};

	return words[o];
}

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
void
cli_persist_plan(FILE *f, const struct kt_persist_result *res)
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
report_dir_error(const struct cli_persist *p, int err, size_t stop)
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
		    err == -ELOOP ? cli_strerror(err, CLI_ABOUT_FILE_READ) : write_why(p->dir, err));
}

/* Say what made the transaction on the file fail. */
void
cli_persist_failure(const struct cli_persist *p, int err, const struct kt_persist_fail *f)
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

/* Say why the value persisted for key k is not the one the loader applies at boot. */
static void
warn_overridden(enum kt_key k, const struct kt_persist_result *res, const char *loader)
{
	const struct kt_boot_key *bk = kt_boot_key(res->boot, k);
	int hidden = res->assign[k]->state == KT_ASSIGN_HIDDEN;

	if (bk->from && hidden)
		cli_warn_code("boot-overridden", "%s: the file is hidden by one of the same name in "
		    "an earlier directory, %s, whose line %u sets %d; the value persisted here does "
		    "not apply at boot (%s)", kt_key(k)->name, bk->from->file, bk->from->line,
		    bk->val, loader);
	else if (bk->from)
		cli_warn_code("boot-overridden", "%s: %s:%u loads later and sets %d; the value "
		    "persisted here does not apply at boot (%s)", kt_key(k)->name, bk->from->file,
		    bk->from->line, bk->val, loader);
	else
		cli_warn_code("boot-overridden", "%s: the value persisted here does not apply at "
		    "boot (%s): %s; the kernel default %d stays", kt_key(k)->name, loader, hidden ?
		    "the file is hidden by one of the same name" :
		    "a later line the kernel refuses replaces it", bk->val);
}

/*
 * Warn about a name no loader reads, and, after a write, when the values just persisted will not
 * be what the boot loader applies: a file that loads later overrides a key (Debian's
 * 99-sysctl.conf -> ../sysctl.conf, say), or hides our file.
 */
void
cli_persist_warnings(const struct cli_persist *p, const struct kt_persist_result *res)
{
	const char *loader = kt_loader_name(p->req.loader);

	if (res->warnings & KT_PERSIST_WARN_NOT_CONF)
		cli_warn_code("name-not-conf", "%s: the name does not end in .conf: no loader "
					       "reads it at boot", p->path);
	if (res->warnings & KT_PERSIST_WARN_NOT_READ)
		cli_warn_code("not-read", "%s: %s does not read this file at boot (it reads *.conf "
					  "in the sysctl.d directories of sysctl.d(5))", p->path, loader);
	if (res->warnings & KT_PERSIST_WARN_BOOT)
		cli_warn_code("boot-unknown", "cannot tell whether a later file overrides %s: %s",
		    p->path, cli_strerror(res->boot_err, CLI_ABOUT_FILE_READ));
	if (res->warnings & KT_PERSIST_WARN_UNREAD)
		cli_boot_warn_notes(res->boot, p->req.loader);
	for (int k = 0; k < KT_NKEYS; k++)
		if (res->overridden & KT_BIT(k))
			warn_overridden(k, res, loader);
}

/*
 * Say when the file was written or deleted but its directory could not be flushed. Returns
 * EXIT_FAIL then (the change may not survive a crash), else EXIT_OK.
 */
int
cli_persist_synced(const struct cli_persist *p, const struct kt_persist_result *res)
{
	if (!(res->warnings & KT_PERSIST_WARN_SYNC))
		return EXIT_OK;
	cli_error("%s: %s, but syncing %s failed: %s; %s", p->path,
	    res->outcome == KT_PERSIST_REMOVED ? "deleted" : "written", p->dir,
	    cli_strerror(res->sync_err, CLI_ABOUT_FILE_WRITE),
	    res->outcome == KT_PERSIST_REMOVED ? "the file may come back after a crash"
					       : "the new file may not survive a crash");
	return EXIT_FAIL;
}
