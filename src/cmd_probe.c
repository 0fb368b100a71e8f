/* cmd_probe.c: ka-tune probe: measure how long the path to a TCP server keeps an idle flow, and
 * say which keepalive values outlast it; probe --listen: the quiet far end to measure against. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Room for HOST:PORT as the user wrote it, escaped: the host, brackets, colon and port. */
#define TARGET_VIS_LEN	CLI_VIS_LEN(KT_PROBE_HOST_LEN + 8)

/* The signal that interrupted the measurement (SIGINT, SIGTERM), or 0. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/*
 * Catch SIGINT and SIGTERM: blocked from here on, they are let in only while the library waits,
 * with *ret_waitmask, and end that wait; none is missed in between. Returns 0 or EXIT_FAIL.
 */
static int
catch_signals(sigset_t *ret_waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	if (sigemptyset(&block) < 0 || sigaddset(&block, SIGINT) < 0 ||
	    sigaddset(&block, SIGTERM) < 0 || sigprocmask(SIG_BLOCK, &block, ret_waitmask) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
		cli_error("probe: cannot catch SIGINT and SIGTERM: %s",
		    cli_strerror(-errno, CLI_ABOUT_PROBE));
		return EXIT_FAIL;
	}
	(void)sigdelset(ret_waitmask, SIGINT);
	(void)sigdelset(ret_waitmask, SIGTERM);
	return 0;
}

/*
 * How secs() comes to a tenth of a second: down, so that a lower bound stays one; up, for an
 * upper bound; to the nearest, for a time that is neither.
 */
enum rounding { DOWN = 0, NEAREST = 50, UP = 99 };

/* ms (0 or more) as seconds with one decimal, rounded as how says. */
static const char *
secs(long long ms, enum rounding how, char *buf, size_t len)
{
	long long d = (ms + how) / 100;

	(void)snprintf(buf, len, "%lld.%lld", d / 10, d % 10);
	return buf;
}

/* What is known of the idle timeout so far, in words. */
static void
bracket_text(long long lo_ms, long long hi_ms, char *buf, size_t len)
{
	char lo[24], hi[24];

	secs(lo_ms, DOWN, lo, sizeof(lo));
	secs(hi_ms, UP, hi, sizeof(hi));
	if (lo_ms > 0 && hi_ms >= 0)
		(void)snprintf(buf, len, "between %s and %s s", lo, hi);
	else if (lo_ms > 0)
		(void)snprintf(buf, len, "kept through %s s", lo);
	else if (hi_ms >= 0)
		(void)snprintf(buf, len, "lost after %s s", hi);
	else
		(void)snprintf(buf, len, "nothing known yet");
}

/* The progress display: one status line on stderr, kept up to date, when it is a terminal. */
struct progress {
	int tty;
	int shown;		/* a status line is on the screen */
};

/* Take the status line off the screen, for what is printed next. */
static void
clear_status(struct progress *pr)
{
	if (pr->shown)
		fputs("\r\033[K", stderr);
	pr->shown = 0;
}

/* kt_probe_run()'s callback: redraw the status line. */
static int
show_progress(const struct kt_probe_status *st, void *userdata)
{
	struct progress *pr = userdata;
	char phase[16], bracket[64];

	if (pr->tty) {
		if (st->round == 0)
			(void)snprintf(phase, sizeof(phase), "connecting");
		else
			(void)snprintf(phase, sizeof(phase), "round %d", st->round);
		bracket_text(st->lo_ms, st->hi_ms, bracket, sizeof(bracket));
		fprintf(stderr, "\r\033[Kprobe: %s, %lld s, %s, %u open", phase,
		    st->elapsed_ms / 1000, bracket, st->open);
		pr->shown = 1;
	}
	return 0;
}

static const char *
loss_name(enum kt_loss loss)
{
	return loss == KT_LOSS_RESET ? "reset" : "silent drop";
}

static const char *
end_name(enum kt_end end)
{
	return end == KT_END_FIN ? "closed (FIN)" : end == KT_END_DATA ? "sent data" : "reset";
}

/* Whether the verdict is a measurement (exit 0) or says why there is none (exit 1). */
static int
measured(const struct kt_probe_result *r)
{
	return r->verdict == KT_VERDICT_BRACKET || r->verdict == KT_VERDICT_NO_LOSS;
}

