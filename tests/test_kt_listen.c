/* test_kt_listen.c: unit tests for kt_listen.c, the quiet far end, over loopback: what it says
 * of each connection as it comes and ends, and how a signal stops it. Where loopback cannot be
 * used (lo down, as in some build sandboxes), the tests that need it are skipped. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"

/* What the callback was told. */
struct told {
	unsigned int port;
	char listening[KT_PROBE_ADDR_LEN], accepted[KT_PROBE_ADDR_LEN];
	struct kt_listen_status ended;
	int events;
	enum kt_listen_event stop_at;	/* return 1 on this event */
};

static int
tell(const struct kt_listen_status *st, void *userdata)
{
	struct told *t = userdata;

	t->events++;
	if (st->event == KT_LISTEN_LISTENING) {
		t->port = st->port;
		(void)snprintf(t->listening, sizeof(t->listening), "%s", st->addr);
	} else if (st->event == KT_LISTEN_ACCEPTED) {
		(void)snprintf(t->accepted, sizeof(t->accepted), "%s", st->addr);
		assert_int_equal(st->open, 1);
	} else {
		t->ended = *st;
		t->ended.addr = NULL;
		assert_int_equal(st->open, 0);
	}
	return st->event == t->stop_at;
}

/* Open a listener on a port the kernel picks; its first run only says where it listens. */
static struct kt_listen *
listen_any(struct told *t)
{
	struct kt_listen *l;

	assert_int_equal(kt_listen_open(0, &l), 0);
	t->stop_at = KT_LISTEN_LISTENING;
	assert_int_equal(kt_listen_run(l, NULL, tell, t), -ECANCELED);
	assert_int_equal(t->events, 1);
	assert_true(t->port > 0 && t->port <= 65535);
	return l;
}

/* Connect to 127.0.0.1:port; -1 when loopback is unusable. */
static int
client(unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* It listens on every address, IPv4 and IPv6, and the port is taken. */
static void
test_open(void **state)
{
	struct told t = { 0 };
	struct kt_listen *l = listen_any(&t), *again = NULL;
	char want[KT_PROBE_ADDR_LEN];

	(void)state;
	(void)snprintf(want, sizeof(want), "[::]:%u", t.port);
	if (strcmp(t.listening, want) != 0)	/* a system without IPv6 */
		(void)snprintf(want, sizeof(want), "0.0.0.0:%u", t.port);
	assert_string_equal(t.listening, want);
	assert_int_equal(kt_listen_open(t.port, &again), -EADDRINUSE);
	assert_null(again);
	kt_listen_free(l);
	kt_listen_free(NULL);
}

/* A peer that sends and closes: accepted (an IPv4 peer shown as IPv4), then ended by its FIN,
 * with the bytes counted. */
static void
test_fin(void **state)
{
	struct told t = { 0 };
	struct kt_listen *l = listen_any(&t);
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char want[KT_PROBE_ADDR_LEN];
	int fd = client(t.port);

	(void)state;
	if (fd < 0) {
		kt_listen_free(l);
		skip();
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	(void)close(fd);
	t.stop_at = KT_LISTEN_ENDED;
	assert_int_equal(kt_listen_run(l, NULL, tell, &t), -ECANCELED);
	(void)snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_string_equal(t.accepted, want);
	assert_int_equal(t.ended.how, KT_END_FIN);
	assert_int_equal(t.ended.err, 0);
	assert_int_equal(t.ended.bytes, 3);
	assert_true(t.ended.segs_in >= 3);	/* the handshake's ACK, the data, the FIN */
	assert_true(t.ended.held_ms >= 0 && t.ended.idle_ms <= t.ended.held_ms);
	kt_listen_free(l);
}

/* A peer that resets. */
static void
test_reset(void **state)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct told t = { 0 };
	struct kt_listen *l = listen_any(&t);
	int fd = client(t.port);

	(void)state;
	if (fd < 0) {
		kt_listen_free(l);
		skip();
	}
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	(void)close(fd);
	t.stop_at = KT_LISTEN_ENDED;
	assert_int_equal(kt_listen_run(l, NULL, tell, &t), -ECANCELED);
	assert_int_equal(t.ended.how, KT_END_RESET);
	assert_int_equal(t.ended.bytes, 0);
	kt_listen_free(l);
}

static volatile sig_atomic_t caught;

static void
catch(int sig)
{
	caught = sig;
}

/*
 * A signal blocked outside the wait, as the CLI blocks SIGINT, stops the wait it comes in, and
 * one that came before is not missed: the wait lets it in and returns -EINTR.
 */
static void
test_signal(void **state)
{
	struct sigaction sa = { .sa_handler = catch };
	struct told t = { 0 };
	struct kt_listen *l = listen_any(&t);
	sigset_t block, old;

	(void)state;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	assert_int_equal(sigemptyset(&block), 0);
	assert_int_equal(sigaddset(&block, SIGUSR1), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(caught, 0);
	t.stop_at = -1;
	assert_int_equal(kt_listen_run(l, &old, tell, &t), -EINTR);
	assert_int_equal(caught, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	kt_listen_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_fin),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
