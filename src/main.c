/* main.c: ka-tune's entry point: the global options, the table of commands, and the help. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

/* The commands, in the order of the man page's SYNOPSIS. */
static const struct cli_command *const commands[] = {
	&cli_cmd_show, &cli_cmd_set, &cli_cmd_check, &cli_cmd_suggest, &cli_cmd_sockets,
	&cli_cmd_probe, &cli_cmd_persist, &cli_cmd_apply, &cli_cmd_metrics, &cli_cmd_enable,
	&cli_cmd_disable, &cli_cmd_exec, &cli_cmd_help,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

struct cli_target cli_target;
const struct cli_command *cli_running;

/* Print a command's lines of the SYNOPSIS, the first after first (e.g. "usage: "). */
static void
print_synopsis(const struct cli_command *cmd, const char *first)
{
	const char *line = cmd->synopsis;

	while (*line) {
		size_t len = strcspn(line, "\n");

		printf("%s%.*s\n", first, (int)len, line);
		first = "       ";
		line += len + (line[len] == '\n');
	}
}

static const char exit_text[] =
	"exit status: 0 done, 1 the operation failed, 2 usage error or invalid value\n";
static const char exit_exec[] =
	"  but exec: COMMAND's own; 125, 126, 127 as env(1) for its own failures\n";

/* ka-tune --help: the whole SYNOPSIS, what each command does, what the values mean. */
int
cli_help_all(void)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		print_synopsis(commands[i], i == 0 ? "usage: " : "       ");
	puts("\ncommands:");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-8s %s\n", commands[i]->name, commands[i]->summary);
	printf("\nDUR is seconds (600) or units d h m s, largest first (10m, 1m30s, 2h).\n"
	       "--netns and --pid, before the command, act in another network namespace:\n"
	       "  --netns NAME  a namespace made by ip netns add; with a '/', a namespace file\n"
	       "  --pid PID     the network namespace of process PID (a container's)\n"
	       "'ka-tune COMMAND --help' says what a command's options mean.\n%s%s"
	       "see ka-tune(8)\n", exit_text, exit_exec);
	return EXIT_OK;
}

/* ka-tune COMMAND --help: that command's lines of the SYNOPSIS and what its options mean. */
int
cli_help_command(const struct cli_command *cmd)
{
	if (!cmd || cmd == &cli_cmd_help)
		return cli_help_all();
	print_synopsis(cmd, "usage: ");
	printf("\n%s: %s\n%s%s", cmd->name, cmd->summary, cmd->help,
	    cmd->exit_text ? cmd->exit_text : exit_text);
	puts("see ka-tune(8)");
	return EXIT_OK;
}

/* Find a command by its name, or NULL. */
static const struct cli_command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i]->name) == 0)
			return commands[i];
	return NULL;
}

static int
run_help(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = NULL;
	int c, r;

	while ((c = cli_getopt(argc, argv, opts)) >= 0)
		;
	if (c == -1 && optind < argc) {
		cmd = find_command(argv[optind]);
		if (!cmd)
			return cli_usage_error("help: unknown command '%s'", argv[optind]);
		optind++;	/* a word after the command is refused below */
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	return cli_help_command(cmd);
}

const struct cli_command cli_cmd_help = {
	.name = "help",
	.run = run_help,
	.summary = "print this help, or a command's",
	.synopsis = "ka-tune help [COMMAND] | --help | --version\n",
	.help = "",
	.not_in_netns = "help is the same everywhere",
};

/*
 * Check the global --netns and --pid given to a command that acts in a network namespace: they
 * exclude each other, and each names something. Returns 0 or EXIT_USAGE.
 */
static int
check_target(const struct cli_command *cmd)
{
	unsigned long long pid;

	if (!cli_target.netns && !cli_target.pid)
		return 0;
	if (cli_target.netns && cli_target.pid)
		return cli_usage_error("--netns and --pid exclude each other");
	if (cmd->not_in_netns)
		return cli_usage_error("--netns and --pid do not apply to %s: %s", cmd->name,
		    cmd->not_in_netns);
	if (cli_target.netns && (!*cli_target.netns || strcmp(cli_target.netns, ".") == 0 ||
	    strcmp(cli_target.netns, "..") == 0))
		return cli_usage_error("--netns needs a name or a path, not '%s'",
		    cli_target.netns);
	if (cli_target.pid && cli_parse_uint("--pid", cli_target.pid, 1, KT_PID_MAX, &pid) != 0)
		return EXIT_USAGE;
	return 0;
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "netns", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd;
	int c, r, version = 0;

	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'V')
			version = 1;
		else if (c == 'n')
			cli_target.netns = optarg;
		else
			cli_target.pid = optarg;
	}
	if (c == CLI_OPT_BAD)
		return EXIT_USAGE;
	if (c == CLI_OPT_HELP || version) {
		if (cli_target.netns || cli_target.pid)
			return cli_usage_error("--netns and --pid do not apply to %s",
			    version ? "--version" : "--help");
		if (optind < argc)
			return cli_usage_error("%s: unexpected argument '%s'",
			    version ? "--version" : "--help", argv[optind]);
		if (c == CLI_OPT_HELP)
			return cli_help_all();
		puts("ka-tune " KT_VERSION);
		return EXIT_OK;
	}
	if (optind == argc)
		return cli_usage_error("no command given");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return cli_usage_error("unknown command '%s'", argv[optind]);
	if ((r = check_target(cmd)) != 0)
		return cmd->usage_status ? cmd->usage_status : r;
	cli_running = cmd;
	argc -= optind;
	argv += optind;
	optind = 0;		/* the command parses its own options from its argv[1] */
	return cmd->run(argc, argv);
}

int
main(int argc, char **argv)
{
	/* A closed pipe is a write error (exit 1), not a death by signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return EXIT_FAIL;
	return cli_finish(run(argc, argv));
}