/*
 * The advice rule's values for a measurement, for an idle timeout of the lower bound in whole
 * seconds: the timeout is known to be above it, so what is safe for it is safe for the path.
 * Returns 0 and sets *ret_idle and *ret, or -EDOM when no values fit (or none was measured).
 */
static int
advice(const struct kt_probe_result *r, long long *ret_idle, struct kt_values *ret)
{
	long long idle = r->lo_ms / 1000;

	if (!measured(r) || idle < 1 || kt_suggest(idle, 0, ret) < 0)
		return -EDOM;
	*ret_idle = idle;
	return 0;
}

static void
print_advice(const struct kt_probe_result *r)
{
	char line[CLI_SET_LINE_LEN];
	struct kt_values v;
	long long idle;

	if (advice(r, &idle, &v) < 0) {
		idle = r->lo_ms / 1000;
		printf("an idle timeout of %lld s leaves no room for keepalive under its %lld s "
		       "margin\n", idle, kt_idle_margin(idle));
		return;
	}
	printf("keepalive that outlasts it (ka-tune suggest --idle-timeout %lld): time %d, "
	       "intvl %d, probes %d\n", idle, v.val[KT_TIME], v.val[KT_INTVL], v.val[KT_PROBES]);
	printf("apply: %s\n", cli_set_line(&v, line, sizeof(line)));
}

/* What an interrupted measurement knows, in words. */
static void
print_interrupted(const char *target, const struct kt_probe_result *r, const char *lo,
    const char *hi)
{
	if (r->lo_ms > 0 && r->hi_ms >= 0)
		printf("interrupted: the path to %s forgets idle TCP flows after between %s and "
		       "%s s (%s), as far as measured\n", target, lo, hi, loss_name(r->loss));
	else if (r->lo_ms > 0)
		printf("interrupted: the path to %s kept idle TCP flows through %s s\n", target,
		    lo);
	else if (r->hi_ms >= 0)
		printf("interrupted: the path to %s forgot an idle TCP flow after %s s at most "
		       "(%s)\n", target, hi, loss_name(r->loss));
	else
		printf("interrupted: nothing is known yet of the path to %s\n", target);
}

/* The verdicts that are not a measurement, in words. */
static void
print_failure(const char *target, const struct kt_probe_result *r)
{
	char lo[24], hi[24], srv[24], a[24], b[24];

	secs(r->lo_ms, DOWN, lo, sizeof(lo));
	secs(r->hi_ms, UP, hi, sizeof(hi));
	secs(r->server_ms, NEAREST, srv, sizeof(srv));
	switch (r->verdict) {
	case KT_VERDICT_BELOW_MIN:
		printf("the path to %s forgot an idle TCP flow after %s s at most, the shortest "
		       "idle time tested (%s): its idle timeout is below --min; measure again "
		       "with a lower --min\n", target, hi, loss_name(r->loss));
		break;
	case KT_VERDICT_SERVER:
		printf("%s itself ended idle connections after %s s (%s): that is the server's own "
		       "idle limit, not the path's", target, srv, end_name(r->server_end));
		if (r->lo_ms > 0)
			printf(" (the path kept flows through %s s)", lo);
		printf("; run 'ka-tune probe --listen PORT' on the far side and probe that port\n");
		break;
	case KT_VERDICT_INCONSISTENT:
		printf("the path to %s does not forget idle flows by one timer: a flow was lost "
		       "after %s s while another was kept through %s s (keepalive probes may not "
		       "refresh it, or the flows take different paths)\n", target,
		    secs(r->conflict_lost_ms, UP, a, sizeof(a)),
		    secs(r->conflict_kept_ms, DOWN, b, sizeof(b)));
		break;
	default:
		print_interrupted(target, r, lo, hi);
		break;
	}
}

