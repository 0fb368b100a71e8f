/* cli_netns.c: entering another network namespace, the one way: for the global --netns and
 * --pid, and for each namespace show --all-netns lists. */
#include <unistd.h>

#include "cli.h"

/* Make the thread use the namespace fd refers to, and close fd. Returns 0 or a negative errno. */
static int
enter_fd(int fd)
{
	int r = kt_netns_enter(fd);

	(void)close(fd);
	return r;
}

/*
 * Enter the network namespace that --netns or --pid names, if any (main.c judged them already):
 * commands that act in one call it once their own options are judged. Says on stderr what
 * failed. Returns EXIT_OK or EXIT_FAIL.
 */
int
cli_enter_target(void)
{
	const char *what = cli_target.netns ? "--netns" : "--pid";
	const char *arg = cli_target.netns ? cli_target.netns : cli_target.pid;
	enum cli_about about = CLI_ABOUT_PROCESS;
	unsigned long long pid;
	int fd, r;

	if (!arg)
		return EXIT_OK;
	if (cli_target.netns) {
		about = kt_netns_is_path(arg) ? CLI_ABOUT_NETNS_PATH : CLI_ABOUT_NETNS_NAME;
		r = kt_netns_open(arg, &fd);
	} else {
		/* Root is refused only a hardened process: "needs root" would send root in circles. */
		if (geteuid() == 0)
			about = CLI_ABOUT_PROCESS_AS_ROOT;
		r = kt_parse_uint(arg, 1, KT_PID_MAX, &pid);
		if (r == 0)
			r = kt_netns_open_pid((long)pid, &fd);
	}
	if (r < 0) {
		cli_error("%s %s: %s", what, arg, cli_strerror(r, about));
		return EXIT_FAIL;
	}
	r = enter_fd(fd);
	if (r < 0) {
		cli_error("%s %s: cannot enter: %s", what, arg,
		    cli_strerror(r, CLI_ABOUT_NETNS_ENTER));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * Enter a namespace kt_netns_list() found, unless the thread is in it already. Returns 0,
 * -ESRCH when it has gone since it was listed, or another negative errno, for the caller to word.
 */
int
cli_enter_listed(const struct kt_netns *ns)
{
	int fd, r;

	r = kt_netns_is_current(ns);
	if (r != 0)
		return r < 0 ? r : 0;
	r = kt_netns_reopen(KT_NETNS_DIR, KT_PROC_DIR, ns, &fd);
	if (r < 0)
		return r;
	return enter_fd(fd);
}
