/* test_kt_edit.c: unit tests for kt_edit.c: which lines of a sysctl.d file are a key's, for
 * either loader, and the new text persist writes. */
#include <errno.h>
#include <limits.h>
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

/* Out-params are pre-filled with these, to see that a failure leaves them alone. */
#define SIZE_SENTINEL	((size_t)7777)

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define HEADER_LINE	"# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; " \
			"others are kept."
#define HEADER		HEADER_LINE "\n"
#define N_TIME		"net.ipv4.tcp_keepalive_time"
#define N_INTVL		"net.ipv4.tcp_keepalive_intvl"
#define N_PROBES	"net.ipv4.tcp_keepalive_probes"
/* The lines kt_edit_text() writes for want_all. */
#define L_TIME		N_TIME " = 600\n"
#define L_INTVL		N_INTVL " = 30\n"
#define L_PROBES	N_PROBES " = 5\n"

static const struct kt_values want_all = { KT_ALL, { 600, 30, 5 } };
static const struct kt_values want_none = { 0, { 0, 0, 0 } };

/* A text pointer no call of the library could return. */
static char text_sentinel[] = "sentinel";

/* --- kt_edit_text ------------------------------------------------------------------------ */

/* Edit len bytes of in (copied to a buffer of exactly that size) and check the result is 0. */
static char *
edit_n(const char *in, size_t len, const struct kt_values *want, struct kt_edit *e)
{
	char *copy = malloc(len > 0 ? len : 1), *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL;
	int r;

	assert_non_null(copy);
	memcpy(copy, in, len);
	memset(e, 0xa5, sizeof(*e));
	r = kt_edit_text(copy, len, want, &out, &outlen, e);
	free(copy);
	assert_int_equal(r, 0);
	assert_non_null(out);
	assert_true(out != text_sentinel);
	/* NUL-terminated, and no NUL before: the length is the string's. */
	assert_int_equal(strlen(out), outlen);
	return out;
}

static char *
edit(const char *in, const struct kt_values *want, struct kt_edit *e)
{
	return edit_n(in, strlen(in), want, e);
}

/* Edit in and check the new text is exactly want_text. */
static void
check_edit(const char *in, const struct kt_values *want, const char *want_text,
    struct kt_edit *e)
{
	char *out = edit(in, want, e);

	assert_string_equal(out, want_text);
	free(out);
}

static void
assert_edit(const struct kt_edit *e, unsigned int present, unsigned int old_int,
    unsigned int changed, int same, int empty)
{
	assert_int_equal(e->present, present);
	assert_int_equal(e->old_int, old_int);
	assert_int_equal(e->changed, changed);
	assert_int_equal(e->same, same);
	assert_int_equal(e->empty, empty);
}

static void
test_header(void **state)
{
	(void)state;
	assert_string_equal(kt_edit_header, HEADER);
}

/* A new file: our header, then the three keys in key order. */
static void
test_edit_empty(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit("", &want_all, HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, 0, 0, KT_ALL, 0, 0);
}

/* Nothing wanted in a new file: an empty (but real, NUL-terminated) text, the same as before. */
static void
test_edit_empty_mask0(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit("", &want_none, "", &e);
	assert_edit(&e, 0, 0, 0, 1, 1);
}

/* The text of a new file may be NULL (kt_edit_text() asserts only text || len == 0). */
static void
test_edit_null_text(void **state)
{
	struct kt_edit e;
	char *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL;

	(void)state;
	memset(&e, 0xa5, sizeof(e));
	assert_int_equal(kt_edit_text(NULL, 0, &want_all, &out, &outlen, &e), 0);
	assert_string_equal(out, HEADER L_TIME L_INTVL L_PROBES);
	assert_int_equal(outlen, strlen(HEADER L_TIME L_INTVL L_PROBES));
	assert_edit(&e, 0, 0, KT_ALL, 0, 0);
	free(out);

	out = text_sentinel;
	outlen = SIZE_SENTINEL;
	memset(&e, 0xa5, sizeof(e));
	assert_int_equal(kt_edit_text(NULL, 0, &want_none, &out, &outlen, &e), 0);
	assert_non_null(out);
	assert_true(out != text_sentinel);
	assert_int_equal(outlen, 0);
	assert_int_equal(out[0], '\0');
	assert_edit(&e, 0, 0, 0, 1, 1);
	free(out);
}

/* Values are written in decimal, as sysctl.d(5) does, at both ends of their ranges. */
static void
test_edit_values_written(void **state)
{
	static const struct {
		struct kt_values want;
		const char *text;
	} cases[] = {
		{ { KT_ALL, { 1, 1, 1 } },
		    HEADER N_TIME " = 1\n" N_INTVL " = 1\n" N_PROBES " = 1\n" },
		{ { KT_ALL, { 10, 100, 9 } },
		    HEADER N_TIME " = 10\n" N_INTVL " = 100\n" N_PROBES " = 9\n" },
		{ { KT_ALL, { 32767, 32767, 127 } },
		    HEADER N_TIME " = 32767\n" N_INTVL " = 32767\n" N_PROBES " = 127\n" },
		{ { KT_ALL, { 7200, 75, 9 } },
		    HEADER N_TIME " = 7200\n" N_INTVL " = 75\n" N_PROBES " = 9\n" },
	};
	struct kt_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		check_edit("", &cases[i].want, cases[i].text, &e);
		assert_edit(&e, 0, 0, KT_ALL, 0, 0);
	}
}

