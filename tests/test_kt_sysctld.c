/* test_kt_sysctld.c: unit tests for kt_sysctld.c, the sysctl.d line grammar in the dialects of
 * systemd-sysctl 252 and procps 4.0 (each case checked against the real loaders, as
 * tests/boot.sh and tests/persist.sh do end to end). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SD		KT_LOADER_SYSTEMD
#define PP		KT_LOADER_PROCPS

/* Cut text (len bytes) as dialect does; write "lineno:piece|..." into got, bytes shown as \ooo. */
static void
lines_of(enum kt_loader dialect, const char *text, size_t len, char *got, size_t size)
{
	struct kt_sysctld_iter it;
	struct kt_sysctld_line l;
	size_t o = 0;

	got[0] = '\0';
	kt_sysctld_begin(&it, dialect, text, len);
	while (kt_sysctld_next(&it, &l)) {
		o += (size_t)snprintf(got + o, size - o, "%u:", l.lineno);
		for (size_t i = 0; i < l.len; i++) {
			unsigned char c = (unsigned char)l.text[i];

			o += (size_t)snprintf(got + o, size - o, c < ' ' ? "\\%03o" : "%c", c);
		}
		o += (size_t)snprintf(got + o, size - o, "%s|",
		    dialect == PP && l.nl_seen ? "$" : "");
		assert_true(o < size);
	}
}

/*
 * systemd ends a line at \n, \r and NUL, a run of them taking each kind once; procps reads to
 * \n and sees up to a NUL. Line numbers count \n.
 */
static void
test_lines(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *systemd, *procps;
	} cases[] = {
		{ "a\nb", 3, "1:a|2:b|", "1:a$|2:b|" },
		{ "a\rb\n", 4, "1:a|1:b|", "1:a\\015b$|" },
		{ "a\r\nb\n", 5, "1:a|2:b|", "1:a\\015$|2:b$|" },
		{ "a\n\rb\n", 5, "1:a|2:b|", "1:a$|2:\\015b$|" },
		{ "a\r\rb", 4, "1:a|1:|1:b|", "1:a\\015\\015b|" },
		{ "a\n\nb", 4, "1:a|2:|3:b|", "1:a$|2:$|3:b|" },
		{ "a\0b\n", 4, "1:a|1:b|", "1:a|" },
		{ "a\0\nb", 4, "1:a|1:|2:b|", "1:a|2:b|" },
		{ "a\r\0b", 4, "1:a|1:b|", "1:a\\015|" },
		{ "\0\0", 2, "1:|1:|", "1:|" },
		{ "", 0, "", "" },
		{ "\n", 1, "1:|", "1:$|" },
	};
	char got[256];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		lines_of(SD, cases[i].text, cases[i].len, got, sizeof(got));
		if (strcmp(got, cases[i].systemd) != 0)
			fail_msg("case %zu, systemd: %s, want %s", i, got, cases[i].systemd);
		lines_of(PP, cases[i].text, cases[i].len, got, sizeof(got));
		if (strcmp(got, cases[i].procps) != 0)
			fail_msg("case %zu, procps: %s, want %s", i, got, cases[i].procps);
	}
}

/* Parse the first line of text as dialect reads it: "name=value", "name" (no value), or "-". */
static void
parse_first(enum kt_loader dialect, const char *text, char *got, size_t size)
{
	struct kt_sysctld_iter it;
	struct kt_sysctld_line l;
	struct kt_setting s;
	char buf[256];

	kt_sysctld_begin(&it, dialect, text, strlen(text));
	assert_int_equal(kt_sysctld_next(&it, &l), 1);
	if (!kt_sysctld_parse(dialect, &l, buf, &s))
		(void)snprintf(got, size, "-");
	else
		(void)snprintf(got, size, "%s%s%s%s", s.name, s.value ? "=" : "",
		    s.value ? s.value : "", s.glob ? " (glob)" : "");
}

