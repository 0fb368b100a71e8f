/* test_kt_boot.c: unit tests for kt_boot.c (what each sysctl loader sets at boot) on temp trees. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Short names for the directories, to keep the expectations on one line each. */
#define ETC	"/etc/sysctl.d/"
#define RUN	"/run/sysctl.d/"
#define LOCAL	"/usr/local/lib/sysctl.d/"
#define USR	"/usr/lib/sysctl.d/"

#define TIME	"net.ipv4.tcp_keepalive_time"
#define INTVL	"net.ipv4.tcp_keepalive_intvl"
#define PROBES	"net.ipv4.tcp_keepalive_probes"

#define HZ	1000

static const enum kt_loader loaders[] = { KT_LOADER_SYSTEMD, KT_LOADER_PROCPS };

/* The boot being looked at: teardown frees it when a failed check left it, so that only the
 * library's own leaks show under the sanitizer. */
static struct kt_boot *live;

static void
remove_in(const struct tmptree *t, const char *rel)
{
	char path[PATH_MAX];

	tmptree_path(t->root, rel, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

/* Each test's tree is laid out like the root of a machine: the sysctl.d directories, empty. */
static int
setup(void **state)
{
	static const char *const dirs[] = {
		"etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d",
	};
	struct tmptree *t = tmptree_new("test_kt_boot");

	if (!t)
		return -1;
	*state = t;
	for (size_t i = 0; i < NELEM(dirs); i++)
		tmptree_mkdirs(t->root, dirs[i]);
	return 0;
}

static int
teardown(void **state)
{
	kt_boot_free(live);
	live = NULL;
	return tmptree_free(*state);
}

static struct kt_boot *
boot_hz(const struct tmptree *t, enum kt_loader loader, long hz)
{
	struct kt_boot *b = NULL;
	int r = kt_boot_read(t->root, loader, hz, &b);

	if (r != 0 || !b)
		fail_msg("%s: kt_boot_read() returned %d", kt_loader_name(loader), r);
	assert_null(live);
	live = b;
	return b;
}

static void
done(struct kt_boot *b)
{
	assert_ptr_equal(b, live);
	kt_boot_free(b);
	live = NULL;
}

static struct kt_boot *
boot(const struct tmptree *t, enum kt_loader loader)
{
	return boot_hz(t, loader, HZ);
}

static const char *
state_name(enum kt_assign_state s)
{
	switch (s) {
	case KT_ASSIGN_APPLIED:
		return "applied";
	case KT_ASSIGN_OVERRIDDEN:
		return "overridden";
	case KT_ASSIGN_REJECTED:
		return "rejected";
	case KT_ASSIGN_EXPLICIT:
		return "explicit";
	case KT_ASSIGN_EXCLUDED:
		return "excluded";
	case KT_ASSIGN_HIDDEN:
		return "hidden";
	}
	return "?";
}

/*
 * Check what a loader makes of a key: got is "VALUE from FILE:LINE" or "VALUE default"; lines
 * lists every line about the key in load order, as "STATE FILE:LINE, ...". Also check what
 * must hold whatever the tree: the line the value comes from is among the key's lines, the only
 * one applied, and what the kernel makes of its text is the value.
 */
static void
check_boot(const struct kt_boot *b, enum kt_loader loader, enum kt_key k, const char *got,
    const char *lines)
{
	const struct kt_boot_key *bk = kt_boot_key(b, k);
	char have[256], list[2048];
	size_t applied = 0, o = 0;
	int n, v;

	assert_non_null(bk);
	if (bk->from)
		n = snprintf(have, sizeof(have), "%d from %s:%u", bk->val, bk->from->file,
		    bk->from->line);
	else
		n = snprintf(have, sizeof(have), "%d default", bk->val);
	assert_true(n > 0 && (size_t)n < sizeof(have));
	list[0] = '\0';
	for (size_t i = 0; i < bk->nassigns; i++) {
		const struct kt_assign *a = &bk->assigns[i];

		n = snprintf(list + o, sizeof(list) - o, "%s%s %s:%u", i ? ", " : "",
		    state_name(a->state), a->file, a->line);
		assert_true(n > 0 && (size_t)n < sizeof(list) - o);
		o += (size_t)n;
		if (a->state == KT_ASSIGN_APPLIED)
			applied++;
	}
	if (strcmp(have, got) != 0 || strcmp(list, lines) != 0)
		fail_msg("%s, %s:\n  got  %s: %s\n  want %s: %s", kt_loader_name(loader),
		    kt_key(k)->name, have, list, got, lines);
	if (bk->from) {
		assert_true(bk->from >= bk->assigns && bk->from < bk->assigns + bk->nassigns);
		assert_int_equal(bk->from->state, KT_ASSIGN_APPLIED);
		assert_int_equal(applied, 1);
		assert_non_null(bk->from->value);
		assert_int_equal(kt_kernel_parse(k, bk->from->value, HZ, &v), 0);
		assert_int_equal(v, bk->val);
	} else {
		assert_int_equal(applied, 0);
	}
}

/*
 * The notes of a model as "KIND FILE ERR, ...", KIND "skipped" or "unread", ERR the errno's
 * name for the few the tests meet.
 */
static const char *
notes_of(const struct kt_boot *b, char *buf, size_t len)
{
	const struct kt_boot_note *notes;
	size_t n = kt_boot_notes(b, &notes), o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int e = -notes[i].err;
		const char *err = e == ENOENT ? "ENOENT" : e == ELOOP ? "ELOOP" :
		    e == ENXIO ? "ENXIO" : e == EISDIR ? "EISDIR" : e == EINVAL ? "EINVAL" :
		    e == EFBIG ? "EFBIG" : e == EACCES ? "EACCES" : "other";
		int w = snprintf(buf + o, len - o, "%s%s %s %s", i ? ", " : "",
		    notes[i].kind == KT_BOOT_SKIPPED ? "skipped" : "unread", notes[i].file, err);

		assert_true(w > 0 && (size_t)w < len - o);
		o += (size_t)w;
	}
	return buf;
}

/* Read the tree with a loader and check one key. */
static void
expect(const struct tmptree *t, enum kt_loader loader, enum kt_key k, const char *got,
    const char *lines)
{
	struct kt_boot *b = boot(t, loader);
	char notes[512];

	check_boot(b, loader, k, got, lines);
	assert_string_equal(notes_of(b, notes, sizeof(notes)), "");
	done(b);
}

/* The same for both loaders. */
static void
expect_both(const struct tmptree *t, enum kt_key k, const char *got, const char *lines)
{
	for (size_t i = 0; i < NELEM(loaders); i++)
		expect(t, loaders[i], k, got, lines);
}

static void
expect_defaults(const struct tmptree *t, enum kt_loader loader)
{
	expect(t, loader, KT_TIME, "7200 default", "");
	expect(t, loader, KT_INTVL, "75 default", "");
	expect(t, loader, KT_PROBES, "9 default", "");
}

/* The first line about key k, to look at how the loader read it. */
static const struct kt_assign *
first_assign(const struct kt_boot *b, enum kt_key k)
{
	const struct kt_boot_key *bk = kt_boot_key(b, k);

	assert_true(bk->nassigns > 0);
	return &bk->assigns[0];
}

/* Nothing in the directories (or no directories at all): the kernel's defaults. */
static void
test_empty_tree(void **state)
{
	const struct tmptree *t = *state;
	struct tmptree bare;

	for (size_t i = 0; i < NELEM(loaders); i++)
		expect_defaults(t, loaders[i]);

	tmptree_path(t->root, "bare", bare.root, sizeof(bare.root));
	assert_int_equal(mkdir(bare.root, 0755), 0);
	for (size_t i = 0; i < NELEM(loaders); i++)
		expect_defaults(&bare, loaders[i]);
}

/* A root that is not there is an error, and nothing is returned. */
static void
test_missing_root(void **state)
{
	const struct tmptree *t = *state;
	char root[PATH_MAX + 16];

	snprintf(root, sizeof(root), "%s/nonexistent", t->root);
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = (struct kt_boot *)&root;

		assert_int_equal(kt_boot_read(root, loaders[i], HZ, &b), -ENOENT);
		assert_ptr_equal(b, (struct kt_boot *)&root);
	}
}