/*
 * An existing file with our keys in other forms: each is replaced where it is first seen (its
 * leading '-' kept), later lines of the same key are dropped, a missing key is appended (after
 * a newline the last line lacked), and every other line is kept byte for byte, CRs and all.
 */
static void
test_edit_existing(void **state)
{
	static const char in[] =
		"# local tuning\r\n"
		"\n"
		"net.ipv4.tcp_syn_retries = 5\n"
		"-net/ipv4/tcp_keepalive_intvl\t=\t75\r\n"
		"; a comment\n"
		"net.ipv4.tcp_keepalive_* = 5\n"
		"caf\xc3\xa9 = \xff\x01\n"
		"  " N_TIME "=7200\n"
		N_INTVL " = 60\n"
		"\r\n"
		"   \n"
		N_TIME " = 9000\n"
		"kernel.pid_max = 65536";
	static const char want_text[] =
		HEADER
		"# local tuning\r\n"
		"\n"
		"net.ipv4.tcp_syn_retries = 5\n"
		"-" L_INTVL
		"; a comment\n"
		"net.ipv4.tcp_keepalive_* = 5\n"
		"caf\xc3\xa9 = \xff\x01\n"
		L_TIME
		"\r\n"
		"   \n"
		"kernel.pid_max = 65536\n"
		L_PROBES;
	unsigned int two = KT_BIT(KT_TIME) | KT_BIT(KT_INTVL);
	struct kt_edit e;

	(void)state;
	check_edit(in, &want_all, want_text, &e);
	assert_edit(&e, two, two, KT_ALL, 0, 0);
	/* The last assignments are in force. */
	assert_int_equal(e.old[KT_TIME], 9000);
	assert_int_equal(e.old[KT_INTVL], 60);
}

/* A newline is added before appended keys only where the text does not end with one. */
static void
test_edit_append_newline(void **state)
{
	static const struct {
		const char *in, *text;
	} cases[] = {
		{ "a", HEADER "a\n" L_TIME L_INTVL L_PROBES },
		{ "a\n", HEADER "a\n" L_TIME L_INTVL L_PROBES },
		{ "a\n\n", HEADER "a\n\n" L_TIME L_INTVL L_PROBES },
		{ "a\r", HEADER "a\r\n" L_TIME L_INTVL L_PROBES },
		{ "\n", HEADER "\n" L_TIME L_INTVL L_PROBES },
		/* Our key on a last line without newline: replaced by a whole line. */
		{ N_TIME "=1", HEADER L_TIME L_INTVL L_PROBES },
		{ "a\n" N_INTVL "=1", HEADER "a\n" L_INTVL L_TIME L_PROBES },
	};
	struct kt_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		check_edit(cases[i].in, &want_all, cases[i].text, &e);
}

/* Our header is written first, once: where it stood before, and how often, does not matter. */
static void
test_edit_header_moved(void **state)
{
	static const struct {
		const char *in, *text;
	} cases[] = {
		{ "# mine\n" HEADER N_TIME " = 600\n" HEADER "# end\n",
		    HEADER "# mine\n" L_TIME "# end\n" L_INTVL L_PROBES },
		{ HEADER HEADER "# x\n", HEADER "# x\n" L_TIME L_INTVL L_PROBES },
		{ "# x\n" HEADER, HEADER "# x\n" L_TIME L_INTVL L_PROBES },
		{ HEADER, HEADER L_TIME L_INTVL L_PROBES },
	};
	struct kt_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		check_edit(cases[i].in, &want_all, cases[i].text, &e);
}

/*
 * Our header as a last line without its newline (an editor may strip it) is still our header:
 * it must not be kept as a foreign line, which would leave the file with two headers, make the
 * next edit change the file again, and keep a file with nothing else from being found empty.
 */
static void
test_edit_header_without_newline(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit("# mine\n" HEADER_LINE, &want_all, HEADER "# mine\n" L_TIME L_INTVL L_PROBES,
	    &e);
	check_edit(L_TIME L_INTVL L_PROBES HEADER_LINE, &want_none, "", &e);
	assert_true(e.empty);

	/* Written with CRLF, as on another system: ours too, with or without the last newline. */
	check_edit(HEADER_LINE "\r\n# mine\n", &want_all, HEADER "# mine\n" L_TIME L_INTVL L_PROBES,
	    &e);
	check_edit("# mine\n" HEADER_LINE "\r", &want_none, "# mine\n", &e);
	check_edit(HEADER_LINE "\r\n", &want_none, "", &e);
	assert_true(e.empty);
	/* Anything else on the line makes it another comment. */
	check_edit(HEADER_LINE " \n", &want_none, HEADER_LINE " \n", &e);
	check_edit(HEADER_LINE "\r\r\n", &want_none, HEADER_LINE "\r\r\n", &e);
}

