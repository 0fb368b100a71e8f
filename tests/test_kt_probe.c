/* test_kt_probe.c: unit tests for kt_conn.c and kt_probe.c, the measuring engine, over
 * loopback. A listening socket the test does not accept on is a quiet far end: the kernel
 * completes the handshakes and answers the keepalive probes itself. Loopback never forgets a
 * flow, so the losses are tested end to end (tests/probe.sh); here, the answers, the far end's
 * own ends, and the failures. Where loopback cannot be used (lo down, as in some build
 * sandboxes), the tests that need it are skipped. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

/*
 * A socket listening on 127.0.0.1, on a port the kernel picks, that never blocks in accept();
 * -1 when loopback is unusable.
 */
static int
listener(unsigned int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		(void)close(fd);
		return -1;
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* 127.0.0.1:port as kt_conn_open() takes it. */
static struct addrinfo *
loopback(unsigned int port)
{
	const struct kt_target t = { "127.0.0.1", port };
	struct addrinfo *ai;

	assert_int_equal(kt_target_resolve(&t, &ai), 0);
	return ai;
}

/* Wait until the monotonic clock reads ms. */
static void
wait_until(long long ms)
{
	long long now;

	while ((now = kt_now_ms()) < ms)
		(void)poll(NULL, 0, (int)(ms - now));
}

/* Wait (2 s at most) for events on fd; returns what came. */
static short
wait_fd(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	assert_int_equal(poll(&pfd, 1, 2000), 1);
	return pfd.revents;
}

/* Open c to port, testing idle_ms, and see it up; skip when loopback cannot connect. */
static void
conn_up(struct kt_conn *c, unsigned int port, long long idle_ms)
{
	struct addrinfo *ai = loopback(port);
	short rev;
	int r;

	*c = (struct kt_conn){ .fd = -1, .state = KT_CONN_CLOSED };
	r = kt_conn_open(c, ai, 1, idle_ms);
	freeaddrinfo(ai);
	if (r == -ENETUNREACH)		/* lo is down */
		skip();
	assert_int_equal(r, 0);
	assert_int_equal(c->state, KT_CONN_CONNECTING);
	assert_int_equal(c->keepidle, idle_ms / 1000 + 2);
	rev = wait_fd(c->fd, POLLOUT);
	r = kt_conn_connected(c, rev);
	if (r < 0) {
		kt_conn_close(c);
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(c->state, KT_CONN_IDLE);
	assert_true(c->due_ms == c->last_ms + idle_ms);
	assert_true(c->last_ms >= c->up_ms && c->last_ms <= kt_now_ms());
}

/* A probe sent at its time is answered: the flow was kept through (almost) its idle time. */
static void
test_conn_kept(void **state)
{
	struct kt_conn c;
	unsigned int port;
	long long idle = -1;
	int lfd = listener(&port), r = 0;

	(void)state;
	if (lfd < 0)
		skip();
	conn_up(&c, port, 1200);
	wait_until(c.due_ms);
	assert_int_equal(kt_conn_trigger(&c), 0);
	assert_int_equal(c.state, KT_CONN_PROBING);
	for (int i = 0; i < 300 && r == 0; i++) {
		wait_until(c.due_ms);
		r = kt_conn_check(&c, &idle);
	}
	assert_int_equal(r, 1);
	assert_int_equal(c.state, KT_CONN_KEPT);
	/* From the handshake's answer to the probe, less the slop; this process may be late. */
	assert_true(idle >= 1200 - KT_PROBE_SLOP_MS && idle < 1200 + 1000);
	kt_conn_close(&c);
	assert_int_equal(c.fd, -1);
	(void)close(lfd);
}

/* A connection this process reaches too late for its probe is let go. */
static void
test_conn_too_late(void **state)
{
	struct kt_conn c;
	unsigned int port;
	int lfd = listener(&port);

	(void)state;
	if (lfd < 0)
		skip();
	conn_up(&c, port, 1000);
	/* The kernel's own probe is due 3 s after the handshake: after 2.6 s, too late for ours. */
	c.last_ms -= 2600;
	assert_int_equal(kt_conn_trigger(&c), -ETIME);
	assert_int_equal(c.state, KT_CONN_IDLE);
	kt_conn_close(&c);
	(void)close(lfd);
}

/* Accept the connection waiting on lfd, up already. */
static int
accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* A greeting moves the idle time's start; the far end's FIN and reset are its own ends. */
static void
test_conn_far_end(void **state)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct kt_conn c;
	enum kt_loss loss;
	unsigned int port;
	long long idle, due;
	int lfd = listener(&port), fd;

	(void)state;
	if (lfd < 0)
		skip();
	conn_up(&c, port, 60000);
	due = c.due_ms;
	fd = accept_one(lfd);
	assert_int_equal(write(fd, "SSH-2.0-x\r\n", 11), 11);
	assert_int_equal(kt_conn_input(&c, wait_fd(c.fd, POLLIN)), KT_NEWS_DATA);
	assert_int_equal(kt_conn_greeting(&c), 1);
	assert_true(c.greeted && c.due_ms >= due);
	(void)close(fd);
	assert_int_equal(kt_conn_input(&c, wait_fd(c.fd, POLLIN | POLLRDHUP)), KT_NEWS_FIN);
	kt_conn_close(&c);

	conn_up(&c, port, 60000);
	fd = accept_one(lfd);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	(void)close(fd);
	assert_int_equal(kt_conn_input(&c, wait_fd(c.fd, POLLIN)), -ECONNRESET);
	/* No probe was out: the reset is the far end's doing, not a loss. */
	assert_int_equal(kt_conn_lost(&c, ECONNRESET, &idle, &loss), 0);
	kt_conn_close(&c);
	(void)close(lfd);
}

/* Data after the greeting's time is the far end's activity, not a greeting. */
static void
test_conn_late_data(void **state)
{
	struct kt_conn c;
	unsigned int port;
	int lfd = listener(&port), fd;

	(void)state;
	if (lfd < 0)
		skip();
	conn_up(&c, port, 60000);
	fd = accept_one(lfd);
	c.up_ms -= KT_PROBE_GREETING_MS + 1;	/* as if it had been up that long */
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(kt_conn_input(&c, wait_fd(c.fd, POLLIN)), KT_NEWS_DATA);
	assert_int_equal(kt_conn_greeting(&c), 0);
	assert_false(c.greeted);
	kt_conn_close(&c);
	(void)close(fd);
	(void)close(lfd);
}

/* Parameters kt_probe_params_check() refuses are refused before anything is looked up. */
static void
test_probe_new_refused(void **state)
{
	static char sentinel;
	const struct kt_target t = { "192.0.2.1", 22 };
	struct kt_probe_params par = { 30, 30, 16 };
	struct kt_probe *p = (struct kt_probe *)(void *)&sentinel;

	(void)state;
	assert_int_equal(kt_probe_new(&t, &par, &p), -EINVAL);
	par = (struct kt_probe_params){ 1, 30, 16 };
	assert_int_equal(kt_probe_new(&t, &par, &p), -ERANGE);
	assert_ptr_equal(p, &sentinel);	/* untouched */
	kt_probe_free(NULL);
}

/* What the progress callback saw. */
struct seen {
	unsigned int calls;
	int max_round;
	int lfd;		/* >= 0: accept and close what comes: a server with no patience */
	int stop;		/* return this */
};

static int
watch(const struct kt_probe_status *st, void *userdata)
{
	struct seen *s = userdata;
	int fd;

	s->calls++;
	if (st->round > s->max_round)
		s->max_round = st->round;
	assert_true(st->elapsed_ms >= 0 && st->open <= 2 * KT_PROBE_CONNS_MAX);
	while (s->lfd >= 0 && (fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		(void)close(fd);
	return s->stop;
}

/* Start measuring 127.0.0.1:port from 2 s to 3 s with two connections. */
static struct kt_probe *
probe_new(unsigned int port)
{
	const struct kt_target t = { "127.0.0.1", port };
	const struct kt_probe_params par = { 2, 3, 2 };
	struct kt_probe *p;

	assert_int_equal(kt_probe_new(&t, &par, &p), 0);
	return p;
}

/*
 * Measure 127.0.0.1:port as probe_new() plans, watched by seen, to the end: the result in *res,
 * kt_probe_run()'s return returned. Skips when loopback routes nowhere.
 */
static int
measure(unsigned int port, struct seen *seen, struct kt_probe_result *res)
{
	struct kt_probe *p = probe_new(port);
	int r = kt_probe_run(p, NULL, watch, seen);

	kt_probe_result(p, res);
	kt_probe_free(p);
	if (r == -ENETUNREACH)
		skip();
	return r;
}

/*
 * Loopback keeps every flow: no loss up to --max, in about --max. The answer at 2 s opens
 * round 2 in the gap above it, closed unused when 3 s is kept too.
 */
static void
test_probe_no_loss(void **state)
{
	struct seen seen = { .lfd = -1 };
	struct kt_probe_result res;
	unsigned int port;
	int lfd = listener(&port);

	(void)state;
	if (lfd < 0)
		skip();
	assert_int_equal(measure(port, &seen, &res), 0);
	(void)close(lfd);
	assert_int_equal(res.verdict, KT_VERDICT_NO_LOSS);
	assert_true(res.lo_ms >= 3000 - KT_PROBE_SLOP_MS && res.lo_ms < 4000);
	assert_int_equal(res.hi_ms, -1);
	assert_int_equal(res.opened, 4);
	assert_int_equal(res.kept, 2);
	assert_int_equal(res.lost + res.ended + res.failed, 0);
	assert_true(res.elapsed_ms >= 3000 && res.elapsed_ms < 5000);
	assert_int_equal(strncmp(res.addr, "127.0.0.1:", 10), 0);
	assert_true(seen.calls >= 3 && seen.max_round == 2);
}

/* A server that closes every connection at once: its own limit is measured, not the path's. */
static void
test_probe_server(void **state)
{
	struct kt_probe_result res;
	unsigned int port;
	int lfd = listener(&port);
	struct seen seen = { .lfd = lfd };

	(void)state;
	if (lfd < 0)
		skip();
	assert_int_equal(measure(port, &seen, &res), 0);
	(void)close(lfd);
	assert_int_equal(res.verdict, KT_VERDICT_SERVER);
	assert_int_equal(res.server_end, KT_END_FIN);
	assert_true(res.server_ms >= 0 && res.server_ms < 2000);
	assert_true(res.ended >= 1 && res.kept == 0 && res.lost == 0);
}

/* Nothing listens: the connection is refused, and that is the error. */
static void
test_probe_refused(void **state)
{
	struct seen seen = { .lfd = -1 };
	struct kt_probe_result res;
	unsigned int port;
	int lfd = listener(&port);

	(void)state;
	if (lfd < 0)
		skip();
	(void)close(lfd);	/* the port is free now, and nothing listens on it */
	assert_int_equal(measure(port, &seen, &res), -ECONNREFUSED);
	assert_int_equal(res.verdict, KT_VERDICT_RUNNING);
	assert_int_equal(res.opened, 1);
}

/* Nothing is known before a run; the callback stops one, and what it knew stays to be read. */
static void
test_probe_cancel(void **state)
{
	struct seen seen = { .lfd = -1, .stop = 1 };
	struct kt_probe_result res;
	struct kt_probe *p;
	unsigned int port;
	int lfd = listener(&port), r;

	(void)state;
	if (lfd < 0)
		skip();
	p = probe_new(port);
	kt_probe_result(p, &res);
	assert_int_equal(res.verdict, KT_VERDICT_RUNNING);
	assert_int_equal(res.elapsed_ms, 0);
	assert_string_equal(res.addr, "");
	r = kt_probe_run(p, NULL, watch, &seen);
	if (r == -ENETUNREACH) {
		kt_probe_free(p);
		(void)close(lfd);
		skip();
	}
	assert_int_equal(r, -ECANCELED);
	assert_int_equal(seen.calls, 1);
	kt_probe_result(p, &res);
	assert_int_equal(res.verdict, KT_VERDICT_RUNNING);
	assert_int_equal(res.lo_ms, 0);
	assert_int_equal(res.hi_ms, -1);
	kt_probe_free(p);
	(void)close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conn_kept),
		cmocka_unit_test(test_conn_too_late),
		cmocka_unit_test(test_conn_far_end),
		cmocka_unit_test(test_conn_late_data),
		cmocka_unit_test(test_probe_new_refused),
		cmocka_unit_test(test_probe_no_loss),
		cmocka_unit_test(test_probe_server),
		cmocka_unit_test(test_probe_refused),
		cmocka_unit_test(test_probe_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
