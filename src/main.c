/* main.c: ka-tune's entry point: global options, then one subcommand from the table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "show", cmd_show, "print the keepalive values the kernel uses now" },
	{ "set", cmd_set, "change them now, all or nothing" },
	{ "persist", cmd_persist, "write them to a sysctl.d file for the next boot" },
	{ "help", cmd_help, "print this help" },
};

/* Print the usage, what each command does, and what the values and exit codes mean. */
int
cli_help(void)
{
	fputs(usage_text, stdout);
	puts("\ncommands:");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	printf("\nvalues (set, persist):\n"
	       "  --time DUR    idle time before the first probe, 1..%d seconds\n"
	       "  --intvl DUR   time between probes, 1..%d seconds\n"
	       "  --probes N    unanswered probes before the peer is dead, 1..%d\n"
	       "  DUR is seconds (600) or units d h m s, largest first (10m, 1m30s, 2h)\n"
	       "\npersist writes " KT_CONF_PATH ", values not given taken from the kernel:\n"
	       "  --file PATH   write PATH instead\n"
	       "  --root DIR    write DIR" KT_CONF_PATH " (an image tree)\n"
	       "  --remove      take the three keys out (the file too, if nothing else is left)\n"
	       "  --dry-run     print the new content, write nothing\n"
	       "\nexit status: 0 done, 1 the operation failed, 2 usage error or invalid value\n"
	       "see ka-tune(8)\n",
	    KT_TIME_MAX, KT_INTVL_MAX, KT_PROBES_MAX);
	return EXIT_OK;
}

static int
cmd_help(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error("help: unexpected argument '%s'", argv[1]);
	return cli_help();
}

static int
run(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0) {
		if (argc > 2)
			return cli_usage_error("--version: unexpected argument '%s'", argv[2]);
		puts("ka-tune " KT_VERSION);
		return EXIT_OK;
	}
	if (argv[1][0] == '-')
		return cli_usage_error("unknown option '%s'", argv[1]);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			opterr = 0;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	return cli_usage_error("unknown command '%s'", argv[1]);
}

int
main(int argc, char **argv)
{
	int r;

	/* A closed pipe is a write error (exit 1), not a death by signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return EXIT_FAIL;
	r = run(argc, argv);
	/* Data that never reached stdout (a full disk, a closed pipe) is a failure too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("write error: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return r;
}