/* Taking our keys out of a text that has had them taken out changes nothing. */
static void
check_removed_twice(const char *in)
{
	struct kt_edit e;
	char *first = edit(in, &want_none, &e);
	char *second = edit(first, &want_none, &e);

	assert_string_equal(second, first);
	assert_edit(&e, 0, 0, 0, 1, e.empty);
	free(second);
	free(first);
}

/* Editing the result again with the same values changes nothing, and says so. */
static void
test_edit_idempotent(void **state)
{
	static const char *const ins[] = {
		"",
		"# only a comment\n",
		HEADER,
		"a",
		"-net/ipv4/tcp_keepalive_intvl\t=\t75\r\n# x\r\n" N_TIME "=1\n" N_TIME "=2\n",
		"net.ipv4.tcp_keepalive_* = 5\n\n" N_PROBES " = abc\n" HEADER,
	};
	static const struct kt_values wants[] = {
		{ KT_ALL, { 600, 30, 5 } },
		{ KT_ALL, { 1, 1, 1 } },
		{ KT_ALL, { 32767, 32767, 127 } },
	};
	struct kt_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(ins); i++) {
		for (size_t w = 0; w < NELEM(wants); w++) {
			char *first = edit(ins[i], &wants[w], &e);
			char *second = edit(first, &wants[w], &e);

			assert_string_equal(second, first);
			assert_edit(&e, KT_ALL, KT_ALL, 0, 1, 0);
			for (int k = 0; k < KT_NKEYS; k++)
				assert_int_equal(e.old[k], wants[w].val[k]);
			free(second);
			free(first);
		}
		check_removed_twice(ins[i]);
	}
}

/* Check that the last assignment of key in an edit's old text was written as text. */
static void
assert_old_text(const struct kt_edit *e, enum kt_key key, const char *text)
{
	assert_non_null(e->old_text[key]);
	assert_int_equal(e->old_len[key], strlen(text));
	assert_memory_equal(e->old_text[key], text, strlen(text));
}

/*
 * The old values: present whatever they are, their text as written, and in old[] only when the
 * kernel takes them as numbers, as it parses them: base 0, signed time and interval of at most
 * INT_MAX / HZ seconds (judged at HZ 1000, the largest), probes 0..255.
 */
static void
test_edit_old_values(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit(N_TIME " = abc\n" N_INTVL " =\n" N_PROBES " = 5\n", &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, KT_ALL, KT_BIT(KT_PROBES), KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), 0, 0);
	assert_int_equal(e.old[KT_PROBES], 5);
	assert_old_text(&e, KT_TIME, "abc");
	assert_old_text(&e, KT_INTVL, "");
	assert_old_text(&e, KT_PROBES, "5");

	/* Out-of-range values the kernel takes are still integers; too large ones are not. */
	check_edit(N_TIME " = -5\n" N_INTVL " = 0\n" N_PROBES " = 99999999999\n", &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, KT_ALL, KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), KT_ALL, 0, 0);
	assert_int_equal(e.old[KT_TIME], -5);
	assert_int_equal(e.old[KT_INTVL], 0);
	assert_old_text(&e, KT_PROBES, "99999999999");

	check_edit(N_TIME " = 2147483\n" N_INTVL " = -2147483\n" N_PROBES " = 255\n",
	    &want_all, HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, KT_ALL, KT_ALL, KT_ALL, 0, 0);
	assert_int_equal(e.old[KT_TIME], 2147483);
	assert_int_equal(e.old[KT_INTVL], -2147483);
	assert_int_equal(e.old[KT_PROBES], 255);

	check_edit(N_TIME " = 2147484\n" N_INTVL " = 2147483647\n" N_PROBES " = 256\n",
	    &want_all, HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, KT_ALL, 0, KT_ALL, 0, 0);

	/* A sign, a trailing letter: refused. Blanks end the number the kernel reads. */
	check_edit(N_TIME " = +600\n" N_INTVL " = 3 0\n" N_PROBES " = 5x\n", &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, KT_ALL, KT_BIT(KT_INTVL), KT_ALL, 0, 0);
	assert_int_equal(e.old[KT_INTVL], 3);
	assert_old_text(&e, KT_TIME, "+600");
	assert_old_text(&e, KT_INTVL, "3 0");

	/* The same values in other forms: the text changes, the values do not. */
	check_edit(N_TIME " = 0x258 \r\n" N_INTVL "=036\n-" N_PROBES "\t=\t5", &want_all,
	    HEADER L_TIME L_INTVL "-" L_PROBES, &e);
	assert_edit(&e, KT_ALL, KT_ALL, 0, 0, 0);
	assert_int_equal(e.old[KT_TIME], 600);
	assert_int_equal(e.old[KT_INTVL], 30);
	assert_int_equal(e.old[KT_PROBES], 5);
	assert_old_text(&e, KT_TIME, "0x258");

	/* One key changes, one is added, one stays. */
	check_edit(HEADER N_TIME " = 7200\n" L_PROBES, &want_all, HEADER L_TIME L_PROBES L_INTVL,
	    &e);
	assert_edit(&e, KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), KT_BIT(KT_TIME) | KT_BIT(KT_PROBES),
	    KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), 0, 0);
	assert_int_equal(e.old[KT_TIME], 7200);
	assert_int_equal(e.old[KT_PROBES], 5);
}