/* Files are read in order of their names, whatever their directory: the last one wins. */
static void
test_later_name_wins(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, USR "10-a.conf", TIME " = 100\n");
	tmptree_put(t->root, ETC "20-b.conf", TIME " = 200\n" TIME " = 250\n");
	tmptree_put(t->root, RUN "30-c.conf", TIME " = 300\n");
	tmptree_put(t->root, LOCAL "40-d.conf", "# local\n\n" INTVL " = 40\n");
	expect_both(t, KT_TIME, "300 from " RUN "30-c.conf:1",
	    "overridden " USR "10-a.conf:1, overridden " ETC "20-b.conf:1, overridden "
	    ETC "20-b.conf:2, applied " RUN "30-c.conf:1");
	expect_both(t, KT_INTVL, "40 from " LOCAL "40-d.conf:3", "applied " LOCAL "40-d.conf:3");
	expect_both(t, KT_PROBES, "9 default", "");
}

/* A name in an earlier directory hides the same name in later ones, whatever they hold. */
static void
test_same_name_hidden(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "50-x.conf", INTVL " = 30\n");
	tmptree_put(t->root, RUN "50-x.conf", INTVL " = 35\n");
	tmptree_put(t->root, USR "50-x.conf", INTVL " = 40\n" PROBES " = 4\n");
	tmptree_put(t->root, USR "60-y.conf", TIME " = 100\n");
	expect_both(t, KT_INTVL, "30 from " ETC "50-x.conf:1",
	    "applied " ETC "50-x.conf:1, hidden " RUN "50-x.conf:1, hidden " USR "50-x.conf:1");
	expect_both(t, KT_PROBES, "9 default", "hidden " USR "50-x.conf:2");
	expect_both(t, KT_TIME, "100 from " USR "60-y.conf:1", "applied " USR "60-y.conf:1");

	/* Once the /etc file is gone, the /run one takes over. */
	remove_in(t, ETC "50-x.conf");
	expect_both(t, KT_INTVL, "35 from " RUN "50-x.conf:1",
	    "applied " RUN "50-x.conf:1, hidden " USR "50-x.conf:1");
}

