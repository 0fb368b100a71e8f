/* test_kt_conf.c: unit tests for kt_conf.c (sysctl.d lines, edits, safe writes) on temp trees. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

/* Out-params are pre-filled with these, to see that a failure leaves them alone. */
#define INT_SENTINEL	(-7777)
#define SIZE_SENTINEL	((size_t)7777)
#define KEY_SENTINEL	((enum kt_key)77)

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define HEADER_LINE	"# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; " \
			"others are kept."
#define HEADER		HEADER_LINE "\n"
#define N_TIME		"net.ipv4.tcp_keepalive_time"
#define N_INTVL		"net.ipv4.tcp_keepalive_intvl"
#define N_PROBES	"net.ipv4.tcp_keepalive_probes"
/* The lines kt_conf_edit() writes for want_all. */
#define L_TIME		N_TIME " = 600\n"
#define L_INTVL		N_INTVL " = 30\n"
#define L_PROBES	N_PROBES " = 5\n"

static const struct kt_values want_all = { KT_ALL, { 600, 30, 5 } };
static const struct kt_values want_none = { 0, { 0, 0, 0 } };

/* A text pointer no call of the library could return. */
static char text_sentinel[] = "sentinel";

/* --- temp trees -------------------------------------------------------------------------- */

/* A fresh directory for each test; the cwd, umask and file size limit are put back after it. */
struct tree {
	char root[PATH_MAX];
	int dirfd;		/* root, open */
	int cwd;
	mode_t umask;
	struct rlimit fsize;
};

/* Read a whole file into a new NUL-terminated buffer, without the library. */
static char *
slurp(const char *path, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	assert_int_equal(n, 0);
	assert_int_equal(close(fd), 0);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* Whether the file at path holds exactly the string s. */
static void
assert_file_is(const char *path, const char *s)
{
	size_t len;
	char *buf = slurp(path, &len);

	assert_string_equal(buf, s);
	assert_int_equal(len, strlen(s));
	free(buf);
}

static int
not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Whether dir holds exactly the entries in names (sorted, separated by spaces): no temp files. */
static void
assert_dir_is(const char *dir, const char *names)
{
	struct dirent **list;
	char got[1024] = "";
	size_t used = 0;
	int n = scandir(dir, &list, not_dots, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		int w = snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
		    list[i]->d_name);

		assert_true(w >= 0 && (size_t)w < sizeof(got) - used);
		used += w;
		free(list[i]);
	}
	free(list);
	assert_string_equal(got, names);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

static ino_t
inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_ino;
}

static void
assert_link_to(const char *link, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->cwd < 0 || getrlimit(RLIMIT_FSIZE, &t->fsize) < 0 ||
	    tmptree_make(t->root, sizeof(t->root), "test_kt_conf") < 0) {
		if (t->cwd >= 0)
			close(t->cwd);
		free(t);
		return -1;
	}
	t->dirfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		close(t->cwd);
		rmdir(t->root);
		free(t);
		return -1;
	}
	t->umask = umask(022);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tree *t = *state;
	int r = 0;

	if (fchdir(t->cwd) < 0)
		r = -1;
	close(t->cwd);
	close(t->dirfd);
	umask(t->umask);
	if (setrlimit(RLIMIT_FSIZE, &t->fsize) < 0 || signal(SIGXFSZ, SIG_DFL) == SIG_ERR)
		r = -1;
	if (tmptree_remove(t->root) < 0)
		r = -1;
	free(t);
	return r;
}

/* --- kt_conf_line_key -------------------------------------------------------------------- */

/*
 * Check that the first len bytes of line assign key the value want_val, which ends tail bytes
 * before the end. The line is copied to a buffer of exactly len bytes, so reading past shows.
 */
static void
check_ours(const char *line, size_t len, enum kt_key want_key, const char *want_val, size_t tail)
{
	char *copy = malloc(len > 0 ? len : 1);
	const char *val = text_sentinel;
	size_t vallen = SIZE_SENTINEL, want_len = strlen(want_val);
	enum kt_key key = KEY_SENTINEL;
	int r;

	assert_non_null(copy);
	memcpy(copy, line, len);
	r = kt_conf_line_key(copy, len, &key, &val, &vallen);
	if (r != 1 || key != want_key || val != copy + len - tail - want_len ||
	    vallen != want_len || memcmp(val, want_val, want_len) != 0)
		fail_msg("\"%.*s\": returned %d, key %d, value at %td of %zu bytes; want 1, %d, "
			 "\"%s\" at %zu", (int)len, line, r, (int)key,
		    val == text_sentinel ? (ptrdiff_t)-1 : val - copy, vallen, (int)want_key,
		    want_val, len - tail - want_len);
	free(copy);
}

