/* test_kt_sockgroup.c: unit tests for kt_sockgroup.c: connections counted by process, or by
 * user where no process was seen, in the order an operator acts on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "katune.h"

static struct kt_sock
sock(int pid, unsigned int uid, enum kt_ka ka)
{
	struct kt_sock s = { .pid = pid, .uid = uid, .ka = ka };

	if (pid)
		(void)snprintf(s.comm, sizeof(s.comm), "p%d", pid);
	return s;
}

/* Groups by process, or by user when none was seen; most without keepalive first; n/a left out. */
static void
test_group(void **state)
{
	const struct kt_sock socks[] = {
		sock(20, 0, KT_KA_ON), sock(10, 0, KT_KA_OFF), sock(0, 1000, KT_KA_OFF),
		sock(20, 0, KT_KA_OFF), sock(10, 0, KT_KA_OFF), sock(0, 1000, KT_KA_UNKNOWN),
		sock(0, 0, KT_KA_NA), sock(30, 0, KT_KA_ON), sock(0, 33, KT_KA_OFF),
		sock(20, 0, KT_KA_ON), sock(10, 0, KT_KA_NA), sock(0, 1000, KT_KA_ON),
	};
	struct kt_sock_group *g;
	size_t n;

	(void)state;
	assert_int_equal(kt_sock_group(socks, sizeof(socks) / sizeof(socks[0]), &g, &n), 0);
	assert_int_equal(n, 5);
	/* p10: 2 off. */
	assert_int_equal(g[0].pid, 10);
	assert_string_equal(g[0].comm, "p10");
	assert_int_equal(g[0].off, 2);
	assert_int_equal(g[0].on + g[0].unknown, 0);
	/* p20 and uid 1000 both have 1 off and 3 connections: the process first. */
	assert_int_equal(g[1].pid, 20);
	assert_int_equal(g[1].on, 2);
	assert_int_equal(g[1].off, 1);
	assert_int_equal(g[2].pid, 0);
	assert_int_equal(g[2].uid, 1000);
	assert_int_equal(g[2].on, 1);
	assert_int_equal(g[2].off, 1);
	assert_int_equal(g[2].unknown, 1);
	assert_string_equal(g[2].comm, "");
	/* uid 33: 1 off, 1 connection. */
	assert_int_equal(g[3].pid, 0);
	assert_int_equal(g[3].uid, 33);
	/* p30: none off. */
	assert_int_equal(g[4].pid, 30);
	assert_int_equal(g[4].on, 1);
	free(g);

	assert_int_equal(kt_sock_group(NULL, 0, &g, &n), 0);
	assert_int_equal(n, 0);
	free(g);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group),
	};

	return cmocka_run_group_tests_name("kt_sockgroup", tests, NULL, NULL);
}