/* Where /lib is /usr/lib, /lib/sysctl.d is not read a second time. */
static void
test_merged_usr(void **state)
{
	const struct tmptree *t = *state;

	tmptree_link(t->root, "lib", "usr/lib");
	tmptree_put(t->root, USR "50-x.conf", PROBES " = 4\n");
	expect_both(t, KT_PROBES, "4 from " USR "50-x.conf:1", "applied " USR "50-x.conf:1");
}

/* procps reads /etc/sysctl.conf after every sysctl.d file; systemd only through a link. */
static void
test_sysctl_conf(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, "etc/sysctl.conf", "# local\n" INTVL " = 33\n");
	tmptree_put(t->root, ETC "98-local.conf", INTVL " = 44\n");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "44 from " ETC "98-local.conf:1",
	    "applied " ETC "98-local.conf:1");
	expect(t, KT_LOADER_PROCPS, KT_INTVL, "33 from /etc/sysctl.conf:2",
	    "overridden " ETC "98-local.conf:1, applied /etc/sysctl.conf:2");

	tmptree_link(t->root, ETC "99-sysctl.conf", "../sysctl.conf");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "33 from " ETC "99-sysctl.conf:2",
	    "overridden " ETC "98-local.conf:1, applied " ETC "99-sysctl.conf:2");
	expect(t, KT_LOADER_PROCPS, KT_INTVL, "33 from /etc/sysctl.conf:2",
	    "overridden " ETC "98-local.conf:1, overridden " ETC "99-sysctl.conf:2, "
	    "applied /etc/sysctl.conf:2");

	/* A name after 99-sysctl.conf wins for systemd; procps still reads sysctl.conf last. */
	tmptree_put(t->root, USR "zz-vendor.conf", INTVL " = 55\n");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "55 from " USR "zz-vendor.conf:1",
	    "overridden " ETC "98-local.conf:1, overridden " ETC "99-sysctl.conf:2, "
	    "applied " USR "zz-vendor.conf:1");
	expect(t, KT_LOADER_PROCPS, KT_INTVL, "33 from /etc/sysctl.conf:2",
	    "overridden " ETC "98-local.conf:1, overridden " ETC "99-sysctl.conf:2, "
	    "overridden " USR "zz-vendor.conf:1, applied /etc/sysctl.conf:2");
}

/* Links are followed inside the root, as on the machine booted from it, never on the host. */
static void
test_links_resolved_in_root(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, "etc/sysctl.conf", INTVL " = 33\n");
	tmptree_link(t->root, ETC "99-sysctl.conf", "/etc/sysctl.conf");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "33 from " ETC "99-sysctl.conf:1",
	    "applied " ETC "99-sysctl.conf:1");

	/* ".." stops at the root. */
	tmptree_put(t->root, "etc/probes.txt", PROBES " = 5\n");
	tmptree_link(t->root, ETC "50-up.conf", "../../../../../../../../etc/probes.txt");
	expect_both(t, KT_PROBES, "5 from " ETC "50-up.conf:1", "applied " ETC "50-up.conf:1");

	/* A dangling link holds nothing; procps says so, systemd does not. */
	tmptree_link(t->root, ETC "60-gone.conf", "nosuch.conf");
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);
		char notes[512];

		check_boot(b, loaders[i], KT_PROBES, "5 from " ETC "50-up.conf:1",
		    "applied " ETC "50-up.conf:1");
		assert_string_equal(notes_of(b, notes, sizeof(notes)),
		    loaders[i] == KT_LOADER_PROCPS ? "skipped " ETC "60-gone.conf ENOENT" : "");
		done(b);
	}
}

/* Dotted and slashed names are the same key; the loaders read them as slashed paths. */
static void
test_key_forms(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", TIME " = 100\n"
	    "net/ipv4/tcp_keepalive_intvl = 20\n"
	    "net.ipv4/tcp_keepalive_probes = 3\n");
	expect_both(t, KT_TIME, "100 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect_both(t, KT_INTVL, "20 from " ETC "10-a.conf:2", "applied " ETC "10-a.conf:2");
	/* The first separator is a dot, so dots and slashes swap: no such key. */
	expect_both(t, KT_PROBES, "9 default", "");

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);
		const struct kt_assign *a = first_assign(b, KT_TIME);

		assert_string_equal(a->key, "net/ipv4/tcp_keepalive_time");
		assert_string_equal(a->value, "100");
		assert_false(a->glob);
		a = first_assign(b, KT_INTVL);
		assert_string_equal(a->key, "net/ipv4/tcp_keepalive_intvl");
		assert_string_equal(a->value, "20");
		done(b);
	}
}

