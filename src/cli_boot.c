/* cli_boot.c: the boot values as show --boot and check give them: the boot model read for a
 * loader, warnings about the files it could not read, and the text and JSON views. */
#include <stdio.h>

#include "cli.h"

static const char *const state_words[] = {
	[KT_ASSIGN_APPLIED] = "applied",
	[KT_ASSIGN_OVERRIDDEN] = "overridden",
	[KT_ASSIGN_REJECTED] = "rejected",
	[KT_ASSIGN_EXPLICIT] = "glob-skipped",
	[KT_ASSIGN_EXCLUDED] = "excluded",
	[KT_ASSIGN_HIDDEN] = "hidden",
};

static const char *const state_notes[] = {
	[KT_ASSIGN_APPLIED] = "",
	[KT_ASSIGN_OVERRIDDEN] = "a later assignment wins",
	[KT_ASSIGN_REJECTED] = "the kernel refuses this value",
	[KT_ASSIGN_EXPLICIT] = "the key is named explicitly, the glob is not applied to it",
	[KT_ASSIGN_EXCLUDED] = "no value: keeps globs off the key",
	[KT_ASSIGN_HIDDEN] = "not read: a file of the same name in an earlier directory wins",
};

/*
 * Warn about every file or directory the model could not read: one the loader skips too, as it
 * says at boot (procps: 'cannot open "FILE"'), or one that makes the boot values uncertain.
 * Returns how many of the latter there are.
 */
int
cli_boot_warn_notes(const struct kt_boot *b, enum kt_loader loader)
{
	const struct kt_boot_note *notes;
	size_t n = kt_boot_notes(b, &notes);
	int unsure = 0;

	for (size_t i = 0; i < n; i++) {
		const char *why = cli_strerror(notes[i].err, CLI_ABOUT_FILE_READ);

		if (notes[i].kind == KT_BOOT_SKIPPED) {
			cli_warn_code("file-skipped", "%s: cannot open: %s (%s skips it too)",
			    notes[i].file, why, kt_loader_name(loader));
		} else {
			cli_warn_code("file-unread", "%s: cannot read: %s; the boot values may be "
						    "wrong", notes[i].file, why);
			unsure++;
		}
	}
	return unsure;
}

/*
 * Work the boot values out for the chosen loader, saying on stderr what went wrong, and warning
 * about files the model could not read; *ret_unsure (when not NULL) says how many of those make
 * the values uncertain. Returns EXIT_OK or EXIT_FAIL.
 */
int
cli_boot_read(const char *root, enum kt_loader loader, struct kt_boot **ret, int *ret_unsure)
{
	int r, unsure;

	r = kt_boot_read(root, loader, kt_kernel_hz(NULL), ret);
	if (r < 0) {
		cli_error("cannot read the sysctl.d files%s%s: %s", root ? " under " : "",
		    root ? root : "", cli_strerror(r, CLI_ABOUT_FILE_READ));
		return EXIT_FAIL;
	}
	unsure = cli_boot_warn_notes(*ret, loader);
	if (ret_unsure)
		*ret_unsure = unsure;
	return EXIT_OK;
}

/* Where a key's boot value comes from, as text: "from FILE:LINE" or "kernel default". */
static void
print_from(const struct kt_boot_key *bk)
{
	char file[CLI_VIS_LEN(512)];

	if (bk->from)
		printf("  from %s:%u", cli_vis(bk->from->file, file, sizeof(file)), bk->from->line);
	else
		printf("  kernel default");
}

static void
print_text(const struct kt_boot *b, enum kt_loader loader, const struct kt_values *running)
{
	char file[CLI_VIS_LEN(512)], key[CLI_VIS_LEN(256)], value[CLI_VIS_LEN(256)];

	printf("loader: %s\n", kt_loader_name(loader));
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		printf("%-29s = %d", kt_key(k)->name, bk->val);
		print_from(bk);
		if (running && running->val[k] != bk->val)
			printf("  (running %d: differs)", running->val[k]);
		else if (running)
			printf("  (running: same)");
		putchar('\n');
		for (size_t i = 0; i < bk->nassigns; i++) {
			const struct kt_assign *a = &bk->assigns[i];

			if (a == bk->from)
				continue;
			printf("    %-12s %s:%u: %s%s%s (%s)\n", state_words[a->state],
			    cli_vis(a->file, file, sizeof(file)), a->line, cli_vis(a->key, key, sizeof(key)),
			    a->value ? " = " : "", a->value ? cli_vis(a->value, value, sizeof(value)) : "",
			    state_notes[a->state]);
		}
	}
}