/* Check that the first len bytes of line are not ours, and that no out-param was written. */
static void
check_not_ours(const char *line, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	const char *val = text_sentinel;
	size_t vallen = SIZE_SENTINEL;
	enum kt_key key = KEY_SENTINEL;
	int r;

	assert_non_null(copy);
	memcpy(copy, line, len);
	r = kt_conf_line_key(copy, len, &key, &val, &vallen);
	if (r != 0 || key != KEY_SENTINEL || val != text_sentinel || vallen != SIZE_SENTINEL)
		fail_msg("\"%.*s\": returned %d and wrote out-params; want 0, untouched", (int)len,
		    line, r);
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
		{ N_PROBES "\r=\r9\r", KT_PROBES, "9", 1 },
		{ N_TIME " = 1 0", KT_TIME, "1 0", 0 },
		{ N_TIME " = abc", KT_TIME, "abc", 0 },
		{ N_TIME " = a=b", KT_TIME, "a=b", 0 },
		{ N_TIME " = -5", KT_TIME, "-5", 0 },
		/* Blanks before '=' do not count towards the longest name. */
		{ N_TIME "                                                            = 7", KT_TIME,
		    "7", 0 },
		/* An empty value: it starts (and ends) at the end of the line. */
		{ N_TIME " =", KT_TIME, "", 0 },
		{ N_TIME "=", KT_TIME, "", 0 },
		{ N_TIME " = ", KT_TIME, "", 0 },
		{ N_INTVL " = \t \r", KT_INTVL, "", 0 },
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
		"--" N_TIME " = 600",
		"net.ipv4.tcp_keepalive_* = 5",
		"net/ipv4/tcp_keepalive_* = 5",
		"-net.ipv4.tcp_keepalive_* = 5",
		"net.ipv4.tcp_keepalive_time* = 5",
		"net.ipv4.tcp_keepalive_timex = 1",
		"net.ipv4.tcp_keepalive_tim = 1",
		"net.ipv4.tcp_keepalive_time.x = 1",
		"ipv4.tcp_keepalive_time = 1",
		"tcp_keepalive_time = 1",
		"NET.IPV4.TCP_KEEPALIVE_TIME = 1",
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

/* Names of 63, 64 and 200 bytes: never ours, and never written past the name buffer. */
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
	static const char two[] = N_TIME " = 600\n" N_INTVL " = 75";
	static const char one[] = N_TIME " = 6005";

	(void)state;
	check_ours(two, strlen(N_TIME " = 600"), KT_TIME, "600", 0);
	check_ours(two, strlen(N_TIME " = 600\n") - 1, KT_TIME, "600", 0);
	check_ours(one, strlen(one) - 1, KT_TIME, "600", 0);
	check_ours(one, strlen(N_TIME " = "), KT_TIME, "", 0);
	check_ours(one, strlen(N_TIME " ="), KT_TIME, "", 0);
	check_not_ours(one, strlen(N_TIME " "));
	check_not_ours(one, strlen(N_TIME));
	check_not_ours(one, 0);
}

/* A NUL byte anywhere makes a line nobody's: the loaders would cut it there. */
static void
test_line_key_nul(void **state)
{
	static const char end[] = N_TIME " = 600\0";
	static const char mid[] = N_TIME " = 6\0" "00";
	static const char name[] = N_TIME "\0 = 600";
	static const char start[] = "\0" N_TIME " = 600";

	(void)state;
	check_not_ours(end, sizeof(end) - 1);
	check_not_ours(mid, sizeof(mid) - 1);
	check_not_ours(name, sizeof(name) - 1);
	check_not_ours(start, sizeof(start) - 1);
	/* Only len bytes count: a NUL past them does not. */
	check_ours(end, sizeof(end) - 2, KT_TIME, "600", 0);
}

/* --- kt_conf_edit ------------------------------------------------------------------------ */

/* Edit len bytes of in (copied to a buffer of exactly that size) and check the result is 0. */
static char *
edit_n(const char *in, size_t len, const struct kt_values *want, struct kt_conf_edit *e)
{
	char *copy = malloc(len > 0 ? len : 1), *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL;
	int r;

	assert_non_null(copy);
	memcpy(copy, in, len);
	memset(e, 0xa5, sizeof(*e));
	r = kt_conf_edit(copy, len, want, &out, &outlen, e);
	free(copy);
	assert_int_equal(r, 0);
	assert_non_null(out);
	assert_true(out != text_sentinel);
	/* NUL-terminated, and no NUL before: the length is the string's. */
	assert_int_equal(strlen(out), outlen);
	return out;
}

static char *
edit(const char *in, const struct kt_values *want, struct kt_conf_edit *e)
{
	return edit_n(in, strlen(in), want, e);
}

/* Edit in and check the new text is exactly want_text. */
static void
check_edit(const char *in, const struct kt_values *want, const char *want_text,
    struct kt_conf_edit *e)
{
	char *out = edit(in, want, e);

	assert_string_equal(out, want_text);
	free(out);
}

static void
assert_edit(const struct kt_conf_edit *e, unsigned int present, unsigned int old_int,
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
	assert_string_equal(kt_conf_header, HEADER);
}