/*
 * A name with a leading or a repeated separator is still the key: systemd normalises it, and
 * procps writes /proc/sys//net/ipv4/..., which the kernel resolves all the same (both checked
 * against systemd-sysctl 252 and procps-ng 4.0.2).
 */
static void
test_key_unnormalised(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", "/net/ipv4/tcp_keepalive_time = 100\n"
	    "net//ipv4//tcp_keepalive_intvl = 20\n"
	    "net..ipv4.tcp_keepalive_probes = 3\n");
	expect_both(t, KT_TIME, "100 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect_both(t, KT_INTVL, "20 from " ETC "10-a.conf:2", "applied " ETC "10-a.conf:2");
	expect_both(t, KT_PROBES, "3 from " ETC "10-a.conf:3", "applied " ETC "10-a.conf:3");
}

/*
 * Lines the two loaders read differently (each checked against systemd-sysctl 252 and procps
 * 4.0.2): white space procps strips and systemd keeps, a second '-', "..", and a glob spelled
 * so that procps' match is not the name an explicit line gives, which keeps it off no key.
 */
static void
test_dialects_differ(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", TIME " = 100\n\v" TIME " = 200\n"
	    INTVL " = 10\n" INTVL "\f = 20\n"
	    PROBES " = 3\n--" PROBES " = 4\n");
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "100 from " ETC "10-a.conf:1",
	    "applied " ETC "10-a.conf:1");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "200 from " ETC "10-a.conf:2",
	    "overridden " ETC "10-a.conf:1, applied " ETC "10-a.conf:2");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "10 from " ETC "10-a.conf:3",
	    "applied " ETC "10-a.conf:3");
	expect(t, KT_LOADER_PROCPS, KT_INTVL, "20 from " ETC "10-a.conf:4",
	    "overridden " ETC "10-a.conf:3, applied " ETC "10-a.conf:4");
	expect(t, KT_LOADER_SYSTEMD, KT_PROBES, "3 from " ETC "10-a.conf:5",
	    "applied " ETC "10-a.conf:5");
	expect(t, KT_LOADER_PROCPS, KT_PROBES, "4 from " ETC "10-a.conf:6",
	    "overridden " ETC "10-a.conf:5, applied " ETC "10-a.conf:6");

	tmptree_put(t->root, ETC "10-a.conf",
	    TIME " = 100\nnet/ipv4/../ipv4/tcp_keepalive_time = 7\n"
	    INTVL " = 10\nnet//ipv4/tcp_keepalive_* = 5\n");
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "100 from " ETC "10-a.conf:1",
	    "applied " ETC "10-a.conf:1, explicit " ETC "10-a.conf:4");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "5 from " ETC "10-a.conf:4",
	    "overridden " ETC "10-a.conf:1, overridden " ETC "10-a.conf:2, applied " ETC
	    "10-a.conf:4");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "10 from " ETC "10-a.conf:3",
	    "applied " ETC "10-a.conf:3, explicit " ETC "10-a.conf:4");
	expect(t, KT_LOADER_PROCPS, KT_INTVL, "5 from " ETC "10-a.conf:4",
	    "overridden " ETC "10-a.conf:3, applied " ETC "10-a.conf:4");
	expect_both(t, KT_PROBES, "5 from " ETC "10-a.conf:4", "applied " ETC "10-a.conf:4");

	/* An explicit line spelled as the glob's match keeps it off, for procps too. */
	tmptree_put(t->root, ETC "20-b.conf", "net//ipv4/tcp_keepalive_probes = 6\n");
	expect_both(t, KT_PROBES, "6 from " ETC "20-b.conf:1",
	    "explicit " ETC "10-a.conf:4, applied " ETC "20-b.conf:1");
}

/*
 * A NUL or a lone CR ends a line for systemd, which reads what follows as a line of its own; for
 * procps a NUL ends what it sees of the line, and a CR is part of it.
 */
static void
test_split_lines(void **state)
{
	static const char text[] = "kernel.nosuch = 1\r" TIME " = 100\n"
	    INTVL " = 10\0" PROBES " = 3\n"
	    "junk\0" PROBES " = 4\n";
	const struct tmptree *t = *state;
	char path[PATH_MAX];

	tmptree_path(t->root, ETC "10-a.conf", path, sizeof(path));
	tmptree_write(path, text, sizeof(text) - 1);
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "100 from " ETC "10-a.conf:1",
	    "applied " ETC "10-a.conf:1");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "7200 default", "");
	expect_both(t, KT_INTVL, "10 from " ETC "10-a.conf:2", "applied " ETC "10-a.conf:2");
	expect(t, KT_LOADER_SYSTEMD, KT_PROBES, "4 from " ETC "10-a.conf:3",
	    "overridden " ETC "10-a.conf:2, applied " ETC "10-a.conf:3");
	expect(t, KT_LOADER_PROCPS, KT_PROBES, "9 default", "");
}

