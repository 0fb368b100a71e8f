/* test_kt_sockdiag.c: unit tests for kt_sockdiag.c: sock_diag datagrams built by hand, the
 * keepalive verdicts and the names of states and verdicts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

#define SEQ		7
#define DONE_SENTINEL	(-5)

/* A datagram being built, aligned as recv() leaves one. */
struct dgram {
	union {
		struct nlmsghdr align;
		unsigned char bytes[4096];
	} u;
	size_t len;
};

/* Append a netlink message of type with len bytes of payload; returns the header. */
static struct nlmsghdr *
put_msg(struct dgram *d, unsigned int seq, int type, const void *payload, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(d->u.bytes + d->len);

	assert_true(d->len + NLMSG_SPACE(len) <= sizeof(d->u.bytes));
	memset(h, 0, NLMSG_SPACE(len));
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_MULTI;
	h->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(h), payload, len);
	d->len += NLMSG_SPACE(len);
	return h;
}

/* A connection as the kernel would report it, IPv4 10.0.0.1:sport -> 192.0.2.7:dport. */
static struct inet_diag_msg
diag4(int state, int timer, unsigned int sport, unsigned int dport)
{
	struct inet_diag_msg m = {
		.idiag_family = AF_INET,
		.idiag_state = state,
		.idiag_timer = timer,
		.idiag_retrans = 3,
		.idiag_expires = 59000,
		.idiag_uid = 1000,
		.idiag_inode = 4242,
	};

	m.id.idiag_sport = htons(sport);
	m.id.idiag_dport = htons(dport);
	m.id.idiag_src[0] = htonl(0x0a000001);
	m.id.idiag_dst[0] = htonl(0xc0000207);
	return m;
}

static void
put_diag(struct dgram *d, unsigned int seq, const struct inet_diag_msg *m)
{
	put_msg(d, seq, SOCK_DIAG_BY_FAMILY, m, sizeof(*m));
}

static void
put_done(struct dgram *d, unsigned int seq)
{
	int zero = 0;

	put_msg(d, seq, NLMSG_DONE, &zero, sizeof(zero));
}

static void
put_error(struct dgram *d, unsigned int seq, int err)
{
	struct nlmsgerr e = { .error = err };

	put_msg(d, seq, NLMSG_ERROR, &e, sizeof(e));
}

/* Two connections and the end of the dump, each field where it belongs. */
static void
test_parse_fields(void **state)
{
	struct inet_diag_msg on = diag4(TCP_ESTABLISHED, 2, 5000, 443);
	struct inet_diag_msg off = diag4(TCP_ESTABLISHED, 0, 5001, 80);
	struct kt_sock_buf into = { 0 };
	struct dgram d = { .len = 0 };
	const unsigned char src[4] = { 10, 0, 0, 1 }, dst[4] = { 192, 0, 2, 7 };
	int done = DONE_SENTINEL;

	(void)state;
	off.idiag_inode = 4343;
	put_diag(&d, SEQ, &on);
	put_diag(&d, SEQ, &off);
	put_done(&d, SEQ);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(into.n, 2);
	assert_int_equal(into.socks[0].family, AF_INET);
	assert_int_equal(into.socks[0].state, TCP_ESTABLISHED);
	assert_memory_equal(into.socks[0].local, src, 4);
	assert_memory_equal(into.socks[0].remote, dst, 4);
	assert_int_equal(into.socks[0].lport, 5000);
	assert_int_equal(into.socks[0].rport, 443);
	assert_int_equal(into.socks[0].ka, KT_KA_ON);
	assert_int_equal(into.socks[0].next_ms, 59000);
	assert_int_equal(into.socks[0].probes, 3);
	assert_int_equal(into.socks[0].uid, 1000);
	assert_int_equal(into.socks[0].inode, 4242);
	assert_int_equal(into.socks[0].pid, 0);
	assert_string_equal(into.socks[0].comm, "");
	/* Off: no timer, so no next probe and no probe count, whatever the kernel left there. */
	assert_int_equal(into.socks[1].ka, KT_KA_OFF);
	assert_int_equal(into.socks[1].next_ms, 0);
	assert_int_equal(into.socks[1].probes, 0);
	assert_int_equal(into.socks[1].lport, 5001);
	assert_int_equal(into.socks[1].inode, 4343);
	free(into.socks);
}