/*
 * The loaders apply a file's lines in order, so of two lines of one key the last one is in force
 * at boot (systemd-sysctl logs "Overwriting earlier assignment"; procps writes both). Editing
 * "600, then 700" to 600 changes the value in force from 700 to 600: the key has changed.
 */
static void
test_edit_duplicate_last_in_force(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit(HEADER L_TIME N_TIME " = 700\n" L_INTVL L_PROBES, &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_int_equal(e.same, 0);
	assert_int_equal(e.present, KT_ALL);
	assert_int_equal(e.changed, KT_BIT(KT_TIME));
	assert_true(e.old_int & KT_BIT(KT_TIME));
	assert_int_equal(e.old[KT_TIME], 700);

	/* The other way round: the value in force is the one wanted, only the file changes. */
	check_edit(HEADER N_TIME " = 700\n" L_TIME L_INTVL L_PROBES, &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_int_equal(e.same, 0);
	assert_int_equal(e.changed, 0);
	assert_int_equal(e.old[KT_TIME], 600);
	assert_old_text(&e, KT_TIME, "600");

	/* A value the kernel refuses last: the key is changed, and its text is the last one. */
	check_edit(HEADER L_TIME N_TIME " = soon\n" L_INTVL L_PROBES, &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_int_equal(e.changed, KT_BIT(KT_TIME));
	assert_false(e.old_int & KT_BIT(KT_TIME));
	assert_old_text(&e, KT_TIME, "soon");
}

/*
 * The kernel reads the values written to /proc/sys with base 0 (proc_get_long() in
 * kernel/sysctl.c calls strtoul_lenient(p, &p, 0, val)): "0600" in a sysctl.d file is 384
 * seconds at boot, not 600. Editing it to 600 changes the key, and if an old value is given it
 * must be the one in force.
 */
static void
test_edit_old_value_leading_zero(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit(HEADER N_TIME " = 0600\n" L_INTVL L_PROBES, &want_all,
	    HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_int_equal(e.present, KT_ALL);
	if (e.old_int & KT_BIT(KT_TIME))
		assert_int_equal(e.old[KT_TIME], 0600);
	assert_int_equal(e.changed, KT_BIT(KT_TIME));

	/* And 0600 wanted as 384 is no change of value. */
	check_edit(HEADER N_TIME " = 0600\n" L_INTVL L_PROBES,
	    &(struct kt_values){ KT_ALL, { 384, 30, 5 } },
	    HEADER N_TIME " = 384\n" L_INTVL L_PROBES, &e);
	assert_int_equal(e.changed, 0);
	assert_int_equal(e.same, 0);
}

/* A '-' before a key (systemd-sysctl: ignore a failure to set it) survives the update. */
static void
test_edit_keeps_dash(void **state)
{
	static const struct {
		const char *in, *text;
	} cases[] = {
		{ "-" N_INTVL " = 75\n", HEADER "-" L_INTVL L_TIME L_PROBES },
		{ " \t-net/ipv4/tcp_keepalive_intvl\t=\t75\r\n",
		    HEADER "-" L_INTVL L_TIME L_PROBES },
		{ "-" L_TIME "-" L_INTVL "-" L_PROBES, HEADER "-" L_TIME "-" L_INTVL "-" L_PROBES },
		/* The line kept is the first; a '-' on a dropped duplicate goes with it. */
		{ N_TIME " = 1\n-" N_TIME " = 2\n", HEADER L_TIME L_INTVL L_PROBES },
		{ "-" N_TIME " = 1\n" N_TIME " = 2\n", HEADER "-" L_TIME L_INTVL L_PROBES },
	};
	struct kt_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		check_edit(cases[i].in, &want_all, cases[i].text, &e);
		check_edit(cases[i].text, &want_all, cases[i].text, &e);
		assert_true(e.same);
	}
}

/* A string literal and its length, NUL bytes in it included. */
#define BYTES(s)	s, sizeof(s) - 1

/*
 * A line a loader cuts in two (systemd at a NUL or a lone CR) where one part is a key's and the
 * other holds more than white space cannot be edited safely: replacing it would lose the other
 * part, keeping it would keep the key's part, which a loader applies. The edit is refused, with
 * the line; nothing else is returned. With white space only beyond, it is the key's line.
 */
static void
test_edit_split_line(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned int line;
		enum kt_key key;
	} refused[] = {
		{ BYTES("a\n" N_TIME " = 5\0x\n"), 2, KT_TIME },
		{ BYTES("x\0" N_INTVL " = 5\n"), 1, KT_INTVL },
		{ BYTES("kernel.x = 1\r" N_PROBES " = 5\n"), 1, KT_PROBES },
		{ BYTES(N_PROBES "\r=\r9\r"), 1, KT_PROBES },
		{ BYTES("# c\n\n" N_TIME " = 1\r" N_INTVL " = 2\n"), 3, KT_TIME },
	};
	static const struct {
		const char *in;
		size_t len;
		const char *text;
	} replaced[] = {
		{ BYTES(N_TIME " = 5\0\n"), HEADER L_TIME L_INTVL L_PROBES },
		{ BYTES(N_TIME " = 5\r\r\n"), HEADER L_TIME L_INTVL L_PROBES },
		{ BYTES("\r" N_TIME " = 5\n"), HEADER L_TIME L_INTVL L_PROBES },
		{ BYTES(N_TIME " = 5\0 \t\0\n# x\ty\r\n"),
		    HEADER L_TIME "# x\ty\r\n" L_INTVL L_PROBES },
	};
	struct kt_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(refused); i++) {
		for (int w = 0; w < 2; w++) {
			char *out = text_sentinel;
			size_t outlen = SIZE_SENTINEL;

			memset(&e, 0xa5, sizeof(e));
			assert_int_equal(kt_edit_text(refused[i].in, refused[i].len,
			    w ? &want_none : &want_all, &out, &outlen, &e), -EBADMSG);
			assert_ptr_equal(out, text_sentinel);
			assert_int_equal(outlen, SIZE_SENTINEL);
			assert_int_equal(e.bad_line, refused[i].line);
			assert_int_equal(e.bad_key, refused[i].key);
		}
	}
	for (size_t i = 0; i < NELEM(replaced); i++) {
		char *out = edit_n(replaced[i].in, replaced[i].len, &want_all, &e);

		assert_string_equal(out, replaced[i].text);
		free(out);
	}

	/* A NUL or CR in a line that is no key's is kept, byte for byte. */
	{
		static const char in[] = "a\0b\nkernel.x = 1\rkernel.y = 2\n";
		char *out;
		size_t outlen;

		assert_int_equal(kt_edit_text(in, sizeof(in) - 1, &want_none, &out, &outlen, &e),
		    0);
		assert_int_equal(outlen, sizeof(in) - 1);
		assert_memory_equal(out, in, outlen);
		assert_int_equal(e.same, 1);
		free(out);
	}
}

/* Mask 0 takes out our keys and our header and keeps the rest; empty only if just blanks stay. */
static void
test_edit_remove(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit(HEADER "# mine\n" L_TIME "\n" L_INTVL "kernel.x = 1\n-" N_PROBES "=9",
	    &want_none, "# mine\n\nkernel.x = 1\n", &e);
	assert_edit(&e, KT_ALL, KT_ALL, KT_ALL, 0, 0);
	assert_int_equal(e.old[KT_TIME], 600);
	assert_int_equal(e.old[KT_INTVL], 30);
	assert_int_equal(e.old[KT_PROBES], 9);

	check_edit(HEADER L_TIME "\n \t\r\n" L_INTVL "\n", &want_none, "\n \t\r\n\n", &e);
	assert_edit(&e, KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), KT_BIT(KT_TIME) | KT_BIT(KT_INTVL),
	    KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), 0, 1);

	/* A header alone: nothing is left, although no key was there. */
	check_edit(HEADER, &want_none, "", &e);
	assert_edit(&e, 0, 0, 0, 0, 1);

	/* Glob lines are not ours, so the file is not empty. */
	check_edit(HEADER L_TIME "net.ipv4.tcp_keepalive_* = 5\n", &want_none,
	    "net.ipv4.tcp_keepalive_* = 5\n", &e);
	assert_edit(&e, KT_BIT(KT_TIME), KT_BIT(KT_TIME), KT_BIT(KT_TIME), 0, 0);

	/* Nothing of ours: the text stays, byte for byte. */
	check_edit("# c\n", &want_none, "# c\n", &e);
	assert_edit(&e, 0, 0, 0, 1, 0);
	check_edit("\n\r\n\t", &want_none, "\n\r\n\t", &e);
	assert_edit(&e, 0, 0, 0, 1, 1);
	check_edit("a", &want_none, "a", &e);
	assert_edit(&e, 0, 0, 0, 1, 0);
}