/* Blanks around the name, the '=' and the value do not count. */
static void
test_blanks(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", TIME "\t=\t100  \n"
	    "  " INTVL "=20\n"
	    " \t" PROBES " =   4\t\n");
	expect_both(t, KT_TIME, "100 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect_both(t, KT_INTVL, "20 from " ETC "10-a.conf:2", "applied " ETC "10-a.conf:2");
	expect_both(t, KT_PROBES, "4 from " ETC "10-a.conf:3", "applied " ETC "10-a.conf:3");

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(first_assign(b, KT_TIME)->value, "100");
		assert_string_equal(first_assign(b, KT_TIME)->key, "net/ipv4/tcp_keepalive_time");
		assert_string_equal(first_assign(b, KT_PROBES)->value, "4");
		done(b);
	}
}

/* Lines starting with '#' or ';', blanks before them or not, are comments. */
static void
test_comments(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", "# " TIME " = 1\n"
	    "; " INTVL " = 2\n"
	    "  # " PROBES " = 3\n"
	    "\t;" PROBES " = 3\n"
	    "#" TIME "=1\n"
	    INTVL " = 25\n");
	expect_both(t, KT_TIME, "7200 default", "");
	expect_both(t, KT_INTVL, "25 from " ETC "10-a.conf:6", "applied " ETC "10-a.conf:6");
	expect_both(t, KT_PROBES, "9 default", "");
}

/*
 * A '-' before an assignment only says to ignore a failure. Blanks after it: systemd strips
 * them, procps keeps them in the name, which then names nothing.
 */
static void
test_dash_prefix(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", "-" TIME " = 100\n"
	    "-  " INTVL " = 20\n"
	    "-\t" PROBES " = 4\n");
	expect_both(t, KT_TIME, "100 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect(t, KT_LOADER_SYSTEMD, KT_INTVL, "20 from " ETC "10-a.conf:2",
	    "applied " ETC "10-a.conf:2");
	expect(t, KT_LOADER_SYSTEMD, KT_PROBES, "4 from " ETC "10-a.conf:3",
	    "applied " ETC "10-a.conf:3");
	expect(t, KT_LOADER_PROCPS, KT_INTVL, "75 default", "");
	expect(t, KT_LOADER_PROCPS, KT_PROBES, "9 default", "");

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(first_assign(b, KT_TIME)->key, "net/ipv4/tcp_keepalive_time");
		done(b);
	}
}

/* A glob sets the keys it matches, except those a line names: those keep their own value. */
static void
test_globs(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", "net.ipv4.tcp_keepalive_* = 50\n");
	tmptree_put(t->root, ETC "20-b.conf", INTVL " = 20\n");
	expect_both(t, KT_TIME, "50 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect_both(t, KT_INTVL, "20 from " ETC "20-b.conf:1",
	    "explicit " ETC "10-a.conf:1, applied " ETC "20-b.conf:1");
	expect_both(t, KT_PROBES, "50 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);
		const struct kt_assign *a = first_assign(b, KT_TIME);

		assert_string_equal(a->key, "net/ipv4/tcp_keepalive_*");
		assert_string_equal(a->value, "50");
		assert_true(a->glob);
		done(b);
	}

	/* The named line wins even when it comes first. */
	tmptree_put(t->root, ETC "10-a.conf", INTVL " = 20\n");
	tmptree_put(t->root, ETC "20-b.conf", "net.ipv4.tcp_keepalive_* = 50\n");
	expect_both(t, KT_INTVL, "20 from " ETC "10-a.conf:1",
	    "applied " ETC "10-a.conf:1, explicit " ETC "20-b.conf:1");
	expect_both(t, KT_TIME, "50 from " ETC "20-b.conf:1", "applied " ETC "20-b.conf:1");

	/* A glob bears only on the keys it matches. */
	tmptree_put(t->root, ETC "10-a.conf", "net.ipv4.tcp_keepalive_????? = 60\n");
	tmptree_put(t->root, ETC "20-b.conf", "net.ipv4.tcp_keepalive_nonexistent = 1\n");
	expect_both(t, KT_TIME, "7200 default", "");
	expect_both(t, KT_INTVL, "60 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect_both(t, KT_PROBES, "9 default", "");
}

/*
 * A "-key" line without a value. systemd keeps one entry per name, so it replaces an earlier
 * assignment of the key, and its entry keeps globs off: the key keeps the kernel default. procps
 * writes every assignment; the line only keeps globs off the key.
 */
static void
test_exclusion(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", "net.ipv4.tcp_keepalive_* = 50\n"
	    TIME " = 100\n"
	    "-" TIME "\n"
	    "-" INTVL "\n");
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "7200 default",
	    "explicit " ETC "10-a.conf:1, overridden " ETC "10-a.conf:2, excluded " ETC
	    "10-a.conf:3");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "100 from " ETC "10-a.conf:2",
	    "explicit " ETC "10-a.conf:1, applied " ETC "10-a.conf:2, excluded " ETC
	    "10-a.conf:3");
	expect_both(t, KT_INTVL, "75 default",
	    "explicit " ETC "10-a.conf:1, excluded " ETC "10-a.conf:4");
	expect_both(t, KT_PROBES, "50 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);
		const struct kt_boot_key *bk = kt_boot_key(b, KT_INTVL);

		assert_int_equal(bk->nassigns, 2);
		assert_string_equal(bk->assigns[1].key, "net/ipv4/tcp_keepalive_intvl");
		assert_null(bk->assigns[1].value);
		assert_false(bk->assigns[1].glob);
		done(b);
	}

	/* An assignment after the exclusion applies again, for both. */
	tmptree_put(t->root, ETC "20-b.conf", TIME " = 200\n");
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "200 from " ETC "20-b.conf:1",
	    "explicit " ETC "10-a.conf:1, overridden " ETC "10-a.conf:2, overridden " ETC
	    "10-a.conf:3, applied " ETC "20-b.conf:1");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "200 from " ETC "20-b.conf:1",
	    "explicit " ETC "10-a.conf:1, overridden " ETC "10-a.conf:2, excluded " ETC
	    "10-a.conf:3, applied " ETC "20-b.conf:1");
}