/* An IPv6 connection keeps all sixteen bytes of both addresses. */
static void
test_parse_ipv6(void **state)
{
	struct inet_diag_msg m = diag4(TCP_CLOSE_WAIT, 2, 22, 40000);
	struct kt_sock_buf into = { 0 };
	struct dgram d = { .len = 0 };
	struct in6_addr a, b;
	int done = DONE_SENTINEL;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &a), 1);
	assert_int_equal(inet_pton(AF_INET6, "fe80::ffff:2", &b), 1);
	m.idiag_family = AF_INET6;
	memcpy(m.id.idiag_src, &a, 16);
	memcpy(m.id.idiag_dst, &b, 16);
	put_diag(&d, SEQ, &m);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(into.n, 1);
	assert_int_equal(into.socks[0].family, AF_INET6);
	assert_memory_equal(into.socks[0].local, &a, 16);
	assert_memory_equal(into.socks[0].remote, &b, 16);
	assert_int_equal(into.socks[0].ka, KT_KA_ON);
	free(into.socks);
}

/* A datagram that does not end the dump leaves done at 0; messages of other dumps are skipped. */
static void
test_parse_other_seq_skipped(void **state)
{
	struct inet_diag_msg m = diag4(TCP_ESTABLISHED, 0, 1, 2);
	struct kt_sock_buf into = { 0 };
	struct dgram d = { .len = 0 };
	int done = DONE_SENTINEL;

	(void)state;
	put_diag(&d, SEQ + 1, &m);
	put_done(&d, SEQ + 1);
	put_diag(&d, SEQ, &m);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(into.n, 1);
	free(into.socks);
}

/* Many datagrams grow the array; what was collected before stays. */
static void
test_parse_appends(void **state)
{
	struct kt_sock_buf into = { 0 };
	int done = DONE_SENTINEL;

	(void)state;
	for (unsigned int i = 0; i < 1000; i++) {
		struct inet_diag_msg m = diag4(TCP_ESTABLISHED, 0, i + 1, 80);
		struct dgram d = { .len = 0 };

		put_diag(&d, SEQ, &m);
		assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), 0);
	}
	assert_int_equal(into.n, 1000);
	assert_true(into.cap >= 1000);
	for (unsigned int i = 0; i < 1000; i++)
		assert_int_equal(into.socks[i].lport, i + 1);
	free(into.socks);
}

/* The kernel's error is returned; what the datagram held before it is taken back. */
static void
test_parse_error_message(void **state)
{
	struct inet_diag_msg m = diag4(TCP_ESTABLISHED, 0, 1, 2);
	struct kt_sock_buf into = { 0 };
	struct dgram first = { .len = 0 }, d = { .len = 0 };
	int done = DONE_SENTINEL;

	(void)state;
	put_diag(&first, SEQ, &m);
	assert_int_equal(kt_sock_parse(first.u.bytes, first.len, SEQ, &into, &done), 0);
	done = DONE_SENTINEL;
	put_diag(&d, SEQ, &m);
	put_error(&d, SEQ, -EPERM);
	put_done(&d, SEQ);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), -EPERM);
	assert_int_equal(into.n, 1);
	assert_int_equal(done, DONE_SENTINEL);
	free(into.socks);
}