/* A new file: our header, then the three keys in key order. */
static void
test_edit_empty(void **state)
{
	struct kt_conf_edit e;

	(void)state;
	check_edit("", &want_all, HEADER L_TIME L_INTVL L_PROBES, &e);
	assert_edit(&e, 0, 0, KT_ALL, 0, 0);
}

/* Nothing wanted in a new file: an empty (but real, NUL-terminated) text, the same as before. */
static void
test_edit_empty_mask0(void **state)
{
	struct kt_conf_edit e;

	(void)state;
	check_edit("", &want_none, "", &e);
	assert_edit(&e, 0, 0, 0, 1, 1);
}

/* The text of a new file may be NULL (kt_conf_edit() asserts only text || len == 0). */
static void
test_edit_null_text(void **state)
{
	struct kt_conf_edit e;
	char *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL;

	(void)state;
	memset(&e, 0xa5, sizeof(e));
	assert_int_equal(kt_conf_edit(NULL, 0, &want_all, &out, &outlen, &e), 0);
	assert_string_equal(out, HEADER L_TIME L_INTVL L_PROBES);
	assert_int_equal(outlen, strlen(HEADER L_TIME L_INTVL L_PROBES));
	assert_edit(&e, 0, 0, KT_ALL, 0, 0);
	free(out);

	out = text_sentinel;
	outlen = SIZE_SENTINEL;
	memset(&e, 0xa5, sizeof(e));
	assert_int_equal(kt_conf_edit(NULL, 0, &want_none, &out, &outlen, &e), 0);
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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;
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
	struct kt_conf_edit e;

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
assert_old_text(const struct kt_conf_edit *e, enum kt_key key, const char *text)
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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		check_edit(cases[i].in, &want_all, cases[i].text, &e);
		check_edit(cases[i].text, &want_all, cases[i].text, &e);
		assert_true(e.same);
	}
}

/* A line holding a NUL byte is kept byte for byte, NUL and all, and does not assign a key. */
static void
test_edit_nul_line(void **state)
{
	static const char in[] = "a\n" N_TIME " = 5\0x\n" N_INTVL " = 30\n";
	static const char text[] = HEADER "a\n" N_TIME " = 5\0x\n" L_INTVL L_TIME L_PROBES;
	struct kt_conf_edit e;
	char *out = text_sentinel;
	size_t outlen = SIZE_SENTINEL;

	(void)state;
	assert_int_equal(kt_conf_edit(in, sizeof(in) - 1, &want_all, &out, &outlen, &e), 0);
	assert_int_equal(outlen, sizeof(text) - 1);
	assert_memory_equal(out, text, sizeof(text) - 1);
	assert_int_equal(e.present, KT_BIT(KT_INTVL));
	free(out);

	assert_int_equal(kt_conf_edit(in, sizeof(in) - 1, &want_none, &out, &outlen, &e), 0);
	assert_int_equal(outlen, sizeof(in) - 1 - strlen(L_INTVL));
	assert_memory_equal(out, in, outlen);
	free(out);
}

/* Mask 0 takes out our keys and our header and keeps the rest; empty only if just blanks stay. */
static void
test_edit_remove(void **state)
{
	struct kt_conf_edit e;

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
	struct kt_conf_edit e;

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
	struct kt_conf_edit e, untouched;

	(void)state;
	memset(&untouched, 0xa5, sizeof(untouched));
	for (size_t i = 0; i < NELEM(bad); i++) {
		for (size_t j = 0; j < NELEM(ins); j++) {
			char *out = text_sentinel;
			size_t outlen = SIZE_SENTINEL;

			memset(&e, 0xa5, sizeof(e));
			assert_int_equal(kt_conf_edit(ins[j], strlen(ins[j]), &bad[i], &out,
			    &outlen, &e), -ERANGE);
			assert_ptr_equal(out, text_sentinel);
			assert_int_equal(outlen, SIZE_SENTINEL);
			assert_memory_equal(&e, &untouched, sizeof(e));
		}
	}
}

/* --- kt_conf_load ------------------------------------------------------------------------ */

static void
assert_load_fails(int dirfd, const char *name, int err)
{
	char *text = text_sentinel;
	size_t len = SIZE_SENTINEL;
	unsigned int mode = (unsigned int)INT_SENTINEL;

	assert_int_equal(kt_conf_load(dirfd, name, &text, &len, &mode), err);
	assert_ptr_equal(text, text_sentinel);
	assert_int_equal(len, SIZE_SENTINEL);
	assert_int_equal(mode, (unsigned int)INT_SENTINEL);
}

