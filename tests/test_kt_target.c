/* test_kt_target.c: unit tests for kt_target.c: HOST:PORT as users write it, its addresses
 * (numeric ones only: no name is looked up), and addresses as ka-tune shows them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

static void
target_ok(const char *s, const char *host, unsigned int port)
{
	struct kt_target t;

	assert_int_equal(kt_target_parse(s, &t), 0);
	assert_string_equal(t.host, host);
	assert_int_equal(t.port, port);
}

/* A refusal, with *ret untouched. */
static void
target_bad(const char *s, int err)
{
	struct kt_target t;

	memset(&t, 'x', sizeof(t));
	assert_int_equal(kt_target_parse(s, &t), err);
	assert_int_equal(t.host[0], 'x');
	assert_int_equal(t.host[sizeof(t.host) - 1], 'x');
}

static void
test_parse(void **state)
{
	(void)state;
	target_ok("192.0.2.1:22", "192.0.2.1", 22);
	target_ok("[2001:db8::1]:22", "2001:db8::1", 22);
	target_ok("[fe80::1%eth0]:7000", "fe80::1%eth0", 7000);
	target_ok("host.example:65535", "host.example", 65535);
	target_ok("h:1", "h", 1);
	target_ok("h\303\251.example:80", "h\303\251.example", 80);
}

static void
test_parse_refused(void **state)
{
	(void)state;
	target_bad("2001:db8::1:22", -EINVAL);	/* IPv6 without brackets */
	target_bad("[2001:db8::1]22", -EINVAL);
	target_bad("[2001:db8::1]", -EINVAL);
	target_bad("[2001:db8::1:22", -EINVAL);
	target_bad("[192.0.2.1]:22", -EINVAL);	/* brackets are for IPv6 */
	target_bad("[]:22", -EINVAL);
	target_bad("host", -EINVAL);
	target_bad("", -EINVAL);
	target_bad(":22", -EINVAL);
	target_bad("host:", -EINVAL);
	target_bad("host:022", -EINVAL);
	target_bad("host: 22", -EINVAL);
	target_bad("host:+22", -EINVAL);
	target_bad("host:22 ", -EINVAL);
	target_bad("host:0x16", -EINVAL);
	target_bad("host:0", -ERANGE);
	target_bad("host:65536", -ERANGE);
	target_bad("host:99999999999999999999999", -ERANGE);
	target_bad("ho st:22", -EINVAL);
	target_bad("ho\tst:22", -EINVAL);
	target_bad("ho\033st:22", -EINVAL);
	target_bad("ho\177st:22", -EINVAL);
}

static void
test_parse_long(void **state)
{
	char s[KT_PROBE_HOST_LEN + 8];
	struct kt_target t;

	(void)state;
	memset(s, 'a', sizeof(s));
	strcpy(s + KT_PROBE_HOST_LEN - 1, ":22");	/* a host of 255 bytes fits */
	assert_int_equal(kt_target_parse(s, &t), 0);
	assert_int_equal(strlen(t.host), KT_PROBE_HOST_LEN - 1);
	memset(s, 'a', sizeof(s));
	strcpy(s + KT_PROBE_HOST_LEN, ":22");		/* 256 bytes do not */
	target_bad(s, -EINVAL);
}

/* Numeric hosts become one address each, of their family, with the port. */
static void
test_resolve_numeric(void **state)
{
	struct kt_target t4 = { "198.51.100.2", 7000 }, t6 = { "2001:db8::2", 22 };
	struct addrinfo *ai;
	char buf[KT_PROBE_ADDR_LEN];

	(void)state;
	assert_int_equal(kt_target_resolve(&t4, &ai), 0);
	assert_int_equal(ai->ai_family, AF_INET);
	assert_int_equal(ai->ai_socktype, SOCK_STREAM);
	assert_null(ai->ai_next);
	kt_addr_text(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.2:7000");
	freeaddrinfo(ai);
	assert_int_equal(kt_target_resolve(&t6, &ai), 0);
	assert_int_equal(ai->ai_family, AF_INET6);
	kt_addr_text(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::2]:22");
	freeaddrinfo(ai);
}

/* An IPv4 peer on a dual-stack socket shows as IPv4; a buffer too small gives "". */
static void
test_addr_text(void **state)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(42990) };
	char buf[KT_PROBE_ADDR_LEN], tiny[8];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.1", &s6.sin6_addr), 1);
	kt_addr_text((struct sockaddr *)&s6, sizeof(s6), buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.1:42990");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::2", &s6.sin6_addr), 1);
	kt_addr_text((struct sockaddr *)&s6, sizeof(s6), buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8:1::2]:42990");
	memset(tiny, 'x', sizeof(tiny));
	kt_addr_text((struct sockaddr *)&s6, sizeof(s6), tiny, sizeof(tiny));
	assert_string_equal(tiny, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_resolve_numeric),
		cmocka_unit_test(test_addr_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