/* The text output; target is escaped already. */
static void
print_text(const char *target, const struct kt_probe_result *r)
{
	char lo[24], hi[24], srv[24], el[24];

	secs(r->lo_ms, DOWN, lo, sizeof(lo));
	secs(r->hi_ms, UP, hi, sizeof(hi));
	if (r->verdict == KT_VERDICT_BRACKET) {
		printf("the path to %s forgets idle TCP flows after between %s and %s s (%s)\n",
		    target, lo, hi, loss_name(r->loss));
		print_advice(r);
	} else if (r->verdict == KT_VERDICT_NO_LOSS) {
		printf("the path to %s kept idle TCP flows through %s s, the longest idle time "
		       "tested: no loss up to --max\n", target, lo);
		print_advice(r);
	} else {
		print_failure(target, r);
	}
	if (r->server_ms >= 0 && r->verdict != KT_VERDICT_SERVER)
		printf("note: the far end itself ended a connection after %s s (%s)\n",
		    secs(r->server_ms, NEAREST, srv, sizeof(srv)), end_name(r->server_end));
	if (r->addr[0])
		printf("measured %s in %s s with %u connections opened: %u kept, %u lost, %u ended "
		       "by the far end, %u failed\n", r->addr,
		    secs(r->elapsed_ms, NEAREST, el, sizeof(el)), r->opened, r->kept, r->lost,
		    r->ended, r->failed);
}

/* A number of ms for JSON: null when unknown (negative, or 0 for lo_ms). */
static void
json_ms(const char *name, long long ms, long long unknown_below)
{
	if (ms < unknown_below)
		printf(", \"%s\": null", name);
	else
		printf(", \"%s\": %lld", name, ms);
}

/* The --json output: one object, documented in ka-tune(8); keep it stable. */
static void
print_json(const char *target, const struct kt_probe_result *r)
{
	static const char *const verdicts[] = {
		[KT_VERDICT_RUNNING] = "interrupted", [KT_VERDICT_BRACKET] = "bracket",
		[KT_VERDICT_NO_LOSS] = "no_loss", [KT_VERDICT_BELOW_MIN] = "below_min",
		[KT_VERDICT_SERVER] = "server", [KT_VERDICT_INCONSISTENT] = "inconsistent",
	};
	static const char *const ends[] = { [KT_END_NONE] = "null", [KT_END_FIN] = "\"fin\"",
		[KT_END_DATA] = "\"data\"", [KT_END_RESET] = "\"reset\"" };
	char line[CLI_SET_LINE_LEN];
	struct kt_values v;
	long long idle;

	fputs("{\"target\": ", stdout);
	cli_json_string(target);
	fputs(", \"address\": ", stdout);
	if (r->addr[0])
		cli_json_string(r->addr);
	else
		fputs("null", stdout);
	printf(", \"verdict\": \"%s\"", verdicts[r->verdict]);
	json_ms("lo_ms", r->lo_ms, 1);
	json_ms("hi_ms", r->hi_ms, 0);
	printf(", \"loss\": %s", r->hi_ms < 0 ? "null" :
	    r->loss == KT_LOSS_RESET ? "\"reset\"" : "\"drop\"");
	json_ms("server_ms", r->server_ms, 0);
	printf(", \"server_end\": %s", r->server_ms < 0 ? "null" : ends[r->server_end]);
	json_ms("conflict_kept_ms", r->conflict_kept_ms, 0);
	json_ms("conflict_lost_ms", r->conflict_lost_ms, 0);
	printf(", \"elapsed_ms\": %lld, \"opened\": %u, \"kept\": %u, \"lost\": %u, "
	       "\"ended\": %u, \"failed\": %u, \"suggest\": ", r->elapsed_ms, r->opened, r->kept,
	    r->lost, r->ended, r->failed);
	if (advice(r, &idle, &v) < 0) {
		puts("null}");
		return;
	}
	printf("{\"idle_timeout\": %lld, ", idle);
	for (int k = 0; k < KT_NKEYS; k++)
		printf("\"%s\": %d, ", kt_key(k)->short_name, v.val[k]);
	fputs("\"set\": ", stdout);
	cli_json_string(cli_set_line(&v, line, sizeof(line)));
	puts("}}");
}

/*
 * Measure the path to target (t, parsed from it), until done or interrupted, and print the
 * result. Returns EXIT_OK for a measurement, else EXIT_FAIL.
 */