/* Every byte but NUL, no newline at the end: read back exactly, NUL-terminated, with its mode. */
static void
test_load_exact(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], bytes[255], *text = text_sentinel;
	size_t len = SIZE_SENTINEL;
	unsigned int mode = 0;

	for (int i = 0; i < 255; i++)
		bytes[i] = (char)(i + 1);
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	tmptree_write(path, bytes, sizeof(bytes));
	assert_int_equal(chmod(path, 02640), 0);
	assert_int_equal(kt_conf_load(t->dirfd, "a.conf", &text, &len, &mode), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(text, bytes, sizeof(bytes));
	assert_int_equal(text[len], '\0');
	assert_int_equal(mode, 02640);
	free(text);

	/* An empty file is an empty string; the mode may be left out. */
	text = text_sentinel;
	len = SIZE_SENTINEL;
	tmptree_write(path, "", 0);
	assert_int_equal(kt_conf_load(t->dirfd, "a.conf", &text, &len, NULL), 0);
	assert_true(text != text_sentinel);
	assert_int_equal(len, 0);
	assert_int_equal(text[0], '\0');
	free(text);
}

/* A missing file is -ENOENT; a name that is not one component is refused. */
static void
test_load_missing(void **state)
{
	const struct tree *t = *state;

	assert_load_fails(t->dirfd, "missing.conf", -ENOENT);
	assert_load_fails(t->dirfd, "missing/a.conf", -EINVAL);
	assert_load_fails(t->dirfd, "", -EINVAL);
	assert_load_fails(t->dirfd, "/etc/passwd", -EINVAL);
}

/* A symbolic link is refused whether it points to a file or nowhere; neither is changed. */
static void
test_load_symlink(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	tmptree_put(t->root, "target.conf", L_TIME);
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("target.conf", path), 0);
	assert_load_fails(t->dirfd, "link.conf", -ELOOP);
	tmptree_path(t->root, "dangling.conf", path, sizeof(path));
	assert_int_equal(symlink("nowhere.conf", path), 0);
	assert_load_fails(t->dirfd, "dangling.conf", -ELOOP);
	tmptree_path(t->root, "target.conf", path, sizeof(path));
	assert_file_is(path, L_TIME);
	assert_dir_is(t->root, "dangling.conf link.conf target.conf");
}

static void
test_load_directory(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_load_fails(t->dirfd, "d.conf", -EISDIR);
	assert_load_fails(t->dirfd, ".", -EISDIR);
}

/* A FIFO with no writer is refused at once; an alarm kills the test if it hangs instead. */
static void
test_load_fifo(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	int dev;

	tmptree_path(t->root, "fifo.conf", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0644), 0);
	alarm(10);
	assert_load_fails(t->dirfd, "fifo.conf", -EINVAL);
	alarm(0);
	assert_true(S_ISFIFO(mode_of(path)));
	/* A character device is not a regular file either, not even the null device. */
	dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dev >= 0);
	assert_load_fails(dev, "null", -EINVAL);
	assert_int_equal(close(dev), 0);
}

/* KT_CONF_MAX bytes are read; one more is too many. */
static void
test_load_size(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], *big = malloc(KT_CONF_MAX + 1), *text = text_sentinel;
	size_t len = SIZE_SENTINEL;

	assert_non_null(big);
	for (size_t i = 0; i < KT_CONF_MAX + 1; i++)
		big[i] = i % 64 == 63 ? '\n' : 'a' + i % 26;
	tmptree_path(t->root, "big.conf", path, sizeof(path));
	tmptree_write(path, big, KT_CONF_MAX);
	assert_int_equal(kt_conf_load(t->dirfd, "big.conf", &text, &len, NULL), 0);
	assert_int_equal(len, KT_CONF_MAX);
	assert_memory_equal(text, big, KT_CONF_MAX);
	assert_int_equal(text[len], '\0');
	free(text);

	tmptree_write(path, big, KT_CONF_MAX + 1);
	assert_load_fails(t->dirfd, "big.conf", -EFBIG);
	free(big);
}

/* --- kt_conf_save ------------------------------------------------------------------------ */

/* A new file gets mode 0644 even under umask 077, and exactly the text. */
static void
test_save_new(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	const char *text = HEADER L_TIME L_INTVL L_PROBES;

	tmptree_path(t->root, "90-ka-tune.conf", path, sizeof(path));
	umask(077);
	assert_int_equal(kt_conf_save(t->dirfd, "90-ka-tune.conf", text, strlen(text)), 0);
	assert_true(S_ISREG(mode_of(path)));
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_file_is(path, text);
	assert_dir_is(t->root, "90-ka-tune.conf");
}

/* An existing file is replaced by a new inode; a hard link to the old one keeps the old text. */
static void
test_save_replace(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], old_link[PATH_MAX];
	ino_t old;

	tmptree_put(t->root, "a.conf", "old text\n");
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	tmptree_path(t->root, "old", old_link, sizeof(old_link));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(link(path, old_link), 0);
	old = inode_of(path);

	assert_int_equal(kt_conf_save(t->dirfd, "a.conf", "new\n", 4), 0);
	assert_file_is(path, "new\n");
	assert_true(inode_of(path) != old);
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_file_is(old_link, "old text\n");
	assert_dir_is(t->root, "a.conf old");

	/* Shorter and empty texts leave nothing of the longer ones. */
	assert_int_equal(kt_conf_save(t->dirfd, "a.conf", "x", 1), 0);
	assert_file_is(path, "x");
	assert_int_equal(kt_conf_save(t->dirfd, "a.conf", "", 0), 0);
	assert_file_is(path, "");
	assert_int_equal(kt_conf_save(t->dirfd, "a.conf", NULL, 0), 0);
	assert_file_is(path, "");
	assert_dir_is(t->root, "a.conf old");
}

