/* cmd_persist.c: ka-tune persist: write the values to a sysctl.d file so they survive reboot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct persist {
	struct kt_values want;		/* what the file is to hold; mask 0 with --remove */
	const char *path;
	const char *root;		/* --root, or NULL */
	const char *boot_path;		/* the file as the boot loader names it */
	int dry_run, remove;
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
		const char *name = kt_key_name(k);
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
			cli_error("%s: the running kernel holds %d, outside %d..%d; give %s",
			    kt_key_name(k), kern.val[k], kt_key_min(k), kt_key_max(k),
			    kt_key_option(k));
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
				    kt_key_name(k), bk->from->file, bk->from->line, bk->val,
				    "the value persisted here does not apply", kt_loader_name(loader));
			else
				cli_error("warning: %s: the value persisted here does not apply at boot "
					  "(%s): %s; the kernel default %d stays", kt_key_name(k),
				    kt_loader_name(loader), a->state == KT_ASSIGN_HIDDEN ?
				    "the file is hidden by one of the same name" :
				    "a later line the kernel refuses replaces it", bk->val);
			break;
		}
	}
	kt_boot_free(b);
}

/*
 * Load the file (a missing one is empty), edit it, and write, delete or leave it. The old text
 * is kept until the plan is printed: the plan shows old values as they stand in it.
 */
static int
persist(const struct persist *p)
{
	char *old = NULL, *new = NULL;
	size_t oldlen = 0, newlen;
	struct kt_conf_edit e;
	const char *result;
	int r, ret = EXIT_FAIL;

	r = kt_conf_load(p->path, &old, &oldlen);
	if (r < 0 && r != -ENOENT) {
		cli_error("%s: cannot read: %s", p->path, kt_conf_strerror(r));
		return EXIT_FAIL;
	}
	r = kt_conf_edit(old, oldlen, &p->want, &new, &newlen, &e);
	if (r < 0) {
		cli_error("%s: %s", p->path, kt_conf_strerror(r));
		goto out;
	}
	if (e.same)
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
	r = 0;
	if (!e.same)
		r = p->remove && e.empty ? kt_conf_delete(p->path) : kt_conf_save(p->path, new, newlen);
	if (r < 0) {
		cli_error("%s: cannot write: %s", p->path, kt_conf_strerror(r));
		goto out;
	}
	print_plan(stdout, &p->want, &e);
	printf("%s: %s\n", p->path, result);
	if (!p->remove)
		warn_overridden(p);
	ret = EXIT_OK;
out:
	free(new);
	free(old);
	return ret;
}

int
cmd_persist(int argc, char **argv)
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
	struct persist p = { .path = KT_CONF_PATH, .boot_path = KT_CONF_PATH };
	const char *file = NULL, *root = NULL;
	char path[PATH_MAX], dir[PATH_MAX];
	const char *arg[KT_NKEYS] = { NULL };
	int c, k, r, bad = 0, lockfd;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
		case 'i':
		case 'p':
			/* Judged after the loop, so that --help wins over a bad value before it;
			 * the first bad one of a key stays to be reported, else the last one wins. */
			k = c == 't' ? KT_TIME : c == 'i' ? KT_INTVL : KT_PROBES;
			if (!arg[k] || kt_parse_value(k, arg[k], &(int){ 0 }) == 0)
				arg[k] = optarg;
			break;
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
		case 'h':
			return cli_help();
		default:
			return cli_bad_option(argv, c);
		}
	}
	if (optind < argc)
		return cli_usage_error("persist: unexpected argument '%s'", argv[optind]);
	for (k = 0; k < KT_NKEYS; k++)
		if (arg[k])
			bad |= cli_parse_value(k, arg[k], &p.want);
	if (bad)
		return EXIT_USAGE;
	if (file && root)
		return cli_usage_error("persist: --file and --root exclude each other");
	if (p.remove && p.want.mask)
		return cli_usage_error("persist: --remove takes no values");
	if ((file && !*file) || (root && !*root))
		return cli_usage_error("persist: --%s needs a non-empty path", file ? "file" : "root");

	dir[0] = '\0';
	if (file) {
		p.path = p.boot_path = file;
	} else if (root) {
		p.root = root;
		if (snprintf(dir, sizeof(dir), "%s%s", root, KT_CONF_DIR) >= (int)sizeof(dir) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, KT_CONF_NAME) >= (int)sizeof(path))
			return cli_usage_error("persist: --root '%s': path too long", root);
		p.path = path;
	}
	if (!p.remove) {
		r = fill_from_kernel(&p.want);
		if (r != EXIT_OK)
			return r;
	}
	if (p.dry_run)
		return persist(&p);

	if (dir[0] && (r = kt_mkdir_parents(dir)) < 0) {
		cli_error("%s: cannot create: %s", dir, kt_conf_strerror(r));
		return EXIT_FAIL;
	}
	r = kt_conf_lock(p.path, &lockfd);
	if (r < 0) {
		cli_error("%s: cannot lock its directory: %s", p.path, kt_conf_strerror(r));
		return EXIT_FAIL;
	}
	r = persist(&p);
	(void)close(lockfd);
	return r;
}