/*
 * A partial mask says what the file is to hold: the keys in it are written, and the lines of
 * the other two keys are dropped (they count as changed, taken out). The values of keys outside
 * the mask are not looked at, even when out of range.
 */
static void
test_edit_partial_mask(void **state)
{
	static const struct kt_values time_only = { KT_BIT(KT_TIME), { 600, -1, 1000 } };
	static const struct kt_values probes_only = { KT_BIT(KT_PROBES), { 0, 0, 5 } };
	static const struct kt_values two = { KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 600, 0, 5 } };
	struct kt_edit e;

	(void)state;
	check_edit(HEADER N_TIME " = 7200\n" N_INTVL " = 75\n" N_PROBES " = 9\n# tail\n",
	    &time_only, HEADER L_TIME "# tail\n", &e);
	assert_edit(&e, KT_ALL, KT_ALL, KT_ALL, 0, 0);
	assert_int_equal(e.old[KT_TIME], 7200);
	assert_int_equal(e.old[KT_INTVL], 75);
	assert_int_equal(e.old[KT_PROBES], 9);

	/* The wanted key unchanged, the others dropped. */
	check_edit(HEADER L_TIME L_INTVL L_PROBES, &time_only, HEADER L_TIME, &e);
	assert_edit(&e, KT_ALL, KT_ALL, KT_BIT(KT_INTVL) | KT_BIT(KT_PROBES), 0, 0);

	check_edit("", &probes_only, HEADER L_PROBES, &e);
	assert_edit(&e, 0, 0, KT_BIT(KT_PROBES), 0, 0);

	check_edit("", &two, HEADER L_TIME L_PROBES, &e);
	assert_edit(&e, 0, 0, KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), 0, 0);

	check_edit(HEADER L_TIME L_PROBES, &two, HEADER L_TIME L_PROBES, &e);
	assert_edit(&e, KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), KT_BIT(KT_TIME) | KT_BIT(KT_PROBES),
	    0, 1, 0);
}