/*
 * A write that fails part way (here on the file size limit, which binds root too) leaves the old
 * file as it was, and removes the temp file.
 */
static void
test_save_write_fails(void **state)
{
	const struct tree *t = *state;
	struct rlimit small = t->fsize;
	char path[PATH_MAX], big[4096];
	ino_t old;

	tmptree_put(t->root, "a.conf", "old\n");
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	old = inode_of(path);
	memset(big, 'x', sizeof(big));
	small.rlim_cur = 100;
	assert_true(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(kt_conf_save(t->dirfd, "a.conf", big, sizeof(big)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &t->fsize), 0);
	assert_file_is(path, "old\n");
	assert_true(inode_of(path) == old);
	assert_dir_is(t->root, "a.conf");
}

/* A symbolic link is never written through nor replaced, dangling or not. */
static void
test_save_symlink(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], target[PATH_MAX];

	tmptree_put(t->root, "target.conf", "target\n");
	tmptree_path(t->root, "target.conf", target, sizeof(target));
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("target.conf", path), 0);
	assert_int_equal(kt_conf_save(t->dirfd, "link.conf", "new\n", 4), -ELOOP);
	assert_link_to(path, "target.conf");
	assert_file_is(target, "target\n");

	tmptree_path(t->root, "dangling.conf", path, sizeof(path));
	assert_int_equal(symlink("created.conf", path), 0);
	assert_int_equal(kt_conf_save(t->dirfd, "dangling.conf", "new\n", 4), -ELOOP);
	assert_link_to(path, "created.conf");
	assert_dir_is(t->root, "dangling.conf link.conf target.conf");
}