/*
 * A value the kernel refuses. systemd writes only the last assignment of a key, so the key keeps
 * the kernel default; procps writes every one, so the last value the kernel took stays.
 */
static void
test_rejected(void **state)
{
	static const struct {
		enum kt_key key;
		const char *good, *bad;
	} cases[] = {
		{ KT_TIME, "600", "abc" },
		{ KT_TIME, "600", "1.5" },
		{ KT_TIME, "600", "" },
		{ KT_TIME, "600", "99999999999" },
		{ KT_INTVL, "30", "abc" },
		{ KT_INTVL, "30", "5s" },
		{ KT_PROBES, "4", "-5" },
		{ KT_PROBES, "4", "256" },
		{ KT_PROBES, "4", "abc" },
	};
	static const char *const defaults[KT_NKEYS] = { "7200", "75", "9" };
	const struct tmptree *t = *state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		char line[128], got[64];
		enum kt_key k = cases[i].key;

		snprintf(line, sizeof(line), "%s = %s\n", kt_key(k)->name, cases[i].good);
		tmptree_put(t->root, ETC "10-a.conf", line);
		snprintf(line, sizeof(line), "%s = %s\n", kt_key(k)->name, cases[i].bad);
		tmptree_put(t->root, ETC "20-b.conf", line);

		snprintf(got, sizeof(got), "%s default", defaults[k]);
		expect(t, KT_LOADER_SYSTEMD, k, got,
		    "overridden " ETC "10-a.conf:1, rejected " ETC "20-b.conf:1");
		snprintf(got, sizeof(got), "%s from " ETC "10-a.conf:1", cases[i].good);
		expect(t, KT_LOADER_PROCPS, k, got,
		    "applied " ETC "10-a.conf:1, rejected " ETC "20-b.conf:1");
	}
}

/* The kernel reads numbers in base 0: 0x hex, a leading 0 octal; blanks before are dropped. */
static void
test_kernel_numbers(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", TIME " = 0x10\n" INTVL " = 010\n" PROBES " = 08\n");
	expect_both(t, KT_TIME, "16 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
	expect_both(t, KT_INTVL, "8 from " ETC "10-a.conf:2", "applied " ETC "10-a.conf:2");
	expect_both(t, KT_PROBES, "9 default", "rejected " ETC "10-a.conf:3");

	tmptree_put(t->root, ETC "10-a.conf", TIME " =\t 5\n");
	expect_both(t, KT_TIME, "5 from " ETC "10-a.conf:1", "applied " ETC "10-a.conf:1");
}

/* The time and interval are at most INT_MAX / HZ seconds. */
static void
test_hz(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", TIME " = 2147484\n" INTVL " = 2147483\n");
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot_hz(t, loaders[i], 1000);

		assert_int_equal(kt_boot_key(b, KT_TIME)->val, 7200);
		assert_null(kt_boot_key(b, KT_TIME)->from);
		assert_int_equal(kt_boot_key(b, KT_TIME)->assigns[0].state, KT_ASSIGN_REJECTED);
		assert_int_equal(kt_boot_key(b, KT_INTVL)->val, 2147483);
		done(b);

		b = boot_hz(t, loaders[i], 250);
		assert_int_equal(kt_boot_key(b, KT_TIME)->val, 2147484);
		assert_int_equal(kt_boot_key(b, KT_TIME)->assigns[0].state, KT_ASSIGN_APPLIED);
		done(b);
	}
}

/* procps reads files whose names start with a dot; systemd skips them. */
static void
test_hidden_files(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC ".x.conf", TIME " = 111\n");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "111 from " ETC ".x.conf:1",
	    "applied " ETC ".x.conf:1");
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "7200 default", "");
}

/*
 * systemd: a line giving an entry the value it already has leaves the entry where it was, so a
 * glob set again to the same value is still written before a glob that came between. procps
 * writes every line in order.
 */