static int
run_probe(const char *target, const struct kt_target *t, const struct kt_probe_params *par,
    int json)
{
	struct progress pr = { .tty = isatty(STDERR_FILENO) };
	char vis[TARGET_VIS_LEN];
	struct kt_probe_result res;
	struct kt_probe *p;
	sigset_t waitmask;
	int r;

	if (catch_signals(&waitmask) != 0)
		return EXIT_FAIL;
	r = kt_probe_new(t, par, &p);
	if (r < 0) {
		cli_error("probe: %s: %s", target, cli_strerror(r, CLI_ABOUT_PROBE));
		return EXIT_FAIL;
	}
	do
		r = kt_probe_run(p, &waitmask, show_progress, &pr);
	while (r == -EINTR && !interrupted);
	clear_status(&pr);
	kt_probe_result(p, &res);
	kt_probe_free(p);
	if (r < 0 && !interrupted) {
		cli_error("probe: %s: %s", target, cli_strerror(r, CLI_ABOUT_PROBE));
		return EXIT_FAIL;
	}
	if (json)
		print_json(target, &res);
	else
		print_text(cli_vis(target, vis, sizeof(vis)), &res);
	return measured(&res) ? EXIT_OK : EXIT_FAIL;
}

/* How a connection held by probe --listen ended, in words. */
static const char *
ended_how(const struct kt_listen_status *st)
{
	if (st->how == KT_END_FIN)
		return "closed by the peer (FIN)";
	if (st->how == KT_END_RESET)
		return "reset by the peer";
	return cli_strerror(st->err, CLI_ABOUT_LISTEN);
}

/* kt_listen_run()'s callback: a line on stdout for each event; stop when stdout is gone. */
static int
listen_event(const struct kt_listen_status *st, void *userdata)
{
	char held[24], idle[24];

	(void)userdata;
	if (st->event == KT_LISTEN_LISTENING)
		printf("listening on %s\n", st->addr);
	else if (st->event == KT_LISTEN_ACCEPTED)
		printf("accepted %s (%u held)\n", st->addr, st->open);
	else
		printf("ended %s: %s after %s s held, %s s idle; %u segments and %llu bytes in "
		       "(%u held)\n", st->addr, ended_how(st),
		    secs(st->held_ms, NEAREST, held, sizeof(held)),
		    secs(st->idle_ms, NEAREST, idle, sizeof(idle)), st->segs_in, st->bytes,
		    st->open);
	return ferror(stdout);
}

/* Be the far end on port until SIGINT or SIGTERM. Returns EXIT_OK or EXIT_FAIL. */
static int
run_listen(unsigned int port)
{
	struct kt_listen *l;
	sigset_t waitmask;
	int r;

	if (catch_signals(&waitmask) != 0)
		return EXIT_FAIL;
	r = kt_listen_open(port, &l);
	if (r < 0) {
		cli_error("probe: --listen %u: %s", port, cli_strerror(r, CLI_ABOUT_LISTEN));
		return EXIT_FAIL;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	do
		r = kt_listen_run(l, &waitmask, listen_event, NULL);
	while (r == -EINTR && !interrupted);
	kt_listen_free(l);
	if (r < 0 && r != -EINTR && r != -ECANCELED) {
		cli_error("probe: --listen %u: %s", port, cli_strerror(r, CLI_ABOUT_LISTEN));
		return EXIT_FAIL;
	}
	return EXIT_OK;	/* a signal, or stdout gone (cli_finish() says so) */
}

/* The command line, as given: values are judged once --help has had its chance. */
struct args {
	const char *target;
	const char *min, *max, *conns, *listen;
	int json;
};

/* Read the options and HOST:PORT, which may come before, between or after them. */
static int
read_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "min", required_argument, NULL, 'm' },
		{ "max", required_argument, NULL, 'M' },
		{ "connections", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "listen", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	for (;;) {
		while ((c = cli_getopt(argc, argv, opts)) >= 0) {
			if (c == 'm')
				a->min = optarg;
			else if (c == 'M')
				a->max = optarg;
			else if (c == 'n')
				a->conns = optarg;
			else if (c == 'L')
				a->listen = optarg;
			else
				a->json = 1;
		}
		if (c != -1 || optind == argc || a->target)
			return cli_getopt_end(c, argc, argv);
		a->target = argv[optind++];
	}
}