static void
test_save_not_a_file(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(kt_conf_save(t->dirfd, "d.conf", "new\n", 4), -EISDIR);
	assert_true(S_ISDIR(mode_of(path)));
	assert_dir_is(path, "");

	/* A name is one component: never a path, never empty. */
	assert_int_equal(kt_conf_save(t->dirfd, "d.conf/", "new\n", 4), -EINVAL);
	assert_int_equal(kt_conf_save(t->dirfd, "d.conf/x", "new\n", 4), -EINVAL);
	assert_int_equal(kt_conf_save(t->dirfd, "", "new\n", 4), -EINVAL);

	tmptree_path(t->root, "fifo.conf", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(kt_conf_save(t->dirfd, "fifo.conf", "new\n", 4), -EINVAL);
	assert_true(S_ISFIFO(mode_of(path)));
	assert_dir_is(t->root, "d.conf fifo.conf");
}

/*
 * The temp file is ".NAME.XXXXXX" beside the target, created with O_EXCL and O_NOFOLLOW: a
 * symbolic link of that pattern already there is neither followed nor replaced.
 */
static void
test_save_temp_name(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	tmptree_path(t->root, ".a.conf.AAAAAA", path, sizeof(path));
	assert_int_equal(symlink("/nonexistent/x", path), 0);
	assert_int_equal(kt_conf_save(t->dirfd, "a.conf", "new\n", 4), 0);
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	assert_file_is(path, "new\n");
	assert_dir_is(t->root, ".a.conf.AAAAAA a.conf");
	assert_int_equal(fstatat(t->dirfd, ".a.conf.AAAAAA", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A name too long for a temp file beside it. */
	memset(path, 'n', NAME_MAX);
	path[NAME_MAX] = '\0';
	assert_int_equal(kt_conf_save(t->dirfd, path, "new\n", 4), -ENAMETOOLONG);
	fd = openat(t->dirfd, path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ENOENT);
}

/* A bare name is a file in the current directory; a relative directory is the cwd's. */
static void
test_relative_path(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], *text = text_sentinel;
	size_t len = SIZE_SENTINEL;
	int fd = INT_SENTINEL;

	assert_int_equal(chdir(t->root), 0);
	assert_int_equal(kt_conf_open_dir(".", 1, 0, &fd, NULL), 0);
	assert_int_equal(kt_conf_save(fd, "rel.conf", "rel\n", 4), 0);
	tmptree_path(t->root, "rel.conf", path, sizeof(path));
	assert_file_is(path, "rel\n");
	assert_int_equal(mode_of(path) & 07777, 0644);
	assert_dir_is(t->root, "rel.conf");

	assert_int_equal(kt_conf_load(fd, "rel.conf", &text, &len, NULL), 0);
	assert_int_equal(len, 4);
	assert_string_equal(text, "rel\n");
	free(text);

	assert_int_equal(kt_conf_lock(fd, 1000), 0);
	assert_int_equal(kt_conf_delete(fd, "rel.conf"), 0);
	assert_dir_is(t->root, "");
	assert_int_equal(close(fd), 0);

	fd = INT_SENTINEL;
	assert_int_equal(kt_conf_open_dir("a/b", 0, 1, &fd, NULL), 0);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	tmptree_path(t->root, "a/b", path, sizeof(path));
	assert_true(S_ISDIR(mode_of(path)));
}

/* --- kt_conf_clean ------------------------------------------------------------------------ */

/* Only regular files named exactly as kt_conf_save() names its temp files are removed. */
static void
test_clean(void **state)
{
	static const char *const stale[] = {
		".a.conf.AbC123", ".a.conf.zzzzzz", ".a.conf.000000",
	};
	static const char *const kept[] = {
		"a.conf", ".a.conf.AbC12", ".a.conf.AbC1234", ".a.conf.AbC_23", ".a.conf.AbC-23",
		"a.conf.AbC123", "..a.conf.AbC123", ".b.conf.AbC123", ".a.conf.AbC123~",
		".a.confXAbC123", ".a.conf..AbC12",
	};
	const struct tree *t = *state;
	char path[PATH_MAX];

	for (size_t i = 0; i < NELEM(stale); i++)
		tmptree_put(t->root, stale[i], "stale\n");
	for (size_t i = 0; i < NELEM(kept); i++)
		tmptree_put(t->root, kept[i], "kept\n");
	/* Names of the pattern that are not regular files: not ours. */
	tmptree_path(t->root, ".a.conf.LINK01", path, sizeof(path));
	assert_int_equal(symlink("a.conf", path), 0);
	tmptree_path(t->root, ".a.conf.DIR001", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(kt_conf_clean(t->dirfd, "a.conf"), 0);
	assert_dir_is(t->root, "..a.conf.AbC123 .a.conf..AbC12 .a.conf.AbC-23 .a.conf.AbC12 "
			       ".a.conf.AbC1234 .a.conf.AbC123~ .a.conf.AbC_23 .a.conf.DIR001 "
			       ".a.conf.LINK01 .a.confXAbC123 .b.conf.AbC123 a.conf a.conf.AbC123");
	assert_int_equal(kt_conf_clean(t->dirfd, "a.conf"), 0);
	assert_int_equal(kt_conf_clean(t->dirfd, "a/b"), -EINVAL);
}

/* --- kt_conf_fix_mode -------------------------------------------------------------------- */

/* The mode is set to 0644 in place: same inode, same text; links and non-files are refused. */
static void
test_fix_mode(void **state)
{
	static const unsigned int modes[] = { 0600, 0664, 0755, 04644, 0, 0644 };
	const struct tree *t = *state;
	char path[PATH_MAX];
	ino_t ino;

	tmptree_put(t->root, "a.conf", L_TIME);
	tmptree_path(t->root, "a.conf", path, sizeof(path));
	ino = inode_of(path);
	umask(077);
	for (size_t i = 0; i < NELEM(modes); i++) {
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(kt_conf_fix_mode(t->dirfd, "a.conf"), 0);
		assert_int_equal(mode_of(path) & 07777, 0644);
		assert_true(inode_of(path) == ino);
		assert_file_is(path, L_TIME);
	}

	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("a.conf", path), 0);
	assert_int_equal(kt_conf_fix_mode(t->dirfd, "link.conf"), -ELOOP);
	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(kt_conf_fix_mode(t->dirfd, "d.conf"), -EISDIR);
	assert_int_equal(mode_of(path) & 07777, 0700);
	assert_int_equal(kt_conf_fix_mode(t->dirfd, "missing.conf"), -ENOENT);
	assert_int_equal(kt_conf_fix_mode(t->dirfd, "d.conf/x"), -EINVAL);
	assert_dir_is(t->root, "a.conf d.conf link.conf");
}

/* --- kt_conf_delete ---------------------------------------------------------------------- */

static void
test_delete(void **state)
{
	const struct tree *t = *state;

	tmptree_put(t->root, "a.conf", L_TIME);
	tmptree_put(t->root, "b.conf", L_TIME);
	assert_int_equal(kt_conf_delete(t->dirfd, "a.conf"), 0);
	assert_dir_is(t->root, "b.conf");
	assert_int_equal(kt_conf_delete(t->dirfd, "a.conf"), -ENOENT);
	assert_dir_is(t->root, "b.conf");
	assert_int_equal(kt_conf_delete(t->dirfd, "missing/a.conf"), -EINVAL);
}

static void
test_delete_refused(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], target[PATH_MAX];

	tmptree_put(t->root, "target.conf", "target\n");
	tmptree_path(t->root, "target.conf", target, sizeof(target));
	tmptree_path(t->root, "link.conf", path, sizeof(path));
	assert_int_equal(symlink("target.conf", path), 0);
	assert_int_equal(kt_conf_delete(t->dirfd, "link.conf"), -ELOOP);
	assert_link_to(path, "target.conf");
	assert_file_is(target, "target\n");

	tmptree_path(t->root, "d.conf", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(kt_conf_delete(t->dirfd, "d.conf"), -EISDIR);
	assert_true(S_ISDIR(mode_of(path)));
	assert_dir_is(t->root, "d.conf link.conf target.conf");
}

/* --- kt_conf_lock ------------------------------------------------------------------------ */

/* The lock is an flock on the directory: another open of it cannot take one until it is closed. */
static void
test_lock(void **state)
{
	const struct tree *t = *state;
	int fd = INT_SENTINEL, other;

	assert_int_equal(kt_conf_open_dir(t->root, strlen(t->root), 0, &fd, NULL), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(kt_conf_lock(fd, 0), 0);

	other = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(flock(other, LOCK_SH | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);

	/* No lock file, nor the file itself, was made. */
	assert_dir_is(t->root, "");

	assert_int_equal(close(fd), 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(close(other), 0);
}

/* Milliseconds on the monotonic clock. */
static long long
ms_now(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A lock held elsewhere (any reader of the directory may take one) is waited for no longer than
 * asked: -ETIMEDOUT then. A timeout of 0 tries once. The lock is taken once it is free.
 */
static void
test_lock_timeout(void **state)
{
	const struct tree *t = *state;
	int fd, other;
	long long start, took;

	fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	other = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0 && other >= 0);
	assert_int_equal(flock(other, LOCK_SH), 0);

	start = ms_now();
	assert_int_equal(kt_conf_lock(fd, 300), -ETIMEDOUT);
	took = ms_now() - start;
	assert_true(took >= 300 && took < 3000);
	start = ms_now();
	assert_int_equal(kt_conf_lock(fd, 0), -ETIMEDOUT);
	assert_true(ms_now() - start < 1000);

	assert_int_equal(flock(other, LOCK_UN), 0);
	assert_int_equal(kt_conf_lock(fd, 0), 0);
	assert_int_equal(flock(other, LOCK_SH | LOCK_NB), -1);
	assert_int_equal(close(other), 0);
	assert_int_equal(close(fd), 0);
}

/* --- kt_conf_open_dir -------------------------------------------------------------------- */

/* Open path (root_len bytes of it followed) and check the result: the error and where, or 0. */
static void
check_open_dir(const char *path, size_t root_len, int create, int want_err, size_t want_stop)
{
	int fd = INT_SENTINEL, r;
	size_t stop = SIZE_SENTINEL;

	r = kt_conf_open_dir(path, root_len, create, &fd, &stop);
	if (r != want_err || (r < 0 && (fd != INT_SENTINEL || stop != want_stop)) ||
	    (r == 0 && (fd < 0 || stop != SIZE_SENTINEL)))
		fail_msg("%s (%zu, create %d): returned %d, fd %d, stop %zu; want %d, stop %zu",
		    path, root_len, create, r, fd, stop, want_err, want_stop);
	if (r == 0) {
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(close(fd), 0);
	}
}

/*
 * Missing directories are made with mode 0755 whatever the umask, the root's too; existing ones
 * keep their mode. Without create, the first missing one is named.
 */
static void
test_open_dir_create(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], root[PATH_MAX];

	tmptree_path(t->root, "img", root, sizeof(root));
	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, strlen(root), 0, -ENOENT, strlen(root));
	assert_dir_is(t->root, "");

	umask(077);
	assert_int_equal(mkdir(root, 0700), 0);
	check_open_dir(path, strlen(root), 0, -ENOENT, strlen(root) + 4);
	check_open_dir(path, strlen(root), 1, 0, 0);
	assert_true(S_ISDIR(mode_of(path)));
	assert_int_equal(mode_of(path) & 07777, 0755);
	tmptree_path(t->root, "img/etc", path, sizeof(path));
	assert_int_equal(mode_of(path) & 07777, 0755);
	assert_int_equal(mode_of(root) & 07777, 0700);
	assert_dir_is(path, "sysctl.d");

	/* The root itself, missing, is made as mkdir -p would. */
	tmptree_path(t->root, "new/img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, strlen(t->root) + 8, 1, 0, 0);
	tmptree_path(t->root, "new", path, sizeof(path));
	assert_int_equal(mode_of(path) & 07777, 0755);

	/* Again: all there already. Doubled and trailing slashes change nothing. */
	tmptree_path(t->root, "img//etc/sysctl.d/", path, sizeof(path));
	check_open_dir(path, strlen(root), 1, 0, 0);
	check_open_dir(path, strlen(root), 0, 0, 0);
	check_open_dir("/", 0, 0, 0, 0);
	check_open_dir("/", 1, 1, 0, 0);
	assert_dir_is(t->root, "img new");
}

/* A file where a directory should be is -ENOTDIR, named; nothing is made past it. */
static void
test_open_dir_not_dir(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], file[PATH_MAX];

	tmptree_put(t->root, "f", "file\n");
	tmptree_path(t->root, "f", file, sizeof(file));
	check_open_dir(file, strlen(t->root), 1, -ENOTDIR, strlen(file));
	tmptree_path(t->root, "f/sub/deeper", path, sizeof(path));
	check_open_dir(path, strlen(t->root), 1, -ENOTDIR, strlen(file));
	check_open_dir(path, strlen(path), 1, -ENOTDIR, strlen(file));
	assert_file_is(file, "file\n");
	assert_dir_is(t->root, "f");
}

/*
 * Symbolic links are followed in the part the user named, and refused after it, wherever they
 * point and whether or not they dangle; nothing is made through them. ".." is refused there too.
 */
static void
test_open_dir_symlink(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], root[PATH_MAX], link[PATH_MAX];
	size_t rlen;

	tmptree_path(t->root, "img", root, sizeof(root));
	rlen = strlen(root);
	assert_int_equal(mkdir(root, 0755), 0);
	tmptree_path(t->root, "outside", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	tmptree_path(t->root, "img/etc", link, sizeof(link));
	assert_int_equal(symlink(path, link), 0);

	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, rlen, 1, -ELOOP, strlen(link));
	check_open_dir(path, rlen, 0, -ELOOP, strlen(link));
	tmptree_path(t->root, "outside", path, sizeof(path));
	assert_dir_is(path, "");

	/* The same link in the part the user named is followed. */
	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, strlen(link), 1, 0, 0);
	tmptree_path(t->root, "outside", path, sizeof(path));
	assert_dir_is(path, "sysctl.d");

	/* A dangling link, and a link to a file. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("nowhere", link), 0);
	tmptree_path(t->root, "img/etc/sysctl.d", path, sizeof(path));
	check_open_dir(path, rlen, 1, -ELOOP, strlen(link));
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("/dev/null", link), 0);
	check_open_dir(path, rlen, 1, -ELOOP, strlen(link));
	assert_dir_is(root, "etc");
	assert_link_to(link, "/dev/null");

	/* A link as the root itself is followed. */
	tmptree_path(t->root, "outside/x", path, sizeof(path));
	tmptree_path(t->root, "rootlink", link, sizeof(link));
	tmptree_path(t->root, "outside", root, sizeof(root));
	assert_int_equal(symlink(root, link), 0);
	tmptree_path(t->root, "rootlink/x", path, sizeof(path));
	check_open_dir(path, strlen(link), 1, 0, 0);
	tmptree_path(t->root, "outside/x", path, sizeof(path));
	assert_true(S_ISDIR(mode_of(path)));

	/* ".." after the root would climb out of it. */
	tmptree_path(t->root, "outside/../outside", path, sizeof(path));
	check_open_dir(path, strlen(root), 0, -EINVAL, strlen(root) + 3);
	check_open_dir(path, strlen(path), 0, 0, 0);
}

/* --- kt_conf_strerror -------------------------------------------------------------------- */

static void
test_strerror(void **state)
{
	static const int errs[] = { -EACCES, -EROFS, -ELOOP, -EFBIG, -EISDIR, -EINVAL };

	(void)state;
	for (size_t i = 0; i < NELEM(errs); i++) {
		const char *a = kt_conf_strerror(errs[i]);

		assert_non_null(a);
		assert_true(a[0] != '\0');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(a, kt_conf_strerror(errs[j]));
	}
	/* A symbolic link and a big file are explained, not just named as libc would. */
	assert_string_not_equal(kt_conf_strerror(-ELOOP), strerror(ELOOP));
	assert_string_not_equal(kt_conf_strerror(-EFBIG), strerror(EFBIG));
	assert_string_equal(kt_conf_strerror(-EPERM), kt_conf_strerror(-EACCES));
	/* Not "needs root": the file may be a user's own, named with --file. */
	assert_string_equal(kt_conf_strerror(-EACCES), "permission denied");
	assert_string_equal(kt_conf_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(kt_conf_strerror(-EIO), strerror(EIO));
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

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
		cmocka_unit_test(test_edit_nul_line),
		cmocka_unit_test(test_edit_remove),
		cmocka_unit_test(test_edit_partial_mask),
		cmocka_unit_test(test_edit_out_of_range),
		T(test_load_exact),
		T(test_load_missing),
		T(test_load_symlink),
		T(test_load_directory),
		T(test_load_fifo),
		T(test_load_size),
		T(test_save_new),
		T(test_save_replace),
		T(test_save_write_fails),
		T(test_save_symlink),
		T(test_save_not_a_file),
		T(test_save_temp_name),
		T(test_relative_path),
		T(test_clean),
		T(test_fix_mode),
		T(test_delete),
		T(test_delete_refused),
		T(test_lock),
		T(test_lock_timeout),
		T(test_open_dir_create),
		T(test_open_dir_not_dir),
		T(test_open_dir_symlink),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("kt_conf", tests, NULL, NULL);
}