/* A wanted value out of its range fails the edit; nothing is returned. */
static void
test_edit_out_of_range(void **state)
{
	static const struct kt_values bad[] = {
		{ KT_ALL, { 0, 30, 5 } },
		{ KT_ALL, { 600, 0, 5 } },
		{ KT_ALL, { 600, 30, 0 } },
		{ KT_ALL, { 32768, 30, 5 } },
		{ KT_ALL, { 600, 32768, 5 } },
		{ KT_ALL, { 600, 30, 128 } },
		{ KT_ALL, { -5, 30, 5 } },
		{ KT_ALL, { INT_MIN, 30, 5 } },
		{ KT_ALL, { 600, 30, INT_MAX } },
		{ KT_BIT(KT_INTVL), { 600, -1, 5 } },
		{ KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), { 600, 30, 128 } },
	};
	static const char *const ins[] = { "", HEADER L_TIME L_INTVL L_PROBES, "# x\n" };
	struct kt_edit e, untouched;

	(void)state;
	memset(&untouched, 0xa5, sizeof(untouched));
	for (size_t i = 0; i < NELEM(bad); i++) {
		for (size_t j = 0; j < NELEM(ins); j++) {
			char *out = text_sentinel;
			size_t outlen = SIZE_SENTINEL;

			memset(&e, 0xa5, sizeof(e));
			assert_int_equal(kt_edit_text(ins[j], strlen(ins[j]), &bad[i], &out,
			    &outlen, &e), -ERANGE);
			assert_ptr_equal(out, text_sentinel);
			assert_int_equal(outlen, SIZE_SENTINEL);
			assert_memory_equal(&e, &untouched, sizeof(e));
		}
	}
}

/* --- which lines are a key's ---------------------------------------------------------- */

/*
 * Check that the first len bytes of line are a line of want_key: with nothing wanted the edit
 * takes it out, and notes its value, want_val, as the old one: at tail bytes before the end.
 * The line is copied to a buffer of exactly len bytes, so reading past shows.
 */
static void
check_ours(const char *line, size_t len, enum kt_key want_key, const char *want_val, size_t tail)
{
	char *copy = malloc(len > 0 ? len : 1), *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL, want_len = strlen(want_val);
	struct kt_edit e;
	int r;

	assert_non_null(copy);
	memcpy(copy, line, len);
	r = kt_edit_text(copy, len, &want_none, &out, &outlen, &e);
	if (r != 0 || outlen != 0 || e.present != KT_BIT(want_key) ||
	    e.old_text[want_key] != copy + len - tail - want_len ||
	    e.old_len[want_key] != want_len ||
	    memcmp(e.old_text[want_key], want_val, want_len) != 0)
		fail_msg("\"%.*s\": returned %d, %zu bytes left, keys %#x; want 0, 0, %#x, \"%s\"",
		    (int)len, line, r, outlen, r ? 0 : e.present, KT_BIT(want_key), want_val);
	if (r == 0)
		free(out);
	free(copy);
}

