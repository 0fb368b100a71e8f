/* cmd_check.c: ka-tune check: whether the running values are the ones the boot loader sets
 * (cli_boot.c reads and prints those), and safe behind a middlebox. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"

/*
 * Report whether the running values keep idle connections alive behind the middlebox.
 * Returns 1 when they do not (or cannot be judged), 0 when they do.
 */
static int
check_behind(const struct kt_values *running, const struct cli_idle *mb)
{
	long long margin = kt_idle_margin(mb->idle), sum;
	int r = kt_behind_check(running, mb->idle);

	if (cli_json_enabled()) {
		fputs(", \"idle_timeout\": {\"profile\": ", stdout);
		if (mb->name[0] == '-')		/* --idle-timeout */
			fputs("null", stdout);
		else
			cli_json_string(mb->name);
		printf(", \"seconds\": %lld, \"margin\": %lld, \"safe\": %s}", mb->idle, margin,
		    r == -ERANGE ? "null" : r == 0 ? "true" : "false");
		return r != 0;
	}

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
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum kt_loader loader = kt_boot_default_loader(NULL, 1);
	const char *behind = NULL, *idle = NULL, *loader_arg = NULL;
	struct kt_values running;
	struct cli_idle mb;
	int c, r, boot, unsafe = 0;

	if (cli_has_json(argc, argv, opts))
		cli_json_enable();
	while ((c = cli_getopt(argc, argv, opts)) >= 0) {
		if (c == 'l')
			loader_arg = optarg;
		else if (c == 'B')
			behind = optarg;
		else if (c == 'I')
			idle = optarg;
	}
	if ((r = cli_getopt_end(c, argc, argv)) != CLI_GO)
		return r;
	if (behind && idle)
		return cli_usage_error("check: --behind and --idle-timeout exclude each other");
	if (loader_arg && (r = cli_parse_loader(loader_arg, &loader)) != 0)
		return r;
	if ((behind || idle) && (r = cli_idle_arg(behind, idle, &mb)) != EXIT_OK)
		return r;
	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	/* conntrack's timeout is the namespace's: read once in it. */
	if ((behind || idle) && (r = cli_idle_read(&mb)) != EXIT_OK)
		return r;
	if ((r = cli_read_kernel(KT_ALL, &running)) != EXIT_OK)
		return r;
	if (cli_json_enabled())
		cli_json_open(0);
	boot = cli_check_boot(loader, &running);
	if (behind || idle)
		unsafe = check_behind(&running, &mb);
	else if (cli_json_enabled())
		fputs(", \"idle_timeout\": null", stdout);
	if (cli_json_enabled())
		cli_json_close();
	return boot != EXIT_OK || unsafe ? EXIT_FAIL : EXIT_OK;
}

const struct cli_command cli_cmd_check = {
	.name = "check",
	.run = run_check,
	.summary = "exit 1 when the running values are not the boot values",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] check [--loader systemd|procps]\n"
	    "        [--behind PROFILE | --idle-timeout DUR] [--json]\n",
	.help =
	    "  --loader L    systemd (default where systemd runs) or procps (sysctl --system)\n"
	    CLI_IDLE_HELP
	    "  --json        one JSON object: the drift and the idle-timeout verdict apart\n"
	    "  exit 1 when a running value differs from its boot value, or is not safe, or a\n"
	    "  sysctl.d file could not be read (the boot values are then uncertain)\n"
	    "  --netns, --pid (before check): another network namespace's running values\n",
	.not_in_netns = NULL,
};