static void
print_json(const struct kt_boot *b, enum kt_loader loader, const struct kt_values *running)
{
	printf("{\"loader\": \"%s\"", kt_loader_name(loader));
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		printf(", \"%s\": {\"boot\": %d, \"from\": ", kt_key(k)->short_name, bk->val);
		if (bk->from) {
			printf("{\"file\": ");
			cli_json_string(bk->from->file);
			printf(", \"line\": %u}", bk->from->line);
		} else {
			printf("null");
		}
		if (running)
			printf(", \"running\": %d", running->val[k]);
		printf(", \"assignments\": [");
		for (size_t i = 0; i < bk->nassigns; i++) {
			const struct kt_assign *a = &bk->assigns[i];

			printf("%s{\"file\": ", i ? ", " : "");
			cli_json_string(a->file);
			printf(", \"line\": %u, \"key\": ", a->line);
			cli_json_string(a->key);
			printf(", \"value\": ");
			if (a->value)
				cli_json_string(a->value);
			else
				printf("null");
			printf(", \"state\": \"%s\"}", state_words[a->state]);
		}
		printf("]}");
	}
	puts("}");
}

/*
 * show --boot: the value each key gets at boot, from which file:line, what it overrides, and
 * whether the running value differs (not with --root: an image's kernel is not this one).
 * format is text, --sysctl or --json. Returns an exit status.
 */
int
cli_show_boot(const char *root, const char *loader_arg, enum cli_format format)
{
	enum kt_loader loader = kt_boot_default_loader(root, root == NULL);
	struct kt_values running;
	struct kt_boot *b;
	int r;

	if (loader_arg && (r = cli_parse_loader(loader_arg, &loader)) != 0)
		return r;
	if (!root && (r = cli_read_kernel(KT_ALL, &running)) != EXIT_OK)
		return r;
	r = cli_boot_read(root, loader, &b, NULL);
	if (r != EXIT_OK)
		return r;
	if (format == CLI_FORMAT_SYSCTL) {
		for (int k = 0; k < KT_NKEYS; k++)
			printf("%s = %d\n", kt_key(k)->name, kt_boot_key(b, k)->val);
	} else if (format == CLI_FORMAT_JSON) {
		print_json(b, loader, root ? NULL : &running);
	} else {
		print_text(b, loader, root ? NULL : &running);
	}
	kt_boot_free(b);
	return EXIT_OK;
}

/* check --json: the boot values against the running ones, and the verdicts, as members. */
static void
check_json(const struct kt_boot *b, enum kt_loader loader, const struct kt_values *running,
    int drift, int unsure)
{
	printf(", \"loader\": \"%s\", \"keys\": {", kt_loader_name(loader));
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		printf("%s\"%s\": {\"running\": %d, \"boot\": %d", k ? ", " : "",
		    kt_key(k)->short_name, running->val[k], bk->val);
		cli_json_from(bk);
		printf(", \"drift\": %s}", running->val[k] != bk->val ? "true" : "false");
	}
	printf("}, \"drift\": %s, \"boot_certain\": %s", drift ? "true" : "false",
	    unsure ? "false" : "true");
}

/*
 * check: print each key whose running value is not its boot value, with the file:line the boot
 * value comes from, and a verdict (with --json, the members of JSON RESULTS instead). Returns 0
 * when they all match, 1 when one drifts or when the boot values are uncertain (a file could not
 * be read): that is not "ok" either.
 */
int
cli_check_boot(enum kt_loader loader, const struct kt_values *running)
{
	char file[CLI_VIS_LEN(512)];
	struct kt_boot *b;
	int drift = 0, unsure, r, json = cli_json_enabled();

	if ((r = cli_boot_read(NULL, loader, &b, &unsure)) != EXIT_OK)
		return r;
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		if (running->val[k] == bk->val)
			continue;
		drift = 1;
		if (json)
			continue;
		printf("%s: running %d, boot %d", kt_key(k)->name, running->val[k], bk->val);
		if (bk->from)
			printf(" (%s:%u)\n", cli_vis(bk->from->file, file, sizeof(file)), bk->from->line);
		else
			printf(" (kernel default)\n");
	}
	if (json)
		check_json(b, loader, running, drift, unsure);
	kt_boot_free(b);
	if (drift && !json)
		printf("drift: the running values are not what %s sets at boot\n",
		    kt_loader_name(loader));
	else if (unsure && !json)
		printf("unknown: the running values are what %s sets at boot from the files "
		       "ka-tune could read, but %d could not be read\n", kt_loader_name(loader),
		    unsure);
	else if (!json)
		printf("ok: the running values are what %s sets at boot\n", kt_loader_name(loader));
	return drift || unsure ? EXIT_FAIL : EXIT_OK;
}
