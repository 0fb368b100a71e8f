/* cli_json.c: the one JSON result of the commands that change something (set, persist, apply)
 * and of check: the members they share, printed here the one way (ka-tune(8), JSON RESULTS);
 * the messages said on standard error, kept for it; and the object a failure leaves when the
 * command got no further. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A warning said on stderr, kept with its stable code. */
struct note {
	char *code, *msg;
};

static struct {
	int on;			/* --json was given */
	int dry_run;
	int opened;		/* the object has been begun */
	char *errors;		/* the error messages, one a line */
	size_t elen;
	struct note *warnings;
	size_t nwarnings, cap;
	int lost_error;		/* a message could not be kept: out of memory */
	int lost_warning;
} json;

/* --json was given: keep the messages from now on, and print a result whatever happens. */
void
cli_json_enable(void)
{
	json.on = 1;
}

int
cli_json_enabled(void)
{
	return json.on;
}

/* Whether the result is a dry run's. */
void
cli_json_dry_run(int dry_run)
{
	json.dry_run = dry_run;
}

/* Keep an error (code NULL), or a warning with its code, said on stderr; msg NULL: it was lost. */
void
cli_json_note(const char *code, const char *msg)
{
	char *p;

	if (!json.on)
		return;
	if (!msg) {
		*(code ? &json.lost_warning : &json.lost_error) = 1;
		return;
	}
	if (!code) {
		size_t n = strlen(msg);

		p = realloc(json.errors, json.elen + n + 2);
		if (!p) {
			json.lost_error = 1;
			return;
		}
		if (json.elen)
			p[json.elen++] = '\n';
		memcpy(p + json.elen, msg, n + 1);
		json.elen += n;
		json.errors = p;
		return;
	}
	if (json.nwarnings == json.cap) {
		size_t cap = json.cap ? 2 * json.cap : 4;
		struct note *w = reallocarray(json.warnings, cap, sizeof(*w));

		if (!w) {
			json.lost_warning = 1;
			return;
		}
		json.warnings = w;
		json.cap = cap;
	}
	json.warnings[json.nwarnings].code = strdup(code);
	json.warnings[json.nwarnings].msg = strdup(msg);
	if (!json.warnings[json.nwarnings].code || !json.warnings[json.nwarnings].msg) {
		free(json.warnings[json.nwarnings].code);
		free(json.warnings[json.nwarnings].msg);
		json.lost_warning = 1;
		return;
	}
	json.nwarnings++;
}

/* Begin the object: the command, whether it changed something (or would), whether it is a dry run. */
void
cli_json_open(int changed)
{
	json.opened = 1;
	printf("{\"command\": \"%s\", \"changed\": %s, \"dry_run\": %s",
	    cli_running ? cli_running->name : "", changed ? "true" : "false",
	    json.dry_run ? "true" : "false");
}

/* A "from" member: the file and line a boot value comes from, or null (the kernel default). */
void
cli_json_from(const struct kt_boot_key *bk)
{
	fputs(", \"from\": ", stdout);
	if (!bk->from) {
		fputs("null", stdout);
		return;
	}
	fputs("{\"file\": ", stdout);
	cli_json_string(bk->from->file);
	printf(", \"line\": %u}", bk->from->line);
}

/*
 * The "running" member: for each key in before's mask, its value before and after (what the
 * kernel holds now, or would in a dry run), and with boot (apply) where the value comes from;
 * null when before is NULL (the command does not touch the kernel).
 */
void
cli_json_running(const struct kt_values *before, const struct kt_values *after,
    const struct kt_boot *boot)
{
	const char *sep = "";

	fputs(", \"running\": ", stdout);
	if (!before) {
		fputs("null", stdout);
		return;
	}
	putchar('{');
	for (int k = 0; k < KT_NKEYS; k++) {
		if (!(before->mask & KT_BIT(k)))
			continue;
		printf("%s\"%s\": {\"before\": %d, \"after\": %d", sep, kt_key(k)->short_name,
		    before->val[k], after->val[k]);
		if (boot)
			cli_json_from(kt_boot_key(boot, k));
		putchar('}');
		sep = ", ";
	}
	putchar('}');
}

