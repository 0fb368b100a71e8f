/* test_kt_enable.c: unit tests for kt_enable.c on this process's own sockets: a listener on
 * loopback (it sends nothing), a socket that is not connected, a UDP one. Connections, other
 * processes and namespaces are tests/enable.sh's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"

/* A listener on 127.0.0.1, a port the kernel picks: returns it, its port in *port. */
static int
listener(unsigned short *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* The one socket of the report on port, or NULL. */
static const struct kt_enable_sock *
on_port(const struct kt_enable_report *r, unsigned short port)
{
	const struct kt_enable_sock *found = NULL;

	for (size_t i = 0; i < r->n; i++) {
		if (r->socks[i].lport == port) {
			assert_null(found);
			found = &r->socks[i];
		}
	}
	return found;
}

/* Whether SO_KEEPALIVE is on. */
static int
ka_on(int fd)
{
	int on = -1;
	socklen_t len = sizeof(on);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len), 0);
	return on != 0;
}

/*
 * The listener is targeted, the unconnected and UDP sockets not; a dry run changes nothing, a
 * run turns keepalive on, the next finds it on; other values retune it; --port filters.
 */
static void
test_self(void **state)
{
	struct kt_enable_opts o = { .dry_run = 1 };
	struct kt_enable_report *r;
	const struct kt_enable_sock *s;
	unsigned short port;
	int l = listener(&port), idle = socket(AF_INET, SOCK_STREAM, 0);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_int_equal(kt_enable_pid(getpid(), &o, &r), 0);
	assert_non_null(s = on_port(r, port));
	assert_int_equal(s->fd, l);
	assert_int_equal(s->result, KT_ENABLE_DONE);
	assert_int_equal(s->before.on, 0);
	assert_int_equal(s->after.on, 1);
	assert_int_equal(r->pid, getpid());
	assert_int_equal(r->exited, 0);
	assert_int_equal(r->stopped, 0);
	kt_enable_free(r);
	assert_int_equal(ka_on(l), 0);

	o = (struct kt_enable_opts){ .want = { .mask = KT_BIT(KT_TIME), .val = { 600, 0, 0 } } };
	assert_int_equal(kt_enable_pid(getpid(), &o, &r), 0);
	assert_non_null(s = on_port(r, port));
	assert_int_equal(s->result, KT_ENABLE_DONE);
	assert_int_equal(s->after.val[KT_TIME], 600);
	kt_enable_free(r);
	assert_int_equal(ka_on(l), 1);
	assert_int_equal(ka_on(idle), 0);
	assert_int_equal(ka_on(udp), 0);

	assert_int_equal(kt_enable_pid(getpid(), &o, &r), 0);
	assert_int_equal(on_port(r, port)->result, KT_ENABLE_ALREADY);
	kt_enable_free(r);
	o.want.val[KT_TIME] = 700;
	o.port = port;
	assert_int_equal(kt_enable_pid(getpid(), &o, &r), 0);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->count[KT_ENABLE_DONE], 1);
	assert_int_equal(r->socks[0].before.val[KT_TIME], 600);
	assert_int_equal(r->socks[0].after.val[KT_TIME], 700);
	kt_enable_free(r);
	o.port = port == 65535 ? 1 : port + 1;
	assert_int_equal(kt_enable_pid(getpid(), &o, &r), 0);
	assert_int_equal(r->n, 0);
	assert_null(r->socks);
	kt_enable_free(r);
	(void)close(l);
	(void)close(idle);
	(void)close(udp);
}

/* A pid that names no process (a child already reaped), bad values: errors, no report. */
static void
test_errors(void **state)
{
	struct kt_enable_opts o = { 0 };
	struct kt_enable_report *r = (void *)1;
	pid_t child = fork();

	(void)state;
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(kt_enable_pid(child, &o, &r), -ESRCH);
	assert_int_equal(kt_enable_pid(0, &o, &r), -ESRCH);
	o.want = (struct kt_values){ .mask = KT_BIT(KT_PROBES), .val = { 0, 0, 128 } };
	assert_int_equal(kt_enable_pid(getpid(), &o, &r), -ERANGE);
	o = (struct kt_enable_opts){ .port = 65536 };
	assert_int_equal(kt_enable_pid(getpid(), &o, &r), -ERANGE);
	assert_ptr_equal(r, (void *)1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("kt_enable", tests, NULL, NULL);
}