static void
test_systemd_same_value(void **state)
{
	const struct tmptree *t = *state;

	tmptree_put(t->root, ETC "10-a.conf", "net.ipv4.tcp_keepalive_* = 30\n");
	tmptree_put(t->root, ETC "20-b.conf", "net.ipv4.tcp_keepalive_time* = 40\n");
	tmptree_put(t->root, ETC "30-c.conf", "net.ipv4.tcp_keepalive_* = 30\n");
	expect(t, KT_LOADER_SYSTEMD, KT_TIME, "40 from " ETC "20-b.conf:1",
	    "overridden " ETC "10-a.conf:1, applied " ETC "20-b.conf:1, overridden " ETC
	    "30-c.conf:1");
	expect(t, KT_LOADER_PROCPS, KT_TIME, "30 from " ETC "30-c.conf:1",
	    "overridden " ETC "10-a.conf:1, overridden " ETC "20-b.conf:1, applied " ETC
	    "30-c.conf:1");
	expect_both(t, KT_INTVL, "30 from " ETC "30-c.conf:1",
	    "overridden " ETC "10-a.conf:1, applied " ETC "30-c.conf:1");
	expect_both(t, KT_PROBES, "30 from " ETC "30-c.conf:1",
	    "overridden " ETC "10-a.conf:1, applied " ETC "30-c.conf:1");

	/* Another value moves the entry to the end: then it is written last. */
	tmptree_put(t->root, ETC "30-c.conf", "net.ipv4.tcp_keepalive_* = 35\n");
	expect_both(t, KT_TIME, "35 from " ETC "30-c.conf:1",
	    "overridden " ETC "10-a.conf:1, overridden " ETC "20-b.conf:1, applied " ETC
	    "30-c.conf:1");
}

/*
 * A file larger than KT_CONF_MAX is not read: a note names it, the boot values may be wrong, and
 * the other files still count. One of exactly KT_CONF_MAX bytes is read.
 */
static void
test_error_too_big(void **state)
{
	const struct tmptree *t = *state;
	static const char head[] = INTVL " = 21\n";
	char path[PATH_MAX], notes[512];
	int fd;

	tmptree_put(t->root, ETC "60-ok.conf", TIME " = 100\n");
	tmptree_path(t->root, ETC "50-big.conf", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, head, sizeof(head) - 1), (ssize_t)sizeof(head) - 1);
	assert_int_equal(ftruncate(fd, KT_CONF_MAX), 0);

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(notes_of(b, notes, sizeof(notes)), "");
		check_boot(b, loaders[i], KT_INTVL, "21 from " ETC "50-big.conf:1",
		    "applied " ETC "50-big.conf:1");
		done(b);
	}

	assert_int_equal(ftruncate(fd, KT_CONF_MAX + 1), 0);
	assert_int_equal(close(fd), 0);
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(notes_of(b, notes, sizeof(notes)),
		    "unread " ETC "50-big.conf EFBIG");
		check_boot(b, loaders[i], KT_INTVL, "75 default", "");
		check_boot(b, loaders[i], KT_TIME, "100 from " ETC "60-ok.conf:1",
		    "applied " ETC "60-ok.conf:1");
		done(b);
	}
}

/*
 * A socket cannot be opened (ENXIO): both loaders take any name ending in .conf, whatever its
 * type, fail on it, say so and go on (checked against systemd-sysctl 252 and procps 4.0.2).
 */
static void
test_error_socket(void **state)
{
	const struct tmptree *t = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char notes[512];
	int n, fd;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s" ETC "50-sock.conf", t->root);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		skip();
	tmptree_put(t->root, ETC "60-ok.conf", TIME " = 100\n");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(notes_of(b, notes, sizeof(notes)),
		    "skipped " ETC "50-sock.conf ENXIO");
		check_boot(b, loaders[i], KT_TIME, "100 from " ETC "60-ok.conf:1",
		    "applied " ETC "60-ok.conf:1");
		done(b);
	}
	assert_int_equal(close(fd), 0);
}

/*
 * A FIFO is never opened for reading, so it never hangs the model; both loaders would open it,
 * and wait for a writer, so the boot values cannot be told: an "unread" note names it. A
 * directory named *.conf holds nothing: systemd says it cannot read it, procps says nothing.
 */
static void
test_fifo_and_directory(void **state)
{
	const struct tmptree *t = *state;
	char notes[512];

	tmptree_fifo(t->root, ETC "50-fifo.conf");
	tmptree_mkdirs(t->root, ETC "55-dir.conf");
	tmptree_link(t->root, ETC "56-dirlink.conf", "55-dir.conf");
	tmptree_put(t->root, ETC "60-ok.conf", TIME " = 100\n");
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(notes_of(b, notes, sizeof(notes)),
		    loaders[i] == KT_LOADER_SYSTEMD ? "unread " ETC "50-fifo.conf EINVAL, skipped "
		    ETC "55-dir.conf EISDIR, skipped " ETC "56-dirlink.conf EISDIR" :
		    "unread " ETC "50-fifo.conf EINVAL");
		check_boot(b, loaders[i], KT_TIME, "100 from " ETC "60-ok.conf:1",
		    "applied " ETC "60-ok.conf:1");
		done(b);
	}
}

