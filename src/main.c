/* main.c: ka-tune's entry point: global options, then one subcommand from the table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *not_in_netns;	/* why --netns and --pid do not apply, or NULL */
} commands[] = {
	{ "show", cmd_show, "print the keepalive values the kernel uses now", NULL },
	{ "set", cmd_set, "change them now, all or nothing", NULL },
	{ "check", cmd_check, "exit 1 when the running values are not the boot values", NULL },
	{ "suggest", cmd_suggest, "values that keep idle connections alive behind a NAT or LB",
		NULL },
	{ "sockets", cmd_sockets, "which TCP connections use keepalive, and whose they are",
		NULL },
	{ "persist", cmd_persist, "write them to a sysctl.d file for the next boot",
		"sysctl.d files set the host's namespace at boot; a container's values belong in "
		"its runtime configuration (docker run --sysctl, a Kubernetes pod's "
		"securityContext.sysctls)" },
	{ "help", cmd_help, "print this help", "help is the same everywhere" },
};

/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit). */
#define PID_MAX 4194304

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
	       "\nboot (show --boot, check): what the loader applies at boot, from which file:line\n"
	       "  --loader L    systemd (default where systemd runs) or procps (sysctl --system)\n"
	       "  --root DIR    read the sysctl.d files of an image tree under DIR\n"
	       "\nidle timeouts (check, suggest): NATs and load balancers forget idle flows\n"
	       "  --behind P    aws-nat 350 s, azure-lb 240 s, gcp-nat 1200 s, aliyun-nat 900 s,\n"
	       "                conntrack (this machine's nf_conntrack_tcp_timeout_established)\n"
	       "  --idle-timeout DUR  any other idle timeout\n"
	       "  safe: time + intvl <= idle timeout - margin (a tenth of it, at least 5 s)\n"
	       "  --detect-within DUR  suggest: time + intvl x probes <= DUR\n"
	       "\nsockets: every TCP connection, keepalive on, off or unknown, and its process\n"
	       "  --no-keepalive  only the connections without keepalive\n"
	       "  --port N        only those whose local or remote port is N\n"
	       "\nnamespaces (show, set, check, sockets), before the command, as with ip -n:\n"
	       "  --netns NAME  a namespace made by ip netns add; with a '/', a namespace file\n"
	       "  --pid PID     the network namespace of process PID (a container's)\n"
	       "  show --all-netns  one row per network namespace on the machine\n"
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

/*
 * Enter the network namespace --netns or --pid named, before the command runs. Returns EXIT_OK,
 * EXIT_USAGE for a pid that is not a number, or EXIT_FAIL.
 */
static int
enter_netns(const char *netns, const char *pidarg)
{
	const char *errstr = NULL, *what = netns ? "--netns" : "--pid";
	const char *arg = netns ? netns : pidarg;
	long long pid;
	int fd, r;

	if (netns) {
		r = kt_netns_open(netns, &fd);
	} else {
		pid = strtonum(pidarg, 1, PID_MAX, &errstr);
		if (errstr)
			return cli_usage_error("--pid: '%s' is not a process id (1..%d)", pidarg,
			    PID_MAX);
		r = kt_netns_open_pid(pid, &fd);
	}
	if (r < 0) {
		cli_error("%s %s: %s", what, arg, kt_netns_strerror(r));
		return EXIT_FAIL;
	}
	r = kt_netns_enter(fd);
	(void)close(fd);
	if (r < 0) {
		cli_error("%s %s: cannot enter: %s", what, arg, kt_netns_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
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
	const char *netns = NULL, *pid = NULL;
	const struct command *cmd = NULL;
	int c, r, version = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(argc - optind + 1, argv + optind - 1);
		case 'V':
			version = 1;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'p':
			pid = optarg;
			break;
		case ':':
			return cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (version) {
		if (optind < argc)
			return cli_usage_error("--version: unexpected argument '%s'", argv[optind]);
		puts("ka-tune " KT_VERSION);
		return EXIT_OK;
	}
	if (optind == argc)
		return cli_usage_error("no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return cli_usage_error("unknown command '%s'", argv[optind]);
	if (netns && pid)
		return cli_usage_error("--netns and --pid exclude each other");
	if ((netns || pid) && cmd->not_in_netns)
		return cli_usage_error("%s: --netns and --pid do not apply: %s", cmd->name,
		    cmd->not_in_netns);
	if ((netns || pid) && (r = enter_netns(netns, pid)) != EXIT_OK)
		return r;
	argc -= optind;
	argv += optind;
	optind = 0;		/* the command parses its own options from its argv[1] */
	return cmd->run(argc, argv);
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