/* Check that the first len bytes of line are no key's: kept byte for byte, nothing noted. */
static void
check_not_ours(const char *line, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1), *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL;
	struct kt_edit e;
	int r;

	assert_non_null(copy);
	memcpy(copy, line, len);
	r = kt_edit_text(copy, len, &want_none, &out, &outlen, &e);
	if (r != 0 || outlen != len || memcmp(out, copy, len) != 0 || e.present != 0)
		fail_msg("\"%.*s\": returned %d, %zu bytes left; want it kept", (int)len, line, r,
		    outlen);
	if (r == 0)
		free(out);
	free(copy);
}

static void
test_line_key_ours(void **state)
{
	static const struct {
		const char *line;
		enum kt_key key;
		const char *val;
		size_t tail;	/* blanks after the value */
	} cases[] = {
		{ N_TIME " = 600", KT_TIME, "600", 0 },
		{ N_TIME "=600", KT_TIME, "600", 0 },
		{ N_INTVL "\t=\t75", KT_INTVL, "75", 0 },
		{ N_PROBES " \t = \t 9", KT_PROBES, "9", 0 },
		{ "   \t" N_TIME " = 1", KT_TIME, "1", 0 },
		{ "-" N_INTVL " = 30", KT_INTVL, "30", 0 },
		{ "  -" N_PROBES "=5", KT_PROBES, "5", 0 },
		{ "net/ipv4/tcp_keepalive_time = 600", KT_TIME, "600", 0 },
		{ "net/ipv4/tcp_keepalive_intvl=75", KT_INTVL, "75", 0 },
		{ "-net/ipv4/tcp_keepalive_probes = 4", KT_PROBES, "4", 0 },
		{ N_TIME " = 600 \t \r", KT_TIME, "600", 4 },
		{ N_INTVL " = 75\r", KT_INTVL, "75", 1 },
		{ N_TIME " = 1 0", KT_TIME, "1 0", 0 },
		{ N_TIME " = abc", KT_TIME, "abc", 0 },
		{ N_TIME " = a=b", KT_TIME, "a=b", 0 },
		{ N_TIME " = -5", KT_TIME, "-5", 0 },
		/* Blanks before '=' do not count towards the longest name. */
		{ N_TIME "                                                            = 7", KT_TIME,
		    "7", 0 },
		/* An empty value: it starts (and ends) where the blanks after '=' begin. */
		{ N_TIME " =", KT_TIME, "", 0 },
		{ N_TIME "=", KT_TIME, "", 0 },
		{ N_TIME " = ", KT_TIME, "", 1 },
		{ N_INTVL " = \t \r", KT_INTVL, "", 4 },
		/* Read as the key by one loader only: procps... */
		{ "--" N_TIME " = 600", KT_TIME, "600", 0 },
		{ "\v" N_TIME " = 600", KT_TIME, "600", 0 },
		{ N_TIME "\f = 600", KT_TIME, "600", 0 },
		{ "net/ipv4/../ipv4/tcp_keepalive_time = 600", KT_TIME, "600", 0 },
		{ "net/core/../ipv4/tcp_keepalive_probes = 3", KT_PROBES, "3", 0 },
		/* ...systemd, which strips blanks after the '-' */
		{ "- " N_INTVL " = 30", KT_INTVL, "30", 0 },
		/* ...or both, in other spellings. */
		{ "net.ipv4..tcp_keepalive_time = 600", KT_TIME, "600", 0 },
		{ "net/ipv4//tcp_keepalive_time = 600", KT_TIME, "600", 0 },
		{ "/net/./ipv4/tcp_keepalive_intvl = 60", KT_INTVL, "60", 0 },
		{ "net/ipv4/tcp_keepalive_intvl/ = 60", KT_INTVL, "60", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		check_ours(cases[i].line, strlen(cases[i].line), cases[i].key, cases[i].val,
		    cases[i].tail);
}

static void
test_line_key_not_ours(void **state)
{
	static const char *const cases[] = {
		"",
		"   ",
		"\t\r",
		"# " N_TIME " = 600",
		"#" N_TIME "=600",
		"  # " N_TIME " = 600",
		"; " N_TIME " = 600",
		";" N_TIME "=600",
		"-#" N_TIME "=600",
		"net.ipv4.tcp_keepalive_* = 5",
		"net/ipv4/tcp_keepalive_* = 5",
		"-net.ipv4.tcp_keepalive_* = 5",
		"net.ipv4.tcp_keepalive_time* = 5",
		"net//ipv4/tcp_keepalive_* = 5",
		"net.ipv4.tcp_keepalive_timex = 1",
		"net.ipv4.tcp_keepalive_tim = 1",
		"net.ipv4.tcp_keepalive_time.x = 1",
		"net/ipv4/tcp_keepalive_time/../tcp_keepalive_intvl = 1",
		"ipv4.tcp_keepalive_time = 1",
		"tcp_keepalive_time = 1",
		"NET.IPV4.TCP_KEEPALIVE_TIME = 1",
		"net.ipv4/tcp_keepalive_time = 1",
		"x " N_TIME " = 1",
		"net.ipv4.tcp_syn_retries = 5",
		"net.ipv4.tcp_keepalive_intvl_x = 5",
		N_TIME " 600",
		N_TIME,
		"= 600",
		"=",
		" = 600",
		"-",
		"-=5",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		check_not_ours(cases[i], strlen(cases[i]));
}

/* Names of 63, 64 and 200 bytes that start like a key: never one. */
static void
test_line_key_long_name(void **state)
{
	static const size_t lens[] = { 62, 63, 64, 65, 200 };
	char line[300];

	(void)state;
	for (size_t i = 0; i < NELEM(lens); i++) {
		size_t n = lens[i];

		memset(line, 'x', n);
		memcpy(line, N_TIME, strlen(N_TIME));
		memcpy(line + n, " = 5", 4);
		check_not_ours(line, n + 4);
		/* The same with the '-' prefix and leading blanks, which are not part of it. */
		memmove(line + 3, line, n + 4);
		memcpy(line, " \t-", 3);
		check_not_ours(line, n + 7);
	}
}

/* Only len bytes are looked at: an '=' or value bytes past them do not count. */
static void
test_line_key_len(void **state)
{
	static const char one[] = N_TIME " = 6005";

	(void)state;
	check_ours(one, strlen(one) - 1, KT_TIME, "600", 0);
	check_ours(one, strlen(N_TIME " = "), KT_TIME, "", 1);
	check_ours(one, strlen(N_TIME " ="), KT_TIME, "", 0);
	check_not_ours(one, strlen(N_TIME " "));
	check_not_ours(one, strlen(N_TIME));
	check_not_ours(one, 0);
}

/*
 * A NUL byte: systemd ends the line there and reads what follows as a line of its own; procps
 * sees the line up to it. Either way, what a loader reads as a key makes it the key's line.
 */
static void
test_line_key_nul(void **state)
{
	static const char end[] = N_TIME " = 600\0";
	static const char name[] = N_TIME "\0 = 600";
	static const char start[] = "\0" N_TIME " = 600";

	(void)state;
	check_ours(end, sizeof(end) - 1, KT_TIME, "600", 1);
	check_not_ours(name, sizeof(name) - 1);
	check_ours(start, sizeof(start) - 1, KT_TIME, "600", 0);
}

/*
 * A "-key" line without a value keeps globs off the key, and for systemd replaces an earlier
 * assignment: it is the key's line, replaced by the assignment or taken out, never kept.
 */
static void
test_edit_exclusion(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit("# x\n-" N_TIME "\n" N_INTVL " = 30\n", &want_all,
	    HEADER "# x\n" L_TIME L_INTVL L_PROBES, &e);
	assert_int_equal(e.present, KT_BIT(KT_INTVL));
	check_edit(L_TIME "-" N_TIME "\n", &want_all, HEADER L_TIME L_INTVL L_PROBES, &e);
	check_edit("-" N_TIME "\n-net.ipv4.tcp_keepalive_*\n", &want_none,
	    "-net.ipv4.tcp_keepalive_*\n", &e);
	assert_int_equal(e.present, 0);
}

/* The edit says which line of the new text assigns each key. */
static void
test_edit_lines(void **state)
{
	struct kt_edit e;

	(void)state;
	check_edit("# a\n" N_INTVL " = 1\n\n# b", &want_all,
	    HEADER "# a\n" L_INTVL "\n# b\n" L_TIME L_PROBES, &e);
	assert_int_equal(e.line[KT_INTVL], 3);
	assert_int_equal(e.line[KT_TIME], 6);
	assert_int_equal(e.line[KT_PROBES], 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_key_ours),
		cmocka_unit_test(test_line_key_not_ours),
		cmocka_unit_test(test_line_key_long_name),
		cmocka_unit_test(test_line_key_len),
		cmocka_unit_test(test_line_key_nul),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_edit_empty),
		cmocka_unit_test(test_edit_empty_mask0),
		cmocka_unit_test(test_edit_null_text),
		cmocka_unit_test(test_edit_values_written),
		cmocka_unit_test(test_edit_existing),
		cmocka_unit_test(test_edit_append_newline),
		cmocka_unit_test(test_edit_header_moved),
		cmocka_unit_test(test_edit_header_without_newline),
		cmocka_unit_test(test_edit_idempotent),
		cmocka_unit_test(test_edit_old_values),
		cmocka_unit_test(test_edit_duplicate_last_in_force),
		cmocka_unit_test(test_edit_old_value_leading_zero),
		cmocka_unit_test(test_edit_keeps_dash),
		cmocka_unit_test(test_edit_split_line),
		cmocka_unit_test(test_edit_exclusion),
		cmocka_unit_test(test_edit_lines),
		cmocka_unit_test(test_edit_remove),
		cmocka_unit_test(test_edit_partial_mask),
		cmocka_unit_test(test_edit_out_of_range),
	};

	return cmocka_run_group_tests_name("kt_edit", tests, NULL, NULL);
}