/* Cut or malformed datagrams are -EBADMSG, and add nothing. */
static void
test_parse_malformed(void **state)
{
	struct inet_diag_msg m = diag4(TCP_ESTABLISHED, 0, 1, 2);
	struct kt_sock_buf into = { 0 };
	struct dgram d = { .len = 0 };
	struct nlmsghdr *h;
	int done = DONE_SENTINEL;

	(void)state;
	put_diag(&d, SEQ, &m);
	put_diag(&d, SEQ, &m);
	/* The second message is cut short. */
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len - 8, SEQ, &into, &done), -EBADMSG);
	/* A piece of a header after a whole message. */
	assert_int_equal(kt_sock_parse(d.u.bytes, NLMSG_SPACE(sizeof(m)) + 6, SEQ, &into, &done),
	    -EBADMSG);
	assert_int_equal(into.n, 0);
	assert_int_equal(done, DONE_SENTINEL);

	/* A payload smaller than an inet_diag_msg. */
	d.len = 0;
	put_msg(&d, SEQ, SOCK_DIAG_BY_FAMILY, &m, sizeof(m) - 4);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), -EBADMSG);
	/* A header whose length is less than a header. */
	d.len = 0;
	h = put_msg(&d, SEQ, SOCK_DIAG_BY_FAMILY, &m, sizeof(m));
	h->nlmsg_len = 4;
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), -EBADMSG);
	/* A family that is not IP. */
	d.len = 0;
	m.idiag_family = AF_UNIX;
	put_diag(&d, SEQ, &m);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), -EBADMSG);
	/* An error message cut before its error. */
	d.len = 0;
	put_msg(&d, SEQ, NLMSG_ERROR, "", 1);
	assert_int_equal(kt_sock_parse(d.u.bytes, d.len, SEQ, &into, &done), -EBADMSG);
	assert_int_equal(into.n, 0);
	assert_int_equal(done, DONE_SENTINEL);
	free(into.socks);
}

/* An empty datagram is no error, and ends nothing. */
static void
test_parse_empty(void **state)
{
	struct kt_sock_buf into = { 0 };
	int done = DONE_SENTINEL;

	(void)state;
	assert_int_equal(kt_sock_parse("", 0, SEQ, &into, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(into.n, 0);
}

/* The verdict for every timer on an open connection, and n/a in the other states. */
static void
test_keepalive_verdicts(void **state)
{
	static const int open_states[] = { TCP_ESTABLISHED, TCP_CLOSE_WAIT };

	(void)state;
	for (size_t i = 0; i < sizeof(open_states) / sizeof(open_states[0]); i++) {
		int st = open_states[i];

		assert_int_equal(kt_sock_keepalive(st, 0), KT_KA_OFF);
		assert_int_equal(kt_sock_keepalive(st, 1), KT_KA_UNKNOWN);
		assert_int_equal(kt_sock_keepalive(st, 2), KT_KA_ON);
		assert_int_equal(kt_sock_keepalive(st, 4), KT_KA_UNKNOWN);
	}
	/* FIN_WAIT2 runs sk_timer as its timeout, not as keepalive. */
	assert_int_equal(kt_sock_keepalive(TCP_FIN_WAIT2, 2), KT_KA_NA);
	assert_int_equal(kt_sock_keepalive(TCP_TIME_WAIT, 3), KT_KA_NA);
	assert_int_equal(kt_sock_keepalive(TCP_SYN_SENT, 1), KT_KA_NA);
	assert_int_equal(kt_sock_keepalive(TCP_SYN_RECV, 0), KT_KA_NA);
	assert_int_equal(kt_sock_keepalive(TCP_LAST_ACK, 0), KT_KA_NA);
	assert_int_equal(kt_sock_keepalive(TCP_CLOSE, 0), KT_KA_NA);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(kt_sock_state_name(TCP_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(kt_sock_state_name(TCP_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(kt_sock_state_name(TCP_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(kt_sock_state_name(0), "UNKNOWN");
	assert_string_equal(kt_sock_state_name(99), "UNKNOWN");
	assert_string_equal(kt_sock_state_name(-1), "UNKNOWN");
	assert_string_equal(kt_ka_name(KT_KA_ON), "on");
	assert_string_equal(kt_ka_name(KT_KA_OFF), "off");
	assert_string_equal(kt_ka_name(KT_KA_UNKNOWN), "unknown");
	assert_string_equal(kt_ka_name(KT_KA_NA), "n/a");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_other_seq_skipped),
		cmocka_unit_test(test_parse_appends),
		cmocka_unit_test(test_parse_error_message),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_keepalive_verdicts),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("kt_sockdiag", tests, NULL, NULL);
}