/*
 * A link that loops or leads nowhere holds nothing. Both loaders say so of a loop; of a dangling
 * link only procps does ("cannot open"). Either still hides the same name in later directories.
 */
static void
test_links_that_fail(void **state)
{
	const struct tmptree *t = *state;
	char notes[512];

	tmptree_link(t->root, ETC "50-loop.conf", "50-loop.conf");
	tmptree_link(t->root, ETC "60-gone.conf", "nowhere.conf");
	tmptree_put(t->root, USR "50-loop.conf", TIME " = 100\n");
	tmptree_put(t->root, USR "60-gone.conf", INTVL " = 10\n");
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_string_equal(notes_of(b, notes, sizeof(notes)),
		    loaders[i] == KT_LOADER_SYSTEMD ? "skipped " ETC "50-loop.conf ELOOP" :
		    "skipped " ETC "50-loop.conf ELOOP, skipped " ETC "60-gone.conf ENOENT");
		check_boot(b, loaders[i], KT_TIME, "7200 default", "hidden " USR "50-loop.conf:1");
		check_boot(b, loaders[i], KT_INTVL, "75 default", "hidden " USR "60-gone.conf:1");
		done(b);
	}

	/* A sysctl.d directory that is a loop is skipped, and noted. */
	{
		char path[PATH_MAX];

		tmptree_path(t->root, "run/sysctl.d", path, sizeof(path));
		assert_int_equal(rmdir(path), 0);
		assert_int_equal(symlink("sysctl.d", path), 0);
	}
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);

		assert_true(strstr(notes_of(b, notes, sizeof(notes)),
		    "skipped /run/sysctl.d ELOOP"));
		done(b);
	}
}

/*
 * A file the model may not read (permission) is an "unread" note: the loader, root, may. Root
 * reads anything, so the test drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH meanwhile.
 */
static void
test_error_unreadable(void **state)
{
	const struct tmptree *t = *state;
	struct tmptree_caps caps;
	char path[PATH_MAX], notes[512];
	struct kt_boot *b;
	int dropped;

	tmptree_put(t->root, ETC "50-secret.conf", TIME " = 100\n");
	tmptree_path(t->root, ETC "50-secret.conf", path, sizeof(path));
	assert_int_equal(chmod(path, 0), 0);
	dropped = tmptree_dac_drop(&caps);
	b = boot(t, KT_LOADER_PROCPS);
	if (dropped)
		tmptree_dac_restore(&caps);
	assert_string_equal(notes_of(b, notes, sizeof(notes)),
	    "unread " ETC "50-secret.conf EACCES");
	check_boot(b, KT_LOADER_PROCPS, KT_TIME, "7200 default", "");
	done(b);
}

/* Every line number counts newlines, blank and comment lines included, in a long file too. */
static void
test_many_lines(void **state)
{
	const struct tmptree *t = *state;
	char *text = malloc(64 * 1000 + 64), from[128];
	size_t o = 0;

	assert_non_null(text);
	for (int i = 1; i <= 1000; i++)
		o += (size_t)sprintf(text + o, i % 3 ? "# line %d\n" : INTVL " = %d\n", i);
	tmptree_put(t->root, ETC "10-a.conf", text);
	free(text);
	for (size_t i = 0; i < NELEM(loaders); i++) {
		struct kt_boot *b = boot(t, loaders[i]);
		const struct kt_boot_key *bk = kt_boot_key(b, KT_INTVL);

		assert_int_equal(bk->nassigns, 333);
		for (size_t j = 0; j < bk->nassigns; j++) {
			assert_int_equal(bk->assigns[j].line, 3 * (j + 1));
			assert_int_equal(bk->assigns[j].state,
			    j + 1 < bk->nassigns ? KT_ASSIGN_OVERRIDDEN : KT_ASSIGN_APPLIED);
		}
		assert_int_equal(bk->val, 999);
		assert_non_null(bk->from);
		snprintf(from, sizeof(from), "%s:%u", bk->from->file, bk->from->line);
		assert_string_equal(from, ETC "10-a.conf:999");
		done(b);
	}
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_tree),
		T(test_missing_root),
		T(test_later_name_wins),
		T(test_same_name_hidden),
		T(test_merged_usr),
		T(test_sysctl_conf),
		T(test_links_resolved_in_root),
		T(test_key_forms),
		T(test_key_unnormalised),
		T(test_dialects_differ),
		T(test_split_lines),
		T(test_blanks),
		T(test_comments),
		T(test_dash_prefix),
		T(test_globs),
		T(test_exclusion),
		T(test_rejected),
		T(test_kernel_numbers),
		T(test_hz),
		T(test_hidden_files),
		T(test_systemd_same_value),
		T(test_error_too_big),
		T(test_error_socket),
		T(test_fifo_and_directory),
		T(test_links_that_fail),
		T(test_error_unreadable),
		T(test_many_lines),
	};

	return cmocka_run_group_tests_name("kt_boot", tests, NULL, NULL);
}
