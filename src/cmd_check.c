/* cmd_check.c: ka-tune check, and show --boot: what a loader sets at boot, from which
 * file:line, against what the kernel runs now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * Work the boot values out for the chosen loader, saying on stderr what went wrong, and warning
 * about files the model could not read. Returns EXIT_OK or EXIT_FAIL.
 */
int
cli_boot_read(const char *root, enum kt_loader loader, struct kt_boot **ret)
{
	const char *file = NULL;
	int r;

	r = kt_boot_read(root, loader, kt_kernel_hz(), ret);
	if (r < 0) {
		cli_error("cannot read the sysctl.d files%s%s: %s", root ? " under " : "",
		    root ? root : "", cli_strerror(r, CLI_ABOUT_FILE_READ));
		return EXIT_FAIL;
	}
	r = kt_boot_error(*ret, &file);
	if (r < 0)
		cli_error("warning: %s: cannot read: %s; the boot values may be wrong", file,
		    cli_strerror(r, CLI_ABOUT_FILE_READ));
	return EXIT_OK;
}

static void
print_text(const struct kt_boot *b, enum kt_loader loader, const struct kt_values *running)
{
	printf("loader: %s\n", kt_loader_name(loader));
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		printf("%-29s = %d", kt_key(k)->name, bk->val);
		if (bk->from)
			printf("  from %s:%u", bk->from->file, bk->from->line);
		else
			printf("  kernel default");
		if (running && running->val[k] != bk->val)
			printf("  (running %d: differs)", running->val[k]);
		else if (running)
			printf("  (running: same)");
		putchar('\n');
		for (size_t i = 0; i < bk->nassigns; i++) {
			const struct kt_assign *a = &bk->assigns[i];

			if (a == bk->from)
				continue;
			printf("    %-12s %s:%u: %s%s%s (%s)\n", state_words[a->state], a->file,
			    a->line, a->key, a->value ? " = " : "", a->value ? a->value : "",
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
 */
int
show_boot(const char *root, const char *loader_arg, int format)
{
	enum kt_loader loader = kt_boot_default_loader(root);
	struct kt_values running;
	struct kt_boot *b;
	int r;

	if (loader_arg && (r = cli_parse_loader(loader_arg, &loader)) != 0)
		return r;
	if (!root && (r = cli_read_kernel(KT_ALL, &running)) != EXIT_OK)
		return r;
	r = cli_boot_read(root, loader, &b);
	if (r != EXIT_OK)
		return r;
	if (format == 's') {
		for (int k = 0; k < KT_NKEYS; k++)
			printf("%s = %d\n", kt_key(k)->name, kt_boot_key(b, k)->val);
	} else if (format == 'j') {
		print_json(b, loader, root ? NULL : &running);
	} else {
		print_text(b, loader, root ? NULL : &running);
	}
	kt_boot_free(b);
	return EXIT_OK;
}

/*
 * Report whether the running values keep idle connections alive behind the middlebox.
 * Returns 1 when they do not (or cannot be judged), 0 when they do.
 */
static int
check_behind(const struct kt_values *running, const struct cli_idle *mb)
{
	long long margin = kt_idle_margin(mb->idle), sum;
	int r = kt_behind_check(running, mb->idle);

	printf("behind %s (%s, idle timeout %lld s): ", mb->name, mb->what, mb->idle);
	if (r == -ERANGE) {
		puts("unknown: a running value is outside its accepted range");
		return 1;
	}
	sum = (long long)running->val[KT_TIME] + running->val[KT_INTVL];
	if (r == 0) {
		printf("safe: time %d + intvl %d = %lld s, within %lld s (the idle timeout less a "
		       "%lld s margin)\n", running->val[KT_TIME], running->val[KT_INTVL], sum,
		    mb->idle - margin, margin);
		return 0;
	}
	printf("unsafe: time %d + intvl %d = %lld s, over %lld s (the idle timeout less a %lld s "
	       "margin): it forgets an idle connection after %lld s, before keepalive refreshes "
	       "it; see ka-tune suggest\n", running->val[KT_TIME], running->val[KT_INTVL], sum,
	    mb->idle - margin, margin, mb->idle);
	return 1;
}

static int
run_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loader", required_argument, NULL, 'l' },
		{ "behind", required_argument, NULL, 'B' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum kt_loader loader = kt_boot_default_loader(NULL);
	const char *behind = NULL, *idle = NULL, *loader_arg = NULL;
	struct kt_values running;
	struct cli_idle mb;
	struct kt_boot *b;
	int c, r, drift = 0, unsafe = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'l')
			loader_arg = optarg;
		else if (c == 'B')
			behind = optarg;
		else
			idle = optarg;
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (behind && idle)
		return cli_usage_error("check: --behind and --idle-timeout exclude each other");
	if (loader_arg && (r = cli_parse_loader(loader_arg, &loader)) != 0)
		return r;
	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	if ((behind || idle) && (r = cli_idle_timeout(behind, idle, &mb)) != EXIT_OK)
		return r;
	if ((r = cli_read_kernel(KT_ALL, &running)) != EXIT_OK)
		return r;
	if ((r = cli_boot_read(NULL, loader, &b)) != EXIT_OK)
		return r;
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(b, k);

		if (running.val[k] == bk->val)
			continue;
		drift = 1;
		printf("%s: running %d, boot %d", kt_key(k)->name, running.val[k], bk->val);
		if (bk->from)
			printf(" (%s:%u)\n", bk->from->file, bk->from->line);
		else
			printf(" (kernel default)\n");
	}
	if (drift)
		printf("drift: the running values are not what %s sets at boot\n",
		    kt_loader_name(loader));
	else
		printf("ok: the running values are what %s sets at boot\n", kt_loader_name(loader));
	kt_boot_free(b);
	if (behind || idle)
		unsafe = check_behind(&running, &mb);
	return drift || unsafe ? EXIT_FAIL : EXIT_OK;
}

const struct cli_command cli_cmd_check = {
	.name = "check",
	.run = run_check,
	.summary = "exit 1 when the running values are not the boot values",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] check [--loader systemd|procps]\n"
	    "        [--behind PROFILE | --idle-timeout DUR]\n",
	.help =
	    "  --loader L    systemd (default where systemd runs) or procps (sysctl --system)\n"
	    CLI_IDLE_HELP
	    "  exit 1 when a running value differs from its boot value, or is not safe\n",
	.not_in_netns = NULL,
};