/* Judge the measuring options into *par; their defaults where not given. */
static int
judge_params(const struct args *a, struct kt_probe_params *par)
{
	unsigned long long n = KT_PROBE_CONNS_DEFAULT;

	*par = (struct kt_probe_params){ KT_PROBE_MIN_DEFAULT, KT_PROBE_MAX_DEFAULT, 0 };
	if ((a->min && cli_parse_duration("--min", a->min, KT_PROBE_IDLE_MIN, KT_PROBE_IDLE_MAX,
			   &par->min_secs) != 0) ||
	    (a->max && cli_parse_duration("--max", a->max, KT_PROBE_IDLE_MIN, KT_PROBE_IDLE_MAX,
			   &par->max_secs) != 0) ||
	    (a->conns && cli_parse_uint("--connections", a->conns, KT_PROBE_CONNS_MIN,
			     KT_PROBE_CONNS_MAX, &n) != 0))
		return EXIT_USAGE;
	par->conns = (unsigned int)n;
	if (par->max_secs <= par->min_secs)
		return cli_usage_error("probe: --max (%d s) must be above --min (%d s)",
		    par->max_secs, par->min_secs);
	return 0;
}

static int
run_probe_command(int argc, char **argv)
{
	struct args a = { 0 };
	struct kt_probe_params par;
	struct kt_target t;
	unsigned long long port;
	int r;

	if ((r = read_args(argc, argv, &a)) != CLI_GO)
		return r;
	if (a.listen) {
		if (a.target || a.min || a.max || a.conns || a.json)
			return cli_usage_error("probe: --listen takes no HOST:PORT and no other "
					       "option");
		if ((r = cli_parse_uint("--listen", a.listen, 1, 65535, &port)) != 0)
			return r;
		if ((r = cli_enter_target()) != EXIT_OK)
			return r;
		return run_listen((unsigned int)port);
	}
	if (!a.target)
		return cli_usage_error("probe: give HOST:PORT, or --listen PORT");
	r = kt_target_parse(a.target, &t);
	if (r < 0) {
		cli_error("probe: '%s' is not HOST:PORT: %s", a.target, r == -ERANGE ?
		    "the port must be 1..65535" : "HOST is a name or an address without blanks, "
		    "an IPv6 address in brackets ([2001:db8::1]:22)");
		return EXIT_USAGE;
	}
	if ((r = judge_params(&a, &par)) != 0)
		return r;
	if ((r = cli_enter_target()) != EXIT_OK)
		return r;
	return run_probe(a.target, &t, &par, a.json);
}

const struct cli_command cli_cmd_probe = {
	.name = "probe",
	.run = run_probe_command,
	.summary = "measure how long the path to a TCP server keeps an idle flow",
	.synopsis =
	    "ka-tune [--netns NAME|PATH | --pid PID] probe HOST:PORT [--min DUR] [--max DUR]\n"
	    "        [--connections N] [--json]\n"
	    "ka-tune [--netns NAME|PATH | --pid PID] probe --listen PORT\n",
	.help =
	    "  HOST:PORT        any TCP server: HOST a name, an IPv4 address or an [IPv6] one\n"
	    "  --min DUR        the shortest idle time tested, " CLI_STR(KT_PROBE_IDLE_MIN)
	    ".." CLI_STR(KT_PROBE_IDLE_MAX) " seconds (default " CLI_STR(KT_PROBE_MIN_DEFAULT)
	    ")\n"
	    "  --max DUR        the longest, above --min (default 2h)\n"
	    "  --connections N  connections a round, " CLI_STR(KT_PROBE_CONNS_MIN) ".."
	    CLI_STR(KT_PROBE_CONNS_MAX) " (default " CLI_STR(KT_PROBE_CONNS_DEFAULT) ")\n"
	    "  --json           one JSON object: the bracket, the kind of loss, the suggestion\n"
	    "  --listen PORT    be the far end to probe: hold connections, never send\n"
	    "  --netns, --pid (before probe): measure from, or listen in, another namespace\n"
	    "  It takes about twice the path's idle timeout and shows progress on a terminal;\n"
	    "  SIGINT or SIGTERM prints what is known so far. Exit 1: nothing was measured.\n",
	.not_in_netns = NULL,
};
