/* test_kt_tcpsock.c: unit tests for kt_tcpsock.c on real, unconnected sockets of this process:
 * which are TCP, reading and setting keepalive, and a write the kernel refuses, undone. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

/* Only IPv4 and IPv6 stream sockets of protocol TCP are TCP sockets, by the kernel's word. */
static void
test_tcp_socket(void **state)
{
	int fd, family = -1, sv[2];

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(kt_tcp_socket(fd, &family), 1);
	assert_int_equal(family, AF_INET);
	(void)close(fd);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd >= 0) {		/* a kernel without IPv6 has none */
		assert_int_equal(kt_tcp_socket(fd, &family), 1);
		assert_int_equal(family, AF_INET6);
		(void)close(fd);
	}
	family = -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(kt_tcp_socket(fd, &family), 0);
	(void)close(fd);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(kt_tcp_socket(sv[0], &family), 0);
	(void)close(sv[0]);
	(void)close(sv[1]);
	assert_int_equal(kt_tcp_socket(sv[0], &family), 0);	/* closed */
	assert_int_equal(family, -1);
}

/* Keepalive read as the kernel has it: off, the namespace's values; then as set. */
static void
test_read_set(void **state)
{
	struct kt_values want = { .mask = KT_BIT(KT_TIME) | KT_BIT(KT_PROBES),
				  .val = { 600, 0, 5 } };
	struct kt_sock_ka before, after;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(kt_ka_read(fd, &before), 0);
	assert_int_equal(before.on, 0);
	assert_int_equal(kt_ka_is_on(fd), 0);
	assert_true(before.val[KT_TIME] >= 1 && before.val[KT_PROBES] >= 1);
	assert_int_equal(kt_ka_set(fd, &want, 1, &before, NULL), 0);
	assert_int_equal(kt_ka_read(fd, &after), 0);
	assert_int_equal(after.on, 1);
	assert_int_equal(kt_ka_is_on(fd), 1);
	assert_int_equal(after.val[KT_TIME], 600);
	assert_int_equal(after.val[KT_INTVL], before.val[KT_INTVL]);
	assert_int_equal(after.val[KT_PROBES], 5);
	(void)close(fd);
	assert_int_equal(kt_ka_is_on(fd), -EBADF);
	assert_int_equal(kt_ka_read(fd, &after), -EBADF);
}

/*
 * A value the kernel refuses (TCP_KEEPCNT above 127) fails the write: the time written before
 * it is put back, SO_KEEPALIVE is never turned on, and the failure names the option.
 */
static void
test_set_undone(void **state)
{
	struct kt_values want = { .mask = KT_BIT(KT_TIME) | KT_BIT(KT_PROBES),
				  .val = { 600, 0, 200 } };
	struct kt_sock_ka before = { .on = 0, .val = { 1234, 75, 9 } }, now;
	struct kt_ka_failure f = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(kt_ka_set(fd, &want, 1, &before, &f), -EINVAL);
	assert_int_equal(f.opt, KT_PROBES);
	assert_int_equal(f.err, -EINVAL);
	assert_int_equal(f.unrestored, 0);
	assert_int_equal(kt_ka_read(fd, &now), 0);
	assert_int_equal(now.on, 0);
	assert_int_equal(now.val[KT_TIME], 1234);
	/* Without anything to restore to, what was written stays and is said to. */
	assert_int_equal(kt_ka_set(fd, &want, 1, NULL, &f), -EINVAL);
	assert_int_equal(f.unrestored, KT_BIT(KT_TIME));
	assert_int_equal(kt_ka_read(fd, &now), 0);
	assert_int_equal(now.val[KT_TIME], 600);
	(void)close(fd);
}

/* SO_KEEPALIVE alone, and a failure to set it on a socket that is no TCP one. */
static void
test_set_keepalive_only(void **state)
{
	struct kt_values none = { 0 }, time = { .mask = KT_BIT(KT_TIME), .val = { 60, 0, 0 } };
	struct kt_ka_failure f = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), udp = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_int_equal(kt_ka_set(fd, &none, 1, NULL, &f), 0);
	assert_int_equal(kt_ka_is_on(fd), 1);
	assert_true(kt_ka_set(udp, &time, 1, NULL, &f) < 0);
	assert_int_equal(f.opt, KT_TIME);
	assert_int_equal(kt_ka_is_on(udp), 0);
	(void)close(fd);
	(void)close(udp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_socket),
		cmocka_unit_test(test_read_set),
		cmocka_unit_test(test_set_undone),
		cmocka_unit_test(test_set_keepalive_only),
	};

	return cmocka_run_group_tests_name("kt_tcpsock", tests, NULL, NULL);
}