/* How each dialect reads a line: blanks, comments, '-', names, values. */
static void
test_parse(void **state)
{
	static const struct {
		const char *line, *systemd, *procps;
	} cases[] = {
		{ "net.ipv4.tcp_keepalive_time = 600\n", "net/ipv4/tcp_keepalive_time=600",
		    "net/ipv4/tcp_keepalive_time=600" },
		{ " \tnet/ipv4/x\t=\t5 \t\n", "net/ipv4/x=5", "net/ipv4/x=5" },
		{ "# a = 1\n", "-", "-" },
		{ "  ; a = 1\n", "-", "-" },
		{ "\n", "-", "-" },
		{ " \t \n", "-", "-" },
		{ "a\n", "-", "-" },
		{ "-a.b\n", "a/b", "a/b" },
		{ "-a.b = 1\n", "a/b=1", "a/b=1" },
		{ "- a.b = 1\n", "a/b=1", " a/b=1" },
		{ "--a.b = 1\n", "-a/b=1", "a/b=1" },
		{ "a = b = c\n", "a=b = c", "a=b = c" },
		{ "a =\n", "a=", "a=" },
		{ "\va.b = 1\n", "\va/b=1", "a/b=1" },
		{ "a.b\f = 1\f\n", "a/b\f=1\f", "a/b=1" },
		{ "a.b/c = 1\n", "a/b.c=1", "a/b.c=1" },
		{ "a/b.c = 1\n", "a/b.c=1", "a/b.c=1" },
		{ "net..ipv4.x = 1\n", "net/ipv4/x=1", "net//ipv4/x=1" },
		{ "/net/./ipv4//x/ = 1\n", "net/ipv4/x=1", "/net/./ipv4//x/=1" },
		{ "net/ipv4/../ipv4/x = 1\n", "net/ipv4/../ipv4/x=1", "net/ipv4/../ipv4/x=1" },
		{ "net.ipv4.tcp_keepalive_* = 5\n", "net/ipv4/tcp_keepalive_*=5 (glob)",
		    "net/ipv4/tcp_keepalive_*=5 (glob)" },
		{ "-net.ipv4.tcp_* \n", "net/ipv4/tcp_* (glob)", "net/ipv4/tcp_* (glob)" },
		{ "x", "-", "-" },
		{ "-", "", "-" },
	};
	char got[256];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		parse_first(SD, cases[i].line, got, sizeof(got));
		if (strcmp(got, cases[i].systemd) != 0)
			fail_msg("\"%s\", systemd: \"%s\", want \"%s\"", cases[i].line, got,
			    cases[i].systemd);
		parse_first(PP, cases[i].line, got, sizeof(got));
		if (strcmp(got, cases[i].procps) != 0)
			fail_msg("\"%s\", procps: \"%s\", want \"%s\"", cases[i].line, got,
			    cases[i].procps);
	}
}

/* The keys a line reaches in a dialect, as "tip" letters (time intvl probes), and the spelling. */
static void
reaches(enum kt_loader dialect, const char *line, char *got, size_t size)
{
	struct kt_sysctld_iter it;
	struct kt_sysctld_line l;
	struct kt_setting s;
	char buf[256], spelled[256];
	size_t o = 0;

	kt_sysctld_begin(&it, dialect, line, strlen(line));
	assert_int_equal(kt_sysctld_next(&it, &l), 1);
	got[0] = '\0';
	if (!kt_sysctld_parse(dialect, &l, buf, &s))
		return;
	for (int k = 0; k < KT_NKEYS; k++) {
		if (!kt_sysctld_reaches(dialect, &s, k, spelled, sizeof(spelled)))
			continue;
		assert_int_equal(kt_sysctld_reaches(dialect, &s, k, NULL, 0), 1);
		o += (size_t)snprintf(got + o, size - o, "%s%c:%s", o ? " " : "", "tip"[k],
		    spelled);
		assert_true(o < size);
	}
}

