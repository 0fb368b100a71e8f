/* cmd_exec.c: ka-tune exec: run a command so that every TCP socket it or its children connect,
 * listen on or accept has keepalive on. ka-tune becomes the command (execve): its exit status,
 * or the signal that ends it, is the command's own, as a shell sees it. ka-tune's own failures
 * exit as env(1)'s do: 125 its own (usage, values, the library, a command it cannot preload
 * into), 126 the command cannot be run, 127 it is not found. */
#include <stdio.h>

#include "cli.h"

/* env(1)'s exit statuses for its own failures. */
enum {
	EXEC_FAILED = 125,	/* ka-tune exec itself failed: usage, values, the library */
	EXEC_CANNOT = 126,	/* COMMAND found, but it cannot be run */
	EXEC_NOTFOUND = 127,	/* COMMAND not found */
};

/* Say why the command was not run, and return the status env(1) would. */
static int
report(const struct kt_exec_failure *f)
{
	const char *why = cli_strerror(f->err, CLI_ABOUT_EXEC);

	switch (f->why) {
	case KT_EXEC_NOLIB:
		cli_error("exec: the preload library " KT_PRELOAD_NAME " is missing: not at %s%s%s "
			  "(make builds it, make install installs it)", f->path,
		    f->path2[0] ? " nor at " : "", f->path2);
		return EXEC_FAILED;
	case KT_EXEC_BADLIB:
		cli_error("exec: the preload library %s cannot be used: %s", f->path, why);
		return EXEC_FAILED;
	case KT_EXEC_STATIC:
		cli_error("exec: %s: statically linked: no library can be preloaded into it; once "
			  "it runs, ka-tune enable --pid turns keepalive on in its sockets (a "
			  "cgroup's sockets: enable --cgroup, to come)", f->path);
		return EXEC_FAILED;
	case KT_EXEC_FOREIGN:
		cli_error("exec: %s: built for another architecture than the preload library (ELF "
			  "class or machine): the loader would not preload it", f->path);
		return EXEC_FAILED;
	case KT_EXEC_SECURE:
		cli_error("exec: %s: set-user-ID, set-group-ID or file capabilities: the loader "
			  "ignores LD_PRELOAD for it; once it runs, ka-tune enable --pid turns "
			  "keepalive on in its sockets", f->path);
		return EXEC_FAILED;
	case KT_EXEC_NOTFOUND:
		cli_error("exec: %s: %s", f->path, why);
		return EXEC_NOTFOUND;
	case KT_EXEC_CANNOT:
		break;
	}
	cli_error("exec: %s: cannot run: %s", f->path, why);
	return EXEC_CANNOT;
}

static int
run_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "intvl", required_argument, NULL, 'i' },
		{ "probes", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *arg[KT_NKEYS] = { NULL };
	struct kt_exec_failure f;
	struct kt_values v = { 0 };
	char lib[PATH_MAX];
	int c;

	while ((c = cli_getopt(argc, argv, opts)) >= 0)
		cli_value_arg(c, optarg, arg);
	if (c == CLI_OPT_HELP)
		return cli_help_command(cli_running);
	if (c == CLI_OPT_BAD || cli_parse_values(arg, &v) != 0)
		return EXEC_FAILED;
	if (optind == argc) {
		cli_usage_error("exec: no command given");
		return EXEC_FAILED;
	}
	if (kt_exec_library(lib, sizeof(lib), &f) < 0)
		return report(&f);
	fflush(stdout);
	(void)kt_exec(lib, &v, argv + optind, &f);
	return report(&f);
}

const struct cli_command cli_cmd_exec = {
	.name = "exec",
	.run = run_exec,
	.summary = "run a command whose TCP sockets all have keepalive on",
	.synopsis =
	    "ka-tune exec [--time DUR] [--intvl DUR] [--probes N] -- COMMAND [ARG...]\n",
	.help =
	    CLI_VALUES_HELP
	    "  values given become each socket's own; without, the sysctls apply to it\n"
	    "  COMMAND is found on PATH as execvp(3) finds it; it must be dynamically linked\n",
	.not_in_netns = "it runs COMMAND where ka-tune runs",
	.exit_text =
	    "exit status: COMMAND's own (128+N for signal N, as a shell says); of ka-tune's own\n"
	    "failures, as env(1): 125 usage, values or the library, 126 COMMAND cannot be run,\n"
	    "127 COMMAND not found\n",
	.usage_status = EXEC_FAILED,
};