static const char *const change_words[] = {
	[KT_PLAN_NONE] = "none",
	[KT_PLAN_ADDED] = "added",
	[KT_PLAN_UNCHANGED] = "unchanged",
	[KT_PLAN_CHANGED] = "changed",
	[KT_PLAN_REMOVED] = "removed",
};

/* A text, or null. */
static void
text_or_null(const char *s, size_t len)
{
	if (s)
		cli_json_bytes(s, len);
	else
		fputs("null", stdout);
}

/*
 * The "file" member: its path, what became of it (or would), its text before and after (null:
 * no file), and for each key its change and its value before (a number, or the text when the
 * kernel would not read it as one; null: not assigned) and after; null when res is NULL.
 */
void
cli_json_file(const char *path, const struct kt_persist_result *res)
{
	fputs(", \"file\": ", stdout);
	if (!res) {
		fputs("null", stdout);
		return;
	}
	fputs("{\"path\": ", stdout);
	cli_json_string(path);
	printf(", \"outcome\": \"%s\", \"before\": ", cli_persist_outcome(res->outcome));
	text_or_null(res->before, res->before_len);
	fputs(", \"after\": ", stdout);
	if (res->outcome == KT_PERSIST_CHANGED)
		text_or_null(res->text, res->len);
	else if (res->outcome == KT_PERSIST_UNCHANGED)
		text_or_null(res->before, res->before_len);
	else
		fputs("null", stdout);
	fputs(", \"keys\": {", stdout);
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_persist_key *pk = &res->keys[k];
		int had = pk->plan == KT_PLAN_CHANGED || pk->plan == KT_PLAN_UNCHANGED ||
		    pk->plan == KT_PLAN_REMOVED;
		int has = pk->plan != KT_PLAN_NONE && pk->plan != KT_PLAN_REMOVED;

		printf("%s\"%s\": {\"change\": \"%s\", \"before\": ", k ? ", " : "",
		    kt_key(k)->short_name, change_words[pk->plan]);
		if (had && pk->old_int)
			printf("%d", pk->old);
		else if (had)
			cli_json_bytes(pk->old_text, pk->old_len);
		else
			fputs("null", stdout);
		if (has)
			printf(", \"after\": %d}", pk->val);
		else
			fputs(", \"after\": null}", stdout);
	}
	fputs("}}", stdout);
}

/* End the object: the warnings said, and the errors when the command failed. */
void
cli_json_close(void)
{
	fputs(", \"warnings\": [", stdout);
	for (size_t i = 0; i < json.nwarnings; i++) {
		printf("%s{\"code\": ", i ? ", " : "");
		cli_json_string(json.warnings[i].code);
		fputs(", \"message\": ", stdout);
		cli_json_string(json.warnings[i].msg);
		putchar('}');
	}
	if (json.lost_warning)
		printf("%s{\"code\": \"lost\", \"message\": \"a warning was lost: out of memory\"}",
		    json.nwarnings ? ", " : "");
	putchar(']');
	if (json.errors) {
		fputs(", \"error\": ", stdout);
		cli_json_string(json.errors);
	} else if (json.lost_error) {
		fputs(", \"error\": \"an error was lost: out of memory\"", stdout);
	}
	puts("}");
}

/*
 * The last word of a run with --json: a command that failed before it began its object leaves
 * one all the same, with the error. Frees what was kept. Returns status.
 */
int
cli_json_finish(int status)
{
	if (json.on && !json.opened && status != EXIT_OK) {
		cli_json_open(0);
		cli_json_close();
	}
	for (size_t i = 0; i < json.nwarnings; i++) {
		free(json.warnings[i].code);
		free(json.warnings[i].msg);
	}
	free(json.warnings);
	free(json.errors);
	json.warnings = NULL;
	json.errors = NULL;
	json.nwarnings = json.cap = 0;
	return status;
}