/* Each line, and what it reaches under systemd and under procps ("": nothing). */
static const struct {
	const char *line, *systemd, *procps;
} reach_cases[] = {
	{ "net.ipv4.tcp_keepalive_time=1", "t:net/ipv4/tcp_keepalive_time",
	    "t:net/ipv4/tcp_keepalive_time" },
	{ "net.ipv4..tcp_keepalive_time=1", "t:net/ipv4/tcp_keepalive_time",
	    "t:net/ipv4//tcp_keepalive_time" },
	{ "/net/./ipv4/tcp_keepalive_intvl=1", "i:net/ipv4/tcp_keepalive_intvl",
	    "i:/net/./ipv4/tcp_keepalive_intvl" },
	{ "net/ipv4/tcp_keepalive_intvl/=1", "i:net/ipv4/tcp_keepalive_intvl", "" },
	{ "net/ipv4/tcp_keepalive_intvl/.=1", "i:net/ipv4/tcp_keepalive_intvl", "" },
	{ "net/ipv4/../ipv4/tcp_keepalive_probes=1", "",
	    "p:net/ipv4/../ipv4/tcp_keepalive_probes" },
	{ "net/core/../ipv4/tcp_keepalive_probes=1", "",
	    "p:net/core/../ipv4/tcp_keepalive_probes" },
	{ "/../sys/net/ipv4/tcp_keepalive_probes=1", "",
	    "p:/../sys/net/ipv4/tcp_keepalive_probes" },
	{ "/../../../net/ipv4/tcp_keepalive_probes=1", "", "" },
	{ "../sys/net/ipv4/tcp_keepalive_probes=1", "", "" },	/* '.' first: swapped */
	{ "net/ipv4/tcp_keepalive_time/../tcp_keepalive_intvl=1", "", "" },
	/* No name in /proc/sys holds white space: "- " keeps the blank for procps. */
	{ "-  net/../net/ipv4/tcp_keepalive_probes=1", "", "" },
	{ "net/ipv4/x y/../tcp_keepalive_probes=1", "", "" },
	{ "\vnet.ipv4.tcp_keepalive_time=1", "", "t:net/ipv4/tcp_keepalive_time" },
	{ "- net.ipv4.tcp_keepalive_time=1", "t:net/ipv4/tcp_keepalive_time", "" },
	{ "--net.ipv4.tcp_keepalive_time=1", "", "t:net/ipv4/tcp_keepalive_time" },
	{ "net.ipv4.tcp_keepalive_timex=1", "", "" },
	{ "NET.IPV4.TCP_KEEPALIVE_TIME=1", "", "" },
	{ "net.ipv4/tcp_keepalive_time=1", "", "" },
	{ "net.ipv4.tcp_keepalive_*=1",
	    "t:net/ipv4/tcp_keepalive_time i:net/ipv4/tcp_keepalive_intvl "
	    "p:net/ipv4/tcp_keepalive_probes",
	    "t:net/ipv4/tcp_keepalive_time i:net/ipv4/tcp_keepalive_intvl "
	    "p:net/ipv4/tcp_keepalive_probes" },
	{ "net//ipv4/tcp_keepalive_t*=1", "t:net/ipv4/tcp_keepalive_time",
	    "t:net//ipv4/tcp_keepalive_time" },
	{ "n*/ipv?/tcp_keepalive_[ip]*=1",
	    "i:net/ipv4/tcp_keepalive_intvl p:net/ipv4/tcp_keepalive_probes",
	    "i:net/ipv4/tcp_keepalive_intvl p:net/ipv4/tcp_keepalive_probes" },
	{ "net/ipv4/../ipv4/tcp_keepalive_t*=1", "", "t:net/ipv4/../ipv4/tcp_keepalive_time" },
	{ "net/ipv4/*/../tcp_keepalive_time=1", "", "" },
	{ "net/ipv4/tcp_keepalive_t*/=1", "t:net/ipv4/tcp_keepalive_time", "" },
	{ "net/ipv4/.tcp_keepalive_t*=1", "", "" },
	{ "net/ipv4/tcp_keepalive_?????" "=1", "i:net/ipv4/tcp_keepalive_intvl",
	    "i:net/ipv4/tcp_keepalive_intvl" },
	{ "-net.ipv4.tcp_keepalive_probes", "p:net/ipv4/tcp_keepalive_probes",
	    "p:net/ipv4/tcp_keepalive_probes" },
};

/*
 * Which of our keys a name reaches: as the kernel resolves it for procps ("..", "//", "."; no
 * component after a file), as systemd normalises it (no ".."); a glob by what glob(3) finds,
 * spelled as it spells it.
 */
static void
test_reaches(void **state)
{
	char got[512];

	(void)state;
	for (size_t i = 0; i < NELEM(reach_cases); i++) {
		reaches(SD, reach_cases[i].line, got, sizeof(got));
		if (strcmp(got, reach_cases[i].systemd) != 0)
			fail_msg("\"%s\", systemd: \"%s\", want \"%s\"", reach_cases[i].line, got,
			    reach_cases[i].systemd);
		reaches(PP, reach_cases[i].line, got, sizeof(got));
		if (strcmp(got, reach_cases[i].procps) != 0)
			fail_msg("\"%s\", procps: \"%s\", want \"%s\"", reach_cases[i].line, got,
			    reach_cases[i].procps);
	}
}

/* A spelling that does not fit the buffer is no match, and nothing is written past it. */
static void
test_reaches_short_buffer(void **state)
{
	struct kt_setting s = { .name = "net/ipv4/tcp_keepalive_*", .glob = 1 };
	char spelled[32];

	(void)state;
	memset(spelled, 'x', sizeof(spelled));
	assert_int_equal(kt_sysctld_reaches(PP, &s, KT_TIME, spelled, 27), 0);
	assert_int_equal(spelled[27], 'x');
	assert_int_equal(kt_sysctld_reaches(PP, &s, KT_TIME, spelled, 28), 1);
	assert_string_equal(spelled, "net/ipv4/tcp_keepalive_time");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reaches),
		cmocka_unit_test(test_reaches_short_buffer),
	};

	return cmocka_run_group_tests_name("kt_sysctld", tests, NULL, NULL);
}
