/* cmd_persist.c: ka-tune persist: write the values to a sysctl.d file so they survive reboot. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct persist {
	struct kt_values want;		/* what the file is to hold; mask 0 with --remove */
	char path[PATH_MAX];		/* the file, as shown */
	char dir[PATH_MAX];		/* its directory, as shown: "." for a bare --file name */
	const char *name;		/* its last component, in path */
	size_t root_len;		/* how much of dir the user named: links followed there */
	const char *root;		/* --root, or NULL */
	const char *boot_path;		/* the file as the boot loader names it */
	int dry_run, remove, create;
};

/* Print a value as it stands in the file, quoted, its unprintable bytes as \xNN. */
static void
print_raw(FILE *f, const char *s, size_t len)
{
	fputc('\'', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('\'', f);
}

/*
 * Print, for each key the edit touched or kept, what happens to its line. An old value the
 * kernel would not take as a number is shown as written.
 */
static void
print_plan(FILE *f, const struct kt_values *want, const struct kt_conf_edit *e)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		const char *name = kt_key(k)->name;
		unsigned int bit = KT_BIT(k);

		if (!(want->mask & bit)) {
			if (e->present & bit)
				fprintf(f, "%s: removed\n", name);
		} else if (!(e->present & bit)) {
			fprintf(f, "%s: %d added\n", name, want->val[k]);
		} else if (!(e->changed & bit)) {
			fprintf(f, "%s: %d unchanged\n", name, want->val[k]);
		} else if (e->old_int & bit) {
			fprintf(f, "%s: %d -> %d\n", name, e->old[k], want->val[k]);
		} else {
			fprintf(f, "%s: ", name);
			print_raw(f, e->old_text[k], e->old_len[k]);
			fprintf(f, " -> %d\n", want->val[k]);
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
 * Warn when the values just persisted will not be what the boot loader applies: a file that loads
 * later overrides a key (Debian's 99-sysctl.conf -> ../sysctl.conf, say), or hides our file.
 */
static void
warn_overridden(const struct persist *p)
{
	enum kt_loader loader = kt_boot_default_loader(p->root);
	struct kt_boot *b;

	if (kt_boot_read(p->root, loader, kt_kernel_hz(), &b) < 0)
		return;
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		for (size_t i = 0; i < bk->nassigns; i++) {
			const struct kt_assign *a = &bk->assigns[i];

			if (strcmp(a->file, p->boot_path) != 0 || a->state == KT_ASSIGN_APPLIED)
				continue;
			if (bk->from)
				cli_error("warning: %s: %s:%u loads later and sets %d; %s at boot (%s)",
				    kt_key(k)->name, bk->from->file, bk->from->line, bk->val,
				    "the value persisted here does not apply", kt_loader_name(loader));
			else
				cli_error("warning: %s: the value persisted here does not apply at boot "
					  "(%s): %s; the kernel default %d stays", kt_key(k)->name,
				    kt_loader_name(loader), a->state == KT_ASSIGN_HIDDEN ?
				    "the file is hidden by one of the same name" :
				    "a later line the kernel refuses replaces it", bk->val);
			break;
		}
	}
	kt_boot_free(b);
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

/*
 * Make the change under the lock: clear the temp files of runs that were killed, then set the
 * mode right, delete the file or replace it with text, and flush the directory. Says on stderr
 * what failed. Returns 0; 1 when the change is made but may not survive a crash, as flushing
 * the directory failed; or -1 when nothing was changed.
 */
static int
write_out(const struct persist *p, int dirfd, int fix_mode, int delete, const char *text,
    size_t len)
{
	int r;

	assert(dirfd >= 0);	/* without a directory, only --remove and dry runs get here */
	r = kt_conf_clean(dirfd, p->name);
	if (r < 0) {
		cli_error("%s: cannot remove stale temp files: %s", p->dir, write_why(p->dir, r));
		return -1;
	}
	if (fix_mode)
		r = kt_conf_fix_mode(dirfd, p->name);
	else if (delete)
		r = kt_conf_delete(dirfd, p->name);
	else
		r = kt_conf_save(dirfd, p->name, text, len);
	if (r < 0) {
		cli_error("%s: cannot write: %s", p->path, write_why(p->path, r));
		return -1;
	}
	if (fix_mode || (r = kt_conf_sync(dirfd)) == 0)
		return 0;
	cli_error("%s: %s, but syncing %s failed: %s; %s", p->path, delete ? "deleted" : "written",
	    p->dir, cli_strerror(r, CLI_ABOUT_FILE_WRITE), delete ? "the file may come back after a crash"
						: "the new file may not survive a crash");
	return 1;
}

/*
 * Load the file from the directory dirfd (-1: there is no directory, so no file), edit it, and
 * write, delete or leave it; a file left as it is gets mode 0644 if it had another. The old text
 * is kept until the plan is printed: the plan shows old values as they stand in it.
 */
static int
persist(const struct persist *p, int dirfd)
{
	char *old = NULL, *new = NULL;
	size_t oldlen = 0, newlen;
	struct kt_conf_edit e;
	const char *result;
	unsigned int mode = 0644;
	int r = -ENOENT, ret = EXIT_FAIL, fix_mode, w = 0;

	if (dirfd >= 0)
		r = kt_conf_load(dirfd, p->name, &old, &oldlen, &mode);
	if (r < 0 && r != -ENOENT) {
		cli_error("%s: cannot read: %s", p->path, write_why(p->path, r));
		return EXIT_FAIL;
	}
	r = kt_conf_edit(old, oldlen, &p->want, &new, &newlen, &e);
	if (r < 0) {
		cli_error("%s: %s", p->path, cli_strerror(r, CLI_ABOUT_FILE_WRITE));
		goto out;
	}
	/* Only the mode to set right: of a file that holds our keys, not one --remove leaves. */
	fix_mode = e.same && old && !p->remove && mode != 0644;
	if (e.same && !fix_mode)
		result = "unchanged";
	else if (p->remove && e.empty)
		result = "removed";
	else
		result = "changed";

	if (p->dry_run) {
		/* A short write shows in main()'s check of stdout. */
		if (!(p->remove && e.empty) && fwrite(new, 1, newlen, stdout) != newlen)
			newlen = 0;
		fflush(stdout);		/* the content first where both go to one file */
		print_plan(stderr, &p->want, &e);
		fprintf(stderr, "dry run: %s would be %s; nothing written\n", p->path, result);
		ret = EXIT_OK;
		goto out;
	}
	if ((!e.same || fix_mode) &&
	    (w = write_out(p, dirfd, fix_mode, p->remove && e.empty, new, newlen)) < 0)
		goto out;
	if (!e.same || fix_mode)
		cli_note_change("%s was %s", p->path, p->remove && e.empty ? "removed" : "written");
	print_plan(stdout, &p->want, &e);
	printf("%s: %s\n", p->path, result);
	if (!p->remove)
		warn_overridden(p);
	ret = w ? EXIT_FAIL : EXIT_OK;
out:
	free(new);
	free(old);
	return ret;
}

/* Say why the file's directory could not be opened: stop bytes of p->dir name the culprit. */
static void
report_dir_error(const struct persist *p, int err, size_t stop)
{
	if (err == -ELOOP && stop > p->root_len)
		cli_error("%.*s: is a symbolic link; --root does not follow links inside %.*s: "
			  "they may lead out of it", (int)stop, p->dir, (int)p->root_len, p->dir);
	else
		cli_error("%.*s: cannot open%s: %s", (int)stop, p->dir,
		    p->create && !p->dry_run ? " or create" : "",
		    err == -ELOOP ? strerror(ELOOP) : write_why(p->dir, err));
}

/*
 * Open the file's directory (making it for --root; with --remove or --dry-run a missing one
 * holds no file), lock it unless this is a dry run, and persist. Returns an exit status.
 */
static int
persist_in_dir(const struct persist *p)
{
	size_t stop = 0;
	int dirfd = -1, r;

	r = kt_conf_open_dir(p->dir, p->root_len, p->create && !p->dry_run, &dirfd, &stop);
	if (r < 0 && !(r == -ENOENT && (p->remove || p->dry_run))) {
		report_dir_error(p, r, stop);
		return EXIT_FAIL;
	}
	if (dirfd >= 0 && !p->dry_run && (r = kt_conf_lock(dirfd, KT_LOCK_TIMEOUT * 1000)) < 0) {
		if (r == -ETIMEDOUT)
			cli_error("%s: timed out after %d s waiting for the lock (another "
				  "ka-tune persist, or a process holding flock on %s)", p->dir,
			    KT_LOCK_TIMEOUT, p->dir);
		else
			cli_error("%s: cannot lock: %s", p->dir, cli_strerror(r, CLI_ABOUT_FILE_WRITE));
		(void)close(dirfd);
		return EXIT_FAIL;
	}
	r = persist(p, dirfd);
	if (dirfd >= 0)
		(void)close(dirfd);
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
		p->name = p->path + (slash ? slash - file + 1 : 0);
		p->root_len = strlen(p->dir);
		p->boot_path = p->path;
		return EXIT_OK;
	}
	while (len > 0 && root[len - 1] == '/')
		len--;
	if (snprintf(p->dir, sizeof(p->dir), "%.*s%s", (int)len, root ? root : "",
		KT_CONF_DIR) >= (int)sizeof(p->dir) ||
	    snprintf(p->path, sizeof(p->path), "%s/%s", p->dir,
		KT_CONF_NAME) >= (int)sizeof(p->path))
		return cli_usage_error("persist: --root '%s': path too long", root);
	p->name = p->path + strlen(p->dir) + 1;
	p->root_len = root ? len : strlen(p->dir);
	p->root = root;
	p->create = root && !p->remove;	/* --remove makes nothing: no directory, no file */
	p->boot_path = KT_CONF_PATH;
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
	struct persist p = { .want = { 0 } };
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
	if ((r = cli_parse_values(arg, &p.want)) != 0)
		return r;
	if (file && root)
		return cli_usage_error("persist: --file and --root exclude each other");
	if (p.remove && p.want.mask)
		return cli_usage_error("persist: --remove takes no values");
	if ((file && !*file) || (root && !*root))
		return cli_usage_error("persist: --%s needs a non-empty path", file ? "file" : "root");

	r = set_target(&p, file, root);
	if (r != EXIT_OK)
		return r;
	if (!p.remove) {
		r = fill_from_kernel(&p.want);
		if (r != EXIT_OK)
			return r;
	}
	return persist_in_dir(&p);
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
